"""The difference between two revisions: values as lines, lines matched, long texts capped."""

from __future__ import annotations

from trovato.content.diff import MAX_DIFF_LINES, line_diff, value_lines


def test_values_become_lines() -> None:
    assert value_lines(None) == []
    assert value_lines({"value": "a\nb", "format": "markdown"}) == ["a", "b", "[format: markdown]"]
    assert value_lines([{"value": 1}, {"value": ""}]) == ["1", ""]
    assert value_lines({"uri": "/x", "title": "X"}) == ["title: X, uri: /x"]


def test_lines_are_matched() -> None:
    left, right = line_diff(["a", "b", "c"], ["a", "B", "c", "d"])
    assert left == [("context", "a"), ("deleted", "b"), ("context", "c")]
    assert right == [("context", "a"), ("added", "B"), ("context", "c"), ("added", "d")]


def test_long_texts_are_shown_whole_without_matching() -> None:
    old = [f"line {n}" for n in range(MAX_DIFF_LINES)]
    left, right = line_diff(old, [*old, "one more"])
    assert {kind for kind, _ in left} == {"deleted"} and len(left) == MAX_DIFF_LINES
    assert {kind for kind, _ in right} == {"added"} and right[-1] == ("added", "one more")
