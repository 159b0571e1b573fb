"""Every value out of range, in every parameter and body field of every operation the
OpenAPI document lists, is refused with 422 on SQLite and on PostgreSQL, never a 500:
NaN, the infinities and 10^30 in numbers, NUL in text, 10,000 items in a list.

The operations and their parameters are read from the hub's own document, so a route
added later is walked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest

from hub.access.permissions import Role
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio

NUMBERS = ["NaN", "Infinity", "-Infinity", str(10**30), str(-(10**30))]
NUL = "st\x0010"
LONG_LIST = 10_000
BODY_VALUES: list[Any] = [float("nan"), float("inf"), 10**30, NUL, ["x"] * LONG_LIST]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _kind(schema: dict[str, Any]) -> str:
    """integer, number, string or array (the first of anyOf that is not null)."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") not in (None, "null"):
            return str(option["type"])
    return "string"


def _valid(parameter: dict[str, Any]) -> str:
    """A value the parameter takes, for the others to be refused alone."""
    schema = parameter["schema"]
    kind = _kind(schema)
    if "enum" in schema:
        return str(schema["enum"][-1])
    if kind in ("integer", "number"):
        return "1"
    if any(o.get("format") == "date-time" for o in schema.get("anyOf", [schema])):
        return "2026-03-01T00:00:00Z"
    return "line1"


def _bad_values(kind: str) -> list[str | list[str]]:
    if kind in ("integer", "number"):
        return list(NUMBERS)
    if kind == "array":
        return [[NUL], ["line1"] * LONG_LIST]
    return [NUL]


def _cases(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], bytes | None]]:
    """(method, url, query, body) of each refused value of each operation."""
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            path_values = {p["name"]: _valid(p) for p in parameters if p["in"] == "path"}
            required = {
                p["name"]: _valid(p) for p in parameters if p["in"] == "query" and p["required"]
            }
            body = _valid_body(document, operation)
            for parameter in parameters:
                if parameter["in"] not in ("path", "query"):
                    continue
                for bad in _bad_values(_kind(parameter["schema"])):
                    if parameter["in"] == "path":
                        if isinstance(bad, list):
                            continue
                        url = template.format(**{**path_values, parameter["name"]: quote(bad)})
                        yield method, url, required, body
                    else:
                        url = template.format(**path_values)
                        yield method, url, {**required, parameter["name"]: bad}, body
            if body is not None:
                url = template.format(**path_values)
                for field in json.loads(body):
                    for bad in BODY_VALUES:
                        refused = {**json.loads(body), field: bad}
                        yield method, url, required, json.dumps(refused).encode()


def _valid_body(document: dict[str, Any], operation: dict[str, Any]) -> bytes | None:
    """A body with every property of the operation's schema set (to a text or a list)."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    schema = _resolve(document, content["application/json"]["schema"])
    body = {
        name: [] if _kind(_resolve(document, spec)) == "array" else "line1"
        for name, spec in schema["properties"].items()
    }
    return json.dumps(body).encode()


async def _request(
    app: Any, token: str, method: str, path: str, query: dict[str, Any], body: bytes | None
) -> tuple[int, dict[str, str], bytes]:
    """One request straight through ASGI: httpx refuses a query of 10,000 values."""
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"hub")]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http", "http_version": "1.1", "method": method.upper(), "scheme": "http",
        "path": unquote(path), "raw_path": path.encode(), "root_path": "",
        "query_string": urlencode(query, doseq=True).encode(), "headers": headers,
        "client": ("127.0.0.1", 40000), "server": ("hub", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body or b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    answer = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, answer


async def test_every_parameter_and_field_out_of_range_is_a_422(hub: HubUnderTest) -> None:
    async with hub.client(Role.ADMIN) as admin:
        document = (await admin.get("/openapi.json")).json()
    cases = list(_cases(document))
    assert len(cases) > 100  # every operation was walked
    walked = set()
    for method, path, query, body in cases:
        status, headers, answer = await _request(
            hub.app, hub.token(Role.ADMIN), method, path, query, body
        )
        case = (method, path, str(query)[:200], str(body)[:200], answer[:300])
        assert status == 422, case
        assert headers["content-type"] == "application/problem+json", case
        walked.add(method)
    assert walked == {"get", "post", "delete"}
