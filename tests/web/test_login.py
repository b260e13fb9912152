"""The UI shell: sign in with a CSRF-protected form, the home page, sign out."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.web.helpers import login as sign_in
from tests.web.helpers import token as csrf


def test_the_home_page_sends_a_stranger_to_the_login_page(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_signing_in_leads_to_the_home_page_with_an_httponly_lax_cookie(client, make_user):
    make_user("ui-admin", "admin")
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, ui-admin" in home.text


def test_a_wrong_password_shows_an_error_on_the_form(client, make_user):
    make_user("ui-admin", "admin")
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "ui-admin", "password": "wrong-one", "csrf_token": csrf(page.text)}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_a_form_post_without_the_csrf_token_is_refused(client, make_user):
    make_user("ui-admin", "admin")
    client.get("/login")
    response = client.post("/login", data={"username": "ui-admin", "password": PASSWORD})
    assert response.status_code == 403


def test_contact_names_are_shown_as_text_not_markup(client, make_user, admin):
    client.post("/api/v1/contacts", json={"no": "X1", "name": "<script>alert(1)</script>"}, headers=admin)
    make_user("ui-admin", "admin")
    sign_in(client)
    home = client.get("/")
    assert "<script>alert(1)</script>" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text


def test_signing_out_ends_the_session(client, make_user):
    make_user("ui-admin", "admin")
    sign_in(client)
    home = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out_of_the_ui(client, make_user, admin):
    make_user("ui-admin", "admin")
    sign_in(client)
    client.patch("/api/v1/users/ui-admin", json={"active": False}, headers=admin)
    assert client.get("/", follow_redirects=False).status_code == 303
