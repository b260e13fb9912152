"""create_app(settings): the FastAPI application with the JSON API, the UI and static files."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport import __version__
from rapport.accounts import TokenSigner
from rapport.db import make_engine, make_sessionmaker
from rapport.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RapportError,
    TooManyRequests,
    Unauthorized,
)
from rapport.logs import configure_logging
from rapport.settings import Settings, get_settings

log = logging.getLogger("rapport")
access_log = logging.getLogger("rapport.access")

STATUS_OF: dict[type[RapportError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
}
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
    500: "internal",
}


def status_of(exc: RapportError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(CODE_OF_STATUS.get(status, "bad_request"), message, field), status_code=status, headers=headers
    )


def _validation_field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    named = [p for p in parts if not p.isdigit()]
    return ".".join(parts) if named else (parts[-1] if parts else None)


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    first = errors[0]
    field = _validation_field(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        # The location is a character offset, not a field.
        reason = (first.get("ctx") or {}).get("error", "")
        return f"The body is not valid JSON ({reason} at character {field}).", None
    if kind == "missing" and field is None:
        return "A JSON body is required.", None
    if kind in ("model_attributes_type", "dict_type") and field is None:
        return "The body must be a JSON object.", None
    if kind == "extra_forbidden":
        message = f"Unknown field '{field}'; check the spelling against the API reference."
    elif kind == "missing":
        message = f"{field} is required."
    else:
        message = f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message, field


def _not_json(request: Request, errors: list[dict[str, Any]]) -> bool:
    """Whether a JSON route was sent a body of another media type (which it then reads as no object)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    whole_body = [e for e in errors if tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing"]
    return bool(whole_body) and not (content_type == "application/json" or content_type.endswith("+json"))


class BodySizeLimit:
    """Refuse request bodies above the configured size with 413, before the route reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_large = error_response(413, f"The request body is larger than {self.max_bytes // (1024 * 1024)} MB.")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        if length is not None or scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No Content-Length (a streamed body): read it here, up to the limit, then replay it.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class ServerTiming:
    """Add `Server-Timing: app;dur=<ms>` and `X-Request-ID` to every response (the time spent
    inside Rapport; the caller's id or a new one), and log one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = next(
            (v.decode("latin-1")[:100] for k, v in scope.get("headers", []) if k == b"x-request-id"), ""
        ) or uuid.uuid4().hex[:16]
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "request_id": request_id,
                    },
                )


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes the JSON envelope (API) or an error page (UI)."""

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api/")

    @app.exception_handler(RapportError)
    async def rapport_error(request: Request, exc: RapportError) -> Any:
        status = status_of(exc)
        if wants_html(request):
            from rapport.web.common import error_page

            return error_page(request, status, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Any:
        message, field = _validation_message(list(exc.errors()))
        if wants_html(request):
            from rapport.web.common import error_page

            return error_page(request, 422, message)
        if _not_json(request, list(exc.errors())):
            return error_response(415, "Send the body as JSON, with Content-Type: application/json.")
        return error_response(422, message, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        message = exc.detail if isinstance(exc.detail, str) else "Request refused."
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is nothing at {request.url.path}."
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = "The body could not be read: it is not valid JSON (or form data) in UTF-8."
        if wants_html(request) and exc.status_code in (404, 405):
            from rapport.web.common import error_page

            return error_page(request, exc.status_code, message)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Any:
        log.info("integrity error: %s", exc.orig)
        return error_response(409, "The change conflicts with data saved at the same time; reload and try again.")

    @app.exception_handler(OperationalError)
    async def operational_error(request: Request, exc: OperationalError) -> Any:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(
            503, "The database is not reachable right now; try again shortly.", headers={"Retry-After": "5"}
        )

    @app.exception_handler(DBAPIError)
    async def dbapi_error(request: Request, exc: DBAPIError) -> Any:
        if exc.connection_invalidated:
            return error_response(503, "The database connection was lost; try again.", headers={"Retry-After": "5"})
        log.exception("database error")
        return error_response(500, "Something went wrong on the server; it has been logged.")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "Something went wrong on the server; it has been logged.")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Rapport web application for `settings` (read from the environment by default)."""
    settings = settings or get_settings()
    if settings.log_format:
        configure_logging(settings.log_format, settings.log_level)
    from rapport.api import router as api_router
    from rapport.api.openapi import install as install_openapi
    from rapport.migrate import ensure_sqlite_dir
    from rapport.web import router as web_router

    ensure_sqlite_dir(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    app = FastAPI(
        title="Rapport",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.write_sessionmaker = make_sessionmaker(engine, write=True)
    app.state.tokens = TokenSigner(settings.resolved_secret_key(), settings.token_ttl_hours * 3600)
    install_error_handlers(app)
    app.include_router(api_router, prefix="/api/v1")
    install_openapi(app)
    app.include_router(web_router)
    from rapport.web.common import STATIC_DIR, install_web

    install_web(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(ServerTiming)
    return app
