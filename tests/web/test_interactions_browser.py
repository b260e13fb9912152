"""Create Interaction in a real browser: finish later, resume under the same number, cancel and
un-cancel from the log entries."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from rapport.core.interactions import InteractionComment, InteractionLogEntry
from tests.web.conftest import screenshot
from tests.web.test_contacts_pages import seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def entries(app) -> list[InteractionLogEntry]:
    with app.state.sessionmaker() as s:
        return list(s.scalars(select(InteractionLogEntry).order_by(InteractionLogEntry.entry_no)))


def test_an_interaction_is_postponed_resumed_canceled_and_uncanceled(sign_in_page, app):
    seed(app, interactions=0)
    page = sign_in_page("sam", "sales")
    page.goto("/contacts/CT101")
    page.get_by_role("link", name="Create Interaction").click()
    page.wait_for_url(re.compile(r".*/interactions/new\?contact_no=CT101$"))
    expect(page.get_by_label("Contact")).to_have_value("CT101")
    expect(page.get_by_label("Salesperson Code")).to_have_value("SAM")

    # Choosing the template fills in its defaults without a page load.
    page.get_by_label("Interaction Template Code").select_option("OUT-CALL")
    expect(page.get_by_label("Description")).to_have_value("Outgoing call")
    page.get_by_text("Show more").click()
    expect(page.get_by_label("Information Flow")).to_have_value("outbound")
    page.get_by_label("Description").fill("Asked about the spring catalogue")
    screenshot(page, "create-interaction")

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Step 2 of 3: Content")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Cost (LCY)")).to_have_value("2.5")
    page.get_by_label("Comments").fill("Wants prices by Friday")

    # Cancel asks whether to finish later; Yes postpones.
    page.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog", name="Do you want to finish this interaction later?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Yes").click()
    page.wait_for_url(re.compile(r".*/interactions/postponed$"))
    [postponed] = entries(app)
    assert postponed.postponed and postponed.description == "Asked about the spring catalogue"
    row = page.get_by_role("row").filter(has_text="Asked about the spring catalogue")
    expect(row).to_contain_text(str(postponed.entry_no))

    # Resume and finish: the same entry number, now in the log entries.
    row.get_by_role("link", name="Resume").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Resume interaction {postponed.entry_no}")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Comments")).to_have_value("Wants prices by Friday")
    page.get_by_label("Evaluation").select_option("positive")
    page.get_by_role("button", name="Finish").click()
    page.wait_for_url(re.compile(rf".*/interactions/{postponed.entry_no}$"))
    expect(page.get_by_role("status")).to_contain_text(f"Interaction {postponed.entry_no} was logged.")
    expect(page.locator("#comments")).to_contain_text("Wants prices by Friday")
    [logged] = entries(app)
    assert logged.entry_no == postponed.entry_no and not logged.postponed and logged.evaluation == "positive"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Interactions").click()
    line = page.get_by_role("row").filter(has_text="Asked about the spring catalogue")
    expect(line).to_contain_text(str(postponed.entry_no))

    # Cancel it through the multi-select, then un-cancel it.
    line.get_by_role("checkbox").check()
    page.get_by_role("button", name="Cancel selected", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("1 entry was canceled.")
    expect(page.get_by_role("row").filter(has_text="Asked about the spring catalogue")).to_contain_text("Canceled")
    assert entries(app)[0].canceled
    page.get_by_role("row").filter(has_text="Asked about the spring catalogue").get_by_role("checkbox").check()
    page.get_by_role("button", name="Un-cancel selected").click()
    expect(page.get_by_role("status")).to_contain_text("1 entry was un-canceled.")
    assert not entries(app)[0].canceled
    with app.state.sessionmaker() as s:
        assert s.scalars(select(InteractionComment.comment)).all() == ["Wants prices by Friday"]


def test_no_in_the_finish_later_dialog_saves_nothing(sign_in_page, app):
    seed(app, interactions=0)
    page = sign_in_page("sam", "sales")
    page.goto("/interactions/new?contact_no=CT102")
    page.get_by_label("Interaction Template Code").select_option("LTR")
    expect(page.get_by_label("Description")).to_have_value("Letter")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").get_by_role("button", name="No").click()
    page.wait_for_url(re.compile(r".*/contacts/CT102$"))
    assert entries(app) == []


def test_comments_are_added_and_edited_inline(sign_in_page, app):
    seed(app, interactions=1)
    page = sign_in_page("sam", "sales")
    page.goto("/interactions/1")
    page.get_by_label("Comment", exact=True).fill("Sent the brochure")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#comments tbody")).to_contain_text("Sent the brochure")
    page.locator("#comments").get_by_role("link", name="Edit").click()
    editing = page.locator("#comments tbody").get_by_label("Comment", exact=True)
    expect(editing).to_be_focused()
    editing.fill("Sent the brochure and prices")
    page.locator("#comments tbody").get_by_role("button", name="Save").click()
    expect(page.locator("#comments tbody")).to_contain_text("Sent the brochure and prices")
    with app.state.sessionmaker() as s:
        assert s.scalars(select(InteractionComment.comment)).all() == ["Sent the brochure and prices"]


def test_the_log_entries_fit_a_tablet(sign_in_page, app):
    seed(app, interactions=3)
    page = sign_in_page("sam", "sales")
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto("/interactions")
    expect(page.get_by_role("button", name="Cancel selected", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.goto("/interactions/new?contact_no=CT101")
    expect(page.get_by_role("button", name="Next")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
