"""rapport templates: export and import interaction templates as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rapport.cli import app
from rapport.cli.common import console, fail, open_session

templates_app = typer.Typer(help="Interaction groups and templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("export")
def export(output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout).")) -> None:
    """Export every interaction group and template, with languages and attachments."""
    from rapport.core.template_io import export_templates

    with open_session() as session:
        data = export_templates(session)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"Exported {len(data['interaction_templates'])} templates to {output}.")


@templates_app.command("import")
def import_(file: Path = typer.Argument(..., help="A file written by `rapport templates export`.")) -> None:
    """Create or update groups and templates from an export (all or nothing)."""
    from rapport.core.template_io import import_templates

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"Cannot read {file}: {exc}")
    with open_session() as session:
        groups, count = import_templates(session, data)
    console.print(f"Imported {groups} interaction groups and {count} templates.")
