"""``trovato stage list|create|diff|publish``, run as a user would run them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.cli.test_cli import run
from trovato.cli.stage import _report
from trovato.stages.desk import Change, PublishOutcome


def test_create_list_and_diff(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}  # tables unwrapped
    created = run("stage", "create", "spring", "--label", "Spring [bold]sale[/bold]", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == (
        "Created stage spring (Spring [bold]sale[/bold]), publishing to live."
    )
    child = run("stage", "create", "late_spring", "--upstream", "spring", env=env)
    assert child.returncode == 0, child.stderr
    for args, message in (
        (("Bad-Id",), "id: must be a machine name"),
        (("spring",), "A stage 'spring' exists already. (id: is taken)"),
        (("orphan", "--upstream", "nowhere"), "upstream: no such stage 'nowhere'"),
    ):
        refused = run("stage", "create", *args, env=env)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    listed = run("stage", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "Spring [bold]sale[/bold]" in listed.stdout  # literal text, not markup
    assert "late_spring" in listed.stdout and "open" in listed.stdout

    empty = run("stage", "diff", "spring", env=env)
    assert empty.returncode == 0 and "changes nothing" in empty.stderr
    with psycopg.connect(db_url, autocommit=True) as conn:
        author = conn.execute(
            "INSERT INTO users (name, name_key) VALUES ('a', 'a') RETURNING id"
        ).fetchone()
        conn.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
        conn.execute(
            "INSERT INTO item (type, title, author_id, stage_id)"
            " VALUES ('page', '[red]New[/red] page', %s, 'spring')",
            (author[0] if author else None,),
        )
    diff = run("stage", "diff", "spring", env=env)
    assert diff.returncode == 0, diff.stderr
    assert "created" in diff.stdout and "[red]New[/red] page" in diff.stdout
    unknown = run("stage", "diff", "nowhere", env=env)
    assert unknown.returncode == 1 and "No such stage 'nowhere'" in unknown.stderr
    assert run("stage", "publish", "nowhere", "--dry-run", env=env).returncode == 1


def test_the_publish_report(capsys: pytest.CaptureFixture[str]) -> None:
    change = Change("edited", uuid.uuid4(), "[b]Title[/b]", "page", datetime.now(UTC))
    _report(PublishOutcome("spring", "live", (change,), (), dry_run=True))
    out, err = capsys.readouterr()
    assert "[b]Title[/b]" in out and "Would publish 1 change(s) of stage spring to live." in err
    _report(PublishOutcome("spring", "live", (change,), (), dry_run=False))
    out, _ = capsys.readouterr()
    assert "Published 1 change(s) of stage spring to live." in out
    conflict = {"item": "i1", "field": "title", "stage": "[x]", "upstream": "y", "base": "z"}
    _report(PublishOutcome("spring", "live", (), (conflict,), dry_run=False))
    out, err = capsys.readouterr()
    assert "error: stage spring conflicts with live: 1 conflict(s)" in err
    assert "[x]" in out and "title" in out
