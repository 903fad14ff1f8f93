"""The ``trovato`` command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import trovato
from trovato.cli import audit_location
from trovato.observability.log_reader import COMMAND_LINE, QUEUE_WORKER

PASSWORD = "correct horse battery staple"


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trovato", *args],
        input=stdin, capture_output=True, text=True, env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"trovato {trovato.__version__}"


@pytest.mark.parametrize("args", [(), ("serve",), ("db",), ("db", "migrate"), ("user", "create"),
                                  ("user", "delete"), ("plugin", "install"),
                                  ("plugin", "requirements"), ("stage",),
                                  ("stage", "publish")])
def test_help_everywhere(args: tuple[str, ...]) -> None:
    result = run(*args, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_bad_setting_is_one_clear_line() -> None:
    result = run("db", "status", env={"TROVATO_DATABASE_URL": "mysql://nope"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: TROVATO_DATABASE_URL: Value error, must start with postgresql://"
                     " (got 'mysql://nope')"]


def test_status_migrate_status_on_an_empty_database(empty_db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": empty_db_url}
    before = run("db", "status", env=env)
    assert before.returncode == 0
    assert "pending migration(s)" in before.stdout
    assert "Core schema" in before.stdout  # the listing of pending migrations is the result
    migrated = run("db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied" in migrated.stderr
    after = run("db", "status", env=env)
    assert "up to date" in after.stdout


def test_user_create_reads_password_from_stdin(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url}
    result = run("user", "create", "--admin", "--name", "root", "--mail", "root@example.com",
                 "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Created administrator root (")
    duplicate = run("user", "create", "--name", "ROOT", "--mail", "r@example.com",
                    "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert duplicate.returncode == 1
    assert "name: is already taken" in duplicate.stderr
    weak = run("user", "create", "--name", "bob", "--mail", "b@example.com",
               "--password-stdin", env=env, stdin="short\n")
    assert weak.returncode == 1
    assert "pass: must be at least" in weak.stderr
    no_stdin = run("user", "create", "--name", "bob", "--mail", "b@example.com", env=env)
    assert no_stdin.returncode == 2


def test_user_delete(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "TROVATO_REDIS_URL": ""}
    for name, admin in (("root", ("--admin",)), ("alice", ())):
        made = run("user", "create", *admin, "--name", name, "--mail", f"{name}@example.com",
                   "--password-stdin", env=env, stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    alice_id = made.stdout.split("(")[1].rstrip(").\n")

    unconfirmed = run("user", "delete", "alice", env=env, stdin="n\n")
    assert unconfirmed.returncode == 1 and "not confirmed" in unconfirmed.stderr
    unknown = run("user", "delete", "nobody", "--yes", env=env)
    assert unknown.returncode == 1 and "no user 'nobody'" in unknown.stderr
    last = run("user", "delete", "root", "--yes", env=env)
    assert last.returncode == 1 and "root is the last administrator" in last.stderr
    anonymous = run("user", "delete", "00000000-0000-0000-0000-000000000000", "--yes", env=env)
    assert anonymous.returncode == 1 and "anonymous user cannot be deleted" in anonymous.stderr

    deleted = run("user", "delete", alice_id, "--yes", env=env)  # by id; by name works too
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith(f"Deleted alice ({alice_id}); 0 item(s) reassigned")
    assert run("user", "delete", "alice", "--yes", env=env).returncode == 1


def test_the_queue_worker_writes_the_log_as_itself() -> None:
    """The reports page shows a command's entries as "System (command line)" and the queue
    worker's as "System (queue worker)": the worker runs for long, doing what the site
    queued, not what an operator typed."""
    assert audit_location("worker") == QUEUE_WORKER
    for command in ("content", "cron", "user", None):
        assert audit_location(command) == COMMAND_LINE
