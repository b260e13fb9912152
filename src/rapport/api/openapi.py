"""The OpenAPI document of /api/v1: FastAPI's own, completed with what the routes imply.

FastAPI documents the success answer of each route. This adds, per operation, every error a route
can give in the envelope of api.md (401 when it needs a token, 403 when some role may not use it,
404 when a record is named in the path, ...), the bearer scheme, and times written as api.md writes
them (`HH:MM:SS`, where JSON Schema's `time` format would require a UTC offset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI

from rapport.accounts import PERMISSIONS
from rapport.api.deps import WRITE_METHODS, current_user, get_session, list_params
from rapport.core.enums import Role
from rapport.core.interactions import queries

ERROR = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR,
    "description": "Every 4xx/5xx answer: `field` names the offending field when there is one.",
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "bad_request",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "method_not_allowed",
                        "conflict",
                        "too_large",
                        "unsupported_media_type",
                        "invalid",
                        "too_many_requests",
                        "unavailable",
                        "internal",
                    ],
                },
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}
DESCRIPTIONS = {
    400: "The body is not valid JSON (`bad_request`).",
    401: "No valid bearer token (`unauthorized`).",
    403: "The user's role does not allow this (`forbidden`).",
    404: "The record named in the path does not exist (`not_found`).",
    409: "The request is well-formed but the current data forbids it (`conflict`).",
    413: "The body is larger than RAPPORT_MAX_UPLOAD_MB (`too_large`).",
    415: "The body is not of a media type this operation reads (`unsupported_media_type`).",
    422: "The request is invalid: a missing, malformed or unknown value; `field` names it (`invalid`).",
    429: "Too many failed sign-ins for this username; try again in a few minutes (`too_many_requests`).",
    503: "The database is not reachable right now; try again shortly (`unavailable`).",
}
TIME_SCHEMA = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?$", "example": "14:30:00"}
API = "/api/v1"
PUBLIC_PATHS = {f"{API}/auth/token"}
# The query parameters of api.md that routes read from the query string themselves.
_STATISTICS = ("date_from", "date_to")
ROUTE_QUERY: dict[str, tuple[str, ...]] = {
    "/contacts": ("q", *_STATISTICS),
    "/contacts/{no}": _STATISTICS,
    "/salespeople": _STATISTICS,
    "/salespeople/{code}": _STATISTICS,
    "/interaction-groups": _STATISTICS,
    "/interaction-groups/{code}": _STATISTICS,
    "/interaction-templates": _STATISTICS,
    "/interaction-templates/{code}": _STATISTICS,
    "/campaigns": _STATISTICS,
    "/campaigns/{no}": _STATISTICS,
    "/interactions": queries.LIST_PARAMETERS,
    "/campaign-entries": ("campaign_no", "canceled"),
}
QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "date_from": {"type": "string", "format": "date"},
    "date_to": {"type": "string", "format": "date"},
    "canceled": {"type": "boolean"},
    "postponed": {"type": "boolean", "default": False},
    "logged_segment_entry_no": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
}
QUERY_DESCRIPTIONS = {
    "q": "Searches name, e-mail and number.",
    "date_from": "From this date (statistics: BC's Date Filter).",
    "date_to": "Up to this date (statistics: BC's Date Filter).",
}
_PERMISSION_OF = {f"permitted_{name.replace('.', '_')}": name for name in PERMISSIONS}


def install(app: FastAPI) -> None:
    """Serve the completed document at the app's openapi_url (built once, on first request)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(build(), app.routes)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Add the error answers, the security scheme and api.md's time format to `document`, in place."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas[ERROR] = ERROR_SCHEMA
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for route in _api_routes(routes):
        for method in route.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            calls = set(_calls(route.dependant))
            if current_user in calls:
                operation["security"] = [{"bearer": []}]
            if list_params in calls:
                _add_query_parameters(route.path_format, operation, schemas)
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(route, method, calls)):
                responses[str(status)] = {
                    "description": DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}},
                }
    _write_times(document)
    return document


def _add_query_parameters(path: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The query parameters of a route that reads them through `list_params` (from the query string
    itself, so FastAPI cannot see them): a list's `limit`, `cursor` and `filter[...]`, and the
    route's own ones of api.md."""
    answer = _resolve(operation["responses"].get("200", {}), schemas)
    added = []
    if "next_cursor" in answer.get("properties", {}):
        added += [
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}, "Page size."),
            _query("cursor", {"type": "string"}, "The `next_cursor` of the previous page."),
            {
                **_query(
                    "filter",
                    {"type": "object", "additionalProperties": {"type": "string"}},
                    "`filter[<field>]=<filter expression>`; several combine with AND.",
                ),
                "style": "deepObject",
                "explode": True,
            },
        ]
    for name in ROUTE_QUERY.get(path.removeprefix(API), ()):
        added.append(_query(name, QUERY_SCHEMAS.get(name, {"type": "string"}), QUERY_DESCRIPTIONS.get(name, "")))
    present = {p["name"] for p in operation.get("parameters", [])}
    operation.setdefault("parameters", []).extend(p for p in added if p["name"] not in present)
    if not operation["parameters"]:
        del operation["parameters"]


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _resolve(node: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema of a response (its JSON content) or a `$ref`, followed to its component."""
    if "content" in node:
        node = node["content"].get("application/json", {}).get("schema", {})
    ref = node.get("$ref", "")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else node


def error_statuses(route: Any, method: str, calls: set[Callable[..., Any]]) -> set[int]:
    """The error statuses an operation can answer with, from its path, body and dependencies."""
    dependant = route.dependant
    statuses = {503} if get_session in calls else set()
    if current_user in calls:
        statuses.add(401)
    permissions = {_PERMISSION_OF[c.__name__] for c in calls if c.__name__ in _PERMISSION_OF}
    if any(PERMISSIONS[p] != set(Role) for p in permissions):
        statuses.add(403)
    if dependant.path_params:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses |= {409, 413}
    if route.body_field is not None:
        statuses |= {400, 415, 422}
    if dependant.path_params or dependant.query_params or dependant.header_params or list_params in calls:
        statuses.add(422)
    if route.path_format in PUBLIC_PATHS:
        statuses |= {401, 429}
        statuses.discard(409)
    return statuses


def _api_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every API route (also inside included routers, which FastAPI keeps nested)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from _api_routes(route.effective_route_contexts())
        elif getattr(route, "dependant", None) is not None and getattr(route, "include_in_schema", False):
            yield route


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _write_times(node: Any) -> None:
    """`format: time` (which requires an offset) becomes the `HH:MM:SS` of api.md."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update(TIME_SCHEMA)
        for value in node.values():
            _write_times(value)
    elif isinstance(node, list):
        for value in node:
            _write_times(value)
