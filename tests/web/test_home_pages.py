"""The home page in-process: counts, latest interactions, the weekly chart and its table."""

from __future__ import annotations

import datetime as dt
import re

from rapport.core.interactions.recording import InteractionCreate, create_interaction
from tests.web.helpers import login as sign_in
from tests.web.test_contacts_pages import ESCAPED, XSS, seed


def test_the_home_page_counts_and_charts_the_interactions_of_the_last_weeks(client, app, make_user):
    seed(app, interactions=0)
    today = dt.date.today()
    with app.state.write_sessionmaker() as s:
        for weeks_ago, template, n in ((0, "OUT-CALL", 2), (0, "LTR", 1), (3, "OUT-CALL", 1), (20, "LTR", 1)):
            for _ in range(n):
                create_interaction(
                    s,
                    InteractionCreate(
                        contact_no="CT101",
                        interaction_template_code=template,
                        date=today - dt.timedelta(weeks=weeks_ago),
                    ),
                    user_id="seed",
                )
        create_interaction(
            s, InteractionCreate(contact_no="CT101", interaction_template_code="LTR", postpone=True), user_id="seed"
        )
        s.commit()
    make_user("ui-viewer", "viewer")
    sign_in(client, "ui-viewer")
    page = client.get("/")
    assert page.status_code == 200
    tiles = dict(
        (label.strip(), int(n)) for n, label in re.findall(r'<span class="n">(\d+)</span>\s*([^<]+)</a>', page.text)
    )
    assert tiles["contacts"] == 4 and tiles["postponed interactions"] == 1 and tiles["open segments"] == 0
    assert tiles["interactions this month"] >= 3
    assert 'role="img"' in page.text and '<title id="chart-title">' in page.text
    assert page.text.count("<rect ") == 3, "this week's calls and letter, and the call three weeks ago"
    # The table behind the chart: this week has 2 calls + 1 letter, total 3, cost 2 x 2.50 + 1.20.
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>(.*?)</tr>", page.text, re.S)
    assert len(rows) == 12
    last = re.findall(r'<td class="num">([^<]+)</td>', rows[-1][1])
    assert last == ["2", "1", "3", "6.20"]
    assert "CALL" in page.text and "Phone calls" in page.text
    assert page.text.count('href="/interactions/') >= 5


def test_user_data_on_the_home_page_is_escaped(client, app, make_user):
    seed(app, name=XSS, interactions=1)
    make_user("ui-admin", "admin")
    sign_in(client, "ui-admin")
    page = client.get("/")
    assert XSS not in page.text and ESCAPED in page.text
