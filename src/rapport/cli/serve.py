"""rapport serve: upgrade the database, make sure someone can sign in, serve UI and API."""

from __future__ import annotations

import os

import typer

from rapport.cli import app
from rapport.cli.common import console, open_session, settings_from_env
from rapport.logs import configure_logging


def ensure_first_admin() -> None:
    """On an empty user table, create `admin` and print its password once."""
    from rapport import accounts
    from rapport.core.enums import Role

    with open_session() as session:
        if accounts.count_users(session):
            return
        password = accounts.generate_password()
        accounts.create_user(session, accounts.UserCreate(username="admin", role=Role.ADMIN, password=password))
    console.print(
        "\n[bold]First start:[/bold] created user [bold]admin[/bold] with password "
        f"[bold green]{password}[/bold green]\n(shown only this once; change it after signing in)\n",
        highlight=False,
    )


def load_demo_if_empty() -> None:
    from rapport.demo import database_is_empty, load_demo

    with open_session() as session:
        if database_is_empty(session):
            summary = load_demo(session)
            console.print(f"Loaded demo data: {summary}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes."),
    no_worker: bool = typer.Option(
        False,
        "--no-worker",
        help="Run no delivery worker thread (run `rapport worker` processes instead).",
    ),
    demo: bool = typer.Option(False, "--demo", help="Load demo data into an empty database."),
) -> None:
    """Upgrade the database, then serve the UI at / and the API at /api/v1."""
    import uvicorn

    from rapport.migrate import upgrade

    # Every server process (uvicorn starts them with create_app) logs the same way: text unless
    # RAPPORT_LOG_FORMAT=json.
    os.environ.setdefault("RAPPORT_LOG_FORMAT", "text")
    settings = settings_from_env()
    configure_logging(settings.log_format, settings.log_level)
    upgrade(settings.resolved_database_url)
    settings.resolved_secret_key()
    ensure_first_admin()
    if demo or settings.demo:
        load_demo_if_empty()
    if not no_worker:
        from rapport.worker import start_thread

        start_thread(settings)
    console.print(f"Rapport is serving on http://{host}:{port}/ (API at /api/v1)")
    uvicorn.run(
        "rapport.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )
