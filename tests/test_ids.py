"""UUIDv7 ids: version 7, RFC variant, time-ordered and unique."""

from __future__ import annotations

import time

from trovato.ids import parse_uuid, uuid7


def test_version_and_variant() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"


def test_embeds_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after + 1


def test_monotonic_and_unique_within_a_millisecond() -> None:
    values = [uuid7() for _ in range(10_000)]
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_parse_uuid_never_raises() -> None:
    assert parse_uuid("not-a-uuid") is None
    assert parse_uuid("") is None
    assert parse_uuid("../../etc/passwd") is None
    value = uuid7()
    assert parse_uuid(str(value)) == value
