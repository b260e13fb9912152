"""Users (admin): add, change role, language and active flag, reset the password, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rapport import accounts
from rapport.accounts import User, UserCreate, UserUpdate
from rapport.api.deps import ListParams, SessionDep, commit, keyset_page
from rapport.core.enums import Role
from rapport.errors import Invalid, RapportError
from rapport.filters import field_specs
from rapport.web import i18n
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _
from rapport.web.masterdata import PAGE_SIZE, failure_status

router = APIRouter()

ADMIN = "users"
USER_FIELDS = field_specs(User)


def role_options() -> list[tuple[str, str]]:
    names = {
        Role.ADMIN: _("Administrator"),
        Role.MARKETING: _("Marketing"),
        Role.SALES: _("Sales"),
        Role.VIEWER: _("Viewer (read only)"),
    }
    return [(role.value, names[role]) for role in Role]


def language_options() -> list[tuple[str, str]]:
    return [("", _("As the browser asks")), *i18n.LANGUAGES.items()]


def list_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    """The users by name, 50 a page, filtered by a BC filter expression on the username."""
    query = request.query_params
    expression = query.get("filter", "").strip()
    params = ListParams(
        limit=PAGE_SIZE, cursor=query.get("cursor") or None, filters={"username": expression} if expression else {}
    )
    all_errors = dict(errors or {})
    rows: list[User] = []
    cursor = None
    try:
        rows, cursor = keyset_page(session, accounts.users_statement(), [User.username], params, USER_FIELDS)
    except Invalid as exc:
        all_errors["filter"] = exc.message
        status_code = 422
    context = {
        "user": user,
        "rows": rows,
        "next_url": f"/users?{urlencode({'filter': expression, 'cursor': cursor})}" if cursor else "",
        "filter": expression,
        "roles": role_options(),
        "values": values or {"role": Role.VIEWER.value},
        "errors": all_errors,
    }
    return render(request, "users/list.html", context, status_code=status_code)


@router.get("/users")
def list_users(request: Request, session: SessionDep) -> Any:
    return list_page(request, session, page_user(request, session, ADMIN))


@router.post("/users")
async def add_user(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, ADMIN)
    values = {name: str(form.get(name, "")).strip() for name in ("username", "role")}
    try:
        created = accounts.create_user(session, UserCreate.model_validate({**values, "password": form.get("password")}))
        commit(session)
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return list_page(request, session, user, values, form_errors(exc), failure_status(exc))
    flash(request, _("User %(name)s was added.", name=created.username))
    return redirect(f"/users/{created.username}")


def card_page(
    request: Request,
    session: Session,
    user: User,
    shown: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    context = {
        "user": user,
        "shown": shown,
        "itself": shown.id == user.id,
        "roles": role_options(),
        "ui_languages": language_options(),
        "values": values or {"role": shown.role, "language": shown.language, "active": shown.active},
        "errors": errors or {},
    }
    return render(request, "users/card.html", context, status_code=status_code)


@router.get("/users/{username}")
def show_user(username: str, request: Request, session: SessionDep) -> Any:
    user = page_user(request, session, ADMIN)
    return card_page(request, session, user, accounts.get_user(session, username))


@router.post("/users/{username}")
async def save_user(username: str, request: Request, session: SessionDep) -> Any:
    """Role, active flag and UI language; nobody demotes or deactivates themselves."""
    form = await check_csrf(request)
    user = page_user(request, session, ADMIN)
    shown = accounts.get_user(session, username)
    language = str(form.get("language", ""))
    values = {"role": str(form.get("role", "")), "active": form.get("active") == "true", "language": language}
    try:
        if shown.id == user.id and values["role"] != shown.role:
            raise Invalid(_("You cannot change your own role; ask another administrator."), field="role")
        if shown.id == user.id and not values["active"]:
            raise Invalid(_("You cannot deactivate yourself."), field="active")
        if language not in ("", *i18n.LANGUAGES):
            raise Invalid(_("Choose one of the languages offered."), field="language")
        accounts.update_user(
            session, shown.username, UserUpdate.model_validate({"role": values["role"], "active": values["active"]})
        )
        shown.language = language
        commit(session)
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return card_page(request, session, user, shown, values, form_errors(exc), failure_status(exc))
    flash(request, _("Your changes were saved."))
    return redirect(f"/users/{shown.username}")


@router.post("/users/{username}/password")
async def reset_password(username: str, request: Request, session: SessionDep) -> Any:
    """A new password; the user's other sessions and tokens end."""
    form = await check_csrf(request)
    user = page_user(request, session, ADMIN)
    shown = accounts.get_user(session, username)
    try:
        accounts.update_user(session, shown.username, UserUpdate.model_validate({"password": form.get("password")}))
        commit(session)
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return card_page(request, session, user, shown, None, form_errors(exc), failure_status(exc))
    if shown.id == user.id:
        request.session["tk"] = shown.token_key
    flash(request, _("The password of %(name)s was reset.", name=shown.username))
    return redirect(f"/users/{shown.username}")


@router.post("/users/{username}/delete")
async def delete_user(username: str, request: Request, session: SessionDep) -> Any:
    await check_csrf(request)
    user = page_user(request, session, ADMIN)
    shown = accounts.get_user(session, username)
    if shown.id == user.id:
        errors = {"_": _("You cannot delete yourself; ask another administrator.")}
        return card_page(request, session, user, shown, None, errors, 409)
    accounts.delete_user(session, shown.username)
    commit(session)
    flash(request, _("User %(name)s was deleted.", name=username))
    return redirect("/users")
