"""rapport segments: log a segment from the command line."""

from __future__ import annotations

import typer

from rapport.cli import app
from rapport.cli.common import console, open_session

segments_app = typer.Typer(help="Segments.", no_args_is_help=True)
app.add_typer(segments_app, name="segments")


@segments_app.command("log")
def log(
    no: str = typer.Argument(..., help="The segment number."),
    deliver: bool = typer.Option(False, "--deliver", help="Deliver e-mails and letters."),
    follow_up: bool = typer.Option(False, "--follow-up", help="Create a follow-up segment with the same contacts."),
    user: str = typer.Option("cli", "--user", help="The user ID recorded on the entries."),
) -> None:
    """Log a segment: one interaction per line, atomically."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rapport.core.segments.logging import LogRequest, log_segment

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"Logging segment {no}", total=None)

        def report(phase: str) -> None:
            bar.update(task, description=f"Segment {no}: {phase}")

        with open_session() as session:
            result = log_segment(
                session, no, LogRequest(deliver=deliver, create_follow_up=follow_up), user_id=user, progress=report
            )
            bar.update(task, description=f"Segment {no}: committing")
    typer.echo(
        f"Segment {no.upper()} has been logged: {result['no_of_interactions']} interactions in logged segment "
        f"{result['logged_segment_entry_no']}"
        + (f", follow-up segment {result['follow_up_segment_no']}" if result["follow_up_segment_no"] else "")
        + (
            f"; {result['skipped']['privacy_blocked']} privacy-blocked contacts skipped"
            if result["skipped"]["privacy_blocked"]
            else ""
        )
        + "."
    )
