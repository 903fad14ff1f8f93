"""Server-side form state in the real shared store (PostgreSQL and Redis): a build id works for
its own form and session only; unknown, malformed and foreign ones are refused."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from trovato.db.pool import Database
from trovato.forms.state import FormStateError, FormStates
from trovato.store import SharedStore, open_store


@pytest.fixture
async def states(database: Database, store_backend: str) -> AsyncIterator[FormStates]:
    redis = os.environ.get("TROVATO_TEST_REDIS_URL") if store_backend == "redis" else None
    store: SharedStore = await open_store(database, redis_url=redis,
                                          prefix=f"trovato-test-forms:{id(database)}:")
    try:
        yield FormStates(store.cache)
    finally:
        await store.close()


async def test_a_state_round_trips_and_is_rebuilt(states: FormStates) -> None:
    state = await states.create("item_form", "session-a", {"counts": {"field_tags": 1}})
    loaded = await states.load(state.build_id, "item_form", "session-a")
    assert loaded.data == {"counts": {"field_tags": 1}}
    loaded.data["counts"] = {"field_tags": 2}
    await states.save(loaded, "session-a")
    assert (await states.load(state.build_id, "item_form", "session-a")).data == {
        "counts": {"field_tags": 2}}
    await states.drop(loaded)
    with pytest.raises(FormStateError) as dropped:
        await states.load(state.build_id, "item_form", "session-a")
    assert dropped.value.reason == "expired"


@pytest.mark.parametrize(("build_id", "form_id", "session", "reason"), [
    (None, "other_form", "session-a", "tampered"),  # a build id of another form
    (None, "item_form", "session-b", "tampered"),  # another session's
    ("form-" + "x" * 32, "item_form", "session-a", "expired"),  # unknown
    ("form-../../etc", "item_form", "session-a", "tampered"),  # malformed
    (["form-list"], "item_form", "session-a", "tampered"),
])
async def test_foreign_unknown_and_malformed_build_ids_are_refused(
    states: FormStates, build_id: object, form_id: str, session: str, reason: str,
) -> None:
    state = await states.create("item_form", "session-a", {})
    if build_id is None:
        if form_id == "item_form" and session == "session-a":
            pytest.fail("the parameters describe the state's own form and session")
        build_id = state.build_id
    with pytest.raises(FormStateError) as refused:
        await states.load(build_id, form_id, session)
    assert refused.value.reason == reason
    with pytest.raises(FormStateError) as refused:
        await states.take(build_id, form_id, session)
    assert refused.value.reason == reason
    # A refused take leaves the state to its own form and session.
    assert (await states.load(state.build_id, "item_form", "session-a")).data == {}


async def test_a_taken_state_is_used_once_until_saved_again(states: FormStates) -> None:
    state = await states.create("item_form", "session-a", {"revision_id": "r1"})
    taken = await states.take(state.build_id, "item_form", "session-a")
    assert (taken.data, taken.taken) == ({"revision_id": "r1"}, True)
    with pytest.raises(FormStateError) as used:
        await states.take(state.build_id, "item_form", "session-a")
    assert used.value.reason == "expired"
    # The form shown again (a refused save) stores it for the next submission.
    await states.save(taken, "session-a")
    again = await states.take(state.build_id, "item_form", "session-a")
    assert again.data == {"revision_id": "r1"}
    # Of two concurrent submissions of one build id, one gets the state.
    await states.save(again, "session-a")
    results = await asyncio.gather(
        *(states.take(state.build_id, "item_form", "session-a") for _ in range(2)),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["FormState", "FormStateError"]


async def test_build_ids_are_random_and_states_expire(states: FormStates) -> None:
    ids = {(await states.create("f", "s", {})).build_id for _ in range(20)}
    assert len(ids) == 20
    short = FormStates(states.cache, ttl=0.05)
    state = await short.create("f", "s", {})
    await asyncio.sleep(0.3)
    with pytest.raises(FormStateError, match="expired"):
        await short.load(state.build_id, "f", "s")


async def test_find_names_the_form_of_a_state_of_this_session_only(states: FormStates) -> None:
    state = await states.create("item_form", "session-a", {"item_id": "x"})
    found = await states.find(state.build_id, "session-a")
    assert (found.form_id, found.data) == ("item_form", {"item_id": "x"})
    for build_id, session, reason in ((state.build_id, "session-b", "tampered"),
                                      ("form-" + "B" * 32, "session-a", "expired"),
                                      ("../form", "session-a", "tampered"),
                                      (None, "session-a", "tampered")):
        with pytest.raises(FormStateError) as refused:
            await states.find(build_id, session)
        assert refused.value.reason == reason
