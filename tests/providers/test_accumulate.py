"""Folding a stream of events into the finished assistant message."""

from __future__ import annotations

from typing import Any

import pytest

from providers import accumulate
from providers.accumulate import INCOMPLETE_CALL, Accumulator, parse_arguments
from providers.conversation import ReasoningPart, TextPart, ToolCall
from providers.events import (
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningSignature,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)


def fold(*events: StreamEvent, provider: str = "fake") -> Accumulator:
    acc = Accumulator(provider)
    for event in events:
        acc.add(event)
    return acc


def call(index: int, raw: str, *, name: str = "save_file", end: bool = True) -> list[StreamEvent]:
    """Start, the raw text in 3-character fragments, and (optionally) the end."""
    events: list[StreamEvent] = [ToolCallStart(index, f"call_{index}", name)]
    events += [ToolCallDelta(index, raw[i : i + 3]) for i in range(0, len(raw), 3)]
    return events + [ToolCallEnd(index)] if end else events


# -- parts and their order ----------------------------------------------------------------


def test_parts_keep_stream_order_and_merge_adjacent_pieces() -> None:
    message = fold(
        ReasoningDelta("think"),
        ReasoningDelta(" more"),
        TextDelta("Let me "),
        TextDelta("save it."),
        *call(0, '{"path": "a.txt"}'),
        TextDelta("Done"),
        TextDelta("."),
    ).message()
    assert message.parts == (
        ReasoningPart("think more"),
        TextPart("Let me save it."),
        ToolCall("call_0", "save_file", {"path": "a.txt"}, raw_arguments='{"path": "a.txt"}'),
        TextPart("Done."),
    )
    assert message.text == "Let me save it.Done."
    assert message.provider == "fake"


def test_text_during_an_open_call_starts_a_new_text_part() -> None:
    message = fold(
        TextDelta("a"), *call(0, "{}", end=False), TextDelta("b"), ToolCallEnd(0)
    ).message()
    assert [type(p) for p in message.parts] == [TextPart, ToolCall, TextPart]
    assert message.tool_calls[0].error is None


def test_signature_closes_the_open_reasoning_part() -> None:
    message = fold(
        ReasoningDelta("a"), ReasoningSignature({"signature": "s1"}), ReasoningDelta("b")
    ).message()
    assert message.parts == (ReasoningPart("a", {"signature": "s1"}), ReasoningPart("b"))


ALONE = ReasoningPart("", {"redacted": "xyz"})


@pytest.mark.parametrize(
    ("before", "parts"),
    [
        ([], (ALONE,)),
        ([TextDelta("x")], (TextPart("x"), ALONE)),
        (
            [ReasoningDelta("r"), ReasoningSignature({"signature": "s0"})],  # already closed
            (ReasoningPart("r", {"signature": "s0"}), ALONE),
        ),
        (
            [ReasoningSignature({"signature": "s0"})],
            (ReasoningPart("", {"signature": "s0"}), ALONE),
        ),
    ],
    ids=["at the start", "after text", "after a closed reasoning part", "after another signature"],
)
def test_signature_with_nothing_open_stands_alone(
    before: list[StreamEvent], parts: tuple[ReasoningPart | TextPart, ...]
) -> None:
    assert fold(*before, ReasoningSignature({"redacted": "xyz"})).message().parts == parts


def test_signature_data_is_copied() -> None:
    data = {"signature": "s1"}
    acc = fold(ReasoningDelta("a"), ReasoningSignature(data))
    data["signature"] = "changed"
    assert acc.message().parts[0] == ReasoningPart("a", {"signature": "s1"})


# -- tool-call arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "arguments"),
    [
        ("", {}),
        ("   \n\t", {}),
        ("null", {}),
        (" null ", {}),
        ("{}", {}),
        ('{"path": "a.txt", "n": 2}', {"path": "a.txt", "n": 2}),
        (' {"nested": {"list": [1, "é"]}} \n', {"nested": {"list": [1, "é"]}}),
    ],
)
def test_valid_arguments(raw: str, arguments: dict[str, Any]) -> None:
    [tool_call] = fold(*call(0, raw), Finish("stop")).message().tool_calls
    assert tool_call.arguments == arguments
    assert tool_call.error is None
    assert tool_call.raw_arguments == raw


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (
            '{"path": "a.txt"',
            "arguments are not valid JSON (Expecting ',' delimiter at character 16)",
        ),
        ('{"a" 1}', "arguments are not valid JSON (Expecting ':' delimiter at character 5)"),
        ('{"a": 1} {"b": 2}', "arguments are not valid JSON (Extra data at character 9)"),
        ("[1, 2]", "arguments must be a JSON object, not list"),
        ('"a.txt"', "arguments must be a JSON object, not str"),
        ("3", "arguments must be a JSON object, not int"),
        ("true", "arguments must be a JSON object, not bool"),
        ('{"n": NaN}', "arguments are not valid JSON (NaN is not JSON)"),
    ],
)
def test_invalid_arguments_are_marked_not_raised(raw: str, error: str) -> None:
    [tool_call] = fold(*call(0, raw), Finish("stop")).message().tool_calls
    assert tool_call.error == error
    assert tool_call.arguments == {}
    assert tool_call.raw_arguments == raw


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",  # RecursionError inside json
        '{"n": ' + "7" * 5000 + "}",  # ValueError: beyond the int digit limit
    ],
    ids=["deep nesting", "huge integer"],
)
def test_hostile_arguments_never_raise(raw: str) -> None:
    arguments, error = parse_arguments(raw)
    assert (
        arguments == {} and error is not None and error.startswith("arguments are not valid JSON")
    )


def test_arguments_are_parsed_once_when_the_call_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = accumulate.parse_arguments

    def counting(raw: str) -> tuple[dict[str, Any], str | None]:
        seen.append(raw)
        return real(raw)

    monkeypatch.setattr(accumulate, "parse_arguments", counting)
    acc = fold(*call(0, '{"a": 1}', end=False))
    assert seen == []  # nothing parsed while streaming (a checkpoint does not count)
    acc.add(ToolCallEnd(0))
    assert seen == ['{"a": 1}']
    for _ in range(3):
        acc.message()
    acc.add(ToolCallEnd(0))
    assert seen == ['{"a": 1}']


def test_fragments_after_the_end_or_for_unknown_calls_are_ignored() -> None:
    acc = fold(*call(0, '{"a": 1}'), ToolCallDelta(0, "garbage"), ToolCallDelta(7, "{}"))
    [tool_call] = acc.message().tool_calls
    assert tool_call.arguments == {"a": 1} and tool_call.error is None
    assert acc.raw_arguments(0) == '{"a": 1}' and acc.raw_arguments(7) == ""


def test_call_without_end_is_marked_incomplete() -> None:
    acc = fold(TextDelta("saving"), *call(0, '{"path": "no', end=False))
    [tool_call] = acc.message().tool_calls
    assert tool_call.error == INCOMPLETE_CALL
    assert tool_call.arguments == {}
    assert tool_call.raw_arguments == '{"path": "no'
    assert acc.message().finish_reason is None


def test_two_calls_keep_their_own_arguments_and_echo() -> None:
    message = fold(
        ToolCallStart(0, "a", "f", {"thought_signature": "sig"}),
        ToolCallStart(1, "b", "f"),
        ToolCallDelta(1, '{"x": 2}'),
        ToolCallDelta(0, '{"x": 1}'),
        ToolCallEnd(1),
        ToolCallEnd(0),
    ).message()
    assert [(c.id, c.arguments, dict(c.echo)) for c in message.tool_calls] == [
        ("a", {"x": 1}, {"thought_signature": "sig"}),
        ("b", {"x": 2}, {}),
    ]


# -- usage and finish ---------------------------------------------------------------------


def test_last_usage_wins() -> None:
    last = Usage(input_tokens=10, output_tokens=7, reasoning_tokens=2, cached_tokens=4)
    acc = fold(Usage(input_tokens=10, output_tokens=1), TextDelta("x"), last)
    assert acc.usage == last and acc.message().usage == last


@pytest.mark.parametrize(
    ("with_call", "reason", "expected"),
    [
        (True, "stop", "tool_calls"),  # Gemini and Ollama say stop after calling tools
        (True, "tool_calls", "tool_calls"),
        (True, "length", "length"),  # cut short: the calls may be truncated, say so
        (True, "content_filter", "content_filter"),
        (False, "stop", "stop"),
        (False, "length", "length"),
    ],
)
def test_finish_reason(with_call: bool, reason: FinishReason, expected: FinishReason) -> None:
    events = [TextDelta("x"), *(call(0, "{}") if with_call else []), Finish(reason, raw="RAW")]
    acc = fold(*events)
    assert acc.message().finish_reason == expected
    assert acc.called_tools is with_call
    assert acc.finish == Finish(reason, raw="RAW")


# -- checkpoints --------------------------------------------------------------------------


def test_message_is_a_checkpoint_that_consumes_nothing() -> None:
    acc = fold(ReasoningDelta("r"), TextDelta("Hel"), *call(0, '{"a":', end=False))
    first = acc.message()
    assert acc.message() == first  # calling again changes nothing
    acc.add(TextDelta("ignored? no: a new part"))
    acc.add(ToolCallDelta(0, " 1}"))
    acc.add(ToolCallEnd(0))
    acc.add(Finish("stop"))
    final = acc.message()
    assert first.parts[1] == TextPart("Hel") and first.tool_calls[0].error == INCOMPLETE_CALL
    assert first.finish_reason is None  # the earlier snapshot is untouched
    assert final.tool_calls[0].arguments == {"a": 1} and final.tool_calls[0].error is None
    assert final.parts[-1] == TextPart("ignored? no: a new part")
    assert final.finish_reason == "tool_calls"


def test_empty_stream_gives_an_empty_unfinished_message() -> None:
    message = Accumulator("fake").message()
    assert message.parts == () and message.finish_reason is None and message.usage is None
