"""Sealed form states: a build id carries its state and works for its own form and session
only, within its life; forged, edited, foreign, malformed and oversized ones are refused; a
build id is used once through one marker in the real shared store (PostgreSQL and Redis)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator

import orjson
import pytest

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.forms.state import (
    MAX_BUILD_ID,
    STATE_TTL,
    FormState,
    FormStateError,
    FormStates,
    FormStateTooLarge,
)
from trovato.kernel.keys import derive_key
from trovato.store import SharedStore, open_store

KEY = derive_key(b"test secret", "form-state")


class Clock:
    """A clock the test moves (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(database: Database, store_backend: str) -> AsyncIterator[SharedStore]:
    redis = os.environ.get("TROVATO_TEST_REDIS_URL") if store_backend == "redis" else None
    opened: SharedStore = await open_store(database, redis_url=redis,
                                           prefix=f"trovato-test-forms:{id(database)}:")
    try:
        yield opened
    finally:
        await opened.close()


def _states(clock: Clock | None = None, key: bytes = KEY) -> FormStates:
    """States whose store is never reached (the sealing tests make no store operation)."""
    return FormStates(None, key, clock=clock or Clock())  # type: ignore[arg-type]


def _reason(states: FormStates, build_id: object, form_id: str = "item_form",
            session: str = "session-a") -> str:
    with pytest.raises(FormStateError) as refused:
        states.load(build_id, form_id, session)
    return refused.value.reason


def _parts(build_id: str) -> tuple[str, list[object], str]:
    version, payload, mac = build_id.split(".")
    return version, orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))), mac


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_state_round_trips_through_its_build_id() -> None:
    states = _states()
    state = states.create("item_form", "session-a", {"counts": {"field_tags": 1}})
    build_id = states.seal(state)
    assert build_id.startswith("fs1.")
    loaded = states.load(build_id, "item_form", "session-a")
    assert (loaded.form_id, loaded.data) == ("item_form", {"counts": {"field_tags": 1}})
    # A rebuild changes the data; the next seal carries it, the old build id still its own.
    loaded.data["counts"] = {"field_tags": 2}
    rebuilt = states.seal(loaded)
    assert states.load(rebuilt, "item_form", "session-a").data == {"counts": {"field_tags": 2}}
    assert states.load(build_id, "item_form", "session-a").data == {"counts": {"field_tags": 1}}
    found = states.find(rebuilt, "session-a")
    assert found.form_id == "item_form"


def test_every_seal_is_a_new_build_id() -> None:
    states = _states()
    state = states.create("f", "s", {})
    assert len({states.seal(state) for _ in range(20)}) == 20


def test_a_forged_mac_is_tampered() -> None:
    states = _states()
    build_id = states.seal(states.create("item_form", "session-a", {}))
    *_, mac = _parts(build_id)
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    assert _reason(states, build_id[: -len(mac)] + flipped) == "tampered"
    # Sealed under another site's key.
    other = _states(key=derive_key(b"another secret", "form-state"))
    assert _reason(states, other.seal(other.create("item_form", "session-a", {}))) \
        == "tampered"


def test_an_edited_payload_is_tampered() -> None:
    states = _states()
    build_id = states.seal(states.create("item_form", "session-a", {"revision_id": "r1"}))
    version, decoded, mac = _parts(build_id)
    assert isinstance(decoded, list)
    decoded[1] = {"revision_id": "r2"}
    edited = f"{version}.{_b64(orjson.dumps(decoded))}.{mac}"
    assert _reason(states, edited) == "tampered"


def test_another_sessions_or_forms_state_is_tampered() -> None:
    states = _states()
    build_id = states.seal(states.create("item_form", "session-a", {}))
    assert _reason(states, build_id, session="session-b") == "tampered"
    assert _reason(states, build_id, form_id="item_delete_form") == "tampered"
    with pytest.raises(FormStateError, match="tampered"):
        states.find(build_id, "session-b")


@pytest.mark.parametrize("build_id", [
    None, 7, ["fs1.x.y"], "", "form-" + "x" * 32, "fs1..", "fs0.e30." + "A" * 43,
    "fs1.e30." + "A" * 42, "fs1.e30/." + "A" * 43, "fs1.e30." + "A" * 43 + "\n",
])
def test_malformed_build_ids_are_tampered(build_id: object) -> None:
    assert _reason(_states(), build_id) == "tampered"


def test_a_payload_of_another_shape_is_tampered_even_with_a_valid_mac() -> None:
    # Only this site seals, but a leaked key or a bug must not get past the parser either.
    states = _states()
    binding = states.create("f", "session-a", {}).binding
    for payload in (b"{}", b"[1,2,3,4]", b'["f",{},"1",""]', b'["f",{},1.5,""]', b"not json"):
        signed = f"fs1.{_b64(payload)}"
        assert _reason(states, f"{signed}.{states._mac(signed, binding)}", "f") == "tampered"


def test_a_state_older_than_its_life_is_expired() -> None:
    clock = Clock()
    states = _states(clock)
    build_id = states.seal(states.create("item_form", "session-a", {}))
    clock.now += STATE_TTL
    assert states.load(build_id, "item_form", "session-a").data == {}
    clock.now += 1
    assert _reason(states, build_id) == "expired"
    # An expired build id of another session is still refused as not this session's.
    assert _reason(states, build_id, session="session-b") == "tampered"


def test_an_oversized_state_is_a_clear_error_and_an_oversized_build_id_is_refused() -> None:
    states = _states()
    with pytest.raises(FormStateTooLarge, match="the form item_form seals to"):
        states.seal(states.create("item_form", "s", {"kept": "x" * MAX_BUILD_ID}))
    assert _reason(states, "fs1." + "A" * MAX_BUILD_ID + "." + "A" * 43) == "tampered"


async def test_a_build_id_is_used_once_with_one_store_operation(store: SharedStore) -> None:
    clock = Clock()
    states = FormStates(store.cache, KEY, clock=clock)
    created = states.create("item_form", "session-a", {})
    with pytest.raises(ValueError, match="submitted build id"):
        await states.use(created)
    build_id = states.seal(created)
    state = states.load(build_id, "item_form", "session-a")
    await states.use(state)
    with pytest.raises(FormStateError, match="expired"):  # replayed
        await states.use(states.load(build_id, "item_form", "session-a"))
    # The form shown again carries a new build id, usable once.
    again = states.load(states.seal(state), "item_form", "session-a")
    await states.use(again)
    # Of two concurrent submissions of one build id, one is handled.
    twice = states.seal(state)
    results = await asyncio.gather(
        *(states.use(states.load(twice, "item_form", "session-a")) for _ in range(2)),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["FormStateError", "NoneType"]


async def test_a_build_id_is_used_by_the_change_it_makes_and_given_back_when_refused(
        store: SharedStore) -> None:
    """``acting``: the change runs at most once per build id, even for concurrent
    submissions; a refused change (a ServiceError: nothing was done) gives the build id
    back; any other failure keeps it used (the change may have been made)."""
    states = FormStates(store.cache, KEY, clock=Clock())
    build_id = states.seal(states.create("item_form", "s", {}))

    def loaded() -> FormState:
        return states.load(build_id, "item_form", "s")

    with pytest.raises(ServiceError):
        async with states.acting(loaded()):
            raise ServiceError(422, "refused")
    changes: list[int] = []

    async def change(n: int) -> None:
        async with states.acting(loaded()):
            await asyncio.sleep(0.01)  # the other submission arrives meanwhile
            changes.append(n)

    results = await asyncio.gather(change(1), change(2), return_exceptions=True)
    assert len(changes) == 1
    assert sorted(type(r).__name__ for r in results) == ["FormStateError", "NoneType"]
    with pytest.raises(FormStateError, match="expired"):  # used by the change it made
        async with states.acting(loaded()):
            changes.append(3)
    other = states.seal(states.create("item_form", "s", {}))
    with pytest.raises(RuntimeError):
        async with states.acting(states.load(other, "item_form", "s")):
            raise RuntimeError("the database went away mid-change")
    with pytest.raises(FormStateError, match="expired"):
        await states.use(states.load(other, "item_form", "s"))
    assert len(changes) == 1


async def test_the_used_marker_lives_as_long_as_the_build_id(store: SharedStore) -> None:
    clock = Clock()
    states = FormStates(store.cache, KEY, clock=clock)
    state = states.load(states.seal(states.create("f", "s", {})), "f", "s")
    clock.now += STATE_TTL - 100
    await states.use(state)
    assert state.received is not None
    ttl = await _ttl(store, "form_used:" + state.received.nonce)
    assert 90 <= ttl <= 100


async def _ttl(store: SharedStore, key: str) -> float:
    """Seconds ``key`` has left in the store's cache."""
    if store.backend == "redis":
        client = store.cache.client  # type: ignore[attr-defined]
        return float(await client.pttl(store.cache.prefix + key)) / 1000  # type: ignore[attr-defined]
    left = await store.cache.database.fetchval(  # type: ignore[attr-defined]
        "SELECT extract(epoch FROM expires_at - now()) FROM cache WHERE key = %s", (key,))
    return float(left)
