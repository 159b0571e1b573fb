"""SPC on a Sparkplug node's metric at the hub: pysparkplug's edge node (a process of its
own, tests/helpers/sparkplug_peer.py) publishes a series on a real Mosquitto; the chart's
points and its anomaly come back through the hub's API, with the lines and tests worked
out here from the series itself."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from statistics import fmean
from typing import Any

import httpx
import pytest

from hub.access.permissions import Role
from testbed.broker import MosquittoBroker
from tests.helpers.live_hub import LiveHub, live_hub
from tests.helpers.plant import write_yaml
from tests.helpers.sparkplug_peers import Peer
from tests.helpers.waiting import wait_until

GROUP, NODE, HOST_ID = "plant-spc", "force-node", "andon-hub-spc"
PHASE1 = [100.0, 102.0, 99.0, 101.0, 98.0]  # the limits come from these
WATCHED = [101.0, 99.5, 110.0]  # charted against them


def _get(hub: LiveHub, path: str, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {hub.token(Role.ADMIN)}"}
    answer = httpx.get(f"{hub.url}{path}", params=params, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _points(hub: LiveHub) -> list[dict[str, Any]]:
    body = _get(hub, "/api/characteristics/press-force/points", line="line1", station="st10")
    points: list[dict[str, Any]] = body["points"]
    return points


def test_a_mapped_metric_is_charted_by_the_spc_rules_and_its_special_cause_is_an_anomaly(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    write_yaml(
        tmp_path / "press-rules.yaml",
        {"characteristics": [{"id": "press-force", "chart": "imr", "phase1": len(PHASE1)}]},
    )
    settings: dict[str, Any] = {
        "broker": {"host": broker.host, "port": broker.port},
        "sparkplug": {
            "host_id": HOST_ID, "groups": [GROUP],
            "measurements": [
                {"group": GROUP, "node": NODE, "device": "press1", "metric": "Force",
                 "line": "line1", "station": "st10", "measurement": "force", "unit": "kN"},
            ],
            "spc": {
                "rule_file": "press-rules.yaml",
                "characteristics": [
                    {"line": "line1", "station": "st10", "characteristic": "press-force",
                     "measurement": "force"},
                ],
            },
        },
    }  # fmt: skip
    with live_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite'}", **settings) as hub:
        wait_until(hub.app.state.sparkplug.connected.is_set, what="host connected")
        edge = Peer("edge", str(broker.port), GROUP, NODE, "press1")
        try:
            host = hub.app.state.sparkplug
            # The DBIRTH's Force (0.0) is stored, not charted: a birth measures nothing.
            wait_until(lambda: host.measurements.stored >= 1, what="the births taken in")
            for value in PHASE1 + WATCHED:
                edge.send({"device": {"Force": value}})
            wait_until(lambda: len(_points(hub)) == len(WATCHED), what="the points charted")
            anomalies = wait_until(
                lambda: _get(hub, "/api/anomalies", characteristic="press-force")["anomalies"],
                what="the anomaly",
            )
            points = _points(hub)
        finally:
            edge.stop()

    # Individuals chart: center the phase I mean, sigma the mean moving range over d2(2),
    # which is 2/sqrt(pi); the lines at 3 sigma.
    center = fmean(PHASE1)
    sigma = fmean(abs(b - a) for a, b in itertools.pairwise(PHASE1)) / (2 / math.sqrt(math.pi))
    lcl, ucl = center - 3 * sigma, center + 3 * sigma
    # Nelson's tests on the watched values: only test 1 (beyond a line) can fail, since
    # the others need two or more points beyond 1 sigma, or runs longer than three.
    assert sum(abs(x - center) > sigma for x in WATCHED) == 1
    expected = [
        (len(PHASE1) + number, x, [] if lcl <= x <= ucl else [1], "st10", "force", "kN")
        for number, x in enumerate(WATCHED, start=1)
    ]
    assert [
        (p["subgroup"], p["value"], p["tests"], p["station"], p["measurement"], p["unit"])
        for p in points
    ] == expected
    for point in points:
        assert (point["center"], point["lcl"], point["ucl"]) == pytest.approx(
            (center, lcl, ucl), rel=1e-12
        )
        assert (point["line"], point["edge_id"]) == ("line1", f"spb-{GROUP}-{NODE}")
    (anomaly,) = anomalies
    assert (anomaly["line"], anomaly["station"], anomaly["chart"], anomaly["measurement"]) == (
        "line1", "st10", "imr", "force",
    )  # fmt: skip
    (special,) = [row for row in expected if row[2]]  # 110 above the upper line
    assert (anomaly["subgroup"], anomaly["value"], anomaly["tests"]) == special[:3]
    assert (anomaly["center"], anomaly["lcl"], anomaly["ucl"]) == pytest.approx(
        (center, lcl, ucl), rel=1e-12
    )
