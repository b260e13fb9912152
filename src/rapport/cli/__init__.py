"""The `rapport` command: serve, db upgrade, users, demo, contacts import/export."""

from __future__ import annotations

import sys

import typer

from rapport.cli.common import console, fail, open_session, settings_from_env
from rapport.errors import RapportError

app = typer.Typer(
    help="Rapport: open relationship management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
users_app = typer.Typer(help="Users who sign in.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    from rapport.migrate import upgrade

    settings = settings_from_env()
    upgrade(settings.resolved_database_url)
    console.print(f"Database is up to date ({_safe_url(settings.resolved_database_url)}).")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="The username."),
    role: str = typer.Option(..., "--role", help="admin, marketing, sales or viewer."),
    password: str | None = typer.Option(None, "--password", help="The password (8 characters or more)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Create a user."""
    from pydantic import ValidationError

    from rapport import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("Give a password with --password or --password-stdin.")
    try:
        data = accounts.UserCreate(username=name, role=accounts.validate_role(role), password=password)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    except RapportError as exc:
        fail(exc.message)
    with open_session() as session:
        accounts.create_user(session, data)
    console.print(f"User {name} ({role}) created.")


@users_app.command("list")
def users_list() -> None:
    """List the users."""
    from rapport import accounts

    with open_session() as session:
        for user in accounts.list_users(session):
            state = "active" if user.active else "inactive"
            typer.echo(f"{user.username}\t{user.role}\t{state}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


from rapport.cli import contacts as _contacts  # noqa: E402,F401
from rapport.cli import data as _data  # noqa: E402,F401
from rapport.cli import interactions as _interactions  # noqa: E402,F401
from rapport.cli import segments as _segments  # noqa: E402,F401
from rapport.cli import serve as _serve  # noqa: E402,F401  (registers commands)
from rapport.cli import templates as _templates  # noqa: E402,F401
from rapport.cli import worker as _worker  # noqa: E402,F401

__all__ = ["app"]
