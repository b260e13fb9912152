"""Request-scoped dependencies of the JSON API: session, current user, list parameters."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy import BigInteger, Date, Integer, Select, String, tuple_
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from rapport import accounts
from rapport.accounts import User
from rapport.core.base import date_param
from rapport.errors import Invalid, TooManyRequests, Unauthorized
from rapport.filters import FieldSpec, compile_filters

_FILTER_PARAM = re.compile(r"^filter\[([A-Za-z0-9_]+)\]$")


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request; the route commits, this only closes (rolling back the rest).

    Async on purpose: closing runs on the event loop at once, not in a thread-pool slot it would
    have to wait for while still holding a connection (and, on SQLite, the write lock)."""
    state = request.app.state
    write = request.method in WRITE_METHODS
    session = (state.write_sessionmaker if write else state.sessionmaker)()
    if write:
        session.info["read_bind"] = state.engine
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def refuse_nul_characters(request: Request) -> None:
    """422 naming the field for a NUL character in the path, the query or the body: PostgreSQL text
    cannot hold one, so every route refuses it up front, the same on both databases."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            filtered = _FILTER_PARAM.match(name)
            raise _nul_refused(filtered.group(1) if filtered else name)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        for name, item in (await request.form()).multi_items():
            text = item if isinstance(item, str) else item.filename or ""
            if "\x00" in name or "\x00" in text:
                raise _nul_refused(name)
    elif request.method in WRITE_METHODS:
        body = await request.body()
        if b"\\u0000" in body:  # a NUL can only be in a JSON text as this escape
            try:
                found = _nul_location(json.loads(body))
            except ValueError:
                return
            if found is not None:
                raise _nul_refused(found)


def _nul_location(value: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string holding a NUL character, or None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return here
        found = _nul_location(item, here)
        if found is not None:
            return found
    return None


def _nul_refused(field: str) -> Invalid:
    return Invalid(f"{field} must not contain a NUL character (\\u0000).", field=field)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    return token.strip()


def current_user(request: Request) -> User:
    """The user named by the bearer token, or 401 (read on a short connection of its own, so the
    request's session neither holds a connection nor takes a write lock for it)."""
    with request.app.state.engine.connect() as connection:
        user = request.app.state.tokens.user_for(connection, bearer_token(request))
    request.state.user = user
    return user


def sign_in(request: Request, session: Session, username: str, password: str) -> User:
    """Check a username and password with the configured throttle; a failure is recorded (committed)
    before it is raised, so repeated failures count."""
    s = request.app.state.settings
    try:
        user = accounts.authenticate(
            session,
            username,
            password,
            max_failures=s.login_max_failures,
            window_seconds=s.login_window_seconds,
            lockout_seconds=s.login_lockout_seconds,
        )
    except (Unauthorized, TooManyRequests):
        session.commit()
        raise
    session.commit()
    return user


def permitted(permission: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the current user, when their role grants `permission`, else 403."""

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        # async: a role check needs no thread of the pool (a sync dependency would take one)
        accounts.check_permission(user, permission)
        return user

    dependency.__name__ = f"permitted_{permission.replace('.', '_')}"
    return dependency


Reader = Annotated[User, Depends(permitted("read"))]
ContactWriter = Annotated[User, Depends(permitted("contacts.write"))]
ContactDeleter = Annotated[User, Depends(permitted("contacts.delete"))]
MarketingWriter = Annotated[User, Depends(permitted("marketing.write"))]
InteractionWriter = Annotated[User, Depends(permitted("interactions.write"))]
Admin = Annotated[User, Depends(permitted("users"))]


@dataclass
class ListParams:
    """limit, cursor and filter[<field>] expressions of a list request."""

    limit: int
    cursor: str | None
    filters: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def list_params(request: Request) -> ListParams:
    settings = request.app.state.settings
    params = request.query_params
    raw_limit = params.get("limit")
    limit = settings.default_page_size
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError as exc:
            raise Invalid("limit must be a whole number.", field="limit") from exc
        if not 1 <= limit <= settings.max_page_size:
            raise Invalid(f"limit must be between 1 and {settings.max_page_size}.", field="limit")
    filters: dict[str, str] = {}
    query: dict[str, str] = {}
    for key, value in params.multi_items():
        match = _FILTER_PARAM.match(key)
        if match:
            if match.group(1) in filters:
                filters[match.group(1)] = f"({filters[match.group(1)]})&({value})"
            else:
                filters[match.group(1)] = value
        elif key not in ("limit", "cursor"):
            query[key] = value
    return ListParams(limit=limit, cursor=params.get("cursor") or None, filters=filters, query=query)


ListParamsDep = Annotated[ListParams, Depends(list_params)]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "d" in value:
        return dt.date.fromisoformat(value["d"])
    return value


def encode_cursor(values: tuple[Any, ...]) -> str:
    raw = json.dumps([_encode(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return tuple(_decode(v) for v in values)
    except (ValueError, TypeError) as exc:
        raise Invalid("cursor is not one this API gave out; start again without it.", field="cursor") from exc


def _fits(value: Any, column_type: Any) -> bool:
    """Whether a cursor value can be compared with a key column of this type (a forged cursor
    must not reach the database as a value it cannot bind)."""
    if isinstance(column_type, Integer):
        limit = 2**63 if isinstance(column_type, BigInteger) else 2**31
        return isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit
    if isinstance(column_type, String):
        return isinstance(value, str) and "\x00" not in value
    if isinstance(column_type, Date):
        return isinstance(value, dt.date)
    return True


def keyset_page(
    session: Session,
    stmt: Select[Any],
    keys: list[Any],
    params: ListParams,
    specs: dict[str, FieldSpec] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of `stmt` ordered by `keys`, after the cursor, with the filters applied."""
    if specs is not None and params.filters:
        for condition in compile_filters(specs, params.filters):
            stmt = stmt.where(condition)
    if params.cursor:
        after = decode_cursor(params.cursor, len(keys))
        if not all(_fits(value, key.type) for value, key in zip(after, keys, strict=True)):
            raise Invalid("cursor is not one this API gave out; start again without it.", field="cursor")
        stmt = stmt.where(keys[0] > after[0]) if len(keys) == 1 else stmt.where(tuple_(*keys) > tuple_(*after))
    rows = list(session.scalars(stmt.order_by(*keys).limit(params.limit + 1)))
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        next_cursor = encode_cursor(tuple(getattr(last, k.key) for k in keys))
    return rows, next_cursor


def parse_date_param(params: ListParams | dict[str, str], name: str) -> dt.date | None:
    """A YYYY-MM-DD query parameter, or None."""
    return date_param(params.query if isinstance(params, ListParams) else params, name)


def commit(session: Session) -> None:
    """The one commit of a request; what the route reads afterwards takes no write lock."""
    session.commit()
    session.info["committed"] = True
    read_bind = session.info.get("read_bind")
    if read_bind is not None:
        session.bind = read_bind


def file_response(file_name: str, media_type: str, content: bytes) -> Response:
    """A download with its file name (ASCII fallback and UTF-8) and media type, never sniffed."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


def _release_connections(values: Any) -> None:
    """End the request's transaction when its route returns, before the response is serialized.

    FastAPI serializes a sync route's result in a worker thread; a session still holding a pooled
    connection while it waits for that thread could, under load, starve the threads that wait for
    a connection (every thread waiting for a connection, every connection waiting for a thread).
    Committing what is left (reads only: the route committed its writes already) keeps the loaded
    objects and gives the connection back; a write the route did not commit is rolled back."""
    for value in values:
        if isinstance(value, Session) and value.in_transaction():
            if value.info.get("read_bind") is not None and not value.info.get("committed"):
                value.rollback()
            else:
                value.commit()


class ReleasingRoute(APIRoute):
    """An API route whose sessions give their connection back as soon as the route returns.

    A sync endpoint runs in one thread of the pool, and its answer is checked against the response
    model on the event loop: FastAPI would otherwise take a second thread for that check, and each
    hand-over to the pool and back costs more than the check itself."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):

            @functools.wraps(endpoint)
            async def released_async(*args: Any, **values: Any) -> Any:
                result = await endpoint(*args, **values)
                if not isinstance(result, StreamingResponse):
                    _release_connections(values.values())
                return result

            super().__init__(path, released_async, **kwargs)
        else:

            def call(args: tuple[Any, ...], values: dict[str, Any]) -> Any:
                result = endpoint(*args, **values)
                if not isinstance(result, StreamingResponse):
                    _release_connections(values.values())
                return result

            @functools.wraps(endpoint)
            async def released(*args: Any, **values: Any) -> Any:
                return await run_in_threadpool(call, args, values)

            super().__init__(path, released, **kwargs)


async def store_upload(
    session: Session, response: Response, file: UploadFile, store: Callable[[str, str, bytes], tuple[Any, bool]]
) -> Any:
    """Store an uploaded file with `store(file_name, media_type, data)`, commit, and answer 201 when
    it was created or 200 when it replaced one; returns what `store` stored."""
    data = await file.read()
    stored, created = store(file.filename or "attachment", file.content_type or "", data)
    commit(session)
    response.status_code = 201 if created else 200
    return stored
