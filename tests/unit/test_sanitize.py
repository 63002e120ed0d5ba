"""Tests for tui.core.sanitize: escape families, streaming splits, invariants."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.sanitize import StreamSanitizer, sanitize, undecodable, visible

T14 = "A\x1b]52;c;cHduZWQ=\x07B\x1b]0;T\x1b\\C\x1b[2J\x9b31m"

# Every character that must never reach the screen.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

CASES = [
    # (id, input, expected)
    ("osc52-clipboard-bel", "a\x1b]52;c;cHduZWQ=\x07b", "ab"),
    ("osc52-clipboard-st", "a\x1b]52;c;cHduZWQ=\x1b\\b", "ab"),
    ("osc0-title-bel", "a\x1b]0;pwned\x07b", "ab"),
    ("osc2-title-st", "a\x1b]2;pwned\x1b\\b", "ab"),
    ("osc8-link", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"),
    ("osc-unterminated-at-end", "text\x1b]0;title without end", "text"),
    ("osc-ends-at-newline", "a\x1b]0;stray\nnext line", "a\nnext line"),
    ("osc-terminated-by-8bit-st", "a\x1b]0;t\x9cb", "ab"),
    ("osc-8bit-intro", "a\x9d0;T\x07b", "ab"),
    ("osc-8bit-intro-unterminated", "a\x9d0;T", "a"),
    ("csi-clear-screen", "a\x1b[2Jb", "ab"),
    ("csi-device-status-report", "a\x1b[6nb", "ab"),
    ("csi-cursor-up", "a\x1b[10Ab", "ab"),
    ("csi-cursor-position", "a\x1b[1;1Hb", "ab"),
    ("csi-private-mode", "a\x1b[?1049hb", "ab"),
    ("csi-intermediate", "a\x1b[!pb", "ab"),
    ("sgr", "\x1b[1;31mred\x1b[0m", "red"),
    ("sgr-truecolor", "\x1b[38;2;255;0;0mx\x1b[m", "x"),
    ("csi-8bit", "a\x9b31mb", "ab"),
    ("csi-unterminated-at-end", "a\x1b[31", "a"),
    ("csi-invalid-byte-ends-it", "a\x1b[31\u00e9b", "a\u00e9b"),
    ("dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),
    ("dcs-8bit", "a\x90q\x9cb", "ab"),
    ("apc", "a\x1b_Gf=100;AAAA\x1b\\b", "ab"),
    ("pm", "a\x1b^secret\x1b\\b", "ab"),
    ("sos", "a\x1bXsecret\x1b\\b", "ab"),
    ("two-char-save-cursor", "a\x1b7b\x1b8c", "abc"),
    ("two-char-reset", "a\x1bcb", "ab"),
    ("nf-charset", "a\x1b(Bb", "ab"),
    ("nf-decaln", "a\x1b#8b", "ab"),
    ("lone-esc-at-end", "a\x1b", "a"),
    ("esc-esc", "a\x1b\x1b[2Jb", "ab"),
    ("esc-before-non-ascii", "a\x1b\u00e9", "a\u00e9"),
    ("bel-bs-vt-ff", "a\x07\x08\x0b\x0cb", "ab"),
    ("nul-and-del", "a\x00\x7fb", "ab"),
    (
        "c1-range",
        "a" + "".join(chr(c) + "x" for c in range(0x80, 0x90)) + "b",
        "a" + "x" * 16 + "b",
    ),
    ("c1-introducers-then-newline", "a\x90\x98\x9b\x9d\x9e\x9fjunk\nb", "a\nb"),
    ("crlf", "a\r\nb\r\n", "a\nb\n"),
    ("lone-cr-removed", "50%\r100%", "50%100%"),
    ("newline-and-tab-kept", "a\n\tb", "a\n\tb"),
    ("t14", T14, "ABC"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sanitize_removes_whole_sequences(raw: str, expected: str) -> None:
    assert sanitize(raw) == expected


def test_t14_is_exactly_abc() -> None:
    assert sanitize(T14) == "ABC"


def test_clean_text_is_returned_unchanged() -> None:
    text = "def f(x):\n\treturn x  # caf\u00e9"
    assert sanitize(text) is text


@pytest.mark.parametrize(
    "text",
    [
        "\u4f60\u597d\uff0c\u4e16\u754c",  # CJK
        "\U0001f600\U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467",  # emoji, ZWJ
        "e\u0301 a\u0308 \u0928\u093f",  # combining marks
        "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",  # RTL scripts
        "\u00a0\u00e9\u00ff\u0100",  # Latin-1 above C1 and beyond
    ],
)
def test_normal_unicode_passes_untouched(text: str) -> None:
    assert sanitize(text) == text
    stream = StreamSanitizer()
    assert stream.feed(text) + stream.flush() == text


HOSTILE = [
    T14,
    "x\x1b]52;c;QQ==\x07y",
    "\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\ tail\r\n",
    "a\x1b[38;2;1;2;3mb\x9b2Jc\x9d0;t\x9cd\x90q\x9ce",
    "pre\x1b[?1049h\x1b[1;1H\x1b(B\x1b#8\x1b7\x1b8post\x1b]0;unterminated",
    "\x1b\x1b\x1b[\x1b]\x1bP\x1b\\\x07\x00\r\n\t",
    "line1\n\x1b]2;t\nline3\x1b[31",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_stream_split_at_every_position_matches_whole(text: str) -> None:
    expected = sanitize(text)
    for cut in range(len(text) + 1):
        stream = StreamSanitizer()
        first = stream.feed(text[:cut])
        second = stream.feed(text[cut:])
        last = stream.flush()
        for part in (first, second, last):
            assert FORBIDDEN.search(part) is None, (cut, part)
        assert first + second + last == expected, cut


@pytest.mark.parametrize("text", HOSTILE)
def test_stream_one_char_at_a_time_matches_whole(text: str) -> None:
    stream = StreamSanitizer()
    out = "".join(stream.feed(c) for c in text) + stream.flush()
    assert out == sanitize(text)


def test_t15_split_sequence_is_removed_entirely() -> None:
    stream = StreamSanitizer()
    assert stream.feed("x\x1b") == "x"
    assert stream.feed("]52;c;QQ==\x07y") == "y"
    assert stream.flush() == ""


def test_stream_fast_path_returns_chunk_itself() -> None:
    stream = StreamSanitizer()
    chunk = "plain text\n\tindented"
    assert stream.feed(chunk) is chunk


def test_stream_flush_drops_unterminated_sequence_and_resets() -> None:
    stream = StreamSanitizer()
    assert stream.feed("ok\x1b]0;ti") == "ok"
    assert stream.flush() == ""
    # After flush, a "tle\x07" is ordinary text again (minus the BEL).
    assert stream.feed("tle\x07") == "tle"


def test_stream_holds_back_at_most_a_few_characters() -> None:
    """A long unterminated OSC never makes the sanitizer buffer its body."""
    stream = StreamSanitizer()
    assert stream.feed("a\x1b]52;c;") == "a"
    for _ in range(1000):
        assert stream.feed("QUFB" * 64) == ""
        assert len(stream._pending) <= 3
    assert stream.feed("\x07visible") == "visible"


def test_stream_long_csi_parameters_stay_bounded() -> None:
    stream = StreamSanitizer()
    assert stream.feed("a\x1b[") == "a"
    for _ in range(100):
        assert stream.feed("1;" * 100) == ""
        assert len(stream._pending) <= 3
    assert stream.feed("mb") == "b"


def test_unterminated_osc_hides_only_the_rest_of_its_line_in_a_stream() -> None:
    stream = StreamSanitizer()
    assert stream.feed("a\x1b]0;junk") == "a"
    assert stream.feed(" more junk\nshown") == "\nshown"


# Characters biased towards the interesting ones, plus arbitrary unicode.
_interesting = st.sampled_from(
    list("\x1b\x07\x9b\x9c\x9d\x90\x98\x9e\x9f\r\n\t[]\\P_^X;0123456789mAHJ?!(#")
    + [chr(c) for c in range(0x00, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
)
_text = st.lists(st.one_of(_interesting, st.characters()), max_size=80).map("".join)


@settings(max_examples=400, deadline=None)
@given(_text)
def test_property_output_has_no_control_characters(text: str) -> None:
    out = sanitize(text)
    assert FORBIDDEN.search(out) is None
    assert sanitize(out) == out  # idempotent: nothing left that looks like a sequence


@settings(max_examples=300, deadline=None)
@given(_text, st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_property_stream_equals_whole(text: str, cuts: list[int]) -> None:
    bounds = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    stream = StreamSanitizer()
    outputs = [stream.feed(p) for p in pieces] + [stream.flush()]
    for out in outputs:
        assert FORBIDDEN.search(out) is None
    assert "".join(outputs) == sanitize(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"])))
def test_property_text_without_controls_is_unchanged(text: str) -> None:
    assert sanitize(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report\u202etxt.exe", "report\\u202etxt.exe"),
        ("a\u202ab\u202bc\u202cd\u202de", "a\\u202ab\\u202bc\\u202cd\\u202de"),
        ("\u2066x\u2067y\u2068z\u2069", "\\u2066x\\u2067y\\u2068z\\u2069"),
        ("l\u200er\u200fa\u061c", "l\\u200er\\u200fa\\u061c"),
        ("z\u200bw\u200cj\u200dw\u2060b\ufeff", "z\\u200bw\\u200cj\\u200dw\\u2060b\\ufeff"),
        ("two\nlines\tand tab", "two\\nlines\\tand tab"),
        ("esc\x1b[2Jhere", "esc\\x1b[2Jhere"),
        ("c1\x9bx", "c1\\x9bx"),
        ("src/main.py", "src/main.py"),
        ("C:\\Users\\me\\f.txt", "C:\\Users\\me\\f.txt"),
        ("\u4f60\u597d/\U0001f600.md", "\u4f60\u597d/\U0001f600.md"),
    ],
)
def test_visible(raw: str, expected: str) -> None:
    assert visible(raw) == expected


@settings(max_examples=200, deadline=None)
@given(_text)
def test_property_visible_is_single_line_and_control_free(text: str) -> None:
    out = visible(text)
    assert FORBIDDEN.search(out) is None
    assert "\n" not in out and "\t" not in out
    assert "\u202e" not in out and "\u200b" not in out


def test_undecodable_finds_the_bytes_the_system_could_not_decode() -> None:
    assert undecodable(b"a\xffb".decode("utf-8", "surrogateescape"))
    assert undecodable("\ud83d")  # a lone high surrogate, as JSON's "\ud83d" decodes
    assert not undecodable("caf\u00e9 \U0001f600 \x1b[2J")
