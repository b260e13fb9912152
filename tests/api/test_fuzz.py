"""The JSON API fuzzed with schemathesis against its own OpenAPI document (quality.md, Reliability).

Every operation of /api/v1/openapi.json gets a bounded number of generated requests, valid and
invalid, sent in-process to the ASGI app as an admin. Each answer must not be a server error and
must match the document: a status code it lists, its content type and its body schema.

The database is seeded once per module and backend (a number series, a contact, a template, an
interaction, a segment, ...), so that generated requests reach past 404 on the common codes; the
operations then share it, as the users of one database would.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from rapport import accounts
from rapport.settings import Settings
from tests.api.helpers import API
from tests.conftest import PASSWORD, clean_database

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Few examples per operation, derived from a fixed seed: a short run that CI repeats exactly.
MAX_EXAMPLES = 10
CONFIG = {
    "seed": 20260101,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "with-security-parameters": False},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}


def openapi_document() -> dict[str, Any]:
    """The document the app serves at /api/v1/openapi.json (it does not depend on the database)."""
    from rapport.app import create_app

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir), secret_key="fuzz-only"))
        try:
            return app.openapi()
        finally:
            app.state.engine.dispose()


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(CONFIG))


def seed(client: TestClient, admin: dict[str, str]) -> None:
    """A little of everything, so generated requests reach past 404 on the common codes."""

    def send(method: str, path: str, body: dict[str, Any], status: int = 201) -> None:
        response = client.request(method, f"{API}/{path}", json=body, headers=admin)
        assert response.status_code == status, f"{path}: {response.text}"

    send("POST", "number-series", {"code": "CONT", "starting_no": "CT00001"})
    send("POST", "number-series", {"code": "SEG", "starting_no": "SEG00001"})
    send("POST", "number-series", {"code": "CAMP", "starting_no": "CP00001"})
    send("PUT", "setup/marketing", {"contact_nos": "CONT", "segment_nos": "SEG", "campaign_nos": "CAMP"}, 200)
    send("POST", "languages", {"code": "ENU", "name": "English"})
    send("POST", "salespeople", {"code": "SP", "name": "Seller", "email": "sp@example.com"})
    send("POST", "contacts", {"no": "C1", "type": "company", "name": "Acme", "email": "info@acme.example"})
    person = {"no": "P1", "type": "person", "name": "Ann", "company_no": "C1", "salesperson_code": "SP"}
    send("POST", "contacts", person)
    send("POST", "mailing-groups", {"code": "NEWS", "description": "Newsletter"})
    send("POST", "interaction-groups", {"code": "LETTER", "description": "Letters"})
    template = {"code": "LETTER", "interaction_group_code": "LETTER", "description": "Letter"}
    send("POST", "interaction-templates", template)
    send("POST", "interaction-templates/LETTER/languages", {"language_code": "ENU", "description": "English letter"})
    send("POST", "interactions", {"contact_no": "P1", "interaction_template_code": "LETTER", "postpone": True})
    send("POST", "interactions", {"contact_no": "P1", "interaction_template_code": "LETTER"})
    send("POST", "interactions/1/comments", {"comment": "Called back"})
    send("POST", "campaigns", {"no": "CP1", "description": "Spring"})
    send("POST", "segments", {"no": "S1", "description": "Newsletter", "interaction_template_code": "LETTER"})
    send("POST", "segments/S1/lines", {"contact_no": "P1"})
    send("POST", "segments", {"no": "S2", "description": "Logged", "interaction_template_code": "LETTER"})
    send("POST", "segments/S2/add-contacts", {"criteria": {"contact": {"no": "P1"}}}, 200)
    send("POST", "segments/S2/log", {}, 200)


@pytest.fixture(scope="module")
def fuzzed(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app on a seeded database of the backend, and an admin's headers; emptied afterwards."""
    from rapport.app import create_app

    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key="test-secret-key-not-for-production",
    )
    app = create_app(settings_)
    try:
        with app.state.sessionmaker() as session:
            accounts.create_user(session, accounts.UserCreate(username="fuzzer", role="admin", password=PASSWORD))
            session.commit()
        with TestClient(app) as client:
            response = client.post(f"{API}/auth/token", data={"username": "fuzzer", "password": PASSWORD})
            admin = {"Authorization": f"Bearer {response.json()['access_token']}"}
            seed(client, admin)
            yield app, admin
    finally:
        app.state.engine.dispose()
        clean_database(engine)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_its_openapi_document_says(case, fuzzed) -> None:
    app, admin = fuzzed
    case.call_and_validate(headers=admin, checks=CHECKS, app=app, base_url="http://testserver")


def test_answers_that_random_requests_do_not_reach_match_the_document_too(fuzzed) -> None:
    """Creating and replacing, downloads, resuming, canceling, logging and the like, on records of
    its own (the fuzzer may have changed the seeded ones)."""
    app, admin = fuzzed
    text = ("letter.txt", b"Dear {{Contact_Name}}", "text/plain")

    with TestClient(app) as client:

        def check(method: str, path: str, status: int, **kwargs: Any) -> Any:
            response = client.request(method, API + path, headers=admin, **kwargs)
            assert response.status_code == status, f"{method} {path}: {response.text}"
            template = _template(path)
            assert str(status) in DOCUMENT["paths"][template][method.lower()]["responses"], f"{method} {path}"
            schema[template][method].validate_response(response)
            return response.json() if response.headers.get("content-type") == "application/json" else None

        check("POST", "/languages", 201, json={"code": "DEU", "name": "German"})
        check("POST", "/salespeople", 201, json={"code": "DSP", "name": "Deep Seller"})
        check("POST", "/contacts", 201, json={"no": "DC1", "name": "Deep Co", "salesperson_code": "DSP"})
        check("POST", "/interaction-groups", 201, json={"code": "DEEP"})
        check(
            "POST",
            "/interaction-templates",
            201,
            json={"code": "DEEP", "interaction_group_code": "DEEP", "description": "Deep"},
        )
        check("POST", "/interaction-templates/DEEP/languages", 201, json={"language_code": "DEU"})
        language = "/interaction-templates/DEEP/languages/DEU"
        attachment = check("PUT", f"{language}/attachment", 201, files={"file": text})
        check("PUT", f"{language}/attachment", 200, files={"file": text})
        check("GET", f"{language}/attachment", 200)
        check("GET", f"/attachments/{attachment['attachment_no']}", 200)
        postponed = check(
            "POST",
            "/interactions",
            201,
            json={"contact_no": "DC1", "interaction_template_code": "DEEP", "postpone": True},
        )
        entry = check("POST", "/interactions", 201, json={"contact_no": "DC1", "interaction_template_code": "DEEP"})
        check("POST", f"/interactions/{postponed['entry_no']}/resume", 200, json={"postpone": True})
        check("POST", "/interactions/cancel", 200, json={"entry_nos": [entry["entry_no"]]})
        check("POST", "/interactions/uncancel", 200, json={"entry_nos": [entry["entry_no"]]})
        check("POST", "/interactions/evaluate", 200, json={"entry_nos": [entry["entry_no"]], "evaluation": "positive"})
        check("GET", "/interactions", 200, params={"canceled": "false", "postponed": "true", "limit": 1})
        check("GET", "/contacts", 200, params={"limit": 1, "q": "deep", "filter[type]": "person|company"})
        check("GET", "/contacts/DC1", 200, params={"date_from": "2020-01-01", "date_to": "2999-12-31"})
        check(
            "POST",
            "/document-events",
            200,
            json={"document_type": "sales_quote", "document_no": "Q1", "contact_no": "DC1"},
        )
        check("POST", "/segments", 201, json={"no": "DS1", "description": "Deep", "interaction_template_code": "DEEP"})
        check("PUT", "/segments/DS1/languages/ENU", 201, json={"subject": "Hello"})
        check("PUT", "/segments/DS1/languages/ENU", 200, json={"subject": "Hello again"})
        check("PUT", "/segments/DS1/languages/ENU/attachment", 201, files={"file": text})
        check("PUT", "/segments/DS1/languages/ENU/attachment", 200, files={"file": text})
        check("POST", "/segments/DS1/add-contacts", 200, json={"criteria": {"contact": {"no": "DC1"}}})
        check("GET", "/segments/DS1/lines", 200, params={"limit": 1})
        check("GET", "/segments/DS1/criteria", 200)
        check("GET", "/segments/DS1/contacts.csv", 200)
        logged = check("POST", "/segments/DS1/log", 200, json={})
        number = logged["logged_segment_entry_no"]
        check("GET", f"/logged-segments/{number}", 200)
        check("POST", f"/logged-segments/{number}/follow-up", 200)
        check("POST", f"/logged-segments/{number}/cancel", 200)
        check("POST", "/logged-segments/delete-canceled", 200, json={"entry_no_from": number, "entry_no_to": number})


def _template(path: str) -> str:
    """The document's path of a concrete one: /segments/S1/lines -> /api/v1/segments/{no}/lines."""
    concrete = path.strip("/").split("/")
    for candidate in DOCUMENT["paths"]:
        parts = candidate.removeprefix(API).strip("/").split("/")
        if len(parts) == len(concrete) and all(
            part == given or part.startswith("{") for part, given in zip(parts, concrete, strict=True)
        ):
            return candidate
    raise AssertionError(f"no documented path for {path}")


def test_the_fuzzed_document_is_the_one_the_app_serves(fuzzed) -> None:
    app, _ = fuzzed
    with TestClient(app) as client:
        assert client.get(f"{API}/openapi.json").json() == DOCUMENT


def test_the_document_has_every_route_of_the_api(fuzzed) -> None:
    app, _ = fuzzed
    documented = {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}
    assert set(api_routes(app.routes)) - documented == set()


def api_routes(routes) -> list[tuple[str, str]]:
    """(method, path) of every route under /api/v1 (also inside included routers, which FastAPI keeps nested)."""
    found = []
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            found += api_routes(route.effective_route_contexts())
        elif route.path.startswith(f"{API}/") and getattr(route, "include_in_schema", False):
            found += [(method, route.path) for method in route.methods - {"HEAD", "OPTIONS"}]
    return found
