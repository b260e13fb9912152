"""rapport contacts import / export: contacts from and to CSV files."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rapport.cli import app
from rapport.cli.common import console, err_console, fail, open_session
from rapport.core import contact_io

contacts_app = typer.Typer(help="Contacts: import from and export to CSV.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")

# Below this many lines an import is over before a progress bar would be worth drawing.
PROGRESS_MIN_LINES = 20_000


def _data_lines(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 0)


@contacts_app.command("import")
def import_contacts(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A UTF-8 CSV file with a header row."
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good rows and skip the bad ones."),
) -> None:
    """Import contacts from a CSV file; nothing is imported while any row is bad."""
    total = _data_lines(file)
    progress = Progress(
        TextColumn("Importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=total < PROGRESS_MIN_LINES,
    )
    with open_session() as session, progress:
        task = progress.add_task("import", total=total)
        result = contact_io.import_contacts(
            session,
            file,
            skip_invalid=skip_invalid,
            progress=lambda done: progress.update(task, completed=done),
        )
        progress.stop()
        for line, field, reason in result.errors:
            err_console.print(escape(f"line {line}: {field}: {reason}"), highlight=False, soft_wrap=True)
        if any(e.line == 1 for e in result.errors):
            fail("Nothing imported: correct the header of the file.")
        if result.errors and not skip_invalid:
            fail(
                f"Nothing imported: {len({e.line for e in result.errors})} line(s) have errors. "
                "Correct them, or import the good rows with --skip-invalid."
            )
    console.print(f"Imported {result.imported} contacts ({result.skipped} skipped).", highlight=False)


@contacts_app.command("export")
def export_contacts(
    output: Path | None = typer.Option(
        None, "--output", "-o", dir_okay=False, help="The CSV file to write (standard output by default)."
    ),
    filters: list[str] = typer.Option(
        [], "--filter", help="FIELD=EXPRESSION, e.g. --filter city=Berlin|Paris (repeatable)."
    ),
) -> None:
    """Export contacts, by number, as CSV with a header row."""
    parsed: dict[str, str] = {}
    for item in filters:
        name, sep, expression = item.partition("=")
        if not sep or not name.strip():
            fail(f"--filter {item}: write it as FIELD=EXPRESSION, e.g. city=Berlin.")
        parsed[name.strip()] = expression
    with open_session() as session:
        if output is None:
            contact_io.export_contacts(session, sys.stdout, parsed)
            sys.stdout.flush()
            return
        with output.open("w", encoding="utf-8", newline="") as f:
            count = contact_io.export_contacts(session, f, parsed)
    err_console.print(f"Exported {count} contacts to {escape(str(output))}.", highlight=False)
