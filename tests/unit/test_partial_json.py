"""Tests for the incremental partial-JSON repairer (`tui.core.partial_json`).

Oracles are independent of the implementation: `json.loads` for complete texts and validity,
`partial_json_parser` for prefixes where its documented semantics match ours, and hand-written
tables. Property tests run with a derandomized hypothesis profile so CI is deterministic.
"""

from __future__ import annotations

import doctest
import json
import math
import re
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from partial_json_parser import loads as pjp_loads

import tui.core.partial_json
from tui.core.partial_json import MAX_DEPTH, PartialJSON, PartialJSONError

DETERMINISTIC = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- helpers ---------------------------------------------------------------------------------


def is_prefix_value(snapshot: Any, final: Any, top: bool = True) -> bool:
    """Whether `snapshot` could be shown on the way to `final`.

    Strings must be prefixes; containers hold a prefix of the final items (or keys, in order),
    all equal to the final ones except the last, which is itself a prefix value. At the top
    level None means "nothing shown yet".
    """
    if top and snapshot is None:
        return True
    if type(snapshot) is not type(final):
        return False
    if isinstance(snapshot, str):
        return final.startswith(snapshot)
    if isinstance(snapshot, dict):
        keys, final_keys = list(snapshot), list(final)
        if keys != final_keys[: len(keys)]:
            return False
        pairs = [(snapshot[k], final[k]) for k in keys]
    elif isinstance(snapshot, list):
        if len(snapshot) > len(final):
            return False
        pairs = list(zip(snapshot, final, strict=False))
    else:
        return bool(snapshot == final)
    *done, last = pairs or [(None, None)]
    return all(a == b for a, b in done) and (not pairs or is_prefix_value(*last, top=False))


def string_values(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], str]:
    """Every string value (not key) inside `value`, by path."""
    if isinstance(value, str):
        return {path: value}
    if not isinstance(value, (dict, list)):
        return {}
    items = value.items() if isinstance(value, dict) else enumerate(value)
    found: dict[tuple[Any, ...], str] = {}
    for key, item in items:
        found |= string_values(item, (*path, key))
    return found


def split(text: str, cuts: list[int]) -> list[str]:
    """Cut text at the given offsets (any order, duplicates allowed)."""
    points = [0, *sorted(set(cuts)), len(text)]
    return [text[a:b] for a, b in zip(points, points[1:], strict=False)]


def feed_all(fragments: list[str]) -> tuple[PartialJSON, list[tuple[Any, str]]]:
    """Feed every fragment, returning the parser and all growth events."""
    parser = PartialJSON()
    events = [event for fragment in fragments for event in parser.feed(fragment)]
    return parser, events


def error_pos(fragments: list[str]) -> int | None:
    """Where feeding the fragments and finishing fails, or None if it succeeds.

    Also checks that the call that raised is the one that read the offending character
    (`finish` reads the end of input, one past the last character).
    """
    parser, end = PartialJSON(), 0
    try:
        for fragment in fragments:
            start, end = end, end + len(fragment)
            parser.feed(fragment)
        start, end = end, end + 1
        parser.finish()
    except PartialJSONError as exc:
        assert start <= exc.pos < end, (fragments, exc.pos, start, end)
        return exc.pos
    return None


def prefix_value(text: str) -> Any:
    """The snapshot after feeding `text` in one piece."""
    parser = PartialJSON()
    parser.feed(text)
    return parser.value


def test_is_prefix_value_rejects_what_it_should() -> None:
    assert is_prefix_value({"a": "x"}, {"a": "xy", "b": 1})
    assert is_prefix_value([1, [2]], [1, [2, 3]])
    assert not is_prefix_value({"a": "xz"}, {"a": "xy"})
    assert not is_prefix_value({"b": 1}, {"a": 1, "b": 1})
    assert not is_prefix_value(["x", "y"], ["xy", "y"])  # only the last item may be partial
    assert not is_prefix_value([1, 2, 3], [1, 2])
    assert not is_prefix_value(1, True)
    assert not is_prefix_value({"a": None}, {"a": 1})


# -- the examples of the API ---------------------------------------------------------------


def test_api_example() -> None:
    parser = PartialJSON()
    assert parser.feed('{"path": "app.py", "con') == [(("path",), "app.py")]
    assert parser.value == {"path": "app.py"}
    assert parser.feed('tent": "import os\\nprint(') == [(("content",), "import os\nprint(")]
    assert parser.value == {"path": "app.py", "content": "import os\nprint("}
    assert parser.feed(')"}') == [(("content",), ")")]
    assert parser.finish() == {"path": "app.py", "content": "import os\nprint()"}


def test_module_docstring_example() -> None:
    result = doctest.testmod(tui.core.partial_json)
    assert result.attempted and not result.failed


PREFIXES = [
    ("", None),
    ("  \n", None),
    ("{", {}),
    ('{"a', {}),
    ('{"a"', {}),
    ('{"a": ', {}),
    ('{"a": "', {"a": ""}),
    ('{"a": [', {"a": []}),
    ('{"a": {', {"a": {}}),
    ('{"a": {"b": [1, {"c": "d', {"a": {"b": [1, {"c": "d"}]}}),
    ('{"a": 1', {}),
    ('{"a": 1 ', {"a": 1}),
    ('{"a": 1,', {"a": 1}),
    ('{"a": 1, "b', {"a": 1}),
    ('{"a": t', {}),
    ('{"a": true', {"a": True}),
    ('{"a": nul', {}),
    ("[", []),
    ("[1", []),
    ("[1,", [1]),
    ("[-", []),
    ("[1.5e", []),
    ("[1.5e3]", [1500.0]),
    ("[[], {}, ", [[], {}]),
    ('["x", "', ["x", ""]),
    ('"', ""),
    ('"abc', "abc"),
    ("12", None),
    ("-", None),
    ("tr", None),
    ("true", True),
    ("[Na", []),
    ("[-Inf", []),
]


@pytest.mark.parametrize(("text", "expected"), PREFIXES)
def test_prefix_snapshot(text: str, expected: Any) -> None:
    assert prefix_value(text) == expected
    parser, _ = feed_all(list(text))  # char by char gives the same snapshot
    assert parser.value == expected


# -- strings and escapes ---------------------------------------------------------------------

ESCAPES = [
    (r"\"", '"'),
    (r"\\", "\\"),
    (r"\/", "/"),
    (r"\b", "\b"),
    (r"\f", "\f"),
    (r"\n", "\n"),
    (r"\r", "\r"),
    (r"\t", "\t"),
    (r"\u00e9", "é"),
    (r"\u00E9", "é"),
    (r"\u0000", "\x00"),
    (r"\ud83d\ude00", "\U0001f600"),
    (r"\uD83D\uDE00", "\U0001f600"),
    (r"\ud800", "\ud800"),  # lone surrogates are accepted, as json.loads does
    (r"\udc00", "\udc00"),
    (r"\ud83dx", "\ud83dx"),
    (r"\ud83d\n", "\ud83d\n"),
    (r"\ud83d\u0041", "\ud83dA"),
    (r"\ud83d\ud83d\ude00", "\ud83d\U0001f600"),
    ("\\ud83d\ude00", "\ud83d\ude00"),  # a raw low surrogate is not an escape's low half
    (r"\\u0041", "\\u0041"),
    (r"\\\u0041", "\\A"),
]


@pytest.mark.parametrize(("escaped", "decoded"), ESCAPES)
def test_escape_split_anywhere(escaped: str, decoded: str) -> None:
    text = f'["<{escaped}>"]'
    assert json.loads(text) == [f"<{decoded}>"]  # the table itself is right
    for cut in range(len(text) + 1):
        parser, events = feed_all([text[:cut], text[cut:]])
        assert "".join(t for _, t in events) == f"<{decoded}>"
        assert parser.finish() == [f"<{decoded}>"]
    parser, events = feed_all(list(text))
    assert "".join(t for _, t in events) == f"<{decoded}>"


HALF_ESCAPES = [
    ('"ab\\', "ab"),
    ('"ab\\u', "ab"),
    ('"ab\\u0', "ab"),
    ('"ab\\u00', "ab"),
    ('"ab\\u00e', "ab"),
    ('"ab\\u00e9', "abé"),
    ('"ab\\ud83d', "ab"),
    ('"ab\\ud83d\\', "ab"),
    ('"ab\\ud83d\\u', "ab"),
    ('"ab\\ud83d\\ud', "ab"),
    ('"ab\\ud83d\\ude0', "ab"),
    ('"ab\\ud83d\\ude00', "ab\U0001f600"),
    ('"ab\\ud83d\\u0', "ab\ud83d"),  # cannot become a low half any more: proven lone
    ('"ab\\ud83dc', "ab\ud83dc"),
    ('"ab\\\\', "ab\\"),
    ('"ab\\\\\\', "ab\\"),
]


@pytest.mark.parametrize(("text", "expected"), HALF_ESCAPES)
def test_half_escape_is_held_back(text: str, expected: str) -> None:
    assert prefix_value(text) == expected
    for cut in range(1, len(text)):
        parser, events = feed_all([text[:cut], text[cut:]])
        assert parser.value == expected
        assert "".join(t for _, t in events) == expected


def test_surrogate_pairs_split_at_every_point() -> None:
    final = "a\U0001f600b\U0001f4a9\u00e9"
    text = json.dumps({"s": [final]}, ensure_ascii=True)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            parser = PartialJSON()
            for fragment in (text[:i], text[i:j], text[j:]):
                parser.feed(fragment)
                shown = parser.value
                assert is_prefix_value(shown, {"s": [final]}), (i, j, shown)
            assert parser.finish() == {"s": [final]}


def test_growth_events() -> None:
    parser = PartialJSON()
    assert parser.feed('{"k\\u00e9y": ["a\\nb", "c"') == [(("kéy", 0), "a\nb"), (("kéy", 1), "c")]
    assert parser.feed(', {"x": "') == []  # an empty string has begun but not grown
    assert parser.feed('y"}], "n": 1}') == [(("kéy", 2, "x"), "y")]
    assert parser.finish() == {"kéy": ["a\nb", "c", {"x": "y"}], "n": 1}


def test_value_is_the_parsers_own_tree_grown_in_place() -> None:
    parser = PartialJSON()
    parser.feed('{"a": ["x')
    first = parser.value
    held = first["a"][0]
    parser.feed('yz", 1], "b": "q')
    assert parser.value is first  # the same tree, grown: no copy per read
    assert first == {"a": ["xyz", 1], "b": "q"}
    assert held == "x"  # a string the caller holds is never changed under it


def test_push_and_pull_parse_in_one_go() -> None:
    parser = PartialJSON()
    for fragment in ('{"path": "a', ".py", '", "content": "x', "\\n", "y"):
        parser.push(fragment)
    assert parser.pull() == [(("path",), "a.py"), (("content",), "x\ny")]
    assert parser.pull() == []
    parser.push('z"}')
    assert parser.value == {"path": "a.py", "content": "x\nyz"}  # a read parses what waits
    assert parser.pull() == [(("content",), "z")]  # and keeps its growth for the next pull
    assert parser.finish() == {"path": "a.py", "content": "x\nyz"}


def test_growth_of_one_string_across_reads_is_one_event() -> None:
    parser = PartialJSON()
    parser.feed('["ab')
    parser.push("cd")
    assert parser.value == ["abcd"]
    parser.push("ef")
    assert parser.value == ["abcdef"]
    assert parser.feed('gh", "i') == [((0,), "cdefgh"), ((1,), "i")]


def test_feed_after_push_keeps_the_order() -> None:
    parser = PartialJSON()
    parser.feed('{"a": "')
    parser.push("xy")
    assert parser.feed("z") == [(("a",), "xyz")]
    assert parser.value == {"a": "xyz"}


def test_a_pushed_error_waits_for_pull_or_finish() -> None:
    parser = PartialJSON()
    parser.push('["a", ')
    parser.push("x]")
    assert parser.value == ["a"]  # a read never raises
    with pytest.raises(PartialJSONError) as caught:
        parser.pull()
    assert caught.value.pos == 6
    with pytest.raises(PartialJSONError):
        parser.finish()
    with pytest.raises(PartialJSONError):
        parser.pull()


def test_a_read_costs_what_changed_not_the_size() -> None:
    """After a small change, reading `value` allocates about that much (no copy of the rest)."""
    cases = [
        ('{"a": "' + "x" * 1_000_000, 'yy\\u00e9"', "}"),
        ("[" + "[1]," * 100_000, '"z", 3', "]"),
    ]
    for text, more, end in cases:
        parser = PartialJSON()
        parser.feed(text)
        parser.value  # noqa: B018 - the read whose result the next one grows
        parser.feed(more)
        tracemalloc.start()
        parser.value  # noqa: B018
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 20_000, peak
        parser.feed(end)
        assert parser.finish() == json.loads(text + more + end)


def test_control_characters() -> None:
    assert PartialJSON().feed('"a\x7f\u2028') == [((), "a\x7f\u2028")]  # not control chars
    for char in ("\x00", "\x01", "\n", "\t", "\x1f"):
        with pytest.raises(PartialJSONError) as caught:
            PartialJSON().feed(f'["ab{char}"]')
        assert caught.value.pos == 4


# -- numbers and literals ------------------------------------------------------------------

NUMBERS = ["0", "-0", "-0.0", "7", "-12", "1.5", "1e5", "1E5", "1e+5", "1.5E-3", "-1.5e+03",
           "123456789012345678901234567890", "1e400", "-1e400", "1e-400", "0e0"]  # fmt: skip


NUMBER_PLACES = [
    ("{}", lambda value: value),
    (" {}\n", lambda value: value),
    ("[{}]", lambda value: value[0]),
    ('{{"n":{} }}', lambda value: value["n"]),
]


@pytest.mark.parametrize("number", NUMBERS)
def test_numbers(number: str) -> None:
    expected = json.loads(number)
    for template, pick in NUMBER_PLACES:
        text = template.format(number)
        for fragments in ([text], list(text)):
            parser, _ = feed_all(fragments)
            got = pick(parser.finish())
            assert got == expected and type(got) is type(expected)
            assert math.copysign(1, got) == math.copysign(1, expected)


LITERALS = [("true", True), ("false", False), ("null", None)]


@pytest.mark.parametrize(("text", "expected"), LITERALS)
def test_literals(text: str, expected: Any) -> None:
    assert prefix_value(f"[{text}") == [expected]
    assert prefix_value(f"[{text[:-1]}") == []
    parser, _ = feed_all(list(f" {text} "))
    assert parser.finish() is expected


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "[NaN, -Infinity]"])
def test_non_finite_numbers_like_json_loads(text: str) -> None:
    parser, _ = feed_all(list(text))
    assert repr(parser.finish()) == repr(json.loads(text))


def test_big_ints_follow_json_loads() -> None:
    digits = "9" * 5000  # beyond the default int-from-string limit
    try:
        expected: Any = json.loads(digits)
    except ValueError:
        with pytest.raises(PartialJSONError):
            feed_all([digits[:2500], digits[2500:], " "])
    else:
        parser, _ = feed_all([digits[:2500], digits[2500:]])
        assert parser.finish() == expected


# -- containers and whitespace -------------------------------------------------------------

DOCUMENTS = [
    "[]",
    "{}",
    " [ [ ] , { } , [ [ ] ] ] ",
    '\t{\n"a" :\r\n[ 1 ,\t"x" , { "b" : null } ] , "c" : { } }\n',
    '[1,2,3,[4,[5,[6]]],{"a":{"b":{"c":[]}}}]',
    '"top level"',
    "42",
    "  -3.5e2  ",
    "false",
    '{"":""}',
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents(text: str) -> None:
    expected = json.loads(text)
    for fragments in ([text], list(text)):
        parser, _ = feed_all(fragments)
        assert parser.finish() == expected
        assert parser.finish() == expected  # finishing again is harmless


def test_duplicate_keys_last_wins() -> None:
    text = '{"a": "xy", "b": 1, "a": "z"}'
    parser = PartialJSON()
    assert parser.feed(text[:17]) == [(("a",), "xy")]
    assert parser.feed(text[17:26]) == []
    assert parser.value == {"a": "", "b": 1}  # the later value replaced the earlier one
    assert parser.feed(text[26:]) == [(("a",), "z")]
    value = parser.finish()
    assert value == json.loads(text) and list(value) == list(json.loads(text))


def test_deep_nesting_does_not_recurse() -> None:
    parser = PartialJSON()
    parser.feed("[" * MAX_DEPTH)
    shown = parser.value
    for _ in range(MAX_DEPTH - 1):
        shown = shown[0]
    assert shown == []


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_past_max_depth_fails_at_the_bracket_that_passes_it(opener: str) -> None:
    # Each level used to copy its whole path: 5000 levels held 12 million path items.
    parser = PartialJSON()
    with pytest.raises(PartialJSONError) as caught:
        for _ in range(5000):
            parser.feed(opener)
    assert caught.value.msg == f"nested too deeply (more than {MAX_DEPTH} levels)"
    assert caught.value.pos == len(opener) * MAX_DEPTH  # the bracket of level MAX_DEPTH + 1


def test_strings_at_every_depth_get_their_paths() -> None:
    text = '{"a": ["x", ' * 300 + '"deep"' + "]}" * 300
    parser = PartialJSON()
    growth = [event for char in text for event in parser.feed(char)]
    assert growth[0] == (("a", 0), "x")
    assert growth[-1] == (("a", 1) * 300, "p")
    assert parser.finish() == json.loads(text)


# -- invalid input ---------------------------------------------------------------------------

INVALID = [
    ('{"a" 1}', 5),
    ("[1,]", 3),
    ('{"a":1,}', 7),
    ("tru e", 3),
    ("truex", 4),
    ("True", 0),
    ("nan", 1),
    ('"\x01"', 1),
    ("01", 1),
    ("[01]", 2),
    ("-", 1),
    ("--1", 1),
    ("+1", 0),
    (".5", 0),
    ("1.", 2),
    ("1.e5", 2),
    ("[1.]", 3),
    ("1e", 2),
    ("1e+", 3),
    ("-a", 1),
    ("[1] x", 4),
    ('{"a":1}}', 7),
    ("{1:2}", 1),
    ("[1 2]", 3),
    ('{"a":}', 5),
    ('{"a":1]', 6),
    ("[1}", 2),
    ("]", 0),
    ('"\\x"', 2),
    ('"\\u12g4"', 5),
    ('"ab\\u0z"', 6),
    ('"ab\\ud8zz"', 7),
    ('"ab\\ud83d\\"', 11),
    ('"ab\\ud83d\\uz"', 11),
    ('"ab\\ud83d\\x"', 10),
    ('"\\ud83d\\uzz"', 9),
    ("\ufeff{}", 0),
    ("", 0),
    ("   ", 3),
    ("[", 1),
    ('"abc', 4),
    ('"ab\\', 4),
    ('{"a"', 4),
    ('{"a": 1', 7),
    ("[1,2", 4),
    ("[tr", 3),
]


@pytest.mark.parametrize(("text", "pos"), INVALID)
def test_invalid_input_fails_where_it_becomes_invalid(text: str, pos: int) -> None:
    with pytest.raises(ValueError):
        json.loads(text)  # the table itself is right: json.loads rejects it too
    assert error_pos([text]) == pos
    assert error_pos(list(text)) == pos
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert error_pos([text[:i], text[i:j], text[j:]]) == pos


def test_refuses_input_after_error_or_finish() -> None:
    parser = PartialJSON()
    with pytest.raises(PartialJSONError):
        parser.feed('["a", x')
    assert parser.value == ["a"]  # still readable
    with pytest.raises(PartialJSONError):
        parser.feed("]")
    with pytest.raises(PartialJSONError):
        parser.finish()
    parser = PartialJSON()
    parser.feed("[1]")
    assert parser.finish() == [1]
    with pytest.raises(PartialJSONError):
        parser.feed(" ")


def test_error_offsets_count_carried_text() -> None:
    parser = PartialJSON()
    parser.feed('{"a": "xy\\u00')
    with pytest.raises(PartialJSONError) as caught:
        parser.feed("zz")
    assert caught.value.pos == 13
    assert "char 13" in str(caught.value)


# -- property tests --------------------------------------------------------------------------

WS = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n  "])
LONE_SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"])
CHARS = st.one_of(st.characters(), st.characters(max_codepoint=127), LONE_SURROGATES)
SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
         "\r": "\\r", "\t": "\\t"}  # fmt: skip


@st.composite
def string_token(draw: st.DrawFn, text: st.SearchStrategy[str] | None = None) -> str:
    """A JSON string literal for random text, each character encoded in a random valid way."""
    out = ['"']
    for char in draw(text if text is not None else st.text(CHARS, max_size=24)):
        how = draw(st.integers(0, 3))
        if how == 0 and char not in '"\\' and char >= " ":
            out.append(char)
        elif how == 1 and char in SHORT:
            out.append(SHORT[char])
        else:
            escaped = json.dumps(char, ensure_ascii=True)[1:-1]
            if not escaped.startswith("\\u"):
                escaped = f"\\u{ord(char):04x}"
            out.append(escaped.upper().replace("\\U", "\\u") if how == 3 else escaped)
    return "".join(out) + '"'


NUMBER_TOKENS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,10})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)
LITERAL_TOKENS = st.sampled_from(["true", "false", "null"])
SCALAR_TOKENS = st.one_of(string_token(), NUMBER_TOKENS, LITERAL_TOKENS)
KEYS = st.text(CHARS.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF), max_size=8)


@st.composite
def array_token(draw: st.DrawFn, items: st.SearchStrategy[str]) -> str:
    parts = [f"{draw(WS)}{item}{draw(WS)}" for item in draw(st.lists(items, max_size=5))]
    return "[" + ",".join(parts) + draw(WS) + "]"


@st.composite
def object_token(draw: st.DrawFn, items: st.SearchStrategy[str]) -> str:
    parts = []
    for key in draw(st.lists(KEYS, max_size=5, unique=True)):
        key_token = draw(string_token(st.just(key)))
        parts.append(f"{draw(WS)}{key_token}{draw(WS)}:{draw(WS)}{draw(items)}{draw(WS)}")
    return "{" + ",".join(parts) + draw(WS) + "}"


TOKEN_DOCUMENTS = st.recursive(
    SCALAR_TOKENS, lambda items: array_token(items) | object_token(items), max_leaves=12
)
PY_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(CHARS),
)
PY_VALUES = st.recursive(
    PY_SCALARS,
    lambda items: st.lists(items, max_size=4) | st.dictionaries(KEYS, items, max_size=4),
    max_leaves=12,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A valid JSON text: hand-built tokens with random whitespace, or json.dumps output."""
    if draw(st.booleans()):
        return draw(WS) + draw(TOKEN_DOCUMENTS) + draw(WS)
    value = draw(PY_VALUES)
    indent = draw(st.sampled_from([None, 0, 2]))
    return json.dumps(value, ensure_ascii=draw(st.booleans()), indent=indent)


@st.composite
def split_documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(documents())
    if draw(st.integers(0, 4)) == 0:
        return text, list(text)
    return text, split(text, draw(st.lists(st.integers(0, len(text)), max_size=30)))


@DETERMINISTIC
@given(split_documents())
def test_property_streams_agree_with_json_loads(case: tuple[str, list[str]]) -> None:
    text, fragments = case
    final = json.loads(text)
    parser, grown = PartialJSON(), {}
    for fragment in fragments:
        for path, appended in parser.feed(fragment):
            assert appended, "growth events are never empty"
            grown[path] = grown.get(path, "") + appended
        shown = parser.value
        assert is_prefix_value(shown, final), (fragment, shown)
        if shown is not None:  # each string shown equals its growth so far
            assert string_values(shown) == {p: grown.get(p, "") for p in string_values(shown)}
    assert parser.finish() == final
    assert grown == {path: s for path, s in string_values(final).items() if s}


@DETERMINISTIC
@given(split_documents(), st.data())
def test_property_push_pull_and_reads_agree_with_feed(
    case: tuple[str, list[str]], data: st.DataObject
) -> None:
    """Any mix of `feed`, `push`, `value` and `pull` gives the same growth and final value."""
    text, fragments = case
    final = json.loads(text)
    parser, grown = PartialJSON(), {}
    for fragment in fragments:
        how = data.draw(st.sampled_from(["feed", "push", "push+read", "push+pull"]))
        growth: list[Any] = []
        if how == "feed":
            growth = parser.feed(fragment)
        else:
            parser.push(fragment)
        if how == "push+read":
            assert is_prefix_value(parser.value, final)
        elif how == "push+pull":
            growth = parser.pull()
        for path, appended in growth:
            assert appended, "growth events are never empty"
            grown[path] = grown.get(path, "") + appended
    for path, appended in parser.pull():
        grown[path] = grown.get(path, "") + appended
    assert parser.finish() == final
    assert grown == {path: s for path, s in string_values(final).items() if s}


PENDING_HIGH_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(\\(u[0-9a-fA-F]{0,3})?)?\Z")


def comparable_with_pjp(prefix: str) -> bool:
    """Whether partial_json_parser's documented semantics match ours on this prefix.

    Excluded: empty prefixes (it raises), prefixes ending inside a number or literal (it
    shows or completes them), and prefixes inside a string that end in whitespace (it strips
    the text, dropping it) or in a high surrogate escape that may get its low half (it shows
    the high half).
    """
    in_string = escaped = False
    for char in prefix:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
    if not prefix.strip():
        return False
    if in_string:
        return not prefix[-1].isspace() and not PENDING_HIGH_SURROGATE.search(prefix)
    return prefix[-1] in ' \t\n\r[]{},:"'


@DETERMINISTIC
@given(documents())
def test_property_prefixes_agree_with_partial_json_parser(text: str) -> None:
    parser, compared = PartialJSON(), 0
    for k, char in enumerate(text, 1):
        parser.feed(char)
        if comparable_with_pjp(text[:k]):
            # Leading whitespace is stripped for it: it misreads ' "a' as ''.
            assert parser.value == pjp_loads(text[:k].lstrip(" \t\n\r")), text[:k]
            compared += 1
    if text.strip()[:1] in ("[", "{", '"'):
        assert compared


MUTATION_CHARS = st.sampled_from(list('"\\{}[],:0123456789-+.eEtfnul \n\x01a'))


@DETERMINISTIC
@given(documents(), st.data())
def test_property_invalid_text_fails_like_json_loads(text: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(text)))
    how = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    char = data.draw(MUTATION_CHARS)
    cut = at + (how != "insert")
    mutated = text[:at] + ("" if how == "delete" else char) + text[cut:]
    try:
        expected = json.loads(mutated)
    except json.JSONDecodeError as exc:
        pos = error_pos([mutated])
        assert pos is not None and exc.pos <= pos <= len(mutated)
        cuts = data.draw(st.lists(st.integers(0, len(mutated)), max_size=10))
        assert error_pos(split(mutated, cuts)) == pos
    else:
        parser, _ = feed_all(split(mutated, [at]))
        assert parser.finish() == expected
