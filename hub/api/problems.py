"""One error shape for the whole API: RFC 9457 problem details (``application/problem+json``).

Every refusal, whether a route raises ``HTTPException``, FastAPI refuses a parameter or a
body (``errors`` then lists each), or the request never reaches a route (401 and 413 from
hub/api/gate.py), answers with a ``Problem``: ``type``, ``title``, ``status``, ``detail``
(always a sentence: the pages show it), and extension members where a refusal has more
to say (``state`` of a refused transition).

``document_problems`` writes the same shape into the OpenAPI document for every route,
with the status codes it can answer (see ``_codes_of``), so a new router is documented
without listing its errors by hand.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    """One refused value of a request: where it was and why."""

    loc: list[str | int] = Field(description="e.g. ['query', 'limit'] or ['body', 'lines', 3]")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: why the hub refused a request or could not answer it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="about:blank: see the status code")
    title: str = Field(description="the status code's phrase")
    status: int
    detail: str = Field(description="what went wrong, for a person")
    errors: list[FieldProblem] | None = Field(
        default=None, description="each refused value (422 of a parameter or a body)"
    )
    state: str | None = Field(default=None, description="the call's state (409 of a transition)")
    config_errors: list[str] | None = Field(
        default=None,
        description="a refused reload's errors, each as FILE:LINE: KEY: what is wrong (422)",
    )


def problem_response(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem answer; None-valued extensions are left out."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update({key: value for key, value in extensions.items() if value is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_TYPE)


async def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    extensions: dict[str, Any] = {}
    if isinstance(detail, dict):  # {"message": ..., more members}: the members extend it
        extensions = {key: value for key, value in detail.items() if key != "message"}
        detail = detail.get("message", HTTPStatus(exc.status_code).phrase)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request, headers.get("Allow", ""))
    return problem_response(exc.status_code, str(detail), headers=headers, **extensions)


def _allowed_methods(request: Request, routed: str) -> str:
    """Every documented method on the request's path: routing answers 405 with the
    methods of the first route on the path only (GET /api/calls, not its POST).
    ``routed`` (routing's own) stands for a path the document does not have (pages)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pieces = re.split(r"\{[^}]+\}", template)
        if re.fullmatch("[^/]+".join(map(re.escape, pieces)), request.url.path):
            return ", ".join(sorted(method.upper() for method in operations))
    return routed


async def _validation_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_problem(error) for error in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return problem_response(422, detail or "the request is not valid", errors=errors)


def _field_problem(error: Any) -> dict[str, Any]:
    # Only where and why: pydantic's ``input`` and ``ctx`` may hold what was refused
    # (a NUL, a float that is not JSON), which the answer must not echo.
    return {
        "loc": [part if isinstance(part, int) else str(part) for part in error["loc"]],
        "msg": str(error["msg"]),
        "type": str(error["type"]),
    }


async def _server_problem(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "the hub could not answer; its log says why")


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(HTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(Exception, _server_problem)


# -- the OpenAPI document ----------------------------------------------------------------

_WHY: dict[int, str] = {
    400: "the body is not JSON",
    401: "no valid API token",
    403: "the token's role or lines do not allow this",
    404: "no such resource",
    409: "the resource's state does not allow this",
    413: "the body is larger than api.max_body_bytes",
    422: "a parameter or the body is out of range; errors lists each",
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (FastAPI's OpenAPI document) with every operation's error answers
    declared as problems: the ones a route declared, and the ones every route of its
    kind can give."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldProblem):
        components[model.__name__] = _model_schema(model)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _document_operation(path, operation)
    return schema


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    found = model.model_json_schema(ref_template="#/components/schemas/{model}")
    found.pop("$defs", None)
    return found


def _document_operation(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code in _codes_of(path, operation, responses):
        entry = responses.setdefault(str(code), {})
        entry.setdefault("description", _WHY.get(code, HTTPStatus(code).phrase))
        entry["content"] = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _codes_of(path: str, operation: dict[str, Any], responses: dict[str, Any]) -> Sequence[int]:
    """The error codes an operation can answer: its declared 4xx; 401 and 403 behind a
    token; 404 with a path parameter; 400 and 413 with a body; 422 with any input."""
    codes = {int(code) for code in responses if code.isdigit() and 400 <= int(code) < 500}
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if operation.get("security") or path.startswith("/api/"):
        codes |= {401, 403}
    if any(parameter.get("in") == "path" for parameter in parameters):
        codes.add(404)
    if has_body:
        codes |= {400, 413}
    if parameters or has_body:
        codes.add(422)
    return sorted(codes)
