"""The home page in a real browser: the counts and the weekly chart over real data."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rapport.core.interactions.recording import InteractionCreate, create_interaction
from tests.web.conftest import screenshot
from tests.web.test_contacts_pages import seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_the_home_page_shows_the_counts_and_the_weekly_chart(sign_in_page, app):
    seed(app, interactions=0)
    today = dt.date.today()
    with app.state.write_sessionmaker() as s:
        for i in range(40):
            create_interaction(
                s,
                InteractionCreate(
                    contact_no=("CT101", "CT102")[i % 2],
                    interaction_template_code="LTR" if i % 3 == 0 else "OUT-CALL",
                    description=f"Follow-up {i + 1}",
                    date=today - dt.timedelta(days=2 * i),
                ),
                user_id="seed",
            )
        create_interaction(
            s,
            InteractionCreate(contact_no="CT101", interaction_template_code="LTR", postpone=True),
            user_id="seed",
        )
        s.commit()
    page = sign_in_page("nina", "viewer")
    counts = page.get_by_role("region", name="Counts")
    expect(counts).to_contain_text("4 contacts")
    expect(counts).to_contain_text("1 postponed interactions")
    chart = page.get_by_role("img", name="Interactions per week by interaction group, last 12 weeks")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() >= 12
    expect(page.get_by_label("Interaction groups")).to_contain_text("CALL \u2013 Phone calls")
    screenshot(page, "home")
    page.get_by_text("Show the numbers as a table").click()
    table = page.get_by_role("table", name="Interactions and cost per week")
    expect(table.locator("tbody tr")).to_have_count(12)
    page.get_by_role("link", name="Follow-up 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Follow-up 1")
