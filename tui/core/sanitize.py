"""Strip terminal control sequences from untrusted text before it reaches the screen.

Textual and Rich pass ESC through to the terminal, so model
output, tool results, error bodies and file names go through this module first.

What is removed, in one left-to-right pass:

* CSI: ``ESC [`` or 8-bit ``0x9b``, parameter bytes ``0x30-0x3f``, intermediate bytes
  ``0x20-0x2f``, one final byte ``0x40-0x7e`` (cursor moves, ``ESC[2J``, ``ESC[6n``, SGR).
* Control strings: OSC (``ESC ]`` / ``0x9d``), DCS (``ESC P`` / ``0x90``), SOS (``ESC X`` /
  ``0x98``), PM (``ESC ^`` / ``0x9e``) and APC (``ESC _`` / ``0x9f``). A string runs over
  printable characters and ends at the first control character: its terminator (BEL, ``ESC \\``
  or 8-bit ST ``0x9c``) is then removed by the rules below. So an unterminated string at the end
  of the input is removed to the end, and a stray introducer hides at most the rest of its line
  (a newline ends the string and survives).
* Other escapes: ``ESC``, intermediate bytes ``0x20-0x2f``, one final byte ``0x30-0x7e``
  (``ESC 7``, ``ESC ( B``, ``ESC # 8``, the ST ``ESC \\``); a lone ``ESC`` is dropped.
* Every remaining C0 control except ``\\n`` and ``\\t``, DEL, and every C1 control
  (``0x80-0x9f``). A carriage return is removed, so ``\\r\\n`` becomes ``\\n`` and a lone
  ``\\r`` (spinner redraws, old Mac line ends) joins its neighbours; this keeps the streaming
  case stateless for CR.

Safety does not depend on recognising every sequence: no ESC and no C1 character survives, so
no sequence can form afterwards, including when outputs are concatenated. Anchors: openai/codex
PR #31494, vercel/ai PR #20052, woojubb/robota PR #2212.
"""

from __future__ import annotations

import re

__all__ = ["NOT_UTF8", "StreamSanitizer", "sanitize", "undecodable", "visible"]

_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x00-\x08\x0a-\x1f\x80-\x9f]*"
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_ESC = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"

# Alternation order matters: the string and CSI introducers also match the generic ESC rule.
_STRIP = re.compile(f"(?P<string>{_STRING})|(?P<csi>{_CSI})|(?P<esc>{_ESC})|{_CONTROL}")
_ANY_CONTROL = re.compile(_CONTROL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTERMEDIATE = frozenset(chr(c) for c in range(0x20, 0x30))
_CSI_FINAL = frozenset(chr(c) for c in range(0x40, 0x7F))
_ESC_FINAL = frozenset(chr(c) for c in range(0x30, 0x7F))


def sanitize(text: str) -> str:
    """Remove terminal escape sequences and control characters from `text`.

    Args:
        text: Untrusted text (model output, tool output, error body, file name).

    Returns:
        The text without escape sequences, C0 controls other than newline and tab, DEL and C1
        controls. Text without any of these is returned unchanged.
    """
    if _ANY_CONTROL.search(text) is None:
        return text
    return _STRIP.sub("", text)


def _open_state(match: re.Match[str]) -> str:
    """Return the state to carry over when `match` ends at the end of the buffer.

    The carried text is enough to resume the same match on the next chunk, without the
    parameter or string bytes already seen (they are dropped anyway), so it stays a few
    characters long whatever the sequence length.

    Args:
        match: The last match of `_STRIP`, ending exactly at the end of the buffer.

    Returns:
        The characters to prepend to the next chunk, or "" if the match is complete.
    """
    seq = match.group()
    kind = match.lastgroup
    intro_len = 2 if seq[0] == "\x1b" else 1
    if kind == "string":
        return seq[:intro_len]
    if kind == "csi":
        if len(seq) > intro_len and seq[-1] in _CSI_FINAL:
            return ""
        tail = seq[-1] if len(seq) > intro_len and seq[-1] in _INTERMEDIATE else ""
        return seq[:intro_len] + tail
    if kind == "esc":
        if len(seq) > 1 and seq[-1] in _ESC_FINAL:
            return ""
        return "\x1b" + (seq[-1] if len(seq) > 1 else "")
    return ""


class StreamSanitizer:
    """Sanitize text that arrives in chunks, as `sanitize` would sanitize the whole.

    A sequence split across chunks (``"x\\x1b"`` then ``"]52;c;QQ==\\x07y"``) is removed
    entirely. Only an incomplete trailing escape sequence is held back, and only in a compressed
    form of at most three characters, so memory stays bounded and ordinary text is never held:
    the concatenation of every `feed` result plus `flush` equals `sanitize` of the concatenated
    input.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """Sanitize the next chunk.

        Args:
            chunk: The next piece of the stream.

        Returns:
            The sanitized text that is safe to show now. Cost is O(len(chunk)).
        """
        if not self._pending and _ANY_CONTROL.search(chunk) is None:
            return chunk
        buffer = self._pending + chunk
        self._pending = ""
        end = len(buffer)
        pieces: list[str] = []
        position = 0
        for match in _STRIP.finditer(buffer):
            pieces.append(buffer[position : match.start()])
            position = match.end()
            if position == end:
                self._pending = _open_state(match)
        pieces.append(buffer[position:])
        return "".join(pieces)

    def flush(self) -> str:
        """End the stream, dropping an unterminated trailing sequence.

        Returns:
            The remaining safe text. Held-back text is always part of an escape sequence, so
            this is always "" (kept as a method so callers do not rely on that).
        """
        self._pending = ""
        return ""


# Bidi embeddings/overrides/isolates, marks and zero-width characters that can make a path read
# differently from what it is (Trojan Source), plus line/paragraph separators and soft hyphen.
_INVISIBLE = "\u061c\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_HIDDEN = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Make every hidden character of `text` visible, for paths shown in approval prompts.

    Unlike `sanitize`, nothing is dropped, because the user must see the name they approve:
    control characters (including newline and tab) become ``\\x1b``/``\\n``-style escapes, and
    bidi controls and zero-width characters become ``\\u202e``-style escapes. The result holds
    no control character at all. Backslashes are left alone, so a Windows path stays readable.

    Args:
        text: An untrusted path or short label.

    Returns:
        A single-line string safe to show.
    """
    return _HIDDEN.sub(_escape_char, text)


def visible_lines(text: str) -> str:
    """`visible`, but keeping newlines and tabs: for code and diffs shown as they will be written.

    A file about to be written must be shown as it will be: an escape character or a bidi
    override appears as ``\\x1b`` / ``\\u202e`` instead of being stripped (as `sanitize`
    would), so the user sees what they approve. Stateless per character.
    """
    if _HIDDEN_IN_LINES.search(text) is None:
        return text
    return "\n".join(
        "\t".join(visible(part) for part in line.split("\t")) for line in text.split("\n")
    )


_HIDDEN_IN_LINES = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_INVISIBLE}]")


NOT_UTF8 = "not UTF-8 text (it holds bytes that cannot be decoded)"
"""What to say about text for which ``undecodable`` is true."""


def undecodable(text: str) -> bool:
    """Whether ``text`` holds bytes the system could not decode.

    Python keeps undecodable bytes in argv, stdin and file names as lone surrogates
    (``\\udcff`` for the byte 0xff); such text cannot be encoded as UTF-8, so it
    cannot be sent in a request.
    """
    return _SURROGATE.search(text) is not None
