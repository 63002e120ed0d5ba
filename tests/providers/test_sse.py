"""The bytes-level SSE decoder and the NDJSON line splitter.

Table tests pin each WHATWG rule (https://html.spec.whatwg.org/multipage/server-sent-events.html,
"Interpreting an event stream"); property tests check that decoding never
depends on where the network happened to cut the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.sse import LineSplitter, SSEDecoder, SSEEvent

PROFILE = settings(derandomize=True, database=None, deadline=None, max_examples=150)


_SIMPLE = re.compile(r"data: ([a-z]*)\n\n")


def _taking(decoder: SSEDecoder) -> Callable[[str, int], int]:
    """A fast path that takes plain ``data: word`` events (and dispatches them itself)."""

    def hot(text: str, pos: int) -> int:
        while match := _SIMPLE.match(text, pos):
            decoder._dispatch("message", match.group(1))
            pos = match.end()
        return pos

    return hot


def decoders() -> list[SSEDecoder]:
    """A plain decoder, one whose fast path declines everything, one whose takes some."""
    taking = SSEDecoder()
    taking._hot = _taking(taking)
    return [SSEDecoder(), SSEDecoder(hot=lambda text, pos: pos), taking]


def decode_whole(body: bytes) -> list[SSEEvent]:
    """Decode ``body`` fed as one chunk, then flushed (the same with every fast path)."""
    results = [decoder.feed(body) + decoder.flush() for decoder in decoders()]
    assert results[1] == results[0] and results[2] == results[0]
    return results[0]


def decode_pieces(pieces: Sequence[bytes]) -> list[SSEEvent]:
    """Decode ``pieces`` fed one by one, then flushed (the same with every fast path)."""
    results = []
    for decoder in decoders():
        out: list[SSEEvent] = []
        for piece in pieces:
            out.extend(decoder.feed(piece))
        results.append(out + decoder.flush())
    assert results[1] == results[0] and results[2] == results[0]
    return results[0]


def cut(body: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``body`` split at the given offsets (duplicates give empty pieces)."""
    bounds = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def ev(data: str, event: str = "message", id: str | None = None) -> SSEEvent:  # noqa: A002
    return SSEEvent(event, data, id)


# -- the WHATWG rules, one row each -----------------------------------------------------------

RULES: list[tuple[str, bytes, list[SSEEvent]]] = [
    ("lf", b"data: a\n\ndata: b\n\n", [ev("a"), ev("b")]),
    ("crlf", b"data: a\r\n\r\ndata: b\r\n\r\n", [ev("a"), ev("b")]),
    ("cr", b"data: a\r\rdata: b\r\r", [ev("a"), ev("b")]),
    ("mixed endings", b"data: a\r\n\ndata: b\r\rdata: c\n\r\n", [ev("a"), ev("b"), ev("c")]),
    ("multi-line data joined with LF", b"data: a\ndata: b\r\ndata: c\r\r", [ev("a\nb\nc")]),
    ("comment ignored", b": keep-alive\ndata: a\n: OPENROUTER PROCESSING\n\n", [ev("a")]),
    ("comment-only block dispatches nothing", b": ping\n\n: ping\n\n", []),
    ("event name", b"event: delta\ndata: {}\n\n", [ev("{}", "delta")]),
    (
        "event name resets after dispatch",
        b"event: x\ndata: 1\n\ndata: 2\n\n",
        [ev("1", "x"), ev("2")],
    ),
    ("empty event name means message", b"event:\ndata: 1\n\n", [ev("1")]),
    (
        "id kept for later events",
        b"id: 7\ndata: a\n\ndata: b\n\n",
        [ev("a", id="7"), ev("b", id="7")],
    ),
    ("id reset to empty", b"id: 7\ndata: a\n\nid\ndata: b\n\n", [ev("a", id="7"), ev("b", id="")]),
    ("id with NUL ignored", b"id: 1\n\nid: a\x00b\ndata: x\n\n", [ev("x", id="1")]),
    ("field with no colon: data", b"data\n\n", [ev("")]),
    ("field with no colon: two data lines", b"data\ndata\n\n", [ev("\n")]),
    ("exactly one leading space removed", b"data:  two\n\n", [ev(" two")]),
    ("no space after colon", b"data:x\n\n", [ev("x")]),
    ("colon inside the value kept", b"data: a: b\n\n", [ev("a: b")]),
    ("trailing spaces kept", b"data: a  \n\n", [ev("a  ")]),
    ("unknown fields ignored", b"retry: 10\nfoo: bar\nDATA: no\ndata: a\n\n", [ev("a")]),
    ("empty data line gives an empty event", b"data:\n\n", [ev("")]),
    ("no data, not dispatched", b"event: x\nid: 3\n\ndata: a\n\n", [ev("a", id="3")]),
    ("BOM at start stripped", b"\xef\xbb\xbfdata: a\n\n", [ev("a")]),
    ("BOM only at the start", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [ev("a")]),
    ("leading space makes field ' data'", b" data: x\n\ndata: y\n\n", [ev("y")]),
    ("leading space, first line of event", b" data: x\ndata: y\n\n", [ev("y")]),
    ("unterminated last event dispatched at flush", b"data: a\n\ndata: b", [ev("a"), ev("b")]),
    ("last event without blank line", b"data: a\n\ndata: b\n", [ev("a"), ev("b")]),
    ("unicode", "data: héllo 世界 🎉\n\n".encode(), [ev("héllo 世界 🎉")]),
    ("invalid utf-8 replaced, not raised", b"data: \xff\n\n", [ev("\ufffd")]),
    ("done sentinel is just data", b"data: [DONE]\n\n", [ev("[DONE]")]),
    ("empty body", b"", []),
]


@pytest.mark.parametrize(("body", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_whatwg_rules(body: bytes, expected: list[SSEEvent]) -> None:
    assert decode_whole(body) == expected


@pytest.mark.parametrize(("body", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_every_rule_holds_when_fed_one_byte_at_a_time(
    body: bytes, expected: list[SSEEvent]
) -> None:
    assert decode_pieces([body[i : i + 1] for i in range(len(body))]) == expected


def test_events_are_returned_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [ev("a")]
    assert decoder.feed(b"data: b") == []
    assert decoder.flush() == [ev("b")]


def test_cr_then_lf_in_the_next_chunk_is_one_line_end() -> None:
    # Were the LF counted as a second line end, "a" would be dispatched alone.
    assert decode_pieces([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [ev("a\nb")]


def test_cr_then_lf_after_an_empty_chunk_is_still_one_line_end() -> None:
    assert decode_pieces([b"data: a\r", b"", b"\ndata: b\r\n\r\n"]) == [ev("a\nb")]


def test_cr_at_chunk_end_then_cr_is_a_blank_line() -> None:
    assert decode_pieces([b"data: a\r", b"\rdata: b\r\r"]) == [ev("a"), ev("b")]


def test_lf_after_a_crlf_chunk_boundary_is_a_blank_line() -> None:
    # CRLF complete in the first chunk, so the LF in the second is an empty line.
    assert decode_pieces([b"data: a\r\n", b"\ndata: b\n\n"]) == [ev("a"), ev("b")]


@pytest.mark.parametrize("split", range(1, len("data: é世🎉\n\n".encode())))
def test_multibyte_characters_split_at_every_byte(split: int) -> None:
    body = "data: é世🎉\n\n".encode()
    assert decode_pieces([body[:split], body[split:]]) == [ev("é世🎉")]


@pytest.mark.parametrize("split", range(1, 4))
def test_bom_split_across_chunks_is_still_stripped(split: int) -> None:
    body = b"\xef\xbb\xbfdata: a\n\n"
    assert decode_pieces([body[:split], body[split:]]) == [ev("a")]


def test_pieces_decode_and_the_tail_is_flushed() -> None:
    pieces = [b"event: a\nda", b"ta: 1\r", b"\n\r\ndata: ", "é".encode()[:1], "é".encode()[1:]]
    events = decode_pieces(pieces)
    assert events == [ev("1", "a"), ev("é")]


# -- property: where the body is cut never matters ------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12)
_NAME = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=6)
_ID = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), max_size=4),
)
_BLOCK = st.fixed_dictionaries(
    {
        "name": st.one_of(st.none(), _NAME),
        "id": _ID,
        "data": st.lists(_TEXT, max_size=4),  # empty: a block with no data, not dispatched
        "comments": st.lists(st.tuples(st.integers(0, 4), _TEXT), max_size=2),
        "eol": st.sampled_from(["\n", "\r\n", "\r"]),
    }
)


def serialize(blocks: list[dict]) -> tuple[bytes, list[SSEEvent]]:
    """The wire bytes for ``blocks`` and the events a correct decoder yields."""
    out: list[str] = []
    expected: list[SSEEvent] = []
    last_id: str | None = None
    for block in blocks:
        lines = [f"data: {d}" for d in block["data"]]
        if block["name"] is not None:
            lines.insert(0, f"event: {block['name']}")
        if block["id"] is not None:
            lines.insert(0, f"id: {block['id']}")
            last_id = block["id"]
        for pos, text in block["comments"]:
            lines.insert(min(pos, len(lines)), f":{text}")
        eol = block["eol"]
        out.append("".join(line + eol for line in lines) + eol)
        if block["data"]:
            expected.append(SSEEvent(block["name"] or "message", "\n".join(block["data"]), last_id))
    return "".join(out).encode("utf-8"), expected


@PROFILE
@given(blocks=st.lists(_BLOCK, max_size=6), data=st.data())
def test_any_split_decodes_like_the_whole_body(blocks: list[dict], data: st.DataObject) -> None:
    body, expected = serialize(blocks)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=8), label="cuts")
    assert decode_whole(body) == expected
    assert decode_pieces(cut(body, cuts)) == expected


@PROFILE
@given(blocks=st.lists(_BLOCK, min_size=1, max_size=4))
def test_byte_at_a_time_decodes_like_the_whole_body(blocks: list[dict]) -> None:
    body, expected = serialize(blocks)
    assert decode_pieces([body[i : i + 1] for i in range(len(body))]) == expected


def reference_decode(body: bytes) -> list[SSEEvent]:
    """The spec read literally: split the whole body, decode and interpret line by line."""
    events: list[SSEEvent] = []
    state: dict[str, Any] = {"event": "", "data": None, "id": None}

    def dispatch() -> None:
        if state["data"] is not None:
            events.append(SSEEvent(state["event"] or "message", state["data"], state["id"]))
        state["event"], state["data"] = "", None

    lines = re.split(rb"\r\n|\r|\n", body.removeprefix(b"\xef\xbb\xbf"))
    tail = lines.pop()  # unterminated: interpreted at the end of the body (module note)
    for raw in [*lines, tail] if tail else lines:
        line = raw.decode("utf-8", errors="replace")
        if not line:
            dispatch()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if line.startswith(":"):
            continue
        if name == "data":
            state["data"] = value if state["data"] is None else state["data"] + "\n" + value
        elif name == "event":
            state["event"] = value
        elif name == "id" and "\x00" not in value:
            state["id"] = value
    dispatch()
    return events


# Tokens that stress every branch: field names with and without the space,
# all three line endings, BOMs, invalid and multi-byte UTF-8, and characters
# str.splitlines() would (wrongly) treat as line ends.
_TOKENS = st.sampled_from(
    [b"data", b"event", b"id", b"retry", b":", b": ", b" ", b"x", b"\r", b"\n", b"\r\n"]
    + [b"\xef\xbb\xbf", b"\xff", b"\xe2\x82", "é世🎉".encode(), b"\x00", b"\x0b\x0c\x1c\x85"]
    + ["\u2028\u2029".encode()]
)


@PROFILE
@given(tokens=st.lists(_TOKENS, max_size=40), data=st.data())
def test_any_bytes_any_split_decode_like_the_reference(
    tokens: list[bytes], data: st.DataObject
) -> None:
    body = b"".join(tokens)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=8), label="cuts")
    expected = reference_decode(body)
    assert decode_whole(body) == expected
    assert decode_pieces(cut(body, cuts)) == expected
    assert decode_pieces([body[i : i + 1] for i in range(len(body))]) == expected


def test_only_cr_and_lf_end_lines() -> None:
    # str.splitlines() would also split on these; the SSE grammar does not.
    body = "data: a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g\n\n".encode()
    assert decode_whole(body) == [ev("a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g")]


def test_invalid_utf8_before_a_line_end_is_replaced_like_a_lone_line() -> None:
    assert decode_pieces([b"data: \xe2\x82\ndata: \xe2", b"\x82\xac\n\n"]) == [ev("\ufffd\n€")]


# -- NDJSON lines ---------------------------------------------------------------------------


def lines_of(pieces: Sequence[bytes]) -> list[str]:
    splitter = LineSplitter()
    out = [line for piece in pieces for line in splitter.feed(piece)]
    return out + splitter.flush()


NDJSON = '{"a": "é世"}\n{"b": 2}\r\n\n  \n{"c": 3}'.encode()


@pytest.mark.parametrize("split", range(len(NDJSON) + 1))
def test_ndjson_split_anywhere(split: int) -> None:
    assert lines_of([NDJSON[:split], NDJSON[split:]]) == [
        '{"a": "é世"}',
        '{"b": 2}',
        '{"c": 3}',
    ]


def test_ndjson_one_byte_at_a_time() -> None:
    pieces = [NDJSON[i : i + 1] for i in range(len(NDJSON))]
    assert lines_of(pieces) == ['{"a": "é世"}', '{"b": 2}', '{"c": 3}']


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"x":1}', ['{"x":1}']),  # no trailing newline
        (b'{"x":1}\n', ['{"x":1}']),
        (b'{"x":1}\r\n{"y":2}\r\n', ['{"x":1}', '{"y":2}']),  # CRLF: no stray CR
        (b"\n\n\r\n", []),
        (b"", []),
    ],
)
def test_ndjson_edges(body: bytes, expected: list[str]) -> None:
    assert lines_of([body]) == expected


@PROFILE
@given(
    lines=st.lists(
        st.text(
            st.characters(exclude_categories=["Cs", "Zs", "Cc", "Zl", "Zp"]),
            min_size=1,
            max_size=10,
        ),
        max_size=5,
    ),
    data=st.data(),
)
def test_ndjson_any_split(lines: list[str], data: st.DataObject) -> None:
    body = "\n".join(lines).encode()
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=6))
    assert lines_of(cut(body, cuts)) == lines


def test_a_held_event_longer_than_the_limit_is_interpreted_as_it_comes() -> None:
    decoder = SSEDecoder(hot=lambda text, pos: pos)
    lines = b"".join(b"data: %d\n" % i for i in range(20_000))  # no blank line yet
    assert decoder.feed(lines) == [] and len(decoder._held) == 0  # over MAX_HELD: not kept
    assert decoder.feed(b"\n") == [ev("\n".join(str(i) for i in range(20_000)))]


def test_feed_never_returns_the_decoders_own_list() -> None:
    decoder = SSEDecoder()
    nothing = decoder.feed(b"data: a\n")
    decoder.feed(b"\n")
    assert nothing == []
