"""Every route of /api/v1 against every role, from one explicit table of who may call what.

The table below names, for each method and path, the permission a caller needs (the names of
`rapport.accounts.PERMISSIONS`), or PUBLIC. The test walks the application's own route table, so a
route that the table does not classify fails the test until someone decides who may call it.

For each route: without a token it is 401; with the token of a role that lacks the permission it is
403; with one that has it, anything but 401 and 403 (path parameters name records that do not
exist, so 404 or 422 after the role check are expected and fine).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from rapport.accounts import PERMISSIONS
from rapport.core.enums import Role
from tests.api.helpers import API, assert_error

PUBLIC = "public"
ROLES = [role.value for role in Role]

# method, path below /api/v1 -> the permission its caller needs (PUBLIC: no token at all).
REQUIRED: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("POST", "/auth/token"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    # users: admin only
    ("GET", "/users"): "users",
    ("POST", "/users"): "users",
    ("GET", "/users/{username}"): "users",
    ("PATCH", "/users/{username}"): "users",
    ("DELETE", "/users/{username}"): "users",
    # setup and master data: everyone reads, marketing writes
    ("GET", "/number-series"): "read",
    ("POST", "/number-series"): "marketing.write",
    ("GET", "/number-series/{code}"): "read",
    ("PATCH", "/number-series/{code}"): "marketing.write",
    ("DELETE", "/number-series/{code}"): "marketing.write",
    ("GET", "/setup/marketing"): "read",
    ("PUT", "/setup/marketing"): "marketing.write",
    ("GET", "/setup/interaction-templates"): "read",
    ("PUT", "/setup/interaction-templates"): "marketing.write",
    ("GET", "/languages"): "read",
    ("POST", "/languages"): "marketing.write",
    ("GET", "/languages/{code}"): "read",
    ("PATCH", "/languages/{code}"): "marketing.write",
    ("DELETE", "/languages/{code}"): "marketing.write",
    ("GET", "/salespeople"): "read",
    ("POST", "/salespeople"): "marketing.write",
    ("GET", "/salespeople/{code}"): "read",
    ("PATCH", "/salespeople/{code}"): "marketing.write",
    ("DELETE", "/salespeople/{code}"): "marketing.write",
    **{
        (method, f"/{dimension}{suffix}"): permission
        for dimension in (
            "mailing-groups",
            "industry-groups",
            "job-responsibilities",
            "business-relations",
            "profile-questionnaires",
            "interaction-groups",
        )
        for method, suffix, permission in (
            ("GET", "", "read"),
            ("POST", "", "marketing.write"),
            ("GET", "/{code}", "read"),
            ("PATCH", "/{code}", "marketing.write"),
            ("DELETE", "/{code}", "marketing.write"),
        )
    },
    # contacts: sales may create and edit them, not delete them
    ("GET", "/contacts"): "read",
    ("POST", "/contacts"): "contacts.write",
    ("GET", "/contacts/{no}"): "read",
    ("PATCH", "/contacts/{no}"): "contacts.write",
    ("DELETE", "/contacts/{no}"): "contacts.delete",
    **{
        (method, f"/contacts/{{no}}/{part}"): permission
        for part in (
            "mailing-groups",
            "industry-groups",
            "job-responsibilities",
            "business-relations",
            "profile-answers",
        )
        for method, permission in (("GET", "read"), ("PUT", "contacts.write"))
    },
    # interaction templates, their languages and attachments
    ("GET", "/interaction-templates"): "read",
    ("POST", "/interaction-templates"): "marketing.write",
    ("GET", "/interaction-templates/{code}"): "read",
    ("PATCH", "/interaction-templates/{code}"): "marketing.write",
    ("DELETE", "/interaction-templates/{code}"): "marketing.write",
    ("GET", "/interaction-templates/{code}/languages"): "read",
    ("POST", "/interaction-templates/{code}/languages"): "marketing.write",
    ("GET", "/interaction-templates/{code}/languages/{language_code}"): "read",
    ("PATCH", "/interaction-templates/{code}/languages/{language_code}"): "marketing.write",
    ("DELETE", "/interaction-templates/{code}/languages/{language_code}"): "marketing.write",
    ("PUT", "/interaction-templates/{code}/languages/{language_code}/attachment"): "marketing.write",
    ("GET", "/interaction-templates/{code}/languages/{language_code}/attachment"): "read",
    ("DELETE", "/interaction-templates/{code}/languages/{language_code}/attachment"): "marketing.write",
    ("GET", "/attachments/{attachment_no}"): "read",
    # the interaction log: sales records, resumes, evaluates, comments, cancels; marketing clears it out
    ("GET", "/interactions"): "read",
    ("POST", "/interactions"): "interactions.write",
    ("POST", "/interactions/phone-calls"): "interactions.write",
    ("POST", "/interactions/cancel"): "interactions.write",
    ("POST", "/interactions/uncancel"): "interactions.write",
    ("POST", "/interactions/evaluate"): "interactions.write",
    ("POST", "/interactions/delete-canceled"): "marketing.write",
    ("GET", "/interactions/{entry_no}"): "read",
    ("POST", "/interactions/{entry_no}/resume"): "interactions.write",
    ("POST", "/interactions/{entry_no}/resend"): "interactions.write",
    ("DELETE", "/interactions/{entry_no}"): "interactions.write",
    ("GET", "/interactions/{entry_no}/comments"): "read",
    ("POST", "/interactions/{entry_no}/comments"): "interactions.write",
    ("PATCH", "/interactions/{entry_no}/comments/{line_no}"): "interactions.write",
    ("DELETE", "/interactions/{entry_no}/comments/{line_no}"): "interactions.write",
    ("POST", "/document-events"): "interactions.write",
    # segments and logged segments: marketing only writes
    ("GET", "/segments"): "read",
    ("POST", "/segments"): "marketing.write",
    ("GET", "/segments/{no}"): "read",
    ("PATCH", "/segments/{no}"): "marketing.write",
    ("DELETE", "/segments/{no}"): "marketing.write",
    ("GET", "/segments/{no}/lines"): "read",
    ("POST", "/segments/{no}/lines"): "marketing.write",
    ("GET", "/segments/{no}/lines/{line_no}"): "read",
    ("PATCH", "/segments/{no}/lines/{line_no}"): "marketing.write",
    ("DELETE", "/segments/{no}/lines/{line_no}"): "marketing.write",
    ("GET", "/segments/{no}/lines/{line_no}/document"): "read",
    ("PUT", "/segments/{no}/lines/{line_no}/attachment"): "marketing.write",
    ("GET", "/segments/{no}/lines/{line_no}/attachment"): "read",
    ("DELETE", "/segments/{no}/lines/{line_no}/attachment"): "marketing.write",
    ("POST", "/segments/{no}/add-contacts"): "marketing.write",
    ("POST", "/segments/{no}/reduce-contacts"): "marketing.write",
    ("POST", "/segments/{no}/refine-contacts"): "marketing.write",
    ("POST", "/segments/{no}/preview"): "marketing.write",
    ("POST", "/segments/{no}/go-back"): "marketing.write",
    ("GET", "/segments/{no}/criteria"): "read",
    ("POST", "/segments/{no}/save-criteria"): "marketing.write",
    ("POST", "/segments/{no}/reuse-criteria"): "marketing.write",
    ("POST", "/segments/{no}/reuse-logged-segment"): "marketing.write",
    ("GET", "/segments/{no}/languages/{language_code}"): "read",
    ("PUT", "/segments/{no}/languages/{language_code}"): "marketing.write",
    ("DELETE", "/segments/{no}/languages/{language_code}"): "marketing.write",
    ("PUT", "/segments/{no}/languages/{language_code}/attachment"): "marketing.write",
    ("POST", "/segments/{no}/log"): "marketing.write",
    ("POST", "/segments/{no}/apply-mailing-group"): "marketing.write",
    ("GET", "/segments/{no}/contacts.csv"): "read",
    ("GET", "/saved-segment-criteria"): "read",
    ("GET", "/saved-segment-criteria/{code}"): "read",
    ("DELETE", "/saved-segment-criteria/{code}"): "marketing.write",
    ("GET", "/logged-segments"): "read",
    ("POST", "/logged-segments/delete-canceled"): "marketing.write",
    ("GET", "/logged-segments/{entry_no}"): "read",
    ("GET", "/logged-segments/{entry_no}/letters"): "read",
    ("POST", "/logged-segments/{entry_no}/cancel"): "marketing.write",
    ("POST", "/logged-segments/{entry_no}/uncancel"): "marketing.write",
    ("POST", "/logged-segments/{entry_no}/follow-up"): "marketing.write",
    # campaigns
    ("GET", "/campaigns"): "read",
    ("POST", "/campaigns"): "marketing.write",
    ("GET", "/campaigns/{no}"): "read",
    ("PATCH", "/campaigns/{no}"): "marketing.write",
    ("DELETE", "/campaigns/{no}"): "marketing.write",
    ("POST", "/campaigns/{no}/activate"): "marketing.write",
    ("POST", "/campaigns/{no}/deactivate"): "marketing.write",
    ("GET", "/campaigns/{no}/target-groups"): "read",
    ("GET", "/campaign-entries"): "read",
    ("GET", "/campaign-entries/{entry_no}"): "read",
    ("POST", "/campaign-entries/{entry_no}/cancel"): "marketing.write",
    ("POST", "/campaign-entries/{entry_no}/uncancel"): "marketing.write",
}
# A value for each path parameter that names no record but is of the right type.
MISSING = {"entry_no": "999999", "line_no": "999999", "attachment_no": "999999"}


def api_routes(routes) -> list[tuple[str, str]]:
    """(method, path below /api/v1) of every route of the app (also inside included routers)."""
    found = []
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            found += api_routes(route.effective_route_contexts())
        elif getattr(route, "path", "").startswith(f"{API}/"):
            methods = getattr(route, "methods", None) or set()
            found += [(method, route.path.removeprefix(API)) for method in methods - {"HEAD", "OPTIONS"}]
    return sorted(set(found), key=lambda route: (route[1], route[0]))


def url(path: str) -> str:
    return API + re.sub(r"\{([^}]*)\}", lambda m: MISSING.get(m.group(1), "ZZ999999"), path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]):
    """A minimal request: no body for GET and DELETE, an empty JSON object otherwise."""
    if method in ("GET", "DELETE"):
        return client.request(method, url(path), headers=headers)
    return client.request(method, url(path), json={}, headers=headers)


def may(role: str, permission: str) -> bool:
    return permission == PUBLIC or Role(role) in PERMISSIONS[permission]


def test_every_route_is_classified_in_the_table(app):
    unclassified = [route for route in api_routes(app.routes) if route not in REQUIRED]
    assert unclassified == [], "add these routes to REQUIRED with the permission they need"


def test_the_table_lists_no_route_that_is_gone(app):
    assert set(REQUIRED) - set(api_routes(app.routes)) == set()


def test_the_table_names_only_known_permissions():
    assert {p for p in REQUIRED.values() if p != PUBLIC} <= set(PERMISSIONS)


@pytest.fixture
def routes(app) -> list[tuple[str, str, str]]:
    """(method, path, permission) of every route of the app that the table classifies."""
    return [(m, path, REQUIRED[m, path]) for m, path in api_routes(app.routes) if (m, path) in REQUIRED]


def test_without_a_token_every_route_but_the_public_ones_is_401(app, routes):
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    for method, path, permission in routes:
        response = call(client, method, path, {})
        if permission == PUBLIC:
            if response.status_code in (401, 403):
                wrong.append(f"{method} {path}: {response.status_code}, but it is public")
        elif response.status_code != 401:
            wrong.append(f"{method} {path}: {response.status_code}, expected 401")
        else:
            assert_error(response, 401, "unauthorized")
    assert wrong == []


def test_a_forged_or_malformed_token_is_401_everywhere_a_token_is_needed(app, routes):
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    for header in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        for method, path, permission in routes:
            if permission != PUBLIC and call(client, method, path, header).status_code != 401:
                wrong.append(f"{method} {path} with {header['Authorization'].split()[0]}")
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_exactly_where_the_table_says(
    app, routes, headers_for: Callable[[str], dict[str, str]], role: str
):
    headers = headers_for(role)
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    for method, path, permission in routes:
        if permission == PUBLIC:
            continue
        response = call(client, method, path, headers)
        if may(role, permission):
            if response.status_code in (401, 403) or response.status_code >= 500:
                wrong.append(f"{method} {path}: {response.status_code}, but {role} has {permission}")
        elif response.status_code != 403 or response.json()["error"]["code"] != "forbidden":
            wrong.append(f"{method} {path}: {response.status_code}, but {role} lacks {permission}")
    assert wrong == []
