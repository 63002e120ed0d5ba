"""``loads_event`` takes a fast path past ``json.loads``; it must accept and reject the same."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import StreamError
from providers.payloads import loads_event

PROFILE = settings(derandomize=True, database=None, deadline=None, max_examples=200)


def error(detail: str) -> StreamError:
    return StreamError(detail)


ACCEPTED = [
    '{"type":"ping"}',
    '{"type":"content_block_stop","index":0    }',  # Anthropic pads inside the object
    ' {"a": 1}',  # leading and trailing JSON whitespace is allowed
    '{"a": 1}\t\r\n ',
    "[1, 2]",
    '"text"',
    "3",
    "null",
    '{"é": "世🎉", "esc": "\\u00e9\\n"}',
]
REJECTED = [
    "",
    "   ",
    "[DONE]",
    '{"a": 1} x',  # extra data after the value
    '{"a": 1}{"b": 2}',
    '{"a": 1}\x0b',  # vertical tab is whitespace to Python, not to JSON
    '{"a": 1}\u00a0',
    '\ufeff{"a": 1}',  # a BOM is an error for json.loads too
    '{"a": 1',
    "NaNx",
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_accepts_what_json_loads_accepts(data: str) -> None:
    assert loads_event(data, error) == json.loads(data)


@pytest.mark.parametrize("data", REJECTED)
def test_rejects_what_json_loads_rejects(data: str) -> None:
    with pytest.raises(ValueError):
        json.loads(data)
    with pytest.raises(StreamError, match="malformed chunk"):
        loads_event(data, error)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
_PAD = st.text(st.sampled_from(" \t\r\n\x0b\x0c\xa0x}"), max_size=3)


@PROFILE
@given(value=_JSON, before=_PAD, after=_PAD)
def test_same_verdict_as_json_loads(value: object, before: str, after: str) -> None:
    data = before + json.dumps(value) + after
    try:
        expected = json.loads(data)
    except ValueError:
        with pytest.raises(StreamError):
            loads_event(data, error)
    else:
        assert loads_event(data, error) == expected
