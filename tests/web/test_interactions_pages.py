"""The interaction pages in-process: Create Interaction, the log entries and their actions, one entry
with its comments, Postponed Interactions, Delete Canceled; permissions and escaping."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from rapport.core.interactions import InteractionComment, InteractionLogEntry
from rapport.core.interactions.operations import CancelRequest, cancel
from tests.web.helpers import token as csrf
from tests.web.test_contacts_pages import ESCAPED, XSS, seed


def entry(app, entry_no: int) -> InteractionLogEntry | None:
    with app.state.sessionmaker() as s:
        return s.get(InteractionLogEntry, entry_no)


def wizard_form(token: str, **changes: str) -> dict[str, str]:
    """What the Create Interaction form posts for Ada Brook with the call template."""
    data = {
        "csrf_token": token,
        "step": "1",
        "origin": "/contacts/CT101",
        "locked": "contact_no",
        "previous_template": "OUT-CALL",
        "contact_no": "CT101",
        "interaction_template_code": "OUT-CALL",
        "description": "Asked about the new range",
        "salesperson_code": "SAM",
        "date": dt.date.today().isoformat(),
        "time_of_interaction": "10:30",
        "information_flow": "outbound",
        "initiated_by": "us",
        "cost": "2.5",
        "duration_min": "10",
        "successful": "true",
    }
    data.update(changes)
    return data


# --- Create Interaction ----------------------------------------------------------------------


def test_create_interaction_from_a_contact_starts_with_the_contacts_defaults(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("sales")
    page = client.get("/interactions/new", params={"contact_no": "ct101"})
    assert page.status_code == 200
    assert 'value="CT101"' in page.text and "readonly" in page.text
    assert 'value="SAM" selected' in page.text, "the salesperson comes from the contact (inherited from its company)"
    assert "Do you want to finish this interaction later?" in page.text
    assert "<dialog" in page.text


def test_choosing_a_template_fills_in_the_defaults_the_core_applies(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("sales")
    response = client.get(
        "/interactions/new/defaults",
        params={"contact_no": "CT101", "interaction_template_code": "OUT-CALL", "description": "", "step": "1"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "interaction_template_code"},
    )
    assert response.status_code == 200
    assert 'id="wizard-body"' in response.text and "<html" not in response.text
    assert 'value="Outgoing call"' in response.text
    assert 'value="outbound" selected' in response.text and 'value="us" selected' in response.text
    assert 'name="cost" value="2.5"' in response.text and 'name="duration_min" value="10"' in response.text


def test_next_checks_the_step_and_finish_logs_the_interaction(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("sales")
    token = csrf(client.get("/interactions/new?contact_no=CT101").text)
    step2 = client.post("/interactions/new", data={**wizard_form(token), "go": "next"})
    assert step2.status_code == 200 and 'name="step" value="2"' in step2.text
    step3 = client.post("/interactions/new", data={**wizard_form(token, step="2"), "go": "next"})
    assert 'name="step" value="3"' in step3.text
    assert client.get("/interactions").text.count("Asked about the new range") == 0, "Next saves nothing"
    finished = client.post(
        "/interactions/new",
        data={
            **wizard_form(token, step="3", evaluation="positive", comments="Wants samples\nCall back in May"),
            "go": "finish",
        },
        follow_redirects=False,
    )
    assert finished.status_code == 303
    entry_no = int(finished.headers["location"].rsplit("/", 1)[1])
    logged = entry(app, entry_no)
    assert logged is not None and not logged.postponed
    assert (logged.contact_no, logged.contact_company_no, logged.evaluation) == ("CT101", "CT100", "positive")
    assert logged.subject == "Asked about the new range" and logged.user_id == "ui-sales"
    page = client.get(finished.headers["location"])
    assert "Call back in May" in page.text and f"Interaction {entry_no} was logged." in page.text


def test_a_refused_step_shows_the_core_error_next_to_the_field_and_keeps_the_input(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("sales")
    token = csrf(client.get("/interactions/new?contact_no=CT101").text)
    refused = client.post("/interactions/new", data={**wizard_form(token, description="", cost="7"), "go": "next"})
    assert refused.status_code == 422
    assert 'id="e-description"' in refused.text and "You must fill in the Description field." in refused.text
    assert 'name="cost" value="7"' in refused.text
    no_salesperson = client.post(
        "/interactions/new", data={**wizard_form(token, step="3", salesperson_code=""), "go": "finish"}
    )
    assert no_salesperson.status_code == 422 and 'id="e-salesperson_code"' in no_salesperson.text
    assert 'name="step" value="1"' in no_salesperson.text, "the flow goes back to the step of the field"
    too_long = client.post(
        "/interactions/new", data={**wizard_form(token, step="3", comments="x" * 81), "go": "finish"}
    )
    assert too_long.status_code == 422 and 'id="e-comments"' in too_long.text
    with app.state.sessionmaker() as s:
        assert s.scalars(select(InteractionLogEntry)).first() is None


def test_finish_later_postpones_and_resume_keeps_the_entry_number(client, app, signed_in):
    seed(app, interactions=0)
    signed_in("sales")
    token = csrf(client.get("/interactions/new?contact_no=CT101").text)
    later = client.post(
        "/interactions/new", data={**wizard_form(token, comments="First note"), "go": "later"}, follow_redirects=False
    )
    assert later.status_code == 303 and later.headers["location"] == "/interactions/postponed"
    with app.state.sessionmaker() as s:
        postponed = s.scalars(select(InteractionLogEntry)).one()
    assert postponed.postponed
    listing = client.get("/interactions/postponed")
    assert f"/interactions/new?resume={postponed.entry_no}" in listing.text
    assert "Asked about the new range" not in client.get("/interactions").text
    resume = client.get(f"/interactions/new?resume={postponed.entry_no}")
    assert f'name="resume" value="{postponed.entry_no}"' in resume.text and "First note" in resume.text
    finished = client.post(
        "/interactions/new",
        data={
            **wizard_form(token, step="3", description="Agreed on samples", comments="First note"),
            "resume": str(postponed.entry_no),
            "comments_original": "First note",
            "go": "finish",
        },
        follow_redirects=False,
    )
    assert finished.headers["location"] == f"/interactions/{postponed.entry_no}"
    resumed = entry(app, postponed.entry_no)
    assert resumed is not None and not resumed.postponed and resumed.description == "Agreed on samples"
    with app.state.sessionmaker() as s:
        comments = s.scalars(select(InteractionComment.comment)).all()
    assert comments == ["First note"]


def test_a_viewer_cannot_create_interactions(client, app, signed_in):
    seed(app)
    signed_in("viewer")
    assert client.get("/interactions/new").status_code == 403
    token = csrf(client.get("/interactions").text)
    assert client.post("/interactions/new", data={**wizard_form(token), "go": "finish"}).status_code == 403


def test_interaction_forms_refuse_a_post_without_the_csrf_token(client, app, signed_in):
    seed(app)
    signed_in("admin")
    for url in (
        "/interactions/new",
        "/interactions/cancel",
        "/interactions/uncancel",
        "/interactions/evaluate",
        "/interactions/delete-canceled",
        "/interactions/1/comments",
        "/interactions/1/delete",
        "/interactions/1/resend",
    ):
        assert client.post(url, data={"entry_nos": "1"}).status_code == 403, url


# --- the log entries ---------------------------------------------------------------------


def test_the_log_entries_filter_by_contact_template_and_expression(client, app, signed_in):
    seed(app, interactions=4)
    signed_in("viewer")
    everything = client.get("/interactions")
    assert all(f"Call {i}" in everything.text for i in range(1, 5))
    ben = client.get("/interactions", params={"contact_no": "ct102"})
    assert "Call 2" in ben.text and "Call 1" not in ben.text
    letters = client.get("/interactions", params={"interaction_template_code": "LTR"})
    assert "Call 1" in letters.text and "Call 2" not in letters.text
    costly = client.get("/interactions", params={"filter_field": "cost", "filter_expr": ">=2"})
    assert "Call 2" in costly.text and "Call 1" not in costly.text
    wrong = client.get("/interactions", params={"filter_field": "cost", "filter_expr": ">=lots"})
    assert wrong.status_code == 422 and 'id="e-filter_expr"' in wrong.text
    bad_date = client.get("/interactions", params={"date_from": "31.12.2026"})
    assert bad_date.status_code == 422 and 'id="e-date_from"' in bad_date.text


def test_a_viewer_sees_no_actions_on_the_log_entries(client, app, signed_in):
    seed(app)
    signed_in("viewer")
    page = client.get("/interactions")
    assert 'name="entry_nos"' not in page.text and "Cancel selected" not in page.text
    assert "Create Interaction" not in page.text
    token = csrf(page.text)
    assert client.post("/interactions/cancel", data={"csrf_token": token, "entry_nos": "1"}).status_code == 403
    entry_page = client.get("/interactions/1")
    assert "Resend" not in entry_page.text and "Add comment" not in entry_page.text
    assert client.post("/interactions/1/comments", data={"csrf_token": token, "comment": "x"}).status_code == 403


def test_cancel_uncancel_and_evaluate_the_selected_entries(client, app, signed_in):
    seed(app, interactions=3)
    signed_in("sales")
    token = csrf(client.get("/interactions").text)
    canceled = client.post(
        "/interactions/cancel",
        data={"csrf_token": token, "entry_nos": ["1", "2"], "back": "/interactions?contact_no=CT101"},
        follow_redirects=False,
    )
    assert canceled.status_code == 303 and canceled.headers["location"] == "/interactions?contact_no=CT101"
    assert entry(app, 1).canceled and entry(app, 2).canceled and not entry(app, 3).canceled
    client.post("/interactions/uncancel", data={"csrf_token": token, "entry_nos": ["2"], "back": "/interactions"})
    assert not entry(app, 2).canceled
    evaluated = client.post(
        "/interactions/evaluate",
        data={"csrf_token": token, "entry_nos": ["2", "3"], "evaluation": "negative", "back": "/interactions"},
    )
    assert entry(app, 2).evaluation == "negative" and entry(app, 3).evaluation == "negative"
    assert "2 entries were evaluated." in evaluated.text


def test_an_action_without_a_selection_says_so_and_changes_nothing(client, app, signed_in):
    seed(app)
    signed_in("sales")
    token = csrf(client.get("/interactions").text)
    response = client.post("/interactions/cancel", data={"csrf_token": token, "back": "/interactions"})
    assert response.status_code == 422
    assert "Select at least one entry first." in response.text
    assert not entry(app, 1).canceled


def test_the_entry_page_shows_the_entry_and_keeps_comments_inline(client, app, signed_in):
    seed(app)
    signed_in("sales")
    page = client.get("/interactions/1")
    assert page.status_code == 200 and "Call 1" in page.text and "Ada Brook" in page.text
    assert "/interactions/new?from_entry=1" in page.text
    token = csrf(page.text)
    hx = {"HX-Request": "true"}
    added = client.post(
        "/interactions/1/comments", data={"csrf_token": token, "comment": "Sent the brochure"}, headers=hx
    )
    assert added.status_code == 200 and "<html" not in added.text and "Sent the brochure" in added.text
    too_long = client.post("/interactions/1/comments", data={"csrf_token": token, "comment": "y" * 81}, headers=hx)
    assert too_long.status_code == 422 and "field-error" in too_long.text and "y" * 81 in too_long.text
    with app.state.sessionmaker() as s:
        line = s.scalars(select(InteractionComment)).one()
    editing = client.get(f"/interactions/1/comments?edit={line.line_no}", headers=hx)
    assert f'action="/interactions/1/comments/{line.line_no}"' in editing.text
    client.post(
        f"/interactions/1/comments/{line.line_no}",
        data={"csrf_token": token, "comment": "Sent the brochure and prices", "date": "", "code": ""},
        headers=hx,
    )
    with app.state.sessionmaker() as s:
        assert s.scalars(select(InteractionComment.comment)).one() == "Sent the brochure and prices"
    deleted = client.post(f"/interactions/1/comments/{line.line_no}/delete", data={"csrf_token": token}, headers=hx)
    assert deleted.status_code == 200 and "No comments." in deleted.text


def test_create_interaction_from_an_entry_takes_its_contact_and_salesperson(client, app, signed_in):
    seed(app)
    signed_in("sales")
    page = client.get("/interactions/new?from_entry=1")
    assert 'name="contact_no" type="text" value="CT101"' in page.text
    assert 'name="salesperson_code" type="text" value="SAM"' in page.text
    assert 'name="locked" value="campaign_no,contact_no,salesperson_code"' in page.text


def test_only_postponed_or_canceled_entries_can_be_deleted(client, app, signed_in):
    seed(app)
    signed_in("sales")
    page = client.get("/interactions/1")
    assert "/interactions/1/delete" not in page.text
    token = csrf(page.text)
    refused = client.post("/interactions/1/delete", data={"csrf_token": token})
    assert entry(app, 1) is not None
    assert "neither postponed nor canceled" in refused.text
    with app.state.write_sessionmaker() as s:
        cancel(s, CancelRequest(entry_nos=[1]))
        s.commit()
    assert "/interactions/1/delete" in client.get("/interactions/1").text
    client.post("/interactions/1/delete", data={"csrf_token": token})
    assert entry(app, 1) is None


def test_delete_canceled_shows_how_many_match_before_deleting(client, app, signed_in):
    seed(app, interactions=3)
    with app.state.write_sessionmaker() as s:
        cancel(s, CancelRequest(entry_nos=[1, 2]))
        s.commit()
    signed_in("marketing")
    token = csrf(client.get("/interactions/delete-canceled").text)
    preview = client.post("/interactions/delete-canceled", data={"csrf_token": token, "go": "preview"})
    assert "2 canceled entries match these filters." in preview.text
    assert entry(app, 1) is not None, "the preview deletes nothing"
    narrowed = client.post(
        "/interactions/delete-canceled", data={"csrf_token": token, "go": "preview", "contact_no": "CT102"}
    )
    assert "1 canceled entry matches these filters." in narrowed.text
    bad = client.post(
        "/interactions/delete-canceled", data={"csrf_token": token, "go": "preview", "entry_no_from": "x"}
    )
    assert bad.status_code == 422 and 'id="e-entry_no_from"' in bad.text
    done = client.post(
        "/interactions/delete-canceled",
        data={"csrf_token": token, "go": "delete", "contact_no": "CT102"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert entry(app, 2) is None and entry(app, 1) is not None and entry(app, 3) is not None


def test_sales_cannot_run_delete_canceled(client, app, signed_in):
    signed_in("sales")
    assert client.get("/interactions/delete-canceled").status_code == 403
    token = csrf(client.get("/interactions").text)
    assert client.post("/interactions/delete-canceled", data={"csrf_token": token}).status_code == 403


def test_resend_reports_what_the_core_refuses(client, app, signed_in):
    seed(app)
    signed_in("sales")
    token = csrf(client.get("/interactions/1").text)
    response = client.post("/interactions/1/resend", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert 'class="flash error"' in response.text


def test_user_data_is_escaped_on_every_interaction_page(client, app, signed_in):
    seed(app, name=XSS)
    with app.state.write_sessionmaker() as s:
        logged = s.get(InteractionLogEntry, 1)
        logged.description = XSS
        s.add(InteractionComment(entry_no=1, line_no=10000, comment=XSS))
        s.commit()
    signed_in("admin")
    token = csrf(client.get("/interactions").text)
    client.post("/interactions/new", data={**wizard_form(token, description=XSS), "go": "later"})
    for url in ("/interactions", "/interactions/1", "/interactions/postponed", "/interactions/new?resume=3", "/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert XSS not in page.text, url
        assert ESCAPED in page.text, url
