"""The hub's pages by path, and the data a page carries in its JSON script tag."""

from __future__ import annotations

import json
from typing import Any

PAGES = [
    "/board", "/board/line1", "/inbox", "/inbox?call=7", "/calls/7", "/reports", "/charts",
    "/charts/bore", "/rosters",
]  # fmt: skip


def script_data(html: str) -> dict[str, Any]:
    start = html.index('type="application/json">') + len('type="application/json">')
    data: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return data
