"""Which failures are an outage (503 naming the part, with Retry-After) and which stay crashes.

The fault suite (``tests/faults/``) proves the same end to end against servers it breaks; these
pin the classification itself.
"""

from __future__ import annotations

import orjson
import psycopg
import pytest
from psycopg import errors
from psycopg_pool import PoolTimeout

from trovato.kernel.errors import unavailable_response


@pytest.mark.parametrize("exc", [
    psycopg.OperationalError("server closed the connection unexpectedly"),
    PoolTimeout("couldn't get a connection after 3.00 sec"),
    errors.AdminShutdown("terminating connection due to administrator command"),
    errors.CannotConnectNow("the database system is starting up"),
    errors.ConnectionFailure("connection failure"),
])
def test_database_outages_are_503_naming_the_database(exc: Exception) -> None:
    response = unavailable_response({"type": "http", "path": "/api/v1/items"}, exc)
    assert response is not None
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    body = orjson.loads(response.body)
    assert body["status"] == 503 and "database" in body["detail"]


@pytest.mark.parametrize("exc", [
    errors.QueryCanceled("canceling statement due to statement timeout"),
    errors.LockNotAvailable("could not obtain lock"),
    errors.UniqueViolation("duplicate key"),
    RuntimeError("a bug"),
])
def test_other_failures_are_not_outages(exc: Exception) -> None:
    assert unavailable_response({"type": "http", "path": "/item/x"}, exc) is None


def test_html_routes_get_a_page() -> None:
    response = unavailable_response({"type": "http", "path": "/item/x"},
                                    psycopg.OperationalError("no connection"))
    assert response is not None and response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
