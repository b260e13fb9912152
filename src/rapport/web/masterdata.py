"""Master data pages: one list, card and form for every code table, each described by a `Table`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rapport.accounts import User
from rapport.api.deps import ListParams, SessionDep, commit, keyset_page
from rapport.core import masterdata, statistics
from rapport.core.enums import captions
from rapport.core.masterdata import Language, Salesperson
from rapport.core.setup import NumberSeries
from rapport.core.templates import InteractionGroup, InteractionTemplate
from rapport.errors import Conflict, Invalid, RapportError
from rapport.filters import FieldSpec
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _

WRITE = "marketing.write"
PAGE_SIZE = 50
Options = Callable[[Session], list[tuple[str, str]]]


@dataclass(frozen=True)
class Field:
    """One field of a form and, when `in_list`, a column of the list."""

    name: str
    label: str
    kind: str = "text"  # text | number | checkbox | select | email
    options: Options | None = None
    required: bool = False
    in_list: bool = True
    help: str = ""


@dataclass(frozen=True)
class Table:
    """What the generic pages need to know about one code table."""

    path: str
    title: str
    model: type[Any]
    fields: tuple[Field, ...]  # the first one is the key
    get: Callable[[Session, str], Any]
    create: Callable[[Session, dict[str, Any]], Any]
    update: Callable[[Session, str, dict[str, Any]], Any]
    delete: Callable[[Session, str], None]
    statistics: Callable[[Session, list[str], dt.date | None, dt.date | None], dict[str, statistics.Totals]] | None = (
        None
    )
    filters: dict[str, FieldSpec] = field(default_factory=dict)
    card_extra: str = ""  # a template included at the end of the card
    card_context: Callable[[Session, Any], dict[str, Any]] | None = None
    links: Callable[[Any], list[tuple[str, str]]] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)  # what a new record's form starts with

    @property
    def key(self) -> Field:
        return self.fields[0]

    @property
    def url(self) -> str:
        return f"/setup/{self.path}"


# --- reading forms -------------------------------------------------------------------------


def field_input(fields: tuple[Field, ...] | list[Field], form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values of `fields`: an unticked checkbox is false, a blank number is 0."""
    values: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        if f.kind == "checkbox":
            values[f.name] = raw is not None and raw not in ("", "false")
        else:
            text = raw.strip() if isinstance(raw, str) else ""
            values[f.name] = text or ("0" if f.kind == "number" else "")
    return values


def record_values(fields: tuple[Field, ...] | list[Field], record: Any) -> dict[str, Any]:
    """What a form shows for a saved record."""
    return {f.name: getattr(record, f.name) for f in fields}


def validated(schema: type[BaseModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values after the core's input schema checked them (ValidationError otherwise)."""
    return schema.model_validate(dict(values)).model_dump(exclude_unset=True)


def failure_status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 422


def date_param(request: Request, name: str) -> tuple[dt.date | None, str | None]:
    """A YYYY-MM-DD query parameter and the error shown when it is not a date."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None, None
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return None, _("Enter a date as YYYY-MM-DD.")


# --- option lists --------------------------------------------------------------------------


def blank_option() -> list[tuple[str, str]]:
    return [("", "")]


def code_options(column: Any, label: Any) -> Options:
    """A select's options: blank, then each record's code and name."""

    def options(session: Session) -> list[tuple[str, str]]:
        rows = session.execute(select(column, label).order_by(column).limit(1000))
        return blank_option() + [(code, f"{code} · {name}" if name else code) for code, name in rows]

    return options


def enum_options(enum: Any) -> Options:
    """A select's options for one of the domain's enums, in the UI's language."""
    names = enum_captions()
    return lambda session: [(value, names.get(caption, caption).strip()) for value, caption in captions(enum).items()]


def enum_captions() -> dict[str, str]:
    """The enum captions of these pages, translated."""
    return {
        "Outbound": _("Outbound"),
        "Inbound": _("Inbound"),
        "Us": _("Us"),
        "Them": _("Them"),
        "Hard Copy": _("Hard Copy"),
        "Email": _("Email"),
        "Open": _("Open"),
        "Import": _("Import"),
        "Merge": _("Merge"),
    }


LANGUAGES = code_options(Language.code, Language.name)
SALESPEOPLE = code_options(Salesperson.code, Salesperson.name)
NUMBER_SERIES = code_options(NumberSeries.code, NumberSeries.description)
GROUPS = code_options(InteractionGroup.code, InteractionGroup.description)
TEMPLATES = code_options(InteractionTemplate.code, InteractionTemplate.description)


# --- the tables ----------------------------------------------------------------------------


def code_table(
    model: type[Any],
    what: str,
    create_schema: type[BaseModel],
    update_schema: type[BaseModel],
    delete: Callable[[Session, str], None],
) -> dict[str, Any]:
    """get/create/update/delete of a plain code table through rapport.core.masterdata."""
    return {
        "model": model,
        "get": lambda s, code: masterdata.get_record(s, model, code, what),
        "create": lambda s, v: masterdata.create_record(s, model, what, validated(create_schema, v)),
        "update": lambda s, code, v: masterdata.update_record(s, model, what, code, validated(update_schema, v)),
        "delete": delete,
    }


def description_fields() -> tuple[Field, ...]:
    return (Field("code", _("Code"), required=True), Field("description", _("Description")))


# --- pages ---------------------------------------------------------------------------------


def list_page(request: Request, session: Session, table: Table, user: User) -> Any:
    """The list: 50 rows a page by key, filtered by one BC filter expression on a chosen field."""
    query = request.query_params
    names = [f.name for f in table.fields if f.name in table.filters]
    chosen = query.get("field", "") if query.get("field", "") in names else names[0]
    expression = query.get("filter", "").strip()
    date_from, date_from_error = date_param(request, "date_from")
    date_to, date_to_error = date_param(request, "date_to")
    params = ListParams(
        limit=PAGE_SIZE, cursor=query.get("cursor") or None, filters={chosen: expression} if expression else {}
    )
    errors: dict[str, str] = {k: v for k, v in (("date_from", date_from_error), ("date_to", date_to_error)) if v}
    rows: list[Any] = []
    cursor = None
    try:
        rows, cursor = keyset_page(session, select(table.model), [table.model.code], params, table.filters)
    except Invalid as exc:
        errors["cursor" if exc.field == "cursor" else "filter"] = exc.message
    totals = table.statistics(session, [r.code for r in rows], date_from, date_to) if table.statistics else {}
    keep = {k: v for k, v in query.items() if k != "cursor"}
    next_url = f"{table.url}?{_query({**keep, 'cursor': cursor})}" if cursor else ""
    context = {
        "user": user,
        "table": table,
        "columns": [f for f in table.fields if f.in_list],
        "labels": {f.name: dict(f.options(session)) for f in table.fields if f.options and f.in_list},
        "rows": rows,
        "totals": totals,
        "next_url": next_url,
        "filter_options": [(f.name, f.label) for f in table.fields if f.name in names],
        "field": chosen,
        "filter": expression,
        "query": query,
        "errors": errors,
    }
    name = "masterdata/_list.html" if request.headers.get("hx-request") else "masterdata/list.html"
    return render(request, name, context, status_code=422 if errors else 200)


def _query(values: Mapping[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def card_page(
    request: Request,
    session: Session,
    table: Table,
    user: User,
    record: Any,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Any:
    """A record's card: its fields as a form (read-only for readers), statistics, extra sections."""
    date_from, date_from_error = date_param(request, "date_from")
    date_to, date_to_error = date_param(request, "date_to")
    all_errors = {k: v for k, v in (("date_from", date_from_error), ("date_to", date_to_error)) if v}
    all_errors.update(errors or {})
    totals = table.statistics(session, [record.code], date_from, date_to)[record.code] if table.statistics else None
    context = {
        "user": user,
        "table": table,
        "record": record,
        "fields": [(f, f.options(session) if f.options else None) for f in table.fields],
        "values": values if values is not None else record_values(table.fields, record),
        "errors": all_errors,
        "totals": totals,
        "links": table.links(record) if table.links else [],
        "query": request.query_params,
        **(table.card_context(session, record) if table.card_context else {}),
        **extra,
    }
    return render(request, "masterdata/card.html", context, status_code=status_code)


def new_page(
    request: Request,
    session: Session,
    table: Table,
    user: User,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    context = {
        "user": user,
        "table": table,
        "record": None,
        "fields": [(f, f.options(session) if f.options else None) for f in table.fields],
        "values": values or table.defaults,
        "errors": errors or {},
    }
    return render(request, "masterdata/new.html", context, status_code=status_code)


def register(router: APIRouter, path: str, table: Callable[[], Table]) -> None:
    """The list, new, card, save and delete routes of one table, at /setup/<path>.

    `table` describes it anew for each request, so that its labels are in the user's language."""

    @router.get(f"/setup/{path}", name=f"web_list_{path}")
    def list_records(request: Request, session: SessionDep) -> Any:
        return list_page(request, session, table(), page_user(request, session))

    @router.get(f"/setup/{path}/new", name=f"web_new_{path}")
    def new_record(request: Request, session: SessionDep) -> Any:
        return new_page(request, session, table(), page_user(request, session, WRITE))

    @router.post(f"/setup/{path}", name=f"web_create_{path}")
    async def create_record(request: Request, session: SessionDep) -> Any:
        form = await check_csrf(request)
        user = page_user(request, session, WRITE)
        t = table()
        values = field_input(t.fields, form)
        try:
            record = t.create(session, values)
            commit(session)
        except (RapportError, ValidationError) as exc:
            session.rollback()
            return new_page(request, session, t, user, values, form_errors(exc), failure_status(exc))
        flash(request, _("%(code)s was created.", code=record.code))
        return redirect(f"{t.url}/{record.code}")

    @router.get(f"/setup/{path}/{{code}}", name=f"web_card_{path}")
    def show_record(code: str, request: Request, session: SessionDep) -> Any:
        user = page_user(request, session)
        t = table()
        return card_page(request, session, t, user, t.get(session, code))

    @router.post(f"/setup/{path}/{{code}}", name=f"web_update_{path}")
    async def update_record(code: str, request: Request, session: SessionDep) -> Any:
        form = await check_csrf(request)
        user = page_user(request, session, WRITE)
        t = table()
        record = t.get(session, code)
        values = field_input(t.fields[1:], form)
        try:
            t.update(session, record.code, values)
            commit(session)
        except (RapportError, ValidationError) as exc:
            session.rollback()
            record = t.get(session, code)
            shown = {t.key.name: record.code, **values}
            return card_page(request, session, t, user, record, shown, form_errors(exc), failure_status(exc))
        flash(request, _("Your changes were saved."))
        return redirect(f"{t.url}/{record.code}")

    @router.post(f"/setup/{path}/{{code}}/delete", name=f"web_delete_{path}")
    async def delete_record(code: str, request: Request, session: SessionDep) -> Any:
        await check_csrf(request)
        user = page_user(request, session, WRITE)
        t = table()
        record = t.get(session, code)
        deleted = record.code
        try:
            t.delete(session, deleted)
            commit(session)
        except RapportError as exc:
            session.rollback()
            record = t.get(session, code)
            return card_page(
                request, session, t, user, record, errors={"_": exc.message}, status_code=failure_status(exc)
            )
        flash(request, _("%(code)s was deleted.", code=deleted))
        return redirect(t.url)
