"""The error envelope, strict bodies, unknown routes and methods, and the body-size limit."""

from __future__ import annotations

import json

from tests.api.helpers import assert_error

API = "/api/v1"
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}

# create route -> (a valid body, the required fields, a field of the wrong type)
CREATE_ROUTES = {
    "users": (
        {"username": "zed", "role": "viewer", "password": "zeds-password"},
        ["username", "role", "password"],
        ("active", "yes please"),
    ),
    "number-series": ({"code": "NS", "starting_no": "NS001"}, ["code"], ("increment_by", "one")),
    "languages": ({"code": "FRA", "name": "French"}, ["code"], ("name", 12)),
    "salespeople": ({"code": "JD", "name": "Jane"}, ["code"], ("blocked", "maybe")),
    "mailing-groups": ({"code": "NEWS"}, ["code"], ("description", ["x"])),
    "industry-groups": ({"code": "RETAIL"}, ["code"], ("description", {"a": 1})),
    "job-responsibilities": ({"code": "CEO"}, ["code"], ("code", 7)),
    "business-relations": ({"code": "CUST"}, ["code"], ("description", True)),
    "profile-questionnaires": ({"code": "SIZE", "answers": [{"answer_code": "S"}]}, ["code"], ("answers", "S")),
    "contacts": ({"no": "C1", "name": "Acme"}, [], ("exclude_from_segment", "often")),
}
KEY = {"users": "username", "contacts": "no"}




def keys(client, admin, path: str) -> list[str]:
    response = client.get(f"{API}/{path}", headers=admin)
    assert response.status_code == 200, response.text
    key = KEY.get(path, "code")
    return [item[key] for item in response.json()["items"] if item[key] not in ("admin-user",)]


# --- strict bodies ----------------------------------------------------------------------------


def test_an_unknown_body_field_is_422_naming_it_and_nothing_is_saved(client, admin):
    for path, (body, _, _) in CREATE_ROUTES.items():
        response = client.post(f"{API}/{path}", json={**body, "colour": "blue"}, headers=admin)
        error = assert_error(response, 422, "invalid", "colour")
        assert "colour" in error["message"], path
        assert keys(client, admin, path) == [], path


def test_a_missing_required_field_is_422_naming_it_and_nothing_is_saved(client, admin):
    for path, (body, required, _) in CREATE_ROUTES.items():
        for name in required:
            partial = {k: v for k, v in body.items() if k != name}
            assert_error(client.post(f"{API}/{path}", json=partial, headers=admin), 422, "invalid", name)
        assert keys(client, admin, path) == [], path


def test_a_field_of_the_wrong_type_is_422_naming_it_and_nothing_is_saved(client, admin):
    for path, (body, _, (name, value)) in CREATE_ROUTES.items():
        response = client.post(f"{API}/{path}", json={**body, name: value}, headers=admin)
        assert_error(response, 422, "invalid", name)
        assert keys(client, admin, path) == [], path


def test_a_body_that_is_not_an_object_is_422(client, admin):
    for path in CREATE_ROUTES:
        assert_error(client.post(f"{API}/{path}", json=["a"], headers=admin), 422, "invalid")
        assert keys(client, admin, path) == [], path


def test_an_unknown_field_in_a_patch_is_422_and_nothing_changes(client, admin):
    for path, (body, _, _) in CREATE_ROUTES.items():
        if path == "users":
            continue
        created = client.post(f"{API}/{path}", json=body, headers=admin)
        assert created.status_code == 201, created.text
        key = created.json()[KEY.get(path, "code")]
        change = {"name": "Changed"} if path in ("languages", "salespeople", "contacts") else {"description": "Changed"}
        response = client.patch(f"{API}/{path}/{key}", json={**change, "colour": "blue"}, headers=admin)
        assert_error(response, 422, "invalid", "colour")
        assert client.get(f"{API}/{path}/{key}", headers=admin).json() == created.json(), path


def test_an_unknown_field_in_marketing_setup_is_422_and_nothing_changes(client, admin):
    before = client.get(f"{API}/setup/marketing", headers=admin).json()
    body = {"default_country_code": "FR", "defualt_language_code": "FRA"}
    assert_error(
        client.put(f"{API}/setup/marketing", json=body, headers=admin), 422, "invalid", "defualt_language_code"
    )
    assert client.get(f"{API}/setup/marketing", headers=admin).json() == before


def test_malformed_json_is_refused_in_the_envelope(client, admin):
    response = client.post(
        f"{API}/contacts", content=b'{"no": "C1", "name": ', headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code, CODES[response.status_code])
    assert client.get(f"{API}/contacts", headers=admin).json()["items"] == []


def test_an_explicit_null_for_a_field_is_refused(client, admin):
    client.post(f"{API}/contacts", json={"no": "C1", "name": "Acme"}, headers=admin)
    assert_error(client.patch(f"{API}/contacts/C1", json={"name": None}, headers=admin), 422, "invalid", "name")
    assert client.get(f"{API}/contacts/C1", headers=admin).json()["name"] == "Acme"


# --- routes and methods -----------------------------------------------------------------------


def test_an_unknown_route_is_404_in_the_envelope(client, admin):
    for path in ("/api/v1/nope", "/api/v1/contacts/C1/nope", "/api/v2/contacts", "/api/v1/"):
        assert_error(client.get(path, headers=admin), 404, "not_found")
        assert_error(client.get(path), 404, "not_found")


def test_a_wrong_method_is_405_method_not_allowed_in_the_envelope(client, admin):
    for method, path in (
        ("DELETE", "/health"),
        ("POST", "/health"),
        ("PUT", "/contacts"),
        ("DELETE", "/contacts"),
        ("POST", "/contacts/C1"),
        ("GET", "/auth/token"),
        ("PATCH", "/setup/marketing"),
        ("POST", "/users/admin-user"),
    ):
        assert_error(client.request(method, f"{API}{path}", headers=admin), 405, "method_not_allowed")


def test_an_unknown_record_is_404_not_found(client, admin):
    assert_error(client.get(f"{API}/contacts/NOPE", headers=admin), 404, "not_found")


# --- the body-size limit ----------------------------------------------------------------------


def big_contact(size: int) -> bytes:
    return json.dumps({"no": "BIG", "name": "Acme", "address": "x" * size}).encode()


def test_a_body_over_the_limit_is_413_too_large_and_nothing_is_saved(small_client, admin):
    response = small_client.post(
        f"{API}/contacts", content=big_contact(2 * 1024 * 1024), headers={**admin, "Content-Type": "application/json"}
    )
    assert_error(response, 413, "too_large")
    assert_error(small_client.get(f"{API}/contacts/BIG", headers=admin), 404, "not_found")


def test_a_streamed_body_over_the_limit_without_a_length_is_413(small_client, admin):
    data = big_contact(2 * 1024 * 1024)

    def chunks():
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    response = small_client.post(
        f"{API}/contacts", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_error(response, 413, "too_large")
    assert_error(small_client.get(f"{API}/contacts/BIG", headers=admin), 404, "not_found")


def test_the_size_limit_is_checked_before_authentication(small_client):
    response = small_client.post(
        f"{API}/contacts", content=big_contact(2 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "too_large")


def test_a_body_under_the_limit_is_served_normally(small_client, admin):
    response = small_client.post(f"{API}/contacts", json={"no": "SMALL", "name": "Acme"}, headers=admin)
    assert response.status_code == 201, response.text
