"""Incremental repair of partial JSON, for showing tool arguments while they stream.

`PartialJSON` is fed the argument text of a tool call fragment by fragment. After each fragment
it can give the best-effort value so far, and `feed` reports which string values grew and by
what text, so a view (say, the file body of a `save_file` call) can append just the new
characters. State is kept between fragments, so a fragment costs O(len(fragment)) however long
the text before it; `partial-json-parser` and jiter's partial mode re-parse the whole prefix.
A reader that looks once a frame can `push` fragments (an append, nothing parsed) and `pull`
the growth of everything pushed since, parsed in one go.

    >>> p = PartialJSON()
    >>> p.feed('{"path": "app.py", "con')
    [(('path',), 'app.py')]
    >>> p.feed('tent": "import os\\\\nprint(')
    [(('content',), 'import os\\nprint(')]
    >>> p.value
    {'path': 'app.py', 'content': 'import os\\nprint('}

What a snapshot (`value`) shows, for any prefix of a valid JSON text:

- Strings show every character decoded so far. A half escape (a lone backslash, `\\u00`, or a
  high surrogate `\\ud83d` whose low half may follow) is held back, never shown as garbage.
- An object key appears once its value has begun: `{"a": ` shows `{}`, `{"a": "` shows
  `{"a": ""}`, `{"a": [` shows `{"a": []}`.
- Numbers wait until a delimiter follows them (or `finish`), because `12` may become `123`;
  `true`, `false`, `null`, `NaN`, `Infinity` and `-Infinity` appear once complete.
- Before the top-level value has begun (or while it is an unfinished number or literal),
  `value` is None.
- Values only grow: each snapshot is a prefix of the final value (strings are prefixes,
  containers only gain items, and only their last item can still change).

`value` is the parser's own tree, updated in place, so a read costs O(what arrived since the
last read), not O(size): the same dicts and lists come back each time, grown, and only the
string being read is rebuilt, by appending to it (in place, unless the caller still holds the
previous string). Treat it as read-only; `copy.deepcopy` it to keep a snapshot.

Semantics follow `json.loads` exactly: the same whitespace, number forms (`-0` is the int 0,
big ints, `1E5` is a float), `NaN`/`Infinity`/`-Infinity` accepted as floats, raw control
characters inside strings rejected, lone surrogate escapes accepted (a lone high surrogate is
emitted once the next character proves no low half follows). Duplicate keys: the last value
wins and keeps the first key's position; it replaces the earlier one in `value` as soon as it
begins (the one exception to "values only grow"), and its growth events reuse the path, so
the growth concatenated for that path is then the old text followed by the new.

Invalid input raises `PartialJSONError` (a `ValueError`) at the character offset where the
text stopped being a prefix of any valid JSON text (`tru e` fails at the space, `[1,]` at
`]`); after that the parser refuses further input. Nothing is silently repaired.

Deliberate differences from `partial_json_parser.loads` on a prefix:

- It shows partial numbers (`[12` gives `[12]`) and completes partial literals (`[tr` gives
  `[True]`); those can change later, so we wait.
- It shows a trailing high surrogate escape at once (`"\\ud83d` gives `'\\ud83d'`); we hold it
  back until the next character, since it is usually half of an astral character.
- It strips the text first, so whitespace at the end of an unfinished string is not shown
  until more follows (`"a ` gives `'a'`); we show it.
- It raises on empty or whitespace-only input; we give None.
- It repairs some invalid text (and raises on other prefixes) wherever its scan notices;
  we raise exactly where the text becomes invalid.
"""

from tui.core.partial_json.grammar import JSON, MAX_DEPTH, Growth, PartialJSONError, Path
from tui.core.partial_json.parser import PartialJSON

__all__ = ["JSON", "MAX_DEPTH", "Growth", "Path", "PartialJSON", "PartialJSONError"]
