"""Keystroke echo measured from outside, in a real terminal, while a fast stream renders.

The parent is the user at a terminal: it owns the master side of a fresh pseudo-terminal
(120x40, ``TERM=xterm-256color``) on which the real ``chattui`` runs, writes one key to it
and times, with its own clock, until the bytes of that character come back in what the app
writes to the terminal. Nothing in the app is hooked: the figure is what a user waits for,
including the terminal round trip and the app's input parsing, event dispatch, prompt
repaint and frame write.

Each typed key is a Greek letter (the streams are ASCII and chattui draws no Greek of its own,
so the letter's bytes appear only when it is drawn); after its echo a
backspace clears it again and the next key follows ``KEY_GAP`` later, so the prompt keeps one
line and a letter is used again only 48 keys later. The next key waits for the echo however
late it comes (up to ``ECHO_TIMEOUT``, 20 s): a key drawn after more than ``LATE`` (1 s) is
listed with its delay, and a key not drawn within 20 s is reported as lost and misses the
budget; the median and maximum are over the keys drawn. (Keys were lost, 1 to 3 of about 200
a run under load: Textual ran the backspace's binding only after the key had bubbled up to
the app, by which time the letter typed 40 ms behind it had been inserted, so the backspace
deleted the new letter, never drawn, and left the old one. The prompt now runs its own
editing keys in order: ``tui.ui.compat.run_own_key_binding``.)

Rows, each the median and maximum over every key of ``--repeats`` runs (pooled):

* floor: a bare Textual app with one ``Input`` (``startup.BARE_APP``), idle, spawned and
  typed into the same way in the same run: what any Textual app costs this instrument.
* chattui idle: the same keys before anything is sent (no budget).
* tool call: the loopback server (``tui_stream.Server``) streams a ``save_file`` call
  (Anthropic framing, 4-character argument fragments) one SSE event per network write at
  ``RATE`` (2,500) fragments a second, paced to a schedule (a late write is not followed by a
  burst beyond the schedule); keys are typed from the request's arrival to the last write.
* Markdown: the Markdown unit of ``tui_stream.py`` repeated to the same length in time
  (OpenAI framing, 5-character deltas: 75 KB at the default 6 s), same rate, same keys.

Runs alternate floor and chattui, so a change in machine load hits both; the ratio is
chattui's median over the floor's. Budgets: while either stream renders, median at most
30 ms and no key over 60 ms. The achieved send rate is printed (the schedule is kept unless
the machine is saturated).
Run: ``python benchmarks/echo.py [--quick] [--markdown] [--repeats N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _common import chattui_command, table
from _pty import PtyChild, child_env, strip_ansi
from _streams import END_LINE, Server, markdown_text, source_text, write_config, writes
from startup import BARE_APP, BARE_MARKER

from tests.support.loopback import Reply
from tests.support.wire import ROUTES, text_body, tool_call_body

RATE = 2500  # fragments (one SSE event each) per second
KEY_GAP = 0.04  # seconds between a key's echo (and its backspace) and the next key
LATE = 1.0  # seconds: a key drawn later than this is listed with its delay
ECHO_TIMEOUT = 20.0  # seconds: a key not drawn by then is counted as lost
READY_TIMEOUT = 30.0
MEDIAN_BUDGET, MAX_BUDGET = 0.030, 0.060
LETTERS = "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ"[:48]
BACKSPACE = b"\x7f"
Echo = float | None  # seconds from a key's write to its bytes drawn; None: never drawn


class Terminal(PtyChild):
    """A ``PtyChild`` that can be typed into and timed: ``echo`` writes a key and waits for
    its bytes to come back. Only the newest read is searched, so a long stream of frames costs
    the parent nothing per key."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._needle = b""
        self._from = 0
        self._found: float | None = None
        self._hit = threading.Event()
        super().__init__(argv, env)

    def received(self, data: bytes, now: float) -> None:
        """Note when the letter being timed first shows in what was read."""
        with self._lock:
            self.output += data
            if self._needle and self._found is None:
                start = max(self._from, len(self.output) - len(data) - len(self._needle))
                if self.output.find(self._needle, start) >= 0:
                    self._found = now
                    self._hit.set()

    def _drain(self) -> None:
        super()._drain()
        self._hit.set()  # the child is gone: no key will echo

    def wait_for(self, ready: Callable[[str], bool], timeout: float = READY_TIMEOUT) -> None:
        """Wait until the screen text written lately (the last 256 KB) satisfies ``ready``."""
        deadline = time.perf_counter() + timeout
        while not ready(strip_ansi(bytes(self.output[-(1 << 18) :]))):
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                tail = strip_ansi(bytes(self.output))[-400:]
                raise RuntimeError(f"the app did not get ready: {tail!r}")
            time.sleep(0.02)

    def type(self, data: bytes) -> None:
        """Write ``data`` to the terminal, as keys."""
        os.write(self._master, data)

    def echo(self, letter: str) -> Echo:
        """Seconds from writing ``letter`` until it is drawn (None: not within
        ``ECHO_TIMEOUT``)."""
        with self._lock:
            self._needle, self._from, self._found = letter.encode(), len(self.output), None
            self._hit.clear()
            sent = time.perf_counter()
            os.write(self._master, letter.encode())
        self._hit.wait(ECHO_TIMEOUT)
        with self._lock:
            found, self._needle = self._found, b""
        return None if found is None else found - sent


def type_keys(term: Terminal, until: Callable[[], bool], limit: int = 10_000) -> list[Echo]:
    """Echo times of keys typed until ``until()`` (each cleared by a backspace after; None:
    a key never drawn)."""
    echoes: list[Echo] = []
    while not until() and len(echoes) < limit:
        echoes.append(term.echo(LETTERS[len(echoes) % len(LETTERS)]))
        term.type(BACKSPACE)
        time.sleep(KEY_GAP)
    return echoes


# -- the streams ------------------------------------------------------------------------------


@dataclass
class Paced:
    """One reply sent one SSE event per write on a schedule of ``RATE`` events a second."""

    events: list[bytes]
    started: float | None = None
    ended: float | None = None
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def chunks(self) -> Iterator[bytes]:
        """The writes, each at its time (late ones go at once, never ahead of time)."""
        self.started = start = time.perf_counter()
        for index, event in enumerate(self.events):
            delay = start + index / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.sent += 1
            yield event
        self.ended = time.perf_counter()
        self.done.set()

    def rate(self) -> float:
        """Events sent per second."""
        if self.started is None or self.ended is None or self.ended <= self.started:
            return 0.0
        return self.sent / (self.ended - self.started)


@dataclass(frozen=True)
class Scenario:
    """A stream to type over: its wire format and bodies (the first one is paced)."""

    key: str
    name: str
    kind: str
    paced: bytes
    last: str  # the text drawn last, once the whole answer is on screen
    after: tuple[bytes, ...] = ()


def scenarios(seconds: float) -> list[Scenario]:
    """The tool call and the Markdown answer, each ``seconds`` long at ``RATE``."""
    fragments = int(seconds * RATE)
    source = source_text(fragments * 4 - 40)  # 4-char fragments of the JSON arguments
    arguments = {"path": "handler.py", "content": source}
    markdown = markdown_text(fragments * 5)
    return [
        Scenario(
            "save_file",
            f"save_file {len(source) // 1000} KB, 4-char fragments (anthropic)",
            "anthropic",
            tool_call_body("anthropic", "save_file", arguments, size=4),
            "Saved handler.py.",
            (text_body("anthropic", "Saved handler.py.", 5),),
        ),
        Scenario(
            "markdown",
            f"Markdown {len(markdown) // 1000} KB, 5-char deltas (openai)",
            "openai",
            text_body("openai", markdown, 5),
            END_LINE,
        ),
    ]


# -- runs --------------------------------------------------------------------------------------


def _ready_chattui(text: str) -> bool:
    return "palette" in text and "idle" in text


def floor_run(keys: int) -> list[Echo]:
    """Echo times of ``keys`` keys typed into the bare Textual app, idle."""
    with tempfile.TemporaryDirectory() as name:
        term = Terminal([sys.executable, "-c", BARE_APP], child_env(Path(name), None))
        try:
            term.wait_for(lambda text: BARE_MARKER in text)
            time.sleep(0.3)  # past the first frames, as for chattui
            return type_keys(term, lambda: False, keys)
        finally:
            term.finish(5.0, kill=True)


@dataclass(frozen=True)
class Run:
    """One chattui run: echo times idle and while streaming, the send rate, and whether
    the answer's end was drawn."""

    idle: list[Echo]
    streaming: list[Echo]
    rate: float
    drawn: bool


def chattui_run(scenario: Scenario, server: Server, idle_keys: int) -> Run:
    """Idle keys, then "go" and keys while the paced stream is sent."""
    paced = Paced(writes(scenario.paced, 0))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base = server.loopback.base_url + ROUTES[scenario.kind][0]
        config = write_config(tmp, scenario.kind, base)
        headers = {"Content-Type": "text/event-stream"}
        replies = [Reply(paced.chunks(), headers=headers)]
        replies += [Reply(writes(body, 0), headers=headers) for body in scenario.after]
        server.loopback.script(ROUTES[scenario.kind][1], *replies)
        server.arrivals.clear()
        term = Terminal(chattui_command(), child_env(tmp, config))
        try:
            term.wait_for(_ready_chattui)
            time.sleep(0.3)  # the work chattui starts after its first screen
            idle = type_keys(term, lambda: False, idle_keys)
            term.type(b"go\r")
            deadline = time.perf_counter() + READY_TIMEOUT
            while paced.started is None and time.perf_counter() < deadline:
                time.sleep(0.001)
            if paced.started is None:
                raise RuntimeError("chattui sent no request")
            streaming = type_keys(term, paced.done.is_set)
            paced.done.wait(READY_TIMEOUT)
            drawn = _drawn(term, scenario.last)
        finally:
            term.finish(5.0, kill=True)
    return Run(idle, streaming, paced.rate(), drawn)


def _drawn(term: Terminal, last: str) -> bool:
    """Whether the answer's last text is drawn within ``READY_TIMEOUT`` of the last write."""
    try:
        term.wait_for(lambda text: last in text)
    except RuntimeError:
        return False
    return True


# -- the table ---------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(echoes: list[Echo], floor: float | None, budget: bool) -> list[str]:
    """Median / max / keys (with the late and the lost ones), ratio to the floor's median,
    verdict (a lost key misses the budget)."""
    drawn = [e for e in echoes if e is not None]
    if not drawn:
        return ["no key drawn", f"{len(echoes)}", "", ""]
    median, worst = statistics.median(drawn), max(drawn)
    ratio = "" if floor is None else f"{median / floor:.2f}x"
    lost = len(echoes) - len(drawn)
    verdict = ""
    if budget:
        ok = median <= MEDIAN_BUDGET and worst <= MAX_BUDGET and not lost
        verdict = "met" if ok else "MISSED"
    return [f"{_ms(median)} / {_ms(worst)}", _keys(drawn, lost), ratio, verdict]


def _keys(drawn: list[float], lost: int) -> str:
    """How many keys, with the delays of those drawn after ``LATE`` and the count of those
    never drawn."""
    late = sorted(e for e in drawn if e > LATE)
    notes = [f"{len(late)} late: " + ", ".join(f"{e:.1f}" for e in late) + " s"] if late else []
    if lost:
        notes.append(f"{lost} lost: not drawn in {ECHO_TIMEOUT:.0f} s")
    return f"{len(drawn) + lost}" + (f" ({'; '.join(notes)})" if notes else "")


def measure(seconds: float, repeats: int, idle_keys: int) -> list[list[str]]:
    """Alternate floor and chattui runs; one row per kind of key."""
    floor: list[Echo] = []
    idle: list[Echo] = []
    streaming: dict[str, list[Echo]] = {}
    rates: dict[str, list[float]] = {}
    undrawn = 0
    chosen = scenarios(seconds)
    with Server() as server:
        for _ in range(repeats):
            for scenario in chosen:
                floor += floor_run(idle_keys)
                run = chattui_run(scenario, server, idle_keys)
                idle += run.idle
                streaming.setdefault(scenario.key, []).extend(run.streaming)
                rates.setdefault(scenario.key, []).append(run.rate)
                undrawn += not run.drawn
    floor_drawn = [e for e in floor if e is not None]
    base = statistics.median(floor_drawn) if floor_drawn else None
    rows = [["bare Textual app, one Input, idle (floor)", *summary(floor, None, False)]]
    rows.append(["chattui, idle", *summary(idle, base, False)])
    for scenario in chosen:
        sent = statistics.median(rates[scenario.key])
        label = f"chattui while {scenario.name} streams at {sent:,.0f} events/s"
        rows.append([label, *summary(streaming[scenario.key], base, True)])
    if undrawn:
        rows.append([f"WARNING: {undrawn} run(s) did not draw the answer's end", "", "", ""])
    return rows


HEADERS = ["keys typed into", "echo median / max", "keys", "/ floor", "median <= 30, max <= 60 ms"]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the echo table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3 s streams, one run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="each stream's length")
    ns = parser.parse_args(argv)
    seconds, repeats = (3.0, 1) if ns.quick else (ns.seconds, ns.repeats)
    rows = measure(seconds, repeats, idle_keys=20)
    print(table(HEADERS, rows, ns.markdown))
    print(
        f"\npty {'x'.join(map(str, (120, 40)))}; keys pooled over {repeats} run(s), floor and "
        "chattui alternated; a key is timed from the write to the master to its bytes read "
        f"back; keys {KEY_GAP * 1000:.0f} ms apart after each echo. {RATE:,} "
        "fragments/s scheduled, one SSE event per write."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
