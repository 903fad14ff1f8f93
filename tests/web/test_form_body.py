"""The URL-encoded form body reader gives exactly what Starlette's ``Request.form()`` gives."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from trovato.web.form_body import _browser_pairs, parse_urlencoded, read_form


def _request(body: bytes, content_type: str) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
             "headers": [(b"content-type", content_type.encode())], "app": object()}
    return Request(scope, receive)  # type: ignore[arg-type]


def _starlette(body: bytes) -> FormData:
    async def run() -> FormData:
        return await _request(body, "application/x-www-form-urlencoded").form()
    return asyncio.run(run())


BODIES = [b"", b"a", b"a=", b"=b", b"&&", b"a=1&&b=2&", b"a=b=c", b"a=%zz&b=%", b"+a+=+b+",
          b"a=%C3%A9&%C3%A9=%E9", "é=ü".encode(), b"a=1;b=2", b"fields%5Bx%5D%5B0%5D=v%26w",
          b"a&b=&=&c=3", b"%00=%00", b"a=%2B%20+", b"a\\x41=\\u00e9", b"a=%E2%82x%A9",
          b"%26=%3D&%3D%26=a=b=c", b"a=%u0041", b"a=%4"]


@pytest.mark.parametrize("body", BODIES)
def test_known_bodies_read_as_starlette_reads_them(body: bytes) -> None:
    assert parse_urlencoded(body).multi_items() == _starlette(body).multi_items()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"=", b"&", b"%", b"+", b"2", b"F", b"%C3",
                                 b"%A9", b"\xc3", b"\xa9", b";", b" ", b"%26", b"%3D", b"%2",
                                 b"%e9", b"%zz", b"%2B", b"\x00", b"%F0%9F%98%80", b"%80",
                                 b"\\", b"\\x41", b"%5C", b"u", b"%u0041", b"\\ue000",
                                 b"%0A", b"%3d", b"%E2%82", b"%ff"]),
                max_size=30))
def test_any_body_reads_as_starlette_reads_it(parts: list[bytes]) -> None:
    body = b"".join(parts)
    assert parse_urlencoded(body).multi_items() == _starlette(body).multi_items()


def test_too_many_or_too_long_fields_are_refused_as_by_starlette() -> None:
    for body in (b"&".join([b"a=1"] * 1001), b"a=" + b"x" * (1024 * 1024 + 1)):
        with pytest.raises(HTTPException) as ours:
            parse_urlencoded(body)
        with pytest.raises(HTTPException) as theirs:
            _starlette(body)
        assert (ours.value.status_code, ours.value.detail) == (
            theirs.value.status_code, theirs.value.detail)
    assert len(parse_urlencoded(b"&".join([b"a=1"] * 1000)).multi_items()) == 1000
    assert parse_urlencoded(b"a=" + b"x" * (1024 * 1024 - 1))["a"] == "x" * (1024 * 1024 - 1)


def test_other_bodies_go_to_starlette() -> None:
    async def run() -> None:
        body = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n"
        form = await read_form(_request(body, "multipart/form-data; boundary=b"))
        assert form["a"] == "1"
        form = await read_form(_request(b"a=%C3%A9", "application/x-www-form-urlencoded"))
        assert form["a"] == "é"
        assert (await read_form(_request(b"a=1", "text/plain"))).multi_items() == []
    asyncio.run(run())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"=", b"&", b"+", b"%C3", b"%A9", b"%26", b"%3D", b"%3d",
                                 b"%2B", b"%00", b"%0A", b"%5C", b"%E2%82", b"%F0%9F%98%80",
                                 b"%80", b"%ff", b"u", b"x41", b"e000", b";", b"~"]),
                max_size=30))
def test_what_a_browser_sends_is_decoded_in_c_as_starlette_reads_it(parts: list[bytes]) -> None:
    """ASCII with every "%" starting an escape and no backslash: the codec's path."""
    body = b"".join(parts)
    assert _browser_pairs(body.decode()) is not None
    assert parse_urlencoded(body).multi_items() == _starlette(body).multi_items()
