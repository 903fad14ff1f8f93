"""Redis stopped under load, with Redis configured as the shared store.

A real ``trovato serve`` (two workers) uses a private ``redis-server`` the test stops and starts
again. While it is down, anonymous pages and API reads keep serving (they need only the
database and the in-process page cache); what needs the store (a logged-in session, logging in,
rate-limited writes) is refused with a 503 naming the store. When Redis is back everything works
again, the same session cookie included, without restarting the site.
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests.faults._parts import (
    Load,
    RedisServer,
    assert_clear_503,
    create_admin,
    prepare_site,
    scratch_dir,
    serve,
    site_env,
)

pytestmark = pytest.mark.slow

DOWN_SECONDS = 3.0
RECOVERY_BUDGET = 5.0
ANSWER_BUDGET = 5.0
ANONYMOUS = ("html", "api")
HEALTH_BUDGET = 2.0  # a 1 s probe timeout, plus scheduling on a loaded machine


def test_redis_stopped_under_load(db_url: str) -> None:
    directory = scratch_dir("trovato-faults-redis-")
    redis = RedisServer(directory)
    try:
        env = site_env(TROVATO_DATABASE_URL=db_url, TROVATO_REDIS_URL=redis.url)
        create_admin(env)
        with serve(env, directory / "site.log", "--workers", "2") as (base, _):
            site = prepare_site(base)
            # Logging in hashes a password (Argon2, tens of ms of CPU): kept rare in the mix.
            kinds = ("html", "api", "session", "create") * 2 + ("login",)
            with Load(site, kinds=kinds) as load:
                time.sleep(1.5)
                down = time.monotonic()
                redis.stop()
                time.sleep(DOWN_SECONDS / 2)
                health = httpx.get(base + "/health", timeout=5)
                time.sleep(DOWN_SECONDS / 2)
                up = time.monotonic()
                redis.start()
                time.sleep(RECOVERY_BUDGET + 1.0)

            assert health.status_code == 503
            assert health.json()["store"].startswith("error")
            assert health.json()["database"] == "ok"
            assert health.elapsed.total_seconds() < HEALTH_BUDGET

            outcomes = load.outcomes
            during = [o for o in outcomes if down + 0.2 <= o.started and o.finished <= up]
            for kind in kinds:
                assert any(o.kind == kind for o in during), f"no {kind} request during the outage"
            for outcome in outcomes:
                assert outcome.status != 0, outcome
                assert outcome.finished - outcome.started < ANSWER_BUDGET, outcome
                if not 200 <= outcome.status < 300:
                    assert outcome.kind not in ANONYMOUS, outcome
                    assert_clear_503(outcome, "store")
            # What needs the store was refused while it was down.
            assert all(o.status == 503 for o in during if o.kind not in ANONYMOUS)

            late = load.after(up + RECOVERY_BUDGET)
            assert {o.kind for o in late} == set(kinds)
            assert all(200 <= o.status < 300 for o in late), [
                o for o in late if not 200 <= o.status < 300][:3]
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)
