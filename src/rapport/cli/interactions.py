"""rapport interactions: batch jobs on the interaction log."""

from __future__ import annotations

import datetime as dt

import typer

from rapport.cli import app
from rapport.cli.common import console, open_session

interactions_app = typer.Typer(help="The interaction log.", no_args_is_help=True)
app.add_typer(interactions_app, name="interactions")


@interactions_app.command("delete-canceled")
def delete_canceled(
    entry_no_from: int | None = typer.Option(None, help="Lowest entry number."),
    entry_no_to: int | None = typer.Option(None, help="Highest entry number."),
    contact_no: str | None = typer.Option(None, help="Only this contact's entries."),
    date_from: str | None = typer.Option(None, help="From this date (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, help="Up to this date (YYYY-MM-DD)."),
    campaign_no: str | None = typer.Option(None, help="Only this campaign's entries."),
    interaction_group_code: str | None = typer.Option(None, help="Only this interaction group."),
    interaction_template_code: str | None = typer.Option(None, help="Only this interaction template."),
    salesperson_code: str | None = typer.Option(None, help="Only this salesperson's entries."),
) -> None:
    """Delete canceled interaction log entries (with their comments and unique attachments)."""
    from pydantic import ValidationError

    from rapport.cli.common import fail
    from rapport.core.interactions.operations import DeleteCanceledFilters
    from rapport.core.interactions.operations import delete_canceled as run

    try:
        filters = DeleteCanceledFilters(
            entry_no_from=entry_no_from,
            entry_no_to=entry_no_to,
            contact_no=contact_no,
            date_from=dt.date.fromisoformat(date_from) if date_from else None,
            date_to=dt.date.fromisoformat(date_to) if date_to else None,
            campaign_no=campaign_no,
            interaction_group_code=interaction_group_code,
            interaction_template_code=interaction_template_code,
            salesperson_code=salesperson_code,
        )
    except (ValidationError, ValueError) as exc:
        fail(f"Check the filters: {exc}")
    with open_session() as session:
        deleted = run(session, filters)
    console.print(f"{deleted} interaction log entr{'y has' if deleted == 1 else 'ies have'} been deleted.")
