"""``trovato serve``: the web server (granian workers, or uvicorn with ``--reload``)."""

from __future__ import annotations

import os

import typer

from trovato.cli import _output
from trovato.cli._runtime import database_url, migrate_with_progress
from trovato.settings import load_settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
    reload: bool = typer.Option(
        False, "--reload", help="Restart on code changes (development; uvicorn, one worker)."
    ),
) -> None:
    """Run the site. With no TROVATO_DATABASE_URL it starts its own embedded PostgreSQL."""
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        # Workers are separate processes: hand them the database the master prepared.
        os.environ["TROVATO_DATABASE_URL"] = url
        mode = "embedded PostgreSQL" if settings.embedded else "PostgreSQL"
        store = "Redis" if settings.uses_redis else "PostgreSQL"
        _output.say("Trovato on ", (f"http://{host}:{port}/", "bold"), f" — {mode}, shared state"
                    f" in {store}, {workers if not reload else 1} worker(s)")
        if reload:
            import uvicorn

            uvicorn.run(
                "trovato.app:create_app", factory=True, host=host, port=port, reload=True,
                log_level="warning",
            )
        else:
            from granian.constants import Interfaces
            from granian.server import Server

            Server(
                "trovato.app:create_app",
                address=host,
                port=port,
                interface=Interfaces.ASGI,
                workers=workers,
                factory=True,
                log_access=False,
                respawn_failed_workers=True,
            ).serve()
