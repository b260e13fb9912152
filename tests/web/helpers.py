"""What the UI tests share: signing in through the login form, the CSRF token, calling the API to seed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.conftest import PASSWORD

API = "/api/v1"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def token(html: str) -> str:
    """The CSRF token a page carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def login(client, username: str = "ui-admin"):
    """Post the login form for `username`; returns the response."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
        follow_redirects=False,
    )


def sign_in(client, make_user, role: str, username: str | None = None, page: str = "/") -> str:
    """Sign a new user of `role` in through the login form; returns the CSRF token of the session (read from `page`)."""
    name = username or f"ui-{role}"
    make_user(name, role)
    assert login(client, name).status_code == 303
    return token(client.get(page).text)


def api(client, headers, method: str, path: str, body: Any = None) -> Any:
    """One call of the JSON API that must succeed; its JSON body, if any."""
    response = client.request(method, API + path, json=body, headers=headers)
    assert response.status_code < 300, f"{method} {path}: {response.text}"
    return response.json() if response.content else None


def api_caller(client, headers) -> Callable[..., Any]:
    """`api` bound to a client and its headers: call(method, path, body=None)."""
    return lambda method, path, body=None: api(client, headers, method, path, body)


def post(client, url: str, data: Any, **kwargs: Any):
    """A form post whose redirect is not followed."""
    return client.post(url, data=data, follow_redirects=False, **kwargs)
