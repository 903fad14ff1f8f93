"""The in-flight request count that background work consults."""

from __future__ import annotations

import httpx
import pytest

from trovato.observability import load


def test_busy_means_another_request_is_in_flight() -> None:
    before = load.in_flight()
    load.request_started()
    try:
        assert load.in_flight() == before + 1
        assert load.busy() is (before + 1 > 1)
        load.request_started()
        assert load.busy()
        load.request_finished()
    finally:
        load.request_finished()
    assert load.in_flight() == before


async def test_the_pipeline_counts_every_request_in_and_out(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[int] = []
    finished = load.request_finished

    def record() -> None:
        counted.append(load.in_flight())
        finished()

    monkeypatch.setattr(load, "request_finished", record)
    baseline = load.in_flight()
    # A page, a problem+json 404, an HTML 404 and a refused oversized body all count once.
    for response in (await client.get("/user/login"), await client.get("/api/v1/nothing"),
                     await client.get("/no/such/page"),
                     await client.post("/api/v1/items", content=b"x" * 30_000_000)):
        assert response.status_code in (200, 404, 413), response.status_code
    assert counted == [baseline + 1] * 4
    assert load.in_flight() == baseline
