"""``trovato gather list|show|export|import|explain|index``, run as a user would run them."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml

from tests.cli.test_cli import run


def test_listings_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}
    listed = run("gather", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "frontpage" in listed.stdout and "page /" in listed.stdout
    exported = run("gather", "export", "frontpage", env=env)
    document = yaml.safe_load(exported.stdout)
    assert document["name"] == "frontpage" and document["pager"]["type"] == "full"
    assert run("gather", "show", "frontpage", env=env).stdout == exported.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO item_type (type, label) VALUES ('event', 'Event')")
        conn.execute("INSERT INTO field_config (field_name, field_type) VALUES "
                     "('field_seats', 'integer'), ('field_when', 'datetime')")
        conn.execute("INSERT INTO field_instance (field_name, bundle, label) VALUES "
                     "('field_seats', 'event', 'Seats'), ('field_when', 'event', 'When')")
    source = tmp_path / "events.yaml"
    source.write_text(yaml.safe_dump({
        "name": "events", "label": "Events",
        "filters": [{"field": "field_seats", "op": "gt", "value": 10}],
        "sorts": [{"field": "field_seats", "direction": "desc"}],
        "displays": {"page": {"path": "/events"}}}))
    imported = run("gather", "import", str(source), env=env)
    assert imported.returncode == 0 and "Imported events (version 1)" in imported.stdout
    again = run("gather", "import", str(source), env=env)
    assert "version 2" in again.stdout
    source.write_text(yaml.safe_dump({"name": "bad", "label": "Bad",
                                      "filters": [{"field": "nope", "op": "equals"}]}))
    refused = run("gather", "import", str(source), env=env)
    assert refused.returncode == 1 and "filters.0.field" in refused.stderr
    plan = run("gather", "explain", "events", env=env)
    assert plan.returncode == 0 and "Limit" in plan.stdout, plan.stderr
    # An expression index the listing's plan can use, created and dropped.
    created = run("gather", "index", "create", "field_seats", env=env)
    assert created.returncode == 0 and "gather_field_seats_idx" in created.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("ANALYZE item")
        shown = conn.execute(
            "EXPLAIN SELECT id FROM item i WHERE CAST((i.fields -> 'field_seats') ->> 'value'"
            " AS BIGINT) > 10").fetchall()
        assert "gather_field_seats_idx" in " ".join(str(r[0]) for r in shown)
    assert "Dropped" in run("gather", "index", "drop", "field_seats", env=env).stdout
    assert "no index" in run("gather", "index", "drop", "field_seats", env=env).stdout
    moment = run("gather", "index", "create", "field_when", env=env)
    assert moment.returncode == 1 and "cannot index" in moment.stderr
    # The search field uses the site search's index (tests/gather/test_indexes.py): none to add.
    words = run("gather", "index", "create", "search", env=env)
    assert words.returncode == 1 and "search index" in words.stderr, words.stdout


def test_a_listing_from_options(db_url: str) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO item_type (type, label) VALUES ('event', 'Event')")
    created = run("gather", "new", "events", "--label", "Events", "--type", "event",
                  "--sort", "title", "--sort", "created:desc", "--per-page", "10",
                  "--page", "/events", "--json", env=env)
    assert created.returncode == 0 and "Created events (version 1)" in created.stdout, \
        created.stderr
    document = yaml.safe_load(run("gather", "export", "events", env=env).stdout)
    assert document["filters"] == [{"field": "type", "op": "equals", "value": "event"}]
    assert document["sorts"] == [{"field": "title", "direction": "asc"},
                                 {"field": "created", "direction": "desc"}]
    assert document["pager"] == {"type": "full", "per_page": 10}
    assert document["displays"] == {"page": {"path": "/events", "style": "teasers"},
                                    "json": {}}
    refused = run("gather", "new", "many", "--per-page", "1000", env=env)
    assert refused.returncode == 1 and "pager.per_page" in refused.stderr
    taken = run("gather", "new", "other", "--page", "/events", env=env)
    assert taken.returncode == 1 and "displays.page.path" in taken.stderr
