"""The users pages in-process: admin only, add, change, reset, delete, and nobody locks themselves out."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.web.helpers import token
from tests.web.test_setup_pages import sign_in


def test_the_users_page_is_for_administrators_only(client, make_user):
    sign_in(client, make_user, "marketing")
    assert client.get("/users").status_code == 403
    assert client.get("/users/ui-marketing").status_code == 403


def test_an_admin_sees_every_user_with_role_and_state(client, make_user):
    make_user("zoe", "viewer", active=False)
    sign_in(client, make_user)
    page = client.get("/users")
    assert page.status_code == 200
    assert 'href="/users/zoe"' in page.text and 'href="/users/ui-admin"' in page.text
    assert "Viewer (read only)" in page.text


@pytest.mark.parametrize("url", ["/users", "/users/zoe", "/users/zoe/password", "/users/zoe/delete"])
def test_a_users_form_without_the_csrf_token_is_refused(client, make_user, admin, url):
    make_user("zoe", "viewer")
    sign_in(client, make_user)
    response = client.post(url, data={"username": "new1", "role": "admin", "password": "long-enough-1"})
    assert response.status_code == 403
    assert client.get("/api/v1/users/zoe", headers=admin).json()["role"] == "viewer"
    assert client.get("/api/v1/users/new1", headers=admin).status_code == 404


def test_a_non_admin_cannot_post_to_the_users_pages(client, make_user, admin):
    make_user("zoe", "viewer")
    csrf = sign_in(client, make_user, "marketing")
    response = client.post("/users/zoe", data={"csrf_token": csrf, "role": "admin", "active": "true"})
    assert response.status_code == 403
    response = client.post("/users", data={"csrf_token": csrf, "username": "x1", "role": "admin", "password": "p" * 9})
    assert response.status_code == 403
    assert client.get("/api/v1/users/zoe", headers=admin).json()["role"] == "viewer"


def test_an_admin_adds_a_user_who_can_then_sign_in(client, make_user, admin):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/users",
        data={"csrf_token": csrf, "username": "olga", "role": "sales", "password": "long-enough-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/users/olga"
    assert client.get("/api/v1/users/olga", headers=admin).json() == {
        "username": "olga",
        "role": "sales",
        "active": True,
    }
    token_response = client.post("/api/v1/auth/token", data={"username": "olga", "password": "long-enough-1"})
    assert token_response.status_code == 200


def test_a_short_password_is_shown_next_to_the_field_with_the_name_kept(client, make_user, admin):
    csrf = sign_in(client, make_user)
    response = client.post(
        "/users", data={"csrf_token": csrf, "username": "olga", "role": "sales", "password": "short"}
    )
    assert response.status_code == 422
    assert 'id="e-password"' in response.text
    assert 'value="olga"' in response.text
    assert client.get("/api/v1/users/olga", headers=admin).status_code == 404


def test_a_taken_username_is_refused_next_to_the_username(client, make_user):
    make_user("olga", "viewer")
    csrf = sign_in(client, make_user)
    response = client.post(
        "/users", data={"csrf_token": csrf, "username": "olga", "role": "sales", "password": "long-enough-1"}
    )
    assert response.status_code == 409
    assert re.search(r'id="e-username">User olga already exists', response.text)


def test_an_admin_changes_role_language_and_deactivates_a_user(client, make_user, admin):
    make_user("zoe", "viewer")
    csrf = sign_in(client, make_user)
    response = client.post(
        "/users/zoe", data={"csrf_token": csrf, "role": "marketing", "language": "it"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/api/v1/users/zoe", headers=admin).json() == {
        "username": "zoe",
        "role": "marketing",
        "active": False,
    }
    assert 'value="it" selected' in client.get("/users/zoe").text


def test_a_reset_password_works_and_the_old_one_does_not(client, make_user):
    make_user("zoe", "viewer")
    csrf = sign_in(client, make_user)
    response = client.post("/users/zoe/password", data={"csrf_token": csrf, "password": "brand-new-pass"})
    assert response.status_code == 200  # followed the redirect to the card
    assert "The password of zoe was reset." in response.text
    assert client.post("/api/v1/auth/token", data={"username": "zoe", "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "zoe", "password": "brand-new-pass"}).status_code == 200


def test_resetting_ones_own_password_keeps_one_signed_in(client, make_user):
    csrf = sign_in(client, make_user)
    client.post("/users/ui-admin/password", data={"csrf_token": csrf, "password": "brand-new-pass"})
    assert client.get("/users", follow_redirects=False).status_code == 200


def test_an_admin_deletes_a_user_but_not_themselves(client, make_user, admin):
    make_user("zoe", "viewer")
    csrf = sign_in(client, make_user)
    assert "Delete user" not in client.get("/users/ui-admin").text
    response = client.post("/users/ui-admin/delete", data={"csrf_token": csrf})
    assert response.status_code == 409
    assert "You cannot delete yourself" in response.text
    response = client.post("/users/zoe/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/v1/users/zoe", headers=admin).status_code == 404


def test_an_admin_cannot_demote_or_deactivate_themselves(client, make_user):
    csrf = sign_in(client, make_user)
    response = client.post("/users/ui-admin", data={"csrf_token": csrf, "role": "viewer", "active": "true"})
    assert response.status_code == 422
    assert re.search(r'id="e-role">You cannot change your own role', response.text)
    response = client.post("/users/ui-admin", data={"csrf_token": csrf, "role": "admin"})
    assert response.status_code == 422
    assert 'id="e-active"' in response.text
    assert client.get("/users").status_code == 200


def test_a_users_own_language_setting_translates_the_pages(client, make_user):
    csrf = sign_in(client, make_user)
    client.post("/users/ui-admin", data={"csrf_token": csrf, "role": "admin", "active": "true", "language": "fr"})
    page = client.get("/users")
    assert '<html lang="fr">' in page.text
    assert "Ajouter un utilisateur" in page.text
    assert token(page.text)
