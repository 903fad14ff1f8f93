"""``trovato categories import|export|list|tree``, run as a user would run them: CSV and YAML
imports and their round trips, all or nothing on a bad row."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.cli.test_cli import run

CSV = """name,parents,description,weight
Music,,All sound,0
Jazz,Music,,1
Blues,Music,Twelve bars,-1
Fusion,Jazz|Blues,,0
"[b]Odd[/b], name",,"Robert'); DROP TABLE category_tag;--",0
"""

YAML = """vocabulary: genres
label: Genres
tags:
  - name: Music
    description: All sound
    children:
      - name: Blues
        weight: -1
        children: [Fusion]
      - name: Jazz
        weight: 1
        children:
          - Fusion
  - Silence
"""


def _env(db_url: str) -> dict[str, str]:
    return {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}


def _links(db_url: str, vocabulary: str) -> set[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT t.name, p.name FROM category_tag_hierarchy h"
            " JOIN category_tag t ON t.id = h.tag_id JOIN category_tag p ON p.id = h.parent_id"
            " JOIN category_vocabulary v ON v.id = t.vocabulary_id WHERE v.machine_name = %s",
            (vocabulary,)).fetchall()
    return {(str(child), str(parent)) for child, parent in rows}


def test_csv_import_round_trip(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url)
    source = tmp_path / "topics.csv"
    source.write_text(CSV)
    imported = run("categories", "import", str(source), "--vocabulary", "topics", env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "Imported into topics: 5 tag(s) created, 0 updated."
    links = {("Jazz", "Music"), ("Blues", "Music"), ("Fusion", "Jazz"), ("Fusion", "Blues")}
    assert _links(db_url, "topics") == links
    tree = run("categories", "tree", "topics", env=env)
    assert tree.returncode == 0, tree.stderr
    assert "[b]Odd[/b], name" in tree.stdout and "Fusion *" in tree.stdout
    exported = run("categories", "export", "topics", "--csv", env=env)
    assert exported.returncode == 0, exported.stderr
    again = tmp_path / "again.csv"
    again.write_text(exported.stdout)
    copy = run("categories", "import", str(again), "--vocabulary", "copy", env=env)
    assert copy.returncode == 0, copy.stderr
    assert _links(db_url, "copy") == links
    with psycopg.connect(db_url) as conn:
        described = conn.execute(
            "SELECT t.name, t.description, t.weight FROM category_tag t JOIN"
            " category_vocabulary v ON v.id = t.vocabulary_id WHERE v.machine_name = %s"
            " ORDER BY t.name", ("copy",)).fetchall()
    assert ("Blues", "Twelve bars", -1) in described
    assert ("[b]Odd[/b], name", "Robert'); DROP TABLE category_tag;--", 0) in described
    listed = run("categories", "list", env=env)
    assert "topics" in listed.stdout and "copy" in listed.stdout


def test_yaml_import_round_trip(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url)
    source = tmp_path / "genres.yaml"
    source.write_text(YAML)
    imported = run("categories", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "Imported into genres: 5 tag(s) created, 1 updated." in imported.stdout
    links = {("Blues", "Music"), ("Jazz", "Music"), ("Fusion", "Blues"), ("Fusion", "Jazz")}
    assert _links(db_url, "genres") == links
    exported = run("categories", "export", "genres", env=env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("vocabulary: genres\nlabel: Genres\n")
    (tmp_path / "copy.yaml").write_text(exported.stdout)
    copy = run("categories", "import", str(tmp_path / "copy.yaml"), "--vocabulary", "copy",
               env=env)
    assert copy.returncode == 0, copy.stderr
    assert _links(db_url, "copy") == links


def test_a_bad_row_imports_nothing(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url)
    for name, text, message in (
        ("bad.csv", "name,parents\nMusic,\nJazz,Nowhere\n",
         "Line 3: parents: 'Nowhere' is neither a tag of 'topics' nor a row above"),
        ("loop.csv", "name,parents\na,\nb,a\na,b\n", "Line 4: parents: would create a loop:"
                                                      " a → b → a"),
        ("weight.csv", "name,weight\nMusic,heavy\n", "Line 2: weight 'heavy' is not a whole"
                                                      " number"),
        ("bad.yaml", "tags:\n  - name: Music\n    colour: red\n", "Line 3: unknown key"
                                                                 " 'colour'"),
        ("broken.yaml", "tags: [a, b\n", "not valid YAML"),
    ):
        path = tmp_path / name
        path.write_text(text)
        refused = run("categories", "import", str(path), "--vocabulary", "topics", env=env)
        assert refused.returncode == 1, refused.stdout
        assert message in refused.stderr, refused.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM category_tag").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM category_vocabulary").fetchone() == (0,)
