"""What every page shares: templates, the signed-in user, CSRF tokens, error pages."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from rapport import __version__
from rapport.accounts import User
from rapport.errors import Forbidden
from rapport.settings import Settings

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals["version"] = __version__


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
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Refuse a form post whose CSRF token does not match the session's."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden("The form has expired or did not come from Rapport; reload the page and try again.")


def page_user(request: Request, session: Session) -> User:
    """The signed-in user of the UI, or a redirect to the login page."""
    uid = request.session.get("uid")
    user = session.get(User, uid) if uid else None
    if user is None or not user.active or user.token_key != request.session.get("tk"):
        request.session.pop("uid", None)
        raise LoginRequired()
    return user


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"csrf_token": csrf_token(request), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message, "user": None}, status_code=status)
