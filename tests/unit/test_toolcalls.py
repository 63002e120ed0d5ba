"""Tool-call identity: ordinals, ids, open/closed calls, whole calls."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from providers.events import ToolCallDelta, ToolCallEnd, ToolCallStart
from providers.toolcalls import ToolCalls, canonical_arguments, synthesize_id


def test_ordinals_count_from_zero_whatever_the_adapter_keys() -> None:
    calls = ToolCalls()
    # Anthropic block indexes: the first call is block 1 (block 0 was text).
    assert calls.start(1, "toolu_a", "f").index == 0
    assert calls.start(4, "toolu_b", "g").index == 1
    assert calls.start("item_xyz", "fc_c", "h").index == 2
    assert calls.count == 3
    assert [calls.index_of(k) for k in (1, 4, "item_xyz", 0)] == [0, 1, 2, None]
    assert 4 in calls and 0 not in calls


def test_start_keeps_a_given_id_and_copies_echo() -> None:
    echo = {"thought_signature": "sig"}
    start = ToolCalls().start(0, "call_given", "save_file", echo)
    echo["thought_signature"] = "changed"
    assert start == ToolCallStart(0, "call_given", "save_file", {"thought_signature": "sig"})


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_ids_are_synthesized(missing: str | None) -> None:
    calls = ToolCalls()
    ids = [calls.start(i, missing, "f").id for i in range(200)]
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", i) for i in ids)


def test_synthesize_id_is_unique_across_turns() -> None:
    assert len({synthesize_id() for _ in range(2000)}) == 2000


def test_delta_goes_to_the_ordinal_of_its_key() -> None:
    calls = ToolCalls()
    calls.start(3, "a", "f")
    calls.start(5, "b", "g")
    assert calls.delta(5, '{"x"') == ToolCallDelta(1, '{"x"')
    assert calls.delta(3, "{") == ToolCallDelta(0, "{")


def test_delta_for_unknown_closed_or_empty_is_ignored() -> None:
    calls = ToolCalls()
    calls.start("k", "a", "f")
    assert calls.delta("other", "{}") is None
    assert calls.delta("k", "") is None
    assert calls.end("k") == ToolCallEnd(0)
    assert calls.delta("k", "late") is None


def test_open_index_is_the_ordinal_of_an_open_call_only() -> None:
    calls = ToolCalls()
    calls.start(3, "a", "f")
    calls.start(5, "b", "g")
    assert [calls.open_index(k) for k in (3, 5, 4)] == [0, 1, None]
    calls.end(3)
    assert calls.open_index(3) is None and calls.index_of(3) == 0  # known, but closed
    calls.whole("c", "h", {})
    assert calls.open_index(("whole", 2)) is None  # a whole call is never open


def test_end_only_once_and_only_known_keys() -> None:
    calls = ToolCalls()
    calls.start("k", "a", "f")
    assert calls.end("nope") is None
    assert calls.end("k") == ToolCallEnd(0)
    assert calls.end("k") is None


def test_end_all_closes_the_open_calls_in_order() -> None:
    calls = ToolCalls()
    for key in ("c", "a", "b"):
        calls.start(key, None, "f")
    calls.end("a")
    assert calls.open_keys == ["c", "b"]
    assert calls.end_all() == [ToolCallEnd(0), ToolCallEnd(2)]
    assert calls.open_keys == [] and calls.end_all() == []


def test_whole_calls_sharing_a_name_are_never_merged() -> None:
    calls = ToolCalls()
    first = calls.whole(None, "read_file", {"path": "a"})
    second = calls.whole(None, "read_file", {"path": "b"})
    assert [type(e) for e in first] == [ToolCallStart, ToolCallDelta, ToolCallEnd]
    assert [e.index for e in first] == [0, 0, 0] and [e.index for e in second] == [1, 1, 1]
    assert first[1] == ToolCallDelta(0, '{"path":"a"}')
    assert second[1] == ToolCallDelta(1, '{"path":"b"}')
    assert isinstance(first[0], ToolCallStart) and isinstance(second[0], ToolCallStart)
    assert first[0].id != second[0].id
    assert calls.open_keys == []


def test_whole_calls_continue_the_numbering_of_streamed_ones() -> None:
    calls = ToolCalls()
    calls.start(0, "a", "f")
    [start, *_] = calls.whole("b", "g", {})
    assert start.index == 1 and start.id == "b"
    assert calls.open_keys == [0]  # the streamed call is still open


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (None, ["{}"]),
        ({}, ["{}"]),
        ('{"raw": true}', ['{"raw": true}']),  # text passes through untouched
        ("", []),  # nothing to send; the accumulator reads it as {}
    ],
)
def test_whole_call_arguments(arguments: Any, fragments: list[str]) -> None:
    events = ToolCalls().whole("id", "f", arguments)
    assert [e.arguments for e in events if isinstance(e, ToolCallDelta)] == fragments
    assert isinstance(events[-1], ToolCallEnd)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "{}"),
        ({}, "{}"),
        ({"path": "é/世.txt", "emoji": "🎉"}, '{"path":"é/世.txt","emoji":"🎉"}'),
        ({"b": 1, "a": [1, 2.5, None, True]}, '{"b":1,"a":[1,2.5,null,true]}'),
        ({"s": 'quote " and \\ and \n'}, '{"s":"quote \\" and \\\\ and \\n"}'),
    ],
)
def test_canonical_arguments(value: Any, text: str) -> None:
    assert canonical_arguments(value) == text
    assert json.loads(text) == ({} if value is None else value)
