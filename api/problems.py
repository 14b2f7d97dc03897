"""The API's one error format: RFC 9457 problem details (`application/problem+json`).

Every 4xx under /api/ is built here, whoever raises it (a service, FastAPI's validation, the
bearer dependency, the router's 404/405, the body-size middleware), so integrators parse one
shape and branch on the stable `code`, never on the wording of `detail`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:signoff:problem:"

# status -> the code for that status; 422 has two: `validation_failed` (the request does not
# match the schema; an `errors` list says where) and `invalid` (a rule of the service refused it).
CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
}
VALIDATION_FAILED = "validation_failed"
UNKNOWN_HOST = "unknown_host"  # 400: the Host header is not one Signoff answers to
ALL_CODES = sorted({*CODES.values(), VALIDATION_FAILED, UNKNOWN_HOST})


def code_for(status: int) -> str:
    return CODES.get(status, "bad_request" if 400 <= status < 500 else "error")


def title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def body(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    code = code or code_for(status)
    out: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title_for(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        out["instance"] = instance
    if errors is not None:
        out["errors"] = errors
    return out


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    return ProblemResponse(
        body(status, detail, code=code, instance=instance, errors=errors),
        status_code=status,
        headers=headers,
    )


def problem_bytes(status: int, detail: str, *, instance: str | None = None) -> bytes:
    """The same body for code that answers without a Response class (ASGI middleware)."""
    return json.dumps(body(status, detail, instance=instance)).encode()


def validation_errors(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI/pydantic errors as `{loc, field, message, type}`: `field` is `loc` without its
    first part (body/query/path/header), dotted."""
    out = []
    for e in raw:
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        field = ".".join(str(p) for p in loc[1:]) or (str(loc[0]) if loc else "")
        out.append(
            {
                "loc": loc,
                "field": field,
                "message": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
        )
    return out


def validation_detail(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "The request is not valid."
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['message']}{more}"


# --- OpenAPI ------------------------------------------------------------------------------

DESCRIPTIONS = {
    400: "The body could not be read: not UTF-8 (`bad_request`)",
    401: "No API token, or not a valid one (`unauthenticated`)",
    403: "This person may not do this (`forbidden`)",
    404: "No such project or RFC, or not one this person may see (`not_found`)",
    409: "The RFC is in another state, or changed meanwhile (`conflict`)",
    413: "The request body is larger than 256 KB (`payload_too_large`)",
    422: "The request does not match the schema (`validation_failed`, with `errors`) or a "
    "rule refused it (`invalid`)",
}


def _schema(status: int) -> dict[str, Any]:
    codes = [VALIDATION_FAILED, "invalid"] if status == 422 else [code_for(status)]
    error_item = {
        "type": "object",
        "required": ["loc", "field", "message", "type"],
        "properties": {
            "loc": {
                "type": "array",
                "items": {"type": ["string", "integer"]},
                "description": "Where: body, query, path or header, then the field",
            },
            "field": {"type": "string", "description": "`loc` without its first part, dotted"},
            "message": {"type": "string"},
            "type": {"type": "string", "description": "pydantic's error type"},
        },
    }
    props: dict[str, Any] = {
        "type": {"type": "string", "description": "urn:signoff:problem:<code>"},
        "title": {"type": "string", "description": "The HTTP status phrase"},
        "status": {"type": "integer", "enum": [status]},
        "detail": {"type": "string", "description": "What went wrong, for people"},
        "code": {"type": "string", "enum": codes, "description": "Stable, for programs"},
        "instance": {"type": "string", "description": "The request path"},
    }
    if status == 422:
        props["errors"] = {
            "type": "array",
            "items": error_item,
            "description": "Present when code is validation_failed",
        }
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": props,
    }


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status with the problem+json schema."""
    return {
        s: {"description": DESCRIPTIONS[s], "content": {MEDIA_TYPE: {"schema": _schema(s)}}}
        for s in statuses
    }


def router_detail(request: Any, status: int, detail: Any) -> str:
    """A useful sentence where the router only gave the status phrase."""
    text = detail if isinstance(detail, str) else json.dumps(detail)
    if text != title_for(status):
        return text
    if status == 404:
        return "There is nothing at this address; /openapi.json lists the API's paths."
    if status == 405:
        return f"This address does not accept {request.method}."
    return text
