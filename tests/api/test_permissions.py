"""The role-by-route matrix, generated from the application's own route table.

Path parameters are filled with a code that does not exist: a 404 or 422 after the role check
still counts as "allowed"; only 401 and 403 say that the role was refused.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"
NOT_IN_MATRIX = {f"{API}/health", f"{API}/auth/token", f"{API}/openapi.json"}
MISSING = "ZZ999999"
# Setup and master data: sales may read but not write them.
MASTER_DATA = (
    "/number-series",
    "/setup",
    "/languages",
    "/salespeople",
    "/mailing-groups",
    "/industry-groups",
    "/job-responsibilities",
    "/business-relations",
    "/profile-questionnaires",
    "/interaction-groups",
    "/interaction-templates",
)
# What api.md grants sales on interactions: create, resume, evaluate, comment, phone calls.
SALES_INTERACTIONS = {
    ("POST", "/interactions"),
    ("POST", "/interactions/{}/resume"),
    ("POST", "/interactions/evaluate"),
    ("POST", "/interactions/phone-calls"),
    ("POST", "/interactions/{}/comments"),
    ("PATCH", "/interactions/{}/comments/{}"),
    ("DELETE", "/interactions/{}/comments/{}"),
}
IN_SCOPE = [
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{}"),
    ("PATCH", "/users/{}"),
    ("DELETE", "/users/{}"),
    ("GET", "/number-series"),
    ("POST", "/number-series"),
    ("PATCH", "/number-series/{}"),
    ("DELETE", "/number-series/{}"),
    ("GET", "/setup/marketing"),
    ("PUT", "/setup/marketing"),
    ("GET", "/setup/interaction-templates"),
    ("PUT", "/setup/interaction-templates"),
    ("POST", "/languages"),
    ("DELETE", "/languages/{}"),
    ("POST", "/salespeople"),
    ("PATCH", "/salespeople/{}"),
    ("DELETE", "/salespeople/{}"),
    ("POST", "/mailing-groups"),
    ("DELETE", "/industry-groups/{}"),
    ("PATCH", "/job-responsibilities/{}"),
    ("POST", "/business-relations"),
    ("POST", "/profile-questionnaires"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("GET", "/contacts/{}"),
    ("PATCH", "/contacts/{}"),
    ("DELETE", "/contacts/{}"),
    ("PUT", "/contacts/{}/mailing-groups"),
    ("PUT", "/contacts/{}/industry-groups"),
    ("PUT", "/contacts/{}/job-responsibilities"),
    ("PUT", "/contacts/{}/business-relations"),
    ("PUT", "/contacts/{}/profile-answers"),
]


def shape(path: str) -> str:
    """The path below /api/v1 with every parameter written as {}."""
    return re.sub(r"\{[^}]*\}", "{}", path.removeprefix(API))


def route_table(routes) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, also inside included routers (FastAPI keeps those nested)."""
    table = []
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                methods = getattr(context, "methods", None) or getattr(context.original_route, "methods", None)
                table.append((context.path, set(methods or ())))
        elif hasattr(route, "methods"):
            table.append((route.path, set(route.methods or ())))
    return table


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the JSON API that needs a token."""
    found = set()
    for path, methods in route_table(app.routes):
        if not path.startswith(f"{API}/") or path in NOT_IN_MATRIX or path.startswith((f"{API}/docs", f"{API}/health")):
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    return sorted(found, key=lambda mp: (mp[1], mp[0]))


def expected(role: str, method: str, path: str) -> bool | None:
    """True: the role may; False: 403; None: api.md does not say (not checked)."""
    rel = shape(path)
    if role == "admin":
        return True
    if rel == "/users" or rel.startswith("/users/"):
        return False
    if role == "marketing" or method == "GET":
        return True
    if role == "viewer":
        return False
    # sales
    if rel == "/contacts" or rel.startswith("/contacts/"):
        return not (method == "DELETE" and rel == "/contacts/{}")
    if rel.startswith(MASTER_DATA):
        return False
    if (method, rel) in SALES_INTERACTIONS:
        return True
    return None


def call(client: TestClient, method: str, path: str, headers: dict[str, str]):
    url = re.sub(r"\{[^}]*\}", MISSING, path)
    if method in ("GET", "DELETE"):
        return client.request(method, url, headers=headers)
    return client.request(method, url, json={}, headers=headers)


def test_the_matrix_covers_every_route_of_the_contract_in_scope(app):
    shapes = {(method, shape(path)) for method, path in api_routes(app)}
    missing = [route for route in IN_SCOPE if route not in shapes]
    assert missing == []


@pytest.mark.parametrize("role", ["admin", "marketing", "sales", "viewer"])
def test_each_role_is_allowed_or_refused_on_every_route_as_api_md_says(app, headers_for, role):
    headers = headers_for(role)
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    checked = 0
    for method, path in api_routes(app):
        allowed = expected(role, method, path)
        if allowed is None:
            continue
        checked += 1
        response = call(client, method, path, headers)
        if allowed and response.status_code in (401, 403):
            wrong.append(f"{method} {path}: {response.status_code}, expected allowed")
        elif not allowed and (response.status_code != 403 or response.json()["error"]["code"] != "forbidden"):
            wrong.append(f"{method} {path}: {response.status_code}, expected 403 forbidden")
    assert checked >= len(IN_SCOPE)
    assert wrong == []


def test_no_route_answers_a_request_without_a_token(app):
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    for method, path in api_routes(app):
        response = call(client, method, path, {})
        if response.status_code != 401 or response.json()["error"]["code"] != "unauthorized":
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []
