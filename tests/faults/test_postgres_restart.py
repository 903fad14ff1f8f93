"""PostgreSQL restarted under load, the embedded server and an external one.

A real ``trovato serve`` (two workers) runs on a private server the test owns; clients read item
pages (HTML), read items through the API and create items while the server is stopped and
started again. Requests in flight must fail fast with a clear 503 in their route's format, the
site must serve again within 5 s of the database's return without a restart, and every create
that was acknowledged with a 2xx must be in the database afterwards.
"""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from tests.faults._parts import (
    Load,
    assert_clear_503,
    create_admin,
    prepare_site,
    private_postgres,
    serve,
    site_env,
    wait_healthy,
)

pytestmark = pytest.mark.slow

DOWN_SECONDS = 3.0
RECOVERY_BUDGET = 5.0
POOL_TIMEOUT = 2.0
# A refused request may wait for the pool's timeout, plus scheduling on a loaded machine.
ANSWER_BUDGET = POOL_TIMEOUT + 4.0
HEALTH_BUDGET = 2.0  # a 1 s probe timeout, plus scheduling on a loaded machine


@pytest.mark.parametrize("kind", ["embedded", "external"])
def test_restart_under_load_fails_fast_recovers_and_loses_no_write(kind: str) -> None:
    with private_postgres(kind) as (server, env, scratch):
        env = {**env, **site_env(TROVATO_DB_POOL_TIMEOUT=str(POOL_TIMEOUT))}
        with serve(env, scratch / "site.log", "--workers", "2") as (base, _):
            create_admin(env)
            site = prepare_site(base)
            with Load(site) as load:
                time.sleep(1.5)
                down = time.monotonic()
                server.stop()
                time.sleep(DOWN_SECONDS / 2)
                health = httpx.get(base + "/health", timeout=5)
                time.sleep(DOWN_SECONDS / 2)
                server.start()
                up = time.monotonic()
                recovered_in = wait_healthy(base, RECOVERY_BUDGET + 5)
                time.sleep(RECOVERY_BUDGET + 1.0)

            # /health names the failed part while it is down, within its probe's second.
            assert health.status_code == 503
            assert health.json()["database"].startswith("error")
            assert health.elapsed.total_seconds() < HEALTH_BUDGET

            outcomes = load.outcomes
            assert len(outcomes) > 50, "the load hardly ran"
            during = [o for o in outcomes if o.started >= down]
            refused = [o for o in during if not 200 <= o.status < 300]
            assert refused, "nothing was refused while the database was down"
            for outcome in outcomes:
                # Never a crash, never a hang: a 2xx, or a clear 503, within the budget.
                assert outcome.status != 0, outcome
                if not 200 <= outcome.status < 300:
                    assert_clear_503(outcome, "database")
                assert outcome.finished - outcome.started < ANSWER_BUDGET, outcome

            # Recovered on its own: everything asked 5 s after the return succeeded.
            late = load.after(up + RECOVERY_BUDGET)
            assert late and all(200 <= o.status < 300 for o in late), [
                o for o in late if not 200 <= o.status < 300][:3]
            assert recovered_in < RECOVERY_BUDGET

            # No acknowledged write is lost.
            acknowledged = {o.created for o in outcomes if o.created}
            assert acknowledged
            with psycopg.connect(server.url) as conn:
                stored = {str(row[0]) for row in conn.execute(
                    "SELECT id FROM item WHERE id = ANY(%s::uuid[])", (list(acknowledged),))}
            assert acknowledged <= stored
