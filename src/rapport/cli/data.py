"""rapport demo."""

from __future__ import annotations

from rapport.cli import app
from rapport.cli.common import console, fail, open_session


@app.command()
def demo() -> None:
    """Load demo data into an empty database."""
    from rapport.demo import database_is_empty, load_demo

    with open_session() as session:
        if not database_is_empty(session):
            fail("The database already holds contacts; demo data goes into an empty database.")
        summary = load_demo(session)
    console.print(f"Loaded demo data: {summary}")
