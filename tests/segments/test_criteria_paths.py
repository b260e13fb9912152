"""Add Contacts, Reduce and Refine take shorter SQL paths for common criteria (no expansion: the contacts read in
the insert itself; criteria only on rows linked by the contact's No.: those rows read straight from the line).
Each path must give what the general one gives (domain.md 3.6, 3.7 and 3.9)."""

from __future__ import annotations

import pytest

from tests.api.test_segments_api import ALL_IN_ORDER, actions, add, crm_caller, segment
from tests.api.test_segments_api import contact_nos as nos
from tests.api.test_segments_api import lines as segment_lines


@pytest.fixture
def crm(client, admin, db_engine):
    return crm_caller(client, admin, db_engine)


def test_add_without_expansion_counts_every_reason_to_skip_on_a_segment_with_lines(crm):
    no = segment(crm)["no"]
    add(crm, no, {"contact": {"no": "P11|C2"}})
    result = add(crm, no, {"contact": {"country_code": "FR|BE"}})
    # PB is blocked, PX excluded, P11 and C2 already there; the others come after the existing lines.
    assert result["skipped"] == {"already_present": 2, "excluded": 1, "privacy_blocked": 1}
    assert result["added"] == 4
    assert nos(crm, no) == ["P11", "C2", "P3", "C1", "P12", "P21"]
    assert [line["line_no"] for line in segment_lines(crm, no)] == [10000 * n for n in range(1, 7)]
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 4
    assert nos(crm, no) == ["P11", "C2"]


def test_add_without_expansion_and_the_expanded_path_agree(crm):
    plain, expanded = segment(crm)["no"], segment(crm)["no"]
    for no, options in ((plain, {}), (expanded, {"allow_company_with_persons": True})):
        add(crm, no, {"contact": {"no": "P3"}})
        # Companies, a stand-alone person and PX (whose company is in already): Allow Related Companies adds
        # nothing here, so both paths must do the same rows.
        result = add(crm, no, {"contact": {"no": "C1|C2|P3|PB|PX"}}, **options)
        assert result["skipped"] == {"already_present": 1, "excluded": 1, "privacy_blocked": 1}
        assert result["added"] == 2
    def content(no):
        return [{key: value for key, value in line.items() if value != no} for line in segment_lines(crm, no)]

    assert content(plain) == content(expanded)


# Criteria on rows linked by the contact's own No. (read from the line) and the same mixed with contact fields
# (read through the contact): both kinds, Reduce and Refine.
LINKED_CASES = [
    ("reduce-contacts", {"mailing_group": {"code": "NEWS"}}, ["C1", "P12", "C2", "P21"]),
    ("refine-contacts", {"mailing_group": {"code": "NEWS"}}, ["P3", "P11"]),
    ("refine-contacts", {"job_responsibility": {"code": "BUYER"}}, ["P21"]),
    ("reduce-contacts", {"profile_answer": {"questionnaire_code": "SIZE", "answer_code": "BIG"}},
     ["P3", "C1", "P11", "P12", "P21"]),
    ("refine-contacts", {"mailing_group": {"code": "NEWS"}, "job_responsibility": {"code": "BUYER"}}, []),
    ("refine-contacts", {"mailing_group": {"code": "NEWS"}, "contact": {"country_code": "FR"}}, ["P3", "P11"]),
    ("reduce-contacts", {"mailing_group": {"code": "NEWS"}, "industry_group": {"code": "RETAIL"}},
     ["P3", "C1", "P12", "C2", "P21"]),
]


@pytest.mark.parametrize(("route", "criteria", "kept"), LINKED_CASES)
def test_reduce_and_refine_on_rows_linked_by_the_contact_no(crm, route, criteria, kept):
    no = segment(crm)["no"]
    add(crm, no)
    assert nos(crm, no) == ALL_IN_ORDER
    result = crm("POST", f"/segments/{no}/{route}", {"criteria": criteria})
    assert nos(crm, no) == kept
    assert result == {"removed": len(ALL_IN_ORDER) - len(kept), "action_no": 2}
    crm("POST", f"/segments/{no}/go-back")
    assert sorted(nos(crm, no)) == sorted(ALL_IN_ORDER)


def test_refine_without_criteria_keeps_every_line_of_an_existing_contact(crm):
    no = segment(crm)["no"]
    add(crm, no)
    assert crm("POST", f"/segments/{no}/refine-contacts", {"criteria": {}})["removed"] == 0
    assert nos(crm, no) == ALL_IN_ORDER


def test_a_new_contact_on_a_line_in_the_middle_is_undone_alone(crm):
    no = segment(crm)["no"]
    add(crm, no)
    before = segment_lines(crm, no)
    middle = before[2]["line_no"]
    crm("PATCH", f"/segments/{no}/lines/{middle}", {"contact_no": "PX"})
    assert [(a["action"], a["criteria"]) for a in actions(crm, no)][-1] == ("add_contacts", {"contact": {"no": "PX"}})
    # Undoing the insertion removes the new line only, not the lines numbered after it.
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == 1
    assert [line["contact_no"] for line in segment_lines(crm, no)] == [
        line["contact_no"] for line in before if line["line_no"] != middle
    ]
    assert crm("POST", f"/segments/{no}/go-back")["lines_restored"] == 1
    # The old contact comes back on a new line after the last one (domain.md 3.9).
    kept = [(line["line_no"], line["contact_no"]) for line in before if line["line_no"] != middle]
    assert [(line["line_no"], line["contact_no"]) for line in segment_lines(crm, no)] == [
        *kept, (before[-1]["line_no"] + 10000, before[2]["contact_no"])
    ]
    assert crm("POST", f"/segments/{no}/go-back")["lines_removed"] == len(before)
    assert segment_lines(crm, no) == []
