"""The fast path for hot SSE events (``providers.fastpath``) against the full parse.

Every property feeds the same bytes, cut the same way, to two parsers of one
adapter: one as built, and one whose fast path is switched off (every event
then goes through ``json.loads`` and the adapter's dictionary walk). The
events of every read, and the error that ended the stream, must be identical.
The strings are drawn to stress the decoder (escapes, surrogate escapes alone
and in pairs, quotes, backslashes, control characters, invalid escapes) and
the events' shapes to stress the recogniser (other key orders, extra keys,
whitespace, other event names, indexes that are not JSON). Separate tests pin
that the fast path is actually taken for the shapes it exists for, so the
equivalence is not vacuous.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers import fastpath
from providers.events import TextDelta
from providers.parser import StreamParser
from providers.sse import SSEDecoder
from tests.support.replay import random_pieces
from tests.support.sansio import Reads, drive, flat, numbered_ids, parser_for

PROFILE = settings(derandomize=True, database=None, deadline=None, max_examples=300)


def checked(parser: StreamParser) -> StreamParser:
    """``parser`` with its fast path required to stop only at event boundaries."""
    decoder = parser._sse  # type: ignore[attr-defined]
    hot = decoder._hot

    def at_boundaries(text: str, pos: int) -> int:
        end = hot(text, pos)
        assert end == pos or (end > pos and text[end - 2 : end] == "\n\n"), (pos, end)
        return end

    decoder._hot = at_boundaries
    return parser


def without_fast_path(parser: StreamParser) -> StreamParser:
    """``parser`` with its SSE decoder's fast path switched off (the reference)."""
    decoder = parser._sse  # type: ignore[attr-defined]
    assert isinstance(decoder, SSEDecoder)
    decoder._hot = None
    return parser


def both(kind: str, pieces: Sequence[bytes]) -> tuple[tuple[Reads, str | None], ...]:
    """What the parser with and without its fast path make of ``pieces``."""
    with numbered_ids():
        fast = drive(checked(parser_for(kind)), pieces)
    with numbered_ids():
        full = drive(without_fast_path(parser_for(kind)), pieces)
    return fast, full


# -- strings ----------------------------------------------------------------------------------

# Raw JSON string text: what may stand between the quotes (mostly valid).
_VALID = st.sampled_from(
    ["a", " ", "é", "世", "🎉", "}", "]", ",", ":", "{", "'", "\x7f", "\u2028"]
    + ['\\"', "\\\\", "\\/", "\\n", "\\t", "\\b", "\\f", "\\r"]
    + ["\\u00e9", "\\u0000", "\\ud83d", "\\ude00", "\\ud83d\\ude00", "\\uDBFF\\uDFFF"]
)
_INVALID = st.sampled_from(['"', "\\", "\\x", "\\u12", "\\U0041", "\x00", "\x01", "\x1f", "\t"])
_RAW = st.lists(st.one_of(*[_VALID] * 12, _INVALID), max_size=6).map("".join)
_DUMPED = st.builds(
    lambda text, ascii: json.dumps(text, ensure_ascii=ascii)[1:-1],
    st.text(st.characters(exclude_categories=[]), max_size=8),  # lone surrogates too
    st.booleans(),
)
LITERAL = st.one_of(_RAW, _DUMPED)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


# -- Anthropic ----------------------------------------------------------------------------------

# Shapes of a content_block_delta; {i} index, {t} delta type, {k} string key, {s} the string.
ANTHROPIC_DELTAS = [
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}"}}}}',
    '{{"type": "content_block_delta", "index": {i}, "delta": {{"type": "{t}", "{k}": "{s}"}}}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}"}}       }}',
    '{{ "type" :\t"content_block_delta" ,"index":{i},"delta":{{"type":"{t}","{k}":"{s}"}} }} ',
    '{{"index":{i},"type":"content_block_delta","delta":{{"type":"{t}","{k}":"{s}"}}}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"{k}":"{s}","type":"{t}"}}}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}","x":1}}}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}"}},"x":1}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}"}},'
    '"type":"ping"}}',
    '{{"type":"content_block_delta","index":{i},"delta":{{"type":"{t}","{k}":"{s}","{k}":7}}}}',
]
_ANTHROPIC_FIELDS = st.fixed_dictionaries(
    {
        "i": st.sampled_from(["0", "1", "2", "01", "-1", "1.0", "123456789012"]),
        "t": st.sampled_from(["text_delta", "input_json_delta", "thinking_delta"]),
        "s": LITERAL,
    }
).map(
    lambda f: {
        **f,
        "k": {"text_delta": "text", "input_json_delta": "partial_json"}.get(f["t"], "thinking"),
    }
)
_ANTHROPIC_FIELDS = st.one_of(
    _ANTHROPIC_FIELDS,  # type and key paired as the API pairs them, or not
    _ANTHROPIC_FIELDS.map(lambda f: {**f, "k": "text" if f["k"] != "text" else "partial_json"}),
)
_ANTHROPIC_DELTA = st.builds(
    lambda shape, fields, name: (name, ANTHROPIC_DELTAS[shape].format(**fields)),
    st.integers(0, len(ANTHROPIC_DELTAS) - 1),
    _ANTHROPIC_FIELDS,
    st.sampled_from(["content_block_delta", "content_block_delta", None, "error", "message"]),
)
_ANTHROPIC_OTHER = st.sampled_from(
    [
        ("content_block_stop", '{"type":"content_block_stop","index":0}'),
        (
            "content_block_start",
            '{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}',
        ),
        (
            "content_block_start",
            '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}',
        ),  # an index reused while its call is open
        ("ping", '{"type": "ping"}'),
        (
            "message_delta",
            '{"type":"message_delta","delta":{"stop_reason":"end_turn"},'
            '"usage":{"output_tokens":3}}',
        ),
    ]
)
ANTHROPIC_START = [
    ("message_start", '{"type":"message_start","message":{"usage":{"input_tokens":5}}}'),
    (
        "content_block_start",
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
    ),
    (
        "content_block_start",
        '{"type":"content_block_start","index":1,'
        '"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}',
    ),
]
ANTHROPIC_STOP = [("message_stop", '{"type":"message_stop"}')]


def sse_body(events: Sequence[tuple[str | None, str]], eol: str = "\n") -> bytes:
    """SSE text for ``(event name or None, data)`` pairs."""
    out = []
    for name, data in events:
        head = f"event: {name}{eol}" if name else ""
        out.append(f"{head}data: {data}{eol}{eol}")
    return _utf8("".join(out))


@PROFILE
@given(
    middle=st.lists(st.one_of(_ANTHROPIC_DELTA, _ANTHROPIC_DELTA, _ANTHROPIC_OTHER), max_size=12),
    stop=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_anthropic_fast_path_equals_the_full_parse(
    middle: list[tuple[str | None, str]], stop: bool, seed: int
) -> None:
    body = sse_body([*ANTHROPIC_START, *middle, *(ANTHROPIC_STOP if stop else [])])
    for pieces in ([body], random_pieces(body, seed), [body[i : i + 1] for i in range(len(body))]):
        fast, full = both("anthropic", pieces)
        assert fast == full


# -- OpenAI Chat Completions ------------------------------------------------------------------

_META = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1747148050,"model":"m",'
OPENAI_CHUNKS = [
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}]}}',
    '{{"choices": [{{"index": 0, "delta": {{"{k}": "{s}"}}}}]}}',
    "{{" + _META + '"choices":[{{"index":0,"delta":{{"{k}":"{s}"}},"logprobs":null,'
    '"finish_reason":null}}],"usage":null}}',
    "{{" + _META + '"system_fingerprint":"fp_1","choices":[{{"index":0,'
    '"delta":{{"content":null,"{k}":"{s}"}},"logprobs":null,"finish_reason":null}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"role":"assistant","{k}":"{s}","refusal":null}}}}],'
    '"obfuscation":"x1"}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}},"finish_reason":"stop"}}]}}',
    '{{"choices":[{{"index":1,"delta":{{"{k}":"{s}"}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}","{k}":null}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}","reasoning":"r"}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}],"usage":{{"prompt_tokens":1}}}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}],"error":{{"message":"boom"}}}}',
    '{{"error":"boom","choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}],"error":0}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}],"x_groq":{{"usage":'
    '{{"completion_tokens":2}}}}}}',
    '{{"choices":[{{"delta":{{"{k}":"{s}"}},"index":0}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}},{{"index":0,"delta":{{}}}}]}}',
    '{{"id":"a\\"b","choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}]}}',
    '{{"created":01,"choices":[{{"index":0,"delta":{{"{k}":"{s}"}}}}]}}',
]
OPENAI_CALLS = [
    '{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{i},'
    '"function":{{"arguments":"{s}"}}}}]}}}}]}}',
    '{{"choices": [{{"index": 0, "delta": {{"tool_calls": [{{"index": {i}, '
    '"function": {{"arguments": "{s}"}}}}]}}}}]}}',
    "{{" + _META + '"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{i},'
    '"function":{{"arguments":"{s}"}}}}]}},"logprobs":null,"finish_reason":null}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{i},"id":"call_9",'
    '"function":{{"arguments":"{s}"}}}}]}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{i},'
    '"function":{{"arguments":"{s}","name":"g"}}}}]}}}}]}}',
    '{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"function":{{"arguments":"{s}"}},'
    '"index":{i}}}]}}}}]}}',
]
_OPENAI_TEXT = st.builds(
    lambda shape, k, s: (None, OPENAI_CHUNKS[shape].format(k=k, s=s)),
    st.integers(0, len(OPENAI_CHUNKS) - 1),
    st.sampled_from(["content", "reasoning_content", "reasoning", "refusal"]),
    LITERAL,
)
_OPENAI_CALL = st.builds(
    lambda shape, i, s, name: (name, OPENAI_CALLS[shape].format(i=i, s=s)),
    st.integers(0, len(OPENAI_CALLS) - 1),
    st.sampled_from(["0", "1", "00", "-1", "1234567890123"]),
    LITERAL,
    st.sampled_from([None, None, "error"]),
)
OPENAI_START = [
    (
        None,
        '{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,'
        '"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}',
    )
]
_OPENAI_END = st.sampled_from(
    [
        [(None, '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'), (None, "[DONE]")],
        [(None, "[DONE]")],
        [(None, '{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}')],
        [],
    ]
)


@PROFILE
@given(
    middle=st.lists(st.one_of(_OPENAI_TEXT, _OPENAI_CALL), max_size=12),
    end=_OPENAI_END,
    seed=st.integers(0, 10_000),
)
def test_openai_fast_path_equals_the_full_parse(
    middle: list[tuple[str | None, str]], end: list[tuple[str | None, str]], seed: int
) -> None:
    body = sse_body([*OPENAI_START, *middle, *end])
    for pieces in ([body], random_pieces(body, seed), [body[i : i + 1] for i in range(len(body))]):
        fast, full = both("openai", pieces)
        assert fast == full


SHAPES = [
    *(("anthropic", ANTHROPIC_DELTAS, i) for i in range(len(ANTHROPIC_DELTAS))),
    *(("openai", OPENAI_CHUNKS, i) for i in range(len(OPENAI_CHUNKS))),
    *(("openai", OPENAI_CALLS, i) for i in range(len(OPENAI_CALLS))),
]
_FIELDS = {
    "anthropic": _ANTHROPIC_FIELDS,
    "openai": st.fixed_dictionaries(
        {
            "i": st.sampled_from(["0", "1", "00", "-1", "1234567890123"]),
            "k": st.sampled_from(["content", "reasoning_content", "reasoning", "refusal"]),
            "s": LITERAL,
        }
    ),
}


@pytest.mark.parametrize(("kind", "shapes", "shape"), SHAPES)
@settings(PROFILE, max_examples=60)
@given(data=st.data(), name=st.sampled_from([None, "content_block_delta", "error"]))
def test_each_shape_alone_and_repeated(
    kind: str, shapes: list[str], shape: int, data: st.DataObject, name: str | None
) -> None:
    """One event of each shape, alone and three times (the fast path's loop)."""
    fields = data.draw(_FIELDS[kind], label="fields")
    event = (name, shapes[shape].format(**fields))
    start, end = (ANTHROPIC_START, ANTHROPIC_STOP) if kind == "anthropic" else (OPENAI_START, [])
    for repeats in (1, 3):
        body = sse_body([*start, *[event] * repeats, *end, (None, "[DONE]")])
        for pieces in ([body], [body[i : i + 1] for i in range(len(body))]):
            fast, full = both(kind, pieces)
            assert fast == full


@PROFILE
@given(texts=st.lists(st.text(max_size=6), min_size=1, max_size=8), ascii=st.booleans())
def test_any_text_survives_the_fast_path(texts: list[str], ascii: bool) -> None:
    chunks = [
        (None, json.dumps({"choices": [{"index": 0, "delta": {"content": t}}]}, ensure_ascii=ascii))
        for t in texts
    ]
    body = sse_body([*chunks, (None, "[DONE]")])
    fast, full = both("openai", [body])
    assert fast == full and fast[1] is None
    deltas = [e for e in flat(fast[0]) if isinstance(e, TextDelta)]
    assert len(deltas) <= 1 and "".join(e.text for e in deltas) == "".join(texts)


# -- the fast path is taken where it should be ---------------------------------------------------


def dispatched(kind: str, body: bytes) -> list[str]:
    """The data of the events that went through the full parse (not the fast path)."""
    parser = parser_for(kind)
    decoder = parser._sse  # type: ignore[attr-defined]
    seen: list[str] = []
    full = decoder._dispatch

    def spy(event: str, data: str) -> bool | None:
        seen.append(data)
        return full(event, data)

    decoder._dispatch = spy
    drive(parser, [body])
    return seen


TEXT = 'a \\"quoted\\" é 🎉 \\ud83d\\ude00 \\n'
HOT_CASES = {
    "anthropic compact": (
        "anthropic",
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"%s"}}',
    ),
    "anthropic padded (as recorded)": (
        "anthropic",
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"%s"}'
        "               }",
    ),
    "anthropic json.dumps": (
        "anthropic",
        '{"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", '
        '"partial_json": "%s"}}',
    ),
    "openai json.dumps": ("openai", '{"choices": [{"index": 0, "delta": {"content": "%s"}}]}'),
    "openai as recorded": (
        "openai",
        '{"id":"chatcmpl-B","object":"chat.completion.chunk","created":1747148050,'
        '"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_0",'
        '"choices":[{"index":0,"delta":{"content":"%s"},"logprobs":null,"finish_reason":null}],'
        '"usage":null}',
    ),
    "deepseek reasoning as recorded": (
        "openai",
        '{"id":"33be","object":"chat.completion.chunk","created":1752169304,"model":"r",'
        '"system_fingerprint":"fp_3","choices":[{"index":0,"delta":{"content":null,'
        '"reasoning_content":"%s"},"logprobs":null,"finish_reason":null}],"usage":null}',
    ),
    "openai argument fragment": (
        "openai",
        '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":'
        '{"arguments":"%s"}}]}}]}',
    ),
}


@pytest.mark.parametrize("case", sorted(HOT_CASES))
def test_the_hot_shapes_take_the_fast_path(case: str) -> None:
    kind, shape = HOT_CASES[case]
    start, end = (ANTHROPIC_START, ANTHROPIC_STOP) if kind == "anthropic" else (OPENAI_START, [])
    name = "content_block_delta" if kind == "anthropic" else None
    hot = [(name, shape % TEXT)] * 20
    body = sse_body([*start, *hot, *end])
    seen = dispatched(kind, body)
    assert len(seen) == len(start) + len(end)  # none of the 20 went through json.loads
    fast, full = both(kind, [body])
    assert fast == full


_DELTA = '"delta":{"type":"text_delta","text":"x"'


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("anthropic", '{"index":0,"type":"content_block_delta",' + _DELTA + "}}"),
        ("anthropic", '{"type":"content_block_delta","index":0,' + _DELTA + ',"y":1}}'),
        ("openai", '{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"total_tokens":1}}'),
        ("openai", '{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}'),
    ],
)
def test_other_shapes_take_the_full_parse(kind: str, data: str) -> None:
    start = ANTHROPIC_START if kind == "anthropic" else OPENAI_START
    body = sse_body([*start, ("content_block_delta" if kind == "anthropic" else None, data)])
    assert dispatched(kind, body)[-1] == data


def _anthropic_delta(index: int, kind: str, key: str, text: str = "x") -> tuple[str, str]:
    delta = {"type": kind, key: text}
    data = {"type": "content_block_delta", "index": index, "delta": delta}
    return "content_block_delta", json.dumps(data)


ARGUMENTS = _anthropic_delta(1, "input_json_delta", "partial_json", '{"a": ')
EDGES = {
    "an argument fragment for a block reused as text": [
        ARGUMENTS,
        ("content_block_start", '{"type":"content_block_start","index":1,'
         '"content_block":{"type":"text","text":""}}'),
        ARGUMENTS,
    ],
    "an argument fragment after its block stopped": [
        ARGUMENTS,
        ("content_block_stop", '{"type":"content_block_stop","index":1}'),
        ARGUMENTS,
    ],
    "text for a tool block, arguments for a text block": [
        _anthropic_delta(1, "text_delta", "text"),
        _anthropic_delta(0, "input_json_delta", "partial_json"),
    ],
    "a block never started": [_anthropic_delta(7, "text_delta", "text")],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDGES))
def test_anthropic_block_state_is_respected(case: str) -> None:
    body = sse_body([*ANTHROPIC_START, *EDGES[case], *ANTHROPIC_STOP])
    for pieces in ([body], [body[i : i + 1] for i in range(len(body))]):
        fast, full = both("anthropic", pieces)
        assert fast == full
    assert len(dispatched("anthropic", body)) < len(ANTHROPIC_START) + len(EDGES[case]) + 1


# -- long runs: the strings of many alike events taken at once ------------------------------------

RUN_SHAPES = {
    "openai compact": (None, '{{"choices":[{{"index":0,"delta":{{"content":"{s}"}}}}]}}'),
    "openai json.dumps": (None, '{{"choices": [{{"index": 0, "delta": {{"content": "{s}"}}}}]}}'),
    "anthropic, no event line": (
        None,
        '{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{s}"}}}}',
    ),
    "anthropic padded": (
        "content_block_delta",
        '{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{s}"}} }}',
    ),
}
_BOUNDARY = st.sampled_from(["\\ud83d", "\\ude00", "\\u0000", "\\\\", "\\", '"', "\x00", "é"])
_RUN_STRING = st.one_of(LITERAL, LITERAL, _BOUNDARY)


@pytest.mark.parametrize("shape", sorted(RUN_SHAPES))
@settings(PROFILE, max_examples=150)
@given(strings=st.lists(_RUN_STRING, min_size=1, max_size=120), seed=st.integers(0, 10_000))
def test_long_runs_of_alike_events(shape: str, strings: list[str], seed: int) -> None:
    name, template = RUN_SHAPES[shape]
    kind = "openai" if shape.startswith("openai") else "anthropic"
    start, end = (
        (OPENAI_START, [(None, "[DONE]")])
        if kind == "openai"
        else (ANTHROPIC_START, ANTHROPIC_STOP)
    )
    body = sse_body([*start, *[(name, template.format(s=s)) for s in strings], *end])
    for pieces in ([body], random_pieces(body, seed), random_pieces(body, seed + 1, 3)):
        fast, full = both(kind, pieces)
        assert fast == full


def test_a_long_run_is_taken_in_bulk_and_exactly() -> None:
    texts = ["a", "\\ud83d", "\\ude00", "\\u00e9", '\\"', "\\\\", "世", "🎉"] * 40
    chunk = '{{"choices": [{{"index": 0, "delta": {{"content": "{s}"}}}}]}}'
    body = sse_body([*OPENAI_START, *[(None, chunk.format(s=t)) for t in texts], (None, "[DONE]")])
    taken: list[int] = []
    real = fastpath.bulk

    def spy(text: str, content: int, sep: str, append: Callable[[str], None]) -> int:
        end = real(text, content, sep, append)
        taken.append(end - content)
        return end

    with mock.patch.object(fastpath, "bulk", spy):
        fast, full = both("openai", [body])
    assert fast == full and sum(taken) > len(body) // 2  # most of it in bulk
    got = [e for e in flat(fast[0]) if isinstance(e, TextDelta)]
    # Each string decoded alone: a surrogate pair split across two events stays two halves.
    assert got == [TextDelta("".join(json.loads(f'"{t}"') for t in texts))]


def test_bulk_takes_the_strings_followed_by_the_separator() -> None:
    text = '"abc"SEPx\\"y"SEPq"SEPr"TAIL'
    got: list[str] = []
    assert fastpath.bulk(text, 1, "SEP", got.append) == text.index("r")
    assert got == ['abcx"yq']


@pytest.mark.parametrize(
    ("odd", "taken"),
    [("bad\\x", ""), ('a"b', "abc"), ("a\x01b", "abc"), ("a\x00b", ""), ("\\u0000", "")],
)
def test_bulk_stops_before_an_odd_string(odd: str, taken: str) -> None:
    text = f'"abc"SEP{odd}"SEPq"SEPr"TAIL'
    got: list[str] = []
    end = fastpath.bulk(text, 1, "SEP", got.append)
    assert got == ([taken] if taken else []) and end == 1 + (len("abc") + 4 if taken else 0)
