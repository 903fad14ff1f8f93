"""Preview links: signed tokens naming a link row and its expiry; forged, tampered, expired,
revoked and closed-stage tokens are refused, each saying why."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid

import pytest

from trovato.cli.stage import OPERATOR
from trovato.db.pool import Database
from trovato.kernel.keys import derive_key
from trovato.stages import StageError, Stages
from trovato.stages.preview import MAX_SECONDS, PreviewLinks
from trovato.stages.service import DIRECTORY_SECONDS
from trovato.store import open_store

KEY = derive_key(b"a site secret", "preview-link")


async def _stage(db: Database, stage: str = "spring", status: str = "open") -> None:
    await db.execute(
        "INSERT INTO stage (id, label, status) VALUES (%s, %s, %s)", (stage, stage.title(), status)
    )


async def _refused(links: PreviewLinks, token: str) -> str:
    with pytest.raises(StageError) as caught:
        await links.check(token)
    assert caught.value.status == 403
    return caught.value.message


def _flip(token: str, index: int) -> str:
    """The token with one bit of its decoded bytes changed."""
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def test_a_link_reads_its_stage(database: Database) -> None:
    await _stage(database)
    links = PreviewLinks(database, KEY, Stages(database))
    link, token = await links.create("spring", None)
    assert await links.check(token) == "spring"
    assert link.stage == "spring" and link.active
    assert 7 * 86400 - 5 <= (link.expires - link.created).total_seconds() <= 7 * 86400 + 5
    assert [found.id for found in await links.list("spring")] == [link.id]


async def test_tampered_and_forged_tokens_are_refused_before_the_database(
    database: Database,
) -> None:
    await _stage(database)
    links = PreviewLinks(database, KEY, Stages(database))
    _, token = await links.create("spring", None)
    for index in (0, 15, 16, 23, 24, 55):  # the id, the expiry, the signature
        assert "not valid" in await _refused(links, _flip(token, index))
    for bad in ("", "x", token[:-1], token + "A", token + "!", "é" * 75, "=" * 200):
        assert "not valid" in await _refused(links, bad)
    # Signed with another site's key: refused too.
    other = PreviewLinks(database, derive_key(b"another secret", "preview-link"),
                         Stages(database))
    assert "not valid" in await _refused(other, token)
    # The same secret under another purpose signs nothing valid here.
    assert derive_key(b"a site secret", "cron") != KEY


async def test_expired_revoked_and_closed(database: Database) -> None:
    await _stage(database)
    links = PreviewLinks(database, KEY, Stages(database))
    link, token = await links.create("spring", None, expires_in=60)
    # A link whose time is up: its row says so and so does its (genuine) token.
    past = int(time.time()) - 1
    await database.execute(
        "UPDATE stage_preview_link SET expires = to_timestamp(%s) WHERE id = %s", (past, link.id)
    )
    assert "expired" in await _refused(links, links.sign(link.id, past))
    # A genuine signature over an expiry the row does not have is no link.
    assert "no longer exists" in await _refused(links, token)

    link, token = await links.create("spring", None)
    revoked = await links.revoke("spring", link.id)
    assert revoked.revoked is not None and not revoked.active
    assert "revoked" in await _refused(links, token)
    assert (await links.revoke("spring", link.id)).revoked == revoked.revoked  # idempotent

    link, token = await links.create("spring", None)
    await database.execute("UPDATE stage SET status = 'archived' WHERE id = 'spring'")
    assert "archived" in await _refused(links, token)
    await database.execute("DELETE FROM stage WHERE id = 'spring'")
    assert "no longer exists" in await _refused(links, token)


async def test_creating_checks_the_stage_and_the_lifetime(database: Database) -> None:
    await _stage(database)
    await _stage(database, "old", status="published")
    links = PreviewLinks(database, KEY, Stages(database))
    for seconds in (0, 59, MAX_SECONDS + 1, -5):
        with pytest.raises(StageError) as caught:
            await links.create("spring", None, expires_in=seconds)
        assert caught.value.status == 422 and "expires_in" in caught.value.message
    for stage, status in (("live", 422), ("old", 409), ("nowhere", 409)):
        with pytest.raises(StageError) as caught:
            await links.create(stage, None)
        assert caught.value.status == status, stage
    link, _ = await links.create("spring", None, expires_in=MAX_SECONDS)
    assert (link.expires - link.created).total_seconds() <= MAX_SECONDS + 5
    assert await database.fetchval("SELECT count(*) FROM stage_preview_link") == 1


async def test_revoking_names_the_stage(database: Database) -> None:
    await _stage(database)
    await _stage(database, "autumn")
    links = PreviewLinks(database, KEY, Stages(database))
    link, token = await links.create("spring", None)
    for stage, link_id in (("autumn", link.id), ("spring", uuid.uuid4())):
        with pytest.raises(StageError) as caught:
            await links.revoke(stage, link_id)
        assert caught.value.status == 404
    assert await links.check(token) == "spring"  # still valid: nothing was revoked


async def _refused_soon(links: PreviewLinks, token: str, within: float) -> str:
    """The refusal of ``token`` once ``links`` hears of the change that causes it, which must
    take less than ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            await links.check(token)
        except StageError as exc:
            return exc.message
        assert time.monotonic() < deadline, "the change was not heard in time"
        await asyncio.sleep(0.02)


async def test_a_revocation_reaches_every_process_at_once(database: Database) -> None:
    """Two processes (each its stages service and shared store): one remembers a link it
    found valid, and stops honouring it as soon as the other revokes it, or archives its
    stage — well before the remembered copy would expire by itself."""
    await _stage(database)
    processes = []
    for _ in range(2):
        store = await open_store(database, redis_url=None)
        stages = Stages(database)
        await stages.start(store.pubsub.subscribe, store.pubsub.publish)
        processes.append((store, stages, PreviewLinks(database, KEY, stages)))
    try:
        (_, _, here), (_, there_stages, there) = processes
        link, token = await here.create("spring", None)
        assert await there.check(token) == "spring"
        # Remembered: a change made behind the services' back is not read again …
        await database.execute("UPDATE stage_preview_link SET revoked = now() WHERE id = %s",
                               (link.id,))
        assert await there.check(token) == "spring"
        await database.execute("UPDATE stage_preview_link SET revoked = NULL WHERE id = %s",
                               (link.id,))
        # … but a revocation through the service is heard by the other process at once.
        await here.revoke("spring", link.id)
        assert "revoked" in await _refused_soon(there, token, DIRECTORY_SECONDS / 2)

        link, token = await here.create("spring", None)
        assert await there.check(token) == "spring"
        await processes[0][1].archive(OPERATOR, "spring")
        assert "archived" in await _refused_soon(there, token, DIRECTORY_SECONDS / 2)
        # The other process's stage directory has it too.
        assert (await there_stages.reach(OPERATOR, "spring"))[0].status == "archived"
    finally:
        for store, _, _ in processes:
            await store.close()
