"""What every page shares: templates, language, the signed-in user, roles, CSRF, flashes, form errors."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware

from rapport import __version__
from rapport.accounts import PERMISSIONS, Role, User, check_permission
from rapport.errors import Forbidden, RapportError
from rapport.settings import Settings
from rapport.web import i18n

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
HTMX = "/static/vendor/htmx-2.0.11.min.js"

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.template_gettext, i18n.template_ngettext, newstyle=True
)
templates.env.globals.update(
    version=__version__,
    htmx=HTMX,
    languages=i18n.LANGUAGES,
    current_language=i18n.current_language,
)


def can(user: User | None, permission: str) -> bool:
    """Whether the user's role allows `permission` (decides which actions a page shows)."""
    return user is not None and Role(user.role) in PERMISSIONS[permission]


templates.env.globals["can"] = can


class LoginRequired(Exception):
    """The page needs a signed-in user."""


def install_web(app: FastAPI, settings: Settings) -> None:
    """Session cookies (HttpOnly, SameSite=Lax) and the redirect to the login page."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="rapport_session",
        same_site="lax",
        https_only=settings.environment == "production",
        max_age=12 * 3600,
    )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Any:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            response = HTMLResponse("", status_code=401)
            response.headers["HX-Redirect"] = "/login"
            return response
        return RedirectResponse(f"/login?next={target}", status_code=303)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> FormData:
    """Refuse a form post whose CSRF token does not match the session's; return the form."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            i18n.gettext("The form has expired or did not come from Rapport; reload the page and try again.")
        )
    return form


def page_user(request: Request, session: Session, permission: str = "read") -> User:
    """The signed-in user of the UI (a redirect to the login page when there is none).

    Also sets the language of the page, and refuses users whose role lacks `permission`."""
    uid = request.session.get("uid")
    user = session.get(User, uid) if uid else None
    if user is None or not user.active or user.token_key != request.session.get("tk"):
        request.session.pop("uid", None)
        i18n.set_language(i18n.negotiate(None, request.headers.get("accept-language")))
        raise LoginRequired()
    i18n.set_language(i18n.negotiate(user.language, request.headers.get("accept-language")))
    check_permission(user, permission)
    return user


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A message shown once, on the next page rendered for this browser."""
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)


def form_values(form: FormData, *, blank_as_none: bool = False) -> dict[str, Any]:
    """The submitted fields without the CSRF token; several values of one name become a list."""
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        value: Any = items if len(items) > 1 else (items[0] if items else None)
        if blank_as_none and value == "":
            value = None
        values[key] = value
    return values


def form_errors(exc: Exception) -> dict[str, str]:
    """Field name -> message for a refused form (`_` holds what belongs to no one field)."""
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for error in exc.errors():
            names = [str(part) for part in error["loc"] if isinstance(part, str)]
            errors.setdefault(names[-1] if names else "_", str(error["msg"]))
        return errors
    if isinstance(exc, RapportError):
        return {exc.field or "_": exc.message}
    raise exc


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page (or an htmx fragment) in the language of its user."""
    user = context.get("user")
    i18n.set_language(i18n.negotiate(getattr(user, "language", None), request.headers.get("accept-language")))
    i18n.set_area(i18n.area_of_template(name))
    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    full: dict[str, Any] = {
        "csrf_token": csrf_token(request),
        "flashes": flashes,
        "errors": {},
        "request_path": request.url.path,
    }
    full.update(context)
    return templates.TemplateResponse(request, name, full, status_code=status_code, headers=dict(headers or {}))


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message, "user": None}, status_code=status)
