"""Salespeople, mailing/industry groups, job responsibilities, business relations, profiles."""

from __future__ import annotations

from tests.api.helpers import assert_error, create

API = "/api/v1"
DIMENSIONS = ["mailing-groups", "industry-groups", "job-responsibilities", "business-relations"]
STATISTICS = {"no_of_interactions": 0, "cost": 0, "duration_min": 0}






# --- salespeople ------------------------------------------------------------------------------


def test_a_salesperson_is_created_read_listed_updated_and_deleted_with_statistics(client, admin):
    body = {"code": "jd", "name": "Jane Doe", "email": "jane@example.com", "phone_no": "+33 1 23", "blocked": False}
    expected = {**body, "code": "JD", **STATISTICS}
    assert create(client, admin, "salespeople", body) == expected
    assert client.get(f"{API}/salespeople/jd", headers=admin).json() == expected
    assert client.get(f"{API}/salespeople", headers=admin).json() == {"items": [expected], "next_cursor": None}
    patched = client.patch(f"{API}/salespeople/JD", json={"blocked": True, "name": "Jane D."}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**expected, "blocked": True, "name": "Jane D."}
    assert client.delete(f"{API}/salespeople/JD", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/salespeople/JD", headers=admin), 404, "not_found")


def test_salesperson_statistics_accept_date_from_and_date_to(client, admin):
    create(client, admin, "salespeople", {"code": "JD"})
    one = client.get(f"{API}/salespeople/JD?date_from=2026-01-01&date_to=2026-12-31", headers=admin)
    assert one.status_code == 200, one.text
    assert {k: one.json()[k] for k in STATISTICS} == STATISTICS
    listed = client.get(
        f"{API}/salespeople", params={"date_from": "2026-01-01", "date_to": "2026-12-31"}, headers=admin
    )
    assert listed.status_code == 200, listed.text
    assert {k: listed.json()["items"][0][k] for k in STATISTICS} == STATISTICS


def test_a_malformed_date_filter_is_422_naming_it(client, admin):
    create(client, admin, "salespeople", {"code": "JD"})
    assert_error(client.get(f"{API}/salespeople/JD?date_from=yesterday", headers=admin), 422, "invalid", "date_from")
    assert_error(client.get(f"{API}/salespeople?date_to=2026-13-01", headers=admin), 422, "invalid", "date_to")


def test_salesperson_input_errors(client, admin):
    create(client, admin, "salespeople", {"code": "JD"})
    assert_error(client.post(f"{API}/salespeople", json={"code": "jd"}, headers=admin), 409, "conflict")
    assert_error(client.post(f"{API}/salespeople", json={"name": "x"}, headers=admin), 422, "invalid", "code")
    assert_error(
        client.post(f"{API}/salespeople", json={"code": "A", "mail": "x"}, headers=admin), 422, "invalid", "mail"
    )
    assert_error(
        client.post(f"{API}/salespeople", json={"code": "A", "email": "not an address"}, headers=admin),
        422,
        "invalid",
        "email",
    )
    assert_error(
        client.post(f"{API}/salespeople", json={"code": "A", "blocked": "often"}, headers=admin),
        422,
        "invalid",
        "blocked",
    )
    assert_error(client.patch(f"{API}/salespeople/JD", json={"blocked": []}, headers=admin), 422, "invalid", "blocked")
    assert_error(client.patch(f"{API}/salespeople/NOPE", json={"name": "x"}, headers=admin), 404, "not_found")
    assert_error(client.delete(f"{API}/salespeople/NOPE", headers=admin), 404, "not_found")
    assert [s["code"] for s in client.get(f"{API}/salespeople", headers=admin).json()["items"]] == ["JD"]


# --- code/description tables -----------------------------------------------------------------


def test_a_code_description_record_is_created_read_listed_updated_and_deleted(client, admin):
    for path in DIMENSIONS:
        assert create(client, admin, path, {"code": "news", "description": "Newsletter"}) == {
            "code": "NEWS",
            "description": "Newsletter",
        }
        create(client, admin, path, {"code": "AA"})
        assert client.get(f"{API}/{path}/news", headers=admin).json() == {"code": "NEWS", "description": "Newsletter"}
        assert client.get(f"{API}/{path}", headers=admin).json() == {
            "items": [{"code": "AA", "description": ""}, {"code": "NEWS", "description": "Newsletter"}],
            "next_cursor": None,
        }
        patched = client.patch(f"{API}/{path}/NEWS", json={"description": "Monthly"}, headers=admin)
        assert patched.status_code == 200, patched.text
        assert patched.json() == {"code": "NEWS", "description": "Monthly"}
        assert client.delete(f"{API}/{path}/news", headers=admin).status_code == 204
        assert_error(client.get(f"{API}/{path}/NEWS", headers=admin), 404, "not_found")


def test_code_description_input_errors(client, admin):
    for path in DIMENSIONS:
        create(client, admin, path, {"code": "NEWS"})
        assert_error(client.post(f"{API}/{path}", json={"code": "news"}, headers=admin), 409, "conflict")
        assert_error(client.post(f"{API}/{path}", json={"description": "x"}, headers=admin), 422, "invalid", "code")
        assert_error(
            client.post(f"{API}/{path}", json={"code": "B", "name": "x"}, headers=admin), 422, "invalid", "name"
        )
        assert_error(
            client.post(f"{API}/{path}", json={"code": "B", "description": 5}, headers=admin),
            422,
            "invalid",
            "description",
        )
        assert_error(client.patch(f"{API}/{path}/NEWS", json={"code": "OTHER"}, headers=admin), 422, "invalid", "code")
        assert_error(client.get(f"{API}/{path}/NOPE", headers=admin), 404, "not_found")
        assert_error(client.patch(f"{API}/{path}/NOPE", json={"description": "x"}, headers=admin), 404, "not_found")
        assert_error(client.delete(f"{API}/{path}/NOPE", headers=admin), 404, "not_found")
        assert client.get(f"{API}/{path}", headers=admin).json()["items"] == [{"code": "NEWS", "description": ""}]


def test_code_description_lists_are_paged_by_code(client, admin):
    for path in DIMENSIONS:
        codes = [f"G{i:02d}" for i in range(7)]
        for code in reversed(codes):
            create(client, admin, path, {"code": code})
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{API}/{path}", params=params, headers=admin).json()
            assert len(page["items"]) <= 3
            seen += [i["code"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == codes


# --- profile questionnaires -------------------------------------------------------------------


def test_a_profile_questionnaire_is_created_with_answers_read_listed_updated_and_deleted(client, admin):
    body = {
        "code": "size",
        "description": "Company size",
        "answers": [{"answer_code": "large", "description": "Large"}, {"answer_code": "SMALL", "description": "Small"}],
    }
    expected = {
        "code": "SIZE",
        "description": "Company size",
        "answers": [{"answer_code": "LARGE", "description": "Large"}, {"answer_code": "SMALL", "description": "Small"}],
    }
    assert create(client, admin, "profile-questionnaires", body) == expected
    assert client.get(f"{API}/profile-questionnaires/size", headers=admin).json() == expected
    assert client.get(f"{API}/profile-questionnaires", headers=admin).json() == {
        "items": [expected],
        "next_cursor": None,
    }
    patched = client.patch(
        f"{API}/profile-questionnaires/SIZE",
        json={"description": "Size", "answers": [{"answer_code": "MID", "description": "Mid"}]},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        "code": "SIZE",
        "description": "Size",
        "answers": [{"answer_code": "MID", "description": "Mid"}],
    }
    assert client.delete(f"{API}/profile-questionnaires/SIZE", headers=admin).status_code == 204
    assert_error(client.get(f"{API}/profile-questionnaires/SIZE", headers=admin), 404, "not_found")


def test_profile_questionnaire_input_errors(client, admin):
    create(client, admin, "profile-questionnaires", {"code": "SIZE"})
    path = f"{API}/profile-questionnaires"
    assert_error(client.post(path, json={"code": "size"}, headers=admin), 409, "conflict")
    assert_error(client.post(path, json={"description": "x"}, headers=admin), 422, "invalid", "code")
    assert_error(client.post(path, json={"code": "Q", "questions": []}, headers=admin), 422, "invalid", "questions")
    assert_error(client.post(path, json={"code": "Q", "answers": "yes"}, headers=admin), 422, "invalid", "answers")
    error = assert_error(
        client.post(path, json={"code": "Q", "answers": [{"answer_code": "A", "colour": "x"}]}, headers=admin),
        422,
        "invalid",
    )
    assert "colour" in error["field"]
    assert_error(client.get(f"{path}/Q", headers=admin), 404, "not_found")
