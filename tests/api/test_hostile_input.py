"""Hostile input: oversized, mistyped, malformed, injected, overlong, unprintable and overflowing.

Whatever a client sends, the answer is the error envelope of api.md with a clear status (never a
500), it names the offending field when there is one, and nothing is half-saved. Every test runs on
SQLite and on PostgreSQL, which is the stricter of the two (no NUL in text, 32-bit integers).
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.api.helpers import API, assert_error, create

SQL_LOOKING = [
    "'; DROP TABLE contact; --",
    "%' OR 1=1 --",
    "Robert'); DROP TABLE interaction_log_entry;--",
    '" OR ""="',
    "1; SELECT pg_sleep(10)",
]
TOO_BIG = "99999999999999999999"  # beyond 64 bits
JUST_OVER_INT32 = str(2**31)  # entry numbers are 32-bit columns


@pytest.fixture
def crm(client, admin):
    """A contact, a template with a language, an interaction with a comment, a segment with a line."""
    create(client, admin, "languages", {"code": "ENU", "name": "English"})
    create(client, admin, "salespeople", {"code": "SP", "name": "Seller"})
    create(client, admin, "contacts", {"no": "C1", "name": "Acme", "type": "company", "salesperson_code": "SP"})
    create(client, admin, "interaction-groups", {"code": "LETTER"})
    create(
        client,
        admin,
        "interaction-templates",
        {"code": "LETTER", "interaction_group_code": "LETTER", "description": "Letter"},
    )
    create(client, admin, "interaction-templates/LETTER/languages", {"language_code": "ENU"})
    create(client, admin, "interactions", {"contact_no": "C1", "interaction_template_code": "LETTER"})
    create(client, admin, "interactions/1/comments", {"comment": "First"})
    create(client, admin, "segments", {"no": "S1", "interaction_template_code": "LETTER"})
    create(client, admin, "segments/S1/lines", {"contact_no": "C1"})


def contact_nos(client, admin) -> list[str]:
    response = client.get(f"{API}/contacts", headers=admin)
    assert response.status_code == 200, response.text
    return [item["no"] for item in response.json()["items"]]


# --- sizes -----------------------------------------------------------------------------------------


MB = 1024 * 1024


def test_an_oversized_json_body_is_413_on_every_kind_of_write_and_changes_nothing(small_client, admin, crm):
    big = "x" * (2 * MB)
    before = small_client.get(f"{API}/contacts/C1", headers=admin).json()
    for method, path, body in (
        ("POST", "/contacts", {"no": "BIG", "name": big}),
        ("PATCH", "/contacts/C1", {"address": big}),
        ("PUT", "/setup/marketing", {"default_country_code": big}),
        ("POST", "/interactions", {"contact_no": "C1", "interaction_template_code": "LETTER", "description": big}),
        ("PUT", "/contacts/C1/mailing-groups", [big]),
    ):
        response = small_client.request(method, API + path, json=body, headers=admin)
        assert_error(response, 413, "too_large")
    assert small_client.get(f"{API}/contacts/C1", headers=admin).json() == before
    assert contact_nos(small_client, admin) == ["C1"]
    assert len(small_client.get(f"{API}/interactions", headers=admin).json()["items"]) == 1


def test_an_oversized_upload_is_413_and_the_language_keeps_no_attachment(small_client, admin, crm):
    path = f"{API}/interaction-templates/LETTER/languages/ENU/attachment"
    response = small_client.put(path, files={"file": ("big.txt", b"x" * (2 * MB), "text/plain")}, headers=admin)
    assert_error(response, 413, "too_large")
    assert (
        small_client.get(f"{API}/interaction-templates/LETTER/languages/ENU", headers=admin).json()["attachment_no"]
        is None
    )
    assert_error(small_client.get(path, headers=admin), 404, "not_found")
    # just under the limit is fine
    response = small_client.put(path, files={"file": ("ok.txt", b"x" * (MB // 2), "text/plain")}, headers=admin)
    assert response.status_code == 201, response.text


# --- media types and malformed bodies ----------------------------------------------------------------


def test_a_body_that_is_not_json_is_refused_in_the_envelope_and_saves_nothing(client, admin):
    body = {"no": "C9", "name": "Acme"}
    for kwargs in (
        {"content": json.dumps(body).encode(), "headers": {**admin, "Content-Type": "text/plain"}},
        {"content": json.dumps(body).encode(), "headers": admin},  # no Content-Type at all
        {"data": body, "headers": admin},  # a form
        {"files": {"no": (None, "C9"), "name": (None, "Acme")}, "headers": admin},  # multipart
    ):
        response = client.post(f"{API}/contacts", **kwargs)
        assert response.status_code in (415, 422), response.text
        assert_error(
            response, response.status_code, {415: "unsupported_media_type", 422: "invalid"}[response.status_code]
        )
    assert contact_nos(client, admin) == []


def test_an_upload_route_sent_json_or_text_asks_for_the_file(client, admin, crm):
    path = f"{API}/interaction-templates/LETTER/languages/ENU/attachment"
    assert_error(client.put(path, json={"file": "aGVsbG8="}, headers=admin), 422, "invalid", "file")
    response = client.put(path, content=b"hello", headers={**admin, "Content-Type": "text/plain"})
    assert_error(response, 422, "invalid", "file")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"no": "C9", "name": ',  # truncated
        b'{"no": "C9", "name": "Acme"} trailing',
        b'{"no": "C9", "name": "\xff\xfe"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested past any parser's recursion
        b'{"no": "C9", "name": NaN}',
        b"",
        b"null",
        b'"just a string"',
    ],
    ids=["truncated", "trailing", "not-utf8", "deep", "nan", "empty", "null", "string"],
)
def test_a_malformed_json_body_is_refused_in_the_envelope_and_saves_nothing(client, admin, raw):
    response = client.post(f"{API}/contacts", content=raw, headers={**admin, "Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code, {400: "bad_request", 422: "invalid"}[response.status_code])
    assert contact_nos(client, admin) == []


# --- filters, search and fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "expression"),
    [
        ("contacts", "name", "..(("),
        ("contacts", "name", "(a|b"),
        ("contacts", "name", "a|"),
        ("contacts", "name", "'unterminated"),
        ("contacts", "no", "<>"),
        ("interactions", "entry_no", "1..2..3"),
        ("interactions", "date", "2024-13-45"),
        ("interactions", "cost", "1e999"),
        ("segments", "no", ")"),
    ],
)
def test_a_malformed_filter_expression_is_422_naming_the_field(client, admin, path, field, expression):
    response = client.get(f"{API}/{path}", params={f"filter[{field}]": expression}, headers=admin)
    assert_error(response, 422, "invalid", field)


def test_a_filter_on_an_unknown_field_is_422_naming_it(client, admin):
    error = assert_error(
        client.get(f"{API}/contacts", params={"filter[colour]": "blue"}, headers=admin), 422, "invalid"
    )
    assert error["field"] == "colour" and "colour" in error["message"]


def test_sql_in_fields_search_and_filters_is_only_data(client, admin):
    for i, text in enumerate(SQL_LOOKING):
        create(client, admin, "contacts", {"no": f"SQL{i}", "name": text, "address": text})
    create(client, admin, "contacts", {"no": "PLAIN", "name": "Plain"})
    for i, text in enumerate(SQL_LOOKING):
        contact = client.get(f"{API}/contacts/SQL{i}", headers=admin).json()
        assert (contact["name"], contact["address"]) == (text, text)
        found = client.get(f"{API}/contacts", params={"q": text}, headers=admin).json()["items"]
        assert [c["no"] for c in found] == [f"SQL{i}"], text
        # as a filter value, quoted as filters.md says (a quote inside quotes is written twice)
        quoted = "'" + text.replace("'", "''") + "'"
        response = client.get(f"{API}/contacts", params={"filter[name]": quoted}, headers=admin)
        assert [c["no"] for c in response.json()["items"]] == [f"SQL{i}"], response.text
        # unquoted, it is either a valid expression matching nothing else, or a 422 naming the field
        response = client.get(f"{API}/contacts", params={"filter[name]": text}, headers=admin)
        if response.status_code == 200:
            assert {c["no"] for c in response.json()["items"]} <= {f"SQL{i}"}, text
        else:
            assert_error(response, 422, "invalid", "name")
    # the tables are all still there, with every row
    assert sorted(contact_nos(client, admin)) == sorted(["PLAIN", *(f"SQL{i}" for i in range(len(SQL_LOOKING)))])
    assert client.get(f"{API}/interactions", headers=admin).status_code == 200


def test_sql_in_a_code_in_the_path_is_a_plain_not_found(client, admin):
    for text in SQL_LOOKING:
        response = client.get(f"{API}/contacts/{text}", headers=admin)
        assert_error(response, 404, "not_found")
    assert client.get(f"{API}/contacts", headers=admin).status_code == 200


# --- lengths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("contacts", {"no": "C1", "name": "n" * 101}, "name"),
        ("contacts", {"no": "C" * 21, "name": "Acme"}, "no"),
        ("contacts", {"no": "C1", "email": "a" * 5000 + "@example.com"}, "email"),
        ("interaction-groups", {"code": "G", "description": "d" * 10_000}, "description"),
        ("number-series", {"code": "N" * 10_000, "starting_no": "1"}, "code"),
        ("users", {"username": "u" * 51, "role": "viewer", "password": "long-enough"}, "username"),
    ],
)
def test_a_string_beyond_its_field_limit_is_422_naming_the_field(client, admin, path, body, field):
    assert_error(client.post(f"{API}/{path}", json=body, headers=admin), 422, "invalid", field)
    assert contact_nos(client, admin) == []


def test_long_values_in_the_path_search_and_filters_are_answered_normally(client, admin, crm):
    long = "x" * 10_000
    assert_error(client.get(f"{API}/contacts/{long}", headers=admin), 404, "not_found")
    for params in ({"q": long}, {"filter[name]": long}, {"filter[name]": "|".join(["a"] * 500)}):
        response = client.get(f"{API}/contacts", params=params, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    "expression",
    ["|".join(["a"] * 2000), "&".join(["a*"] * 1200), "(" * 500 + "a" + ")" * 500, "(" * 5000 + "a" + ")" * 5000],
    ids=["many-alternatives", "many-conjuncts", "deep-parentheses", "deeper-parentheses"],
)
def test_a_filter_too_large_to_run_is_422_naming_the_field_not_a_database_error(client, admin, expression):
    response = client.get(f"{API}/contacts", params={"filter[name]": expression}, headers=admin)
    assert_error(response, 422, "invalid", "name")


# --- NUL characters and other unicode -----------------------------------------------------------------


def test_a_nul_character_in_a_body_field_is_422_naming_it_and_saves_nothing(client, admin, crm):
    for method, path, body, field in (
        ("POST", "/contacts", {"no": "C2", "name": "Ac\u0000me"}, "name"),
        ("POST", "/contacts", {"no": "C\u00002", "name": "Acme"}, "no"),
        ("PATCH", "/contacts/C1", {"city": "\u0000"}, "city"),
        ("PUT", "/contacts/C1/mailing-groups", ["NEWS\u0000"], "0"),
        (
            "POST",
            "/interactions",
            {"contact_no": "C1", "interaction_template_code": "LETTER", "comments": [{"comment": "a\u0000b"}]},
            "comments.0.comment",
        ),
        ("POST", "/segments/S1/add-contacts", {"criteria": {"contact": {"name": "\u0000"}}}, "criteria.contact.name"),
    ):
        response = client.request(method, API + path, json=body, headers=admin)
        error = assert_error(response, 422, "invalid", field)
        assert "NUL" in error["message"]
    assert contact_nos(client, admin) == ["C1"]
    assert client.get(f"{API}/contacts/C1", headers=admin).json()["city"] == ""
    assert len(client.get(f"{API}/interactions", headers=admin).json()["items"]) == 1


def test_a_nul_character_in_the_path_query_cursor_or_form_is_422_naming_it(client, admin, crm):
    assert_error(client.get(f"{API}/contacts/C%001", headers=admin), 422, "invalid", "no")
    assert_error(client.get(f"{API}/contacts", params={"q": "a\x00"}, headers=admin), 422, "invalid", "q")
    response = client.get(f"{API}/contacts", params={"filter[name]": "a\x00"}, headers=admin)
    assert_error(response, 422, "invalid", "name")
    cursor = base64.urlsafe_b64encode(json.dumps(["\x00"]).encode()).decode().rstrip("=")
    assert_error(client.get(f"{API}/contacts", params={"cursor": cursor}, headers=admin), 422, "invalid", "cursor")
    response = client.post(f"{API}/auth/token", data={"username": "admin\x00", "password": "whatever"})
    assert_error(response, 422, "invalid", "username")


def test_a_nul_character_in_an_uploaded_file_name_is_422_and_nothing_is_stored(client, admin, crm):
    boundary = "rapportboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    path = f"{API}/interaction-templates/LETTER/languages/ENU/attachment"
    response = client.put(
        path, content=body, headers={**admin, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_error(response, 422, "invalid", "file")
    assert (
        client.get(f"{API}/interaction-templates/LETTER/languages/ENU", headers=admin).json()["attachment_no"] is None
    )


def test_a_lone_surrogate_is_422_naming_the_field(client, admin):
    raw = b'{"no": "C2", "name": "\\ud800"}'
    response = client.post(f"{API}/contacts", content=raw, headers={**admin, "Content-Type": "application/json"})
    assert_error(response, 422, "invalid", "name")
    assert contact_nos(client, admin) == []


def test_any_other_unicode_round_trips_and_is_found_by_search(client, admin):
    names = ["Zoë Ångström", "😀 Smile GmbH", "مرحبا", "\u202eevil\u202c", "e\u0301cole", "\u200b", "Ǆemal ß"]
    for i, name in enumerate(names):
        create(client, admin, "contacts", {"no": f"U{i}", "name": name})
    for i, name in enumerate(names):
        assert client.get(f"{API}/contacts/U{i}", headers=admin).json()["name"] == name
        found = client.get(f"{API}/contacts", params={"q": name}, headers=admin).json()["items"]
        assert f"U{i}" in [c["no"] for c in found], name


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/interactions/{n}", "entry_no"),
        ("DELETE", "/interactions/{n}", "entry_no"),
        ("POST", "/interactions/{n}/resume", "entry_no"),
        ("GET", "/interactions/{n}/comments", "entry_no"),
        ("PATCH", "/interactions/1/comments/{n}", "line_no"),
        ("GET", "/logged-segments/{n}", "entry_no"),
        ("POST", "/logged-segments/{n}/cancel", "entry_no"),
        ("GET", "/campaign-entries/{n}", "entry_no"),
        ("GET", "/attachments/{n}", "attachment_no"),
        ("GET", "/segments/S1/lines/{n}", "line_no"),
        ("DELETE", "/segments/S1/lines/{n}", "line_no"),
    ],
)
def test_a_number_in_the_path_beyond_its_column_is_422_naming_it(client, admin, crm, method, path, field):
    segment_line = path.startswith("/segments")  # 64-bit line numbers; the others are 32-bit columns
    for number in [TOO_BIG, "-1"] if segment_line else [TOO_BIG, JUST_OVER_INT32, "-1"]:
        response = client.request(method, API + path.format(n=number), json={}, headers=admin)
        assert_error(response, 422, "invalid", field)
    assert len(client.get(f"{API}/interactions", headers=admin).json()["items"]) == 1


def test_a_number_that_names_no_record_is_404(client, admin, crm):
    for path in (
        "/interactions/2147483647",
        "/interactions/0",
        "/logged-segments/7",
        "/segments/S1/lines/9223372036854775807",
    ):
        assert_error(client.get(API + path, headers=admin), 404, "not_found")


def test_numbers_beyond_their_columns_in_bodies_queries_filters_and_cursors_are_422(client, admin, crm):
    for method, path, body, field in (
        ("POST", "/interactions/cancel", {"entry_nos": [int(TOO_BIG)]}, "entry_nos.0"),
        ("POST", "/interactions/evaluate", {"entry_nos": [2**31], "evaluation": "positive"}, "entry_nos.0"),
        ("POST", "/interactions/delete-canceled", {"entry_no_from": int(TOO_BIG)}, "entry_no_from"),
        ("POST", "/logged-segments/delete-canceled", {"entry_no_to": 2**31}, "entry_no_to"),
        ("POST", "/segments/S1/reuse-logged-segment", {"logged_segment_entry_no": 2**31}, "logged_segment_entry_no"),
        ("POST", "/number-series", {"code": "NS", "starting_no": "1", "increment_by": int(TOO_BIG)}, "increment_by"),
        (
            "POST",
            "/document-events",
            {"document_type": "sales_quote", "document_no": "D", "version_no": 2**31},
            "version_no",
        ),
    ):
        assert_error(client.request(method, API + path, json=body, headers=admin), 422, "invalid", field)
    response = client.get(f"{API}/interactions", params={"logged_segment_entry_no": TOO_BIG}, headers=admin)
    assert_error(response, 422, "invalid", "logged_segment_entry_no")
    for value in (TOO_BIG, JUST_OVER_INT32):
        response = client.get(f"{API}/interactions", params={"filter[entry_no]": value}, headers=admin)
        assert_error(response, 422, "invalid", "entry_no")
    for forged in ([int(TOO_BIG)], [2**31], ["1"], [True], [None], [[1]]):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        response = client.get(f"{API}/interactions", params={"cursor": cursor}, headers=admin)
        assert_error(response, 422, "invalid", "cursor")
    assert len(client.get(f"{API}/interactions", headers=admin).json()["items"]) == 1


@pytest.mark.parametrize("limit", ["-1", "0", "1001", TOO_BIG, "-" + TOO_BIG, "1.5", "ten", ""])
def test_a_page_size_out_of_range_is_422_naming_limit(client, admin, limit):
    for path in ("contacts", "interactions", "segments", "logged-segments", "users"):
        response = client.get(f"{API}/{path}", params={"limit": limit}, headers=admin)
        assert_error(response, 422, "invalid", "limit")


def test_the_largest_page_size_is_served(client, admin, crm):
    response = client.get(f"{API}/contacts", params={"limit": "1000"}, headers=admin)
    assert response.status_code == 200, response.text
