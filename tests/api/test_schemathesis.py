"""schemathesis (an outside tool) checks the live API against its own OpenAPI document: a real
app on a socket, the document it serves, an admin's API token, and then anonymously.

Bounded for CI: a fixed seed and deterministic generation (reproducible), a few examples per
operation, no shrinking. No failure of any check is accepted: any names the operation and the
check, and the run's report is printed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.api.conftest import ARTICLE
from tests.conftest import ADMIN_PASSWORD, RUN_ID, _scratch_database, site_settings
from trovato.app import create_app

CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance",
    "negative_data_rejection", "positive_data_acceptance", "unsupported_method",
    "missing_required_header", "use_after_free", "ignored_auth",
))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveApp:
    """The app served by uvicorn on its own thread and event loop."""

    def __init__(self, db_url: str) -> None:
        self.app = create_app(site_settings(db_url, write_rate_limit=100_000,
                                            user_write_rate_limit=100_000,
                                            token_write_rate_limit=100_000))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.server = uvicorn.Server(uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.server.serve(),), daemon=True)

    def __enter__(self) -> LiveApp:
        self.thread.start()
        for _ in range(300):
            if self.server.started:
                return self
            self.thread.join(0.1)
        raise RuntimeError("the app did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def create_admin(self, name: str) -> None:
        kernel = self.app.state.kernel
        future = asyncio.run_coroutine_threadsafe(kernel.accounts.create(
            name=name, mail=f"{name}@example.com", password=ADMIN_PASSWORD, is_admin=True),
            self.loop)
        future.result(30)


@pytest.fixture(scope="module")
def live(pg_server_url: str, template_db: str) -> Iterator[tuple[LiveApp, str]]:
    """The running app, with an item type and a vocabulary, and an admin's API token."""
    name = f"trovato_t_{RUN_ID}_schemathesis"
    with _scratch_database(pg_server_url, name, template_db) as url, LiveApp(url) as live:
        live.create_admin("root")
        with httpx.Client(base_url=live.url) as client:
            login = client.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD})
            csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
            assert client.post("/api/v1/item-types", json=ARTICLE,
                               headers=csrf).status_code == 201
            assert client.post("/api/v1/categories/vocabularies",
                               json={"id": "topics", "label": "Topics"},
                               headers=csrf).status_code == 201
            token = client.post("/api/v1/tokens", json={"label": "schemathesis"}, headers=csrf)
        yield live, token.json()["token"]


# What the document cannot express (an item type names each field once).
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def _schemathesis(url: str, report: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run",
        f"{url}/api/v1/openapi.json", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", os.environ.get("TROVATO_SCHEMATHESIS_EXAMPLES", "15"),
        "--seed", "20261207", "--generation-deterministic", "--no-shrink",
        # The document says no text may hold NUL (PostgreSQL cannot store it: 422).
        "--generation-allow-x00", "false",
        "--workers", "1", "--request-timeout", "30", "--no-color", "--warnings", "off",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    for header in headers:
        command += ["--header", header]
    # Its own working folder: schemathesis keeps a cache beside it.
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                          cwd=report.parent, env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)})


@pytest.mark.slow
@pytest.mark.parametrize("as_admin", [True, False], ids=["admin", "anonymous"])
def test_the_api_matches_its_document(live: tuple[LiveApp, str], as_admin: bool,
                                      tmp_path: Path) -> None:
    app, token = live
    headers = [f"Authorization: Bearer {token}"] if as_admin else []
    result = _schemathesis(app.url, tmp_path / "events.ndjson", *headers)
    print(result.stdout[-20_000:])
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
