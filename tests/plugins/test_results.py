"""A call's JSON both ways, and what an ``err`` result or a raised exception becomes."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pytest

from trovato.plugins.errors import (
    PluginError,
    PluginMemoryError,
    PluginRefused,
    PluginTimeout,
    PluginTrap,
)
from trovato.plugins.limits import Limits
from trovato.plugins.results import (
    MAX_ERROR_MESSAGE,
    MAX_ERROR_TRACEBACK,
    classify,
    decode,
    decode_error,
    encode,
)


@dataclass
class _Point:
    x: int


def test_payloads_are_written_as_compact_json_writes_them() -> None:
    payload = {"when": datetime.date(2026, 1, 2), "point": _Point(1), 3: "int key",
               "text": "a\n\"b\""}
    assert encode(payload) == json.dumps(payload, separators=(",", ":"), default=str)
    huge = {"n": 2**70}  # past orjson's 64 bits: written by json
    assert encode(huge) == '{"n":1180591620717411303424}'


def test_results_decode_what_json_accepts() -> None:
    assert decode('{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert decode(str(2**70)) == 2**70
    with pytest.raises(ValueError):
        decode("{not json")


def test_err_results_map_to_errors_cut_to_size() -> None:
    refused = decode_error("p", "tap", "plain words")
    assert type(refused) is PluginRefused and refused.message == "plain words"
    long = json.dumps({"kind": "exception", "message": "x" * 10_000,
                       "traceback": "t" * 40_000 + "END"})
    error = decode_error("p", "tap", long)
    assert type(error) is PluginError and error.reason == "exception"
    assert len(error.message) == MAX_ERROR_MESSAGE
    assert len(error.traceback) == MAX_ERROR_TRACEBACK and error.traceback.endswith("END")
    memory = decode_error("p", "tap", json.dumps({"kind": "exception",
                                                  "message": "MemoryError: too big"}))
    assert isinstance(memory, PluginMemoryError)
    deep = decode_error("p", "tap", json.dumps({"kind": "exception",
                                                "message": "RecursionError: deep"}))
    assert isinstance(deep, PluginTrap) and deep.reason == "stack"
    host = decode_error("p", "tap", json.dumps({"kind": "host", "message": "no such table"}))
    assert type(host) is PluginError and host.reason == "host"


def test_raised_exceptions_are_classified() -> None:
    limits = Limits()
    own = PluginTimeout("p", "tap", "slow", reason="timeout")
    assert classify("p", "tap", own, limits) is own
    failed = classify("p", "tap", KeyError("k"), limits)
    assert type(failed) is PluginError and failed.reason == "host_error"
    assert failed.message == "KeyError: 'k'"
