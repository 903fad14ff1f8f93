"""Two kernel processes on two ports share one database and one shared store.

No session affinity: a login through one works on the other, and a permission change made
through one is enforced by the other on the very next request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests._servers import serve

PASSWORD = "correct horse battery staple"
AUTHENTICATED = "00000000-0000-7000-8000-000000000002"
ANONYMOUS = "00000000-0000-7000-8000-000000000001"

pytestmark = pytest.mark.slow


def _env(db_url: str, backend: str) -> dict[str, str]:
    env = {"TROVATO_DATABASE_URL": db_url, "TROVATO_REDIS_URL": ""}
    if backend == "redis":
        env["TROVATO_REDIS_URL"] = os.environ["TROVATO_TEST_REDIS_URL"]
        env["TROVATO_REDIS_PREFIX"] = f"trovato-test:mp:{os.getpid()}:{time.time_ns()}:"
    return env


def _create_user(env: dict[str, str], name: str, *admin: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "trovato", "user", "create", "--name", name,
         "--mail", f"{name}@example.com", "--password-stdin", *admin],
        input=PASSWORD + "\n", capture_output=True, text=True, env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip().rsplit("(", 1)[1].rstrip(").")


def test_session_and_permissions_are_shared(db_url: str, store_backend: str) -> None:
    env = _env(db_url, store_backend)
    _create_user(env, "root", "--admin")
    alice_id = _create_user(env, "alice")
    with serve(env) as a, serve(env) as b:
        admin = httpx.Client(base_url=a)
        login = admin.post("/api/v1/session", json={"name": "root", "pass": PASSWORD})
        assert login.status_code == 200
        admin_csrf = login.json()["csrf_token"]

        # The session made through A is honoured by B.
        cookie = admin.cookies["trovato_session"]
        on_b = httpx.get(b + "/api/v1/users/me", cookies={"trovato_session": cookie})
        assert on_b.json()["name"] == "root"

        alice = httpx.Client(base_url=b)
        alice_csrf = alice.post(
            "/api/v1/session", json={"name": "alice", "pass": PASSWORD}
        ).json()["csrf_token"]
        ok = alice.post("/api/v1/tokens", json={"label": "before"},
                        headers={"X-CSRF-Token": alice_csrf})
        assert ok.status_code == 201

        # Revoke through A; B enforces it on the next request.
        revoke = admin.put(f"/api/v1/roles/{AUTHENTICATED}/permissions",
                           json={"permissions": ["access content"]},
                           headers={"X-CSRF-Token": admin_csrf})
        assert revoke.status_code == 200
        refused = alice.post("/api/v1/tokens", json={"label": "after"},
                             headers={"X-CSRF-Token": alice_csrf})
        assert refused.status_code == 403

        # Anonymous permissions travel by pub/sub: B sees the grant within moments.
        assert httpx.get(f"{b}/user/{alice_id}").status_code == 403
        grant = admin.put(f"/api/v1/roles/{ANONYMOUS}/permissions",
                          json={"permissions": ["access content", "access user profiles"]},
                          headers={"X-CSRF-Token": admin_csrf})
        assert grant.status_code == 200
        deadline = time.monotonic() + 2.0
        while httpx.get(f"{b}/user/{alice_id}").status_code != 200:
            assert time.monotonic() < deadline, "B never saw the anonymous grant"
            time.sleep(0.01)

        # Logging out through B ends the session on A too.
        assert admin.get("/api/v1/users/me").json()["authenticated"]
        out = httpx.delete(b + "/api/v1/session", cookies={"trovato_session": cookie},
                           headers={"X-CSRF-Token": admin_csrf})
        assert out.status_code == 204
        assert admin.get("/api/v1/users/me").json()["authenticated"] is False
