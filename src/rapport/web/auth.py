"""Sign in, sign out, and the language of the UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from rapport.api.deps import SessionDep, sign_in
from rapport.errors import TooManyRequests, Unauthorized
from rapport.web import i18n
from rapport.web.common import check_csrf, page_user, redirect, render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Any:
    return render(request, "auth/login.html", {"user": None, "next": _safe_next(next), "error": None})


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    try:
        user = sign_in(request, session, username, password)
    except (Unauthorized, TooManyRequests) as exc:
        status = 429 if isinstance(exc, TooManyRequests) else 401
        return render(
            request,
            "auth/login.html",
            {"user": None, "next": target, "error": exc.message, "username": username},
            status_code=status,
        )
    request.session.clear()
    request.session["uid"] = user.id
    request.session["tk"] = user.token_key
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Any:
    await check_csrf(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
async def change_language(request: Request, session: SessionDep) -> Any:
    """Keep the chosen UI language as the user's own setting."""
    form = await check_csrf(request)
    user = page_user(request, session)
    language = str(form.get("language", ""))
    user.language = language if language in i18n.LANGUAGES else ""
    session.commit()
    return redirect(_safe_next(str(form.get("next", "/"))))
