"""Health, sign-in (tokens, throttle, revocation) and the users API."""

from __future__ import annotations

from tests.api.helpers import assert_error
from tests.conftest import PASSWORD

API = "/api/v1"




def login(client, username: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/token", data={"username": username, "password": password})


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- health ---------------------------------------------------------------------------------


def test_health_answers_without_a_token_with_status_database_and_version(client, backend):
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "database", "version"}
    assert body["status"] == "ok"
    assert body["database"] == backend
    assert isinstance(body["version"], str) and body["version"]


# --- tokens -----------------------------------------------------------------------------------


def test_a_user_gets_a_bearer_token_for_form_fields_username_and_password(client, make_user):
    make_user("alice", "viewer")
    response = login(client, "alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert client.get(f"{API}/contacts", headers=bearer(response)).status_code == 200


def test_a_json_body_instead_of_form_fields_is_refused_with_422(client, make_user):
    make_user("alice", "viewer")
    response = client.post(f"{API}/auth/token", json={"username": "alice", "password": PASSWORD})
    assert_error(response, 422, "invalid")


def test_a_wrong_password_is_401_in_the_error_envelope(client, make_user):
    make_user("alice", "viewer")
    response = login(client, "alice", "wrong-password")
    assert_error(response, 401, "unauthorized")
    assert "access_token" not in response.text


def test_an_unknown_username_is_401_like_a_wrong_password(client):
    assert_error(login(client, "nobody", "whatever-pw"), 401, "unauthorized")


def test_a_request_without_a_token_is_401(client):
    assert_error(client.get(f"{API}/contacts"), 401, "unauthorized")


def test_a_forged_or_garbage_token_is_401(client):
    response = client.get(f"{API}/contacts", headers={"Authorization": "Bearer not-a-token"})
    assert_error(response, 401, "unauthorized")
    response = client.get(f"{API}/contacts", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert_error(response, 401, "unauthorized")


def test_ten_failed_logins_lock_that_username_with_429_but_other_users_still_sign_in(client, make_user):
    make_user("alice", "viewer")
    make_user("bob", "viewer")
    for _ in range(10):
        assert login(client, "alice", "wrong-password").status_code == 401
    assert_error(login(client, "alice", "wrong-password"), 429, "too_many_requests")
    # even the right password is refused while the username is locked
    assert_error(login(client, "alice"), 429, "too_many_requests")
    assert login(client, "bob").status_code == 200


def test_nine_failed_logins_do_not_lock_the_username(client, make_user):
    make_user("alice", "viewer")
    for _ in range(9):
        assert login(client, "alice", "wrong-password").status_code == 401
    assert login(client, "alice").status_code == 200


def test_a_deactivated_users_token_stops_working_at_once(client, admin, make_user):
    make_user("alice", "viewer")
    headers = bearer(login(client, "alice"))
    assert client.get(f"{API}/contacts", headers=headers).status_code == 200
    response = client.patch(f"{API}/users/alice", json={"active": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert_error(client.get(f"{API}/contacts", headers=headers), 401, "unauthorized")
    assert_error(login(client, "alice"), 401, "unauthorized")
    assert client.patch(f"{API}/users/alice", json={"active": True}, headers=admin).status_code == 200
    assert_error(client.get(f"{API}/contacts", headers=headers), 401, "unauthorized")  # ended, not paused
    assert client.get(f"{API}/contacts", headers=bearer(login(client, "alice"))).status_code == 200


def test_a_deleted_users_token_stops_working_at_once(client, admin, make_user):
    make_user("alice", "viewer")
    headers = bearer(login(client, "alice"))
    assert client.delete(f"{API}/users/alice", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/contacts", headers=headers), 401, "unauthorized")


def test_a_user_recreated_with_the_same_name_does_not_revive_old_tokens(client, admin, make_user):
    make_user("alice", "viewer")
    headers = bearer(login(client, "alice"))
    assert client.delete(f"{API}/users/alice", headers=admin).status_code == 204
    make_user("alice", "viewer")
    assert_error(client.get(f"{API}/contacts", headers=headers), 401, "unauthorized")


def test_changing_the_password_ends_the_old_tokens_and_the_new_password_signs_in(client, admin, make_user):
    make_user("alice", "viewer")
    old = bearer(login(client, "alice"))
    response = client.patch(f"{API}/users/alice", json={"password": "a-new-password-2"}, headers=admin)
    assert response.status_code == 200, response.text
    assert_error(client.get(f"{API}/contacts", headers=old), 401, "unauthorized")
    assert_error(login(client, "alice"), 401, "unauthorized")
    new = bearer(login(client, "alice", "a-new-password-2"))
    assert client.get(f"{API}/contacts", headers=new).status_code == 200


# --- users ------------------------------------------------------------------------------------


def test_an_admin_creates_reads_lists_updates_and_deletes_users(client, admin):
    created = client.post(
        f"{API}/users", json={"username": "carol", "role": "sales", "password": "pass-word-99"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"username": "carol", "role": "sales", "active": True}
    assert client.get(f"{API}/users/carol", headers=admin).json() == {
        "username": "carol",
        "role": "sales",
        "active": True,
    }
    listed = client.get(f"{API}/users", headers=admin)
    assert listed.status_code == 200
    assert "carol" in [u["username"] for u in listed.json()["items"]]
    assert "next_cursor" in listed.json()
    patched = client.patch(f"{API}/users/carol", json={"role": "marketing"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["role"] == "marketing"
    assert bearer(login(client, "carol", "pass-word-99"))
    assert client.delete(f"{API}/users/carol", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/users/carol", headers=admin), 404, "not_found")


def test_the_password_is_write_only_and_never_appears_in_any_response(client, admin):
    secret = "very-secret-pw-1"
    responses = [
        client.post(f"{API}/users", json={"username": "dave", "role": "viewer", "password": secret}, headers=admin),
        client.get(f"{API}/users/dave", headers=admin),
        client.get(f"{API}/users", headers=admin),
        client.patch(f"{API}/users/dave", json={"password": secret + "x"}, headers=admin),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert secret not in response.text
        assert "password" not in response.text
    for item in responses[2].json()["items"]:
        assert set(item) == {"username", "role", "active"}


def test_a_created_user_signs_in_with_the_given_password(client, admin):
    client.post(
        f"{API}/users", json={"username": "erin", "role": "viewer", "password": "erins-password"}, headers=admin
    )
    assert login(client, "erin", "erins-password").status_code == 200


def test_a_duplicate_username_is_409(client, admin):
    body = {"username": "frank", "role": "viewer", "password": "franks-password"}
    assert client.post(f"{API}/users", json=body, headers=admin).status_code == 201
    assert_error(client.post(f"{API}/users", json=body, headers=admin), 409, "conflict")


def test_an_unknown_role_is_422_naming_role(client, admin):
    body = {"username": "gina", "role": "superuser", "password": "ginas-password"}
    assert_error(client.post(f"{API}/users", json=body, headers=admin), 422, "invalid", "role")
    assert_error(client.get(f"{API}/users/gina", headers=admin), 404, "not_found")
    client.post(f"{API}/users", json={**body, "role": "viewer"}, headers=admin)
    assert_error(client.patch(f"{API}/users/gina", json={"role": "root"}, headers=admin), 422, "invalid", "role")


def test_user_bodies_are_strict_and_require_username_role_and_password(client, admin):
    base = {"username": "hank", "role": "viewer", "password": "hanks-password"}
    assert_error(client.post(f"{API}/users", json={**base, "email": "x@y.z"}, headers=admin), 422, "invalid", "email")
    for missing in ("username", "role", "password"):
        body = {k: v for k, v in base.items() if k != missing}
        assert_error(client.post(f"{API}/users", json=body, headers=admin), 422, "invalid", missing)
    assert_error(
        client.post(f"{API}/users", json={**base, "active": "perhaps"}, headers=admin), 422, "invalid", "active"
    )
    assert_error(client.get(f"{API}/users/hank", headers=admin), 404, "not_found")
    assert client.post(f"{API}/users", json=base, headers=admin).status_code == 201
    assert_error(client.patch(f"{API}/users/hank", json={"rol": "admin"}, headers=admin), 422, "invalid", "rol")
    assert_error(
        client.patch(f"{API}/users/hank", json={"password": "short"}, headers=admin), 422, "invalid", "password"
    )
    assert client.get(f"{API}/users/hank", headers=admin).json()["role"] == "viewer"
    assert login(client, "hank", "hanks-password").status_code == 200


def test_unknown_users_are_404(client, admin):
    assert_error(client.get(f"{API}/users/nobody", headers=admin), 404, "not_found")
    assert_error(client.patch(f"{API}/users/nobody", json={"active": False}, headers=admin), 404, "not_found")
    assert_error(client.delete(f"{API}/users/nobody", headers=admin), 404, "not_found")


def test_only_admins_manage_users(client, headers_for):
    for role in ("marketing", "sales", "viewer"):
        headers = headers_for(role)
        assert_error(client.get(f"{API}/users", headers=headers), 403, "forbidden")
        assert_error(client.get(f"{API}/users/{role}-user", headers=headers), 403, "forbidden")
        body = {"username": "ivan", "role": "admin", "password": "ivans-password"}
        assert_error(client.post(f"{API}/users", json=body, headers=headers), 403, "forbidden")
        change = {"role": "admin"}
        assert_error(client.patch(f"{API}/users/{role}-user", json=change, headers=headers), 403, "forbidden")
        assert_error(client.delete(f"{API}/users/{role}-user", headers=headers), 403, "forbidden")
        assert client.get(f"{API}/contacts", headers=headers).status_code == 200
    assert_error(client.get(f"{API}/users/ivan", headers=headers_for("admin")), 404, "not_found")


def test_the_token_form_requires_username_and_password(client):
    assert_error(client.post(f"{API}/auth/token", data={"username": "alice"}), 422, "invalid", "password")
    assert_error(client.post(f"{API}/auth/token", data={"password": "pw-pw-pw-pw"}), 422, "invalid", "username")


def test_the_user_list_is_ordered_by_username_and_paged_with_limit_and_cursor(client, admin, make_user):
    for name in ("zoe", "bea", "max"):
        make_user(name, "viewer")
    everyone = ["admin-user", "bea", "max", "zoe"]
    assert [u["username"] for u in client.get(f"{API}/users", headers=admin).json()["items"]] == everyone
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/users", params=params, headers=admin)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 3
        seen += [u["username"] for u in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == everyone
    assert_error(client.get(f"{API}/users", params={"limit": 0}, headers=admin), 422, "invalid", "limit")
