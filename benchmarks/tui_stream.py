"""TUI streaming: the real ChatApp drains a loopback stream, next to pipe mode on the same bytes.

Streams (built from the Markdown unit and the file content of ``pipe_throughput.py``,
served by a loopback HTTP server in 16 KB chunks, unpaced): a 60 KB Markdown answer
(headings, lists, tables, code fences, then one closing line) in 5-character deltas, OpenAI
format; and a 200 KB ``save_file`` call in 4-character argument fragments, Anthropic format,
run by ``approval = "auto"`` and followed by a short text reply. Unpaced, both are over in a
fraction of a second, too short to type into; the third stream ("paced") is a 50 KB
``save_file`` sent in 2 KB reads every 3 ms (about 15 events a read, ~3 s of streaming, far
faster than a model writes), so key echo and stalls are measured over seconds of continuous
work; a fourth ("paced_markdown") sends the Markdown answer in 1 KB reads every 3 ms.

The TUI is the real ``ChatApp`` over ``tui.core.runtime.start`` (the provider pointed at the
server), in a fresh child process attached to a pseudo-terminal: ``App.run_test(headless=
False, size=(120, 40))``, so Textual's Linux driver encodes and writes every frame to the
pty (the parent drains it) while a Pilot presses the keys. Times are CLOCK_MONOTONIC
(``perf_counter``), which the parent and the child share.

* send -> on screen: from pressing Enter (prompt "go") to the first frame written to the
  terminal at which the answer is complete. Markdown: the turn is over (``app.busy`` is
  False, so the answer's last block is final) and the last line the answer's
  ``MarkdownView`` draws holds the closing line. save_file: the card is ``done`` and its
  ``CodeView.line_count`` equals the file's. A frame is a call of ``App._display`` with a
  compositor update (the app's only path to the terminal).
* fragments/s: the wire fragments of the stream's text (Markdown) or arguments (save_file)
  handed to the UI by the turn worker, over the first-to-last delta interval. The provider
  layer coalesces the fragments one network read carried into one event, so events are not
  counted: the characters of text or argument deltas seen by ``StatusBar.observe`` are, and
  divided by the fragment size the stream was served in (5 or 4) they give the fragments.
* max stall: the longest gap seen by an asyncio task on the app's loop that sleeps 5 ms,
  from Enter to on screen (so it includes the final render).
* key echo: while the answer streams, every 50 ms (once the previous key was echoed) a
  letter is pressed with ``pilot.press``; its latency runs from the key event being sent to
  the first frame written after the prompt's ``render_line`` ran with the letter already in
  the prompt's document (key -> TextArea edit -> repaint -> terminal write).
* pipe mode: ``chattui -p go --json --yes``, same config and bytes, timed from the request's
  arrival at the server (its start-up excluded) to the line ending the same work:
  ``finish`` (Markdown) or ``tool_result`` (save_file). Its fragments/s counts the same way:
  characters of ``text`` (Markdown) or ``tool_call_delta`` (save_file) lines / fragment size.

A run whose answer is not on screen after ``--cap`` seconds (15; quick 10) is reported as
"> cap" and not repeated (its child is ended at once). Runs of the TUI and of pipe mode
alternate, so a change in machine load hits both; one pipe run before them warms caches.
``--trace-stalls`` samples the app's stack during stalls (a diagnostic thread);
``--headless`` uses Textual's headless driver instead of the pty.

Budgets: the 60 KB answer on screen within 1 s of sending; on the save_file the TUI within
1.5x of pipe mode and at least 5,000 fragments/s; no stall over 50 ms; key echo under 50 ms.
Run: ``python benchmarks/tui_stream.py [--quick] [--markdown] [--repeats N] [--only NAME]``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gc
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, chattui_command, table

from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import ROUTES, text_body, tool_call_body

SIZE = (120, 40)
HEARTBEAT = 0.005
KEY_INTERVAL = 0.05
STALL_BUDGET = 0.05
CHILD_TIMEOUT = 240.0
END_LINE = "That is the whole answer, the last line of it."
MARKDOWN_UNIT = (  # the unit of pipe_throughput.py
    "## Section\n\nSome **bold** text, a [link](https://example.com) and `code`.\n\n"
    "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n"
)
PACED_SIZE, PACED_CHUNK, PACED_PACE = 50_000, 2048, 0.003
"""The paced stream: a save_file fed like a fast model over a real network, for seconds."""
SOURCE_LINE = "def handler(event):\n    return {'ok': True, \"v\": event}\n"
THIS = Path(__file__).resolve()


@dataclass(frozen=True)
class Stream:
    """One benchmark stream: what is served and how the child knows it is on screen."""

    key: str
    name: str
    kind: str
    replies: tuple[bytes, ...]
    fragments: int
    check: dict[str, Any]
    chunk: int = 16384  # bytes per network write; 0: one SSE event per write
    pace: float = 0.0


def writes(body: bytes, chunk: int) -> list[bytes]:
    """The network writes of ``body``: ``chunk`` bytes each, or one SSE event each if 0."""
    if chunk == 0:
        return [event + b"\n\n" for event in body.split(b"\n\n") if event]
    return [body[i : i + chunk] for i in range(0, len(body), chunk)]


def markdown_text(size: int) -> str:
    """Whole Markdown units (at least ``size`` characters in all), then the closing line."""
    units = max(1, -(-(size - len(END_LINE) - 1) // len(MARKDOWN_UNIT)))
    return MARKDOWN_UNIT * units + END_LINE + "\n"


def source_text(size: int) -> str:
    """The ``save_file`` content of ``pipe_throughput.py`` (``size`` characters)."""
    return (SOURCE_LINE * (size // len(SOURCE_LINE) + 1))[:size]


def shown_lines(text: str) -> int:
    """Lines a CodeView shows for ``text`` (a trailing newline starts no line)."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def streams(quick: bool) -> list[Stream]:
    """The four streams (smaller with ``quick``)."""
    md_size, file_size = (20_000, 50_000) if quick else (60_000, 200_000)
    markdown = markdown_text(md_size)
    source = source_text(file_size)
    arguments = {"path": "handler.py", "content": source}
    raw = json.dumps(arguments)
    paced = {"path": "handler.py", "content": source_text(PACED_SIZE)}
    return [
        Stream(
            "markdown",
            f"markdown {len(markdown) // 1000} KB, 5-char deltas (openai)",
            "openai",
            (text_body("openai", markdown, 5),),
            -(-len(markdown) // 5),
            {"type": "markdown", "last": END_LINE, "size": 5},
        ),
        Stream(
            "save_file",
            f"save_file {file_size // 1000} KB, 4-char fragments (anthropic)",
            "anthropic",
            (
                tool_call_body("anthropic", "save_file", arguments, size=4),
                text_body("anthropic", "Saved handler.py.", 5),
            ),
            -(-len(raw) // 4),
            {"type": "save_file", "lines": shown_lines(source), "size": 4},
        ),
        Stream(
            "paced_markdown",
            f"markdown {len(markdown) // 1000} KB, 5-char deltas, 1 KB every "
            f"{PACED_PACE * 1000:.0f} ms",
            "openai",
            (text_body("openai", markdown, 5),),
            -(-len(markdown) // 5),
            {"type": "markdown", "last": END_LINE, "size": 5},
            chunk=1024,
            pace=PACED_PACE,
        ),
        Stream(
            "paced",
            f"save_file {PACED_SIZE // 1000} KB, 4-char fragments, {PACED_CHUNK // 1024} KB "
            f"every {PACED_PACE * 1000:.0f} ms",
            "anthropic",
            (
                tool_call_body("anthropic", "save_file", paced, size=4),
                text_body("anthropic", "Saved handler.py.", 5),
            ),
            -(-len(json.dumps(paced)) // 4),
            {"type": "save_file", "lines": shown_lines(paced["content"]), "size": 4},
            chunk=PACED_CHUNK,
            pace=PACED_PACE,
        ),
    ]


# -- the parent: server, config, child under a pty, pipe mode --------------------------------


class Server:
    """A loopback server that also notes when each request arrives."""

    def __init__(self) -> None:
        self.loopback = LoopbackServer()
        self.arrivals: list[float] = []
        original = self.loopback._next

        def _next(path: str) -> Reply:
            self.arrivals.append(time.perf_counter())
            return original(path)

        self.loopback._next = _next  # type: ignore[method-assign]

    def __enter__(self) -> Server:
        self.loopback.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loopback.stop()

    def serve(self, stream: Stream) -> None:
        """Script the stream's replies (in its chunks, at its pace); forget earlier arrivals."""
        headers = {"Content-Type": "text/event-stream"}
        replies = [
            Reply(writes(body, stream.chunk), headers=headers, pace=stream.pace)
            for body in stream.replies
        ]
        self.loopback.script(ROUTES[stream.kind][1], *replies)
        self.arrivals.clear()


def write_config(tmp: Path, kind: str, base_url: str) -> Path:
    """A config with one provider at ``base_url``, tools auto-approved in ``tmp/ws``."""
    workspace = tmp / "ws"
    workspace.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.toml"
    config.write_text(
        f'default_provider = "p"\n[providers.p]\nkind = "{kind}"\nbase_url = "{base_url}"\n'
        f'model = "m"\nmax_retries = 0\n[tools]\nworkspace = "{workspace}"\n'
        'approval = "auto"\nmax_steps = 4\n',
        encoding="utf-8",
    )
    return config


def child_env(tmp: Path, config: Path | None) -> dict[str, str]:
    """The environment of a child chattui: no vendor keys, private data dir, a real TERM."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TERM="xterm-256color", CHATTUI_DATA_DIR=str(tmp / "data"))
    env.update(COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]), CHATTUI_DEMO_DELAY="0")
    env.pop("CHATTUI_CONFIG", None)
    if config is not None:
        env["CHATTUI_CONFIG"] = str(config)
    return env


def strip_ansi(data: bytes) -> str:
    """Terminal output without escape sequences (for finding text the app drew)."""
    data = re.sub(rb"\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)", b"", data)
    data = re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]", b"", data)
    data = re.sub(rb"\x1b[ -/]*[0-~]", b"", data)
    return data.decode("utf-8", "replace")


class PtyChild:
    """A process on the slave side of a fresh pseudo-terminal; the parent drains the master.

    Args:
        argv: the command.
        env: its environment.
        watch: called with all output so far (bytes) after each read; True stops watching.
    """

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], watch: Callable[[bytes], bool] | None = None
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self._watch = watch
        self.output = bytearray()
        self.seen: float | None = None  # when ``watch`` first returned True
        self.event = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            self.received(data, time.perf_counter())
        self.event.set()

    def received(self, data: bytes, now: float) -> None:
        """One read of the child's output, read at ``now`` (subclasses add their watch)."""
        self.output += data
        if self._watch is not None and self.seen is None and self._watch(bytes(self.output)):
            self.seen = now
            self.event.set()

    def finish(self, timeout: float, kill: bool = False) -> int:
        """Wait for (or kill) the child, then stop draining; returns its exit code."""
        if kill:
            self.proc.kill()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._thread.join(timeout=5)
        os.close(self._master)
        return code


def run_child(
    script: Path, spec: dict[str, Any], env: dict[str, str], tmp: Path, headless: bool = False
) -> tuple[dict[str, Any], bytes]:
    """Run ``script --child SPEC`` (under a pty unless ``headless``); returns its result."""
    spec_path, out_path = tmp / "spec.json", tmp / "result.json"
    out_path.unlink(missing_ok=True)
    spec = {**spec, "out": str(out_path), "headless": headless}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    argv = [sys.executable, str(script), "--child", str(spec_path)]
    output = b""
    if headless:
        proc = subprocess.run(
            argv, env=env, cwd=ROOT, capture_output=True, timeout=CHILD_TIMEOUT, check=False
        )
        output = proc.stdout + proc.stderr
    else:
        child = PtyChild(argv, env)
        child.finish(CHILD_TIMEOUT)
        output = bytes(child.output)
    if not out_path.exists():
        raise RuntimeError(f"child wrote no result: {strip_ansi(output)[-800:]}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    if "error" in result:
        raise RuntimeError(f"child failed:\n{result['error']}")
    return result, output


def tui_run(
    stream: Stream,
    server: Server,
    headless: bool,
    trace: bool = False,
    cap: float = 20.0,
    keys: bool = True,
) -> dict[str, Any]:
    """One TUI run of ``stream`` in a fresh child."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = write_config(tmp, stream.kind, server.loopback.base_url + ROUTES[stream.kind][0])
        server.serve(stream)
        spec = {
            "check": stream.check,
            "workspace": str(tmp / "ws"),
            "keys": keys,
            "trace": trace,
            "cap": cap,
        }
        result, output = run_child(THIS, spec, child_env(tmp, config), tmp, headless)
        result["t_request"] = server.arrivals[0] if server.arrivals else None
        if not headless:
            drawn = strip_ansi(output)
            lines = f"{stream.check.get('lines')} lines"
            marker = END_LINE if stream.check["type"] == "markdown" else lines
            result["drawn"] = marker in drawn
        return result


def pipe_run(stream: Stream, server: Server) -> dict[str, Any]:
    """``chattui -p go --json --yes`` on the same bytes; times from the parent's side."""
    end = b'{"type": "finish"' if stream.check["type"] == "markdown" else b'{"type": "tool_result"'
    # Wire fragments: characters of the counted deltas / the size they were served in.
    delta, field = (b'{"type": "text"', "text")
    if stream.check["type"] != "markdown":
        delta, field = (b'{"type": "tool_call_delta"', "arguments")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = write_config(tmp, stream.kind, server.loopback.base_url + ROUTES[stream.kind][0])
        server.serve(stream)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*chattui_command(), "-p", "go", "--json", "--yes"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=child_env(tmp, config),
            cwd=tmp,
        )
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        pending, count = b"", 0
        first = last = t_end = None
        while chunk := os.read(fd, 1 << 20):
            now = time.perf_counter()
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            n = sum(len(json.loads(line)[field]) for line in lines if line.startswith(delta))
            if n:
                count += n
                first = first or now
                last = now
            if t_end is None and any(line.startswith(end) for line in lines):
                t_end = now
        proc.wait()
        total = time.perf_counter() - start
    t_request = server.arrivals[0] if server.arrivals else start
    if t_end is None:
        raise RuntimeError(f"pipe mode printed no {end.decode()} line (exit {proc.returncode})")
    fragments = count / stream.check["size"]
    rate = fragments / (last - first) if first and last and last > first else 0.0
    return {"done": t_end - t_request, "total": total, "fragments": fragments, "rate": rate}


# -- the child: ChatApp with probes ---------------------------------------------------------


class Probe:
    """Hooks into a running ChatApp that time frames, fragments, stalls and key echoes."""

    def __init__(self, app: Any, check: dict[str, Any]) -> None:
        self.app = app
        self.check = check
        self.t_send: float | None = None
        self.t_done: float | None = None
        self.t_idle: float | None = None
        self.capped = False
        self.chars = 0  # of the counted deltas: / check["size"] = wire fragments
        self.t_first: float | None = None
        self.t_last: float | None = None
        self.frames = 0
        self.max_gap = 0.0
        self.max_gap_at = 0.0
        self.stalls = 0
        self.echoes: list[float] = []
        self.key_sent: float | None = None
        self.key_expect = 0
        self.painted = 0
        self._target: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.beat = time.perf_counter()
        self.traces: dict[float, dict[str, Any]] = {}  # by the beat before the stall

    def trace_stalls(self, after: float = 0.02, every: float = 0.005) -> None:
        """Sample the loop thread's stack while the heartbeat is late (a diagnostic thread)."""
        loop_thread = threading.get_ident()

        def watch() -> None:
            while True:
                time.sleep(every)
                beat = self.beat
                if time.perf_counter() - beat < after or self.t_send is None:
                    continue
                frame = sys._current_frames().get(loop_thread)
                stack = traceback.format_stack(frame, limit=40) if frame is not None else []
                trace = self.traces.setdefault(beat, {"at": beat - self.t_send, "samples": []})
                trace["samples"].append([line.strip().replace("\n", " | ") for line in stack])

        threading.Thread(target=watch, daemon=True).start()

    def install(self) -> None:
        """Wrap the app's terminal write, the status bar's observe and the prompt's paint."""
        from providers.events import TextDelta, ToolCallDelta

        app = self.app
        display = app._display

        def _display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self._frame()

        app._display = _display
        status = app.status_bar
        observe = status.observe

        # Only the stream under test: not the short text reply after the tool ran.
        counted = TextDelta if self.check["type"] == "markdown" else ToolCallDelta

        def _observe(event: Any) -> None:
            if isinstance(event, counted):
                now = time.perf_counter()
                self.chars += len(event.text if counted is TextDelta else event.arguments)
                self.t_first = self.t_first or now
                self.t_last = now
            observe(event)

        status.observe = _observe
        prompt = app.prompt
        render_line = prompt.render_line

        def _render_line(y: int) -> Any:
            self.painted = len(prompt.text)
            return render_line(y)

        prompt.render_line = _render_line

    def _frame(self) -> None:
        now = time.perf_counter()
        if self.t_send is None:
            return
        if self.t_done is None:
            self.frames += 1
        if self.t_idle is None and self.t_last is not None and not self.app.busy:
            self.t_idle = now
        if self.key_sent is not None and self.painted >= self.key_expect:
            self.echoes.append(now - self.key_sent)
            self.key_sent = None
        if self.t_done is None and self._complete():
            self.t_done = now

    def _complete(self) -> bool:
        from tui.ui.widgets.code_view import CodeView
        from tui.ui.widgets.messages import AssistantText
        from tui.ui.widgets.tool_card import ToolCard

        app = self.app
        if self.check["type"] == "markdown":
            if app.busy:
                return False
            texts = app.query(AssistantText)
            if not texts:
                return False
            document = texts.last().document
            return self.check["last"] in document.line_text(document.height - 1)
        if self._target is None:
            cards = app.query(ToolCard)
            if not cards:
                return False
            self._target = cards.last()
        card = self._target
        return card.state == "done" and card.query_one(CodeView).line_count == self.check["lines"]

    async def heartbeat(self) -> None:
        """Note the longest gap between 5 ms sleeps while the answer is on its way."""
        last = time.perf_counter()
        while True:
            await asyncio.sleep(HEARTBEAT)
            now = time.perf_counter()
            gap, last, before = now - last, now, self.beat
            self.beat = now
            if before in self.traces:
                self.traces[before]["gap"] = gap
            if self.t_send is not None and self.t_done is None:
                if gap > self.max_gap:
                    self.max_gap, self.max_gap_at = gap, now - self.t_send
                self.stalls += gap > STALL_BUDGET

    async def type_keys(self, pilot: Any) -> None:
        """Press a letter every 50 ms (after the previous one was echoed) while streaming."""
        while self.t_first is None and self.t_done is None:
            await asyncio.sleep(0.002)
        letters = "abcdefghijklmnopqrstuvwxyz"
        count = 0
        while self.t_done is None:
            await asyncio.sleep(KEY_INTERVAL)
            if self.t_done is not None or self.key_sent is not None:
                continue
            self.key_expect = len(self.app.prompt.text) + 1
            self.key_sent = time.perf_counter()
            self.spawn(pilot.press(letters[count % 26]))
            count += 1

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` as a task kept until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def result(self) -> dict[str, Any]:
        """The measurements as JSON-able values."""
        return {
            "t_send": self.t_send,
            "t_done": self.t_done,
            "fragments": self.chars / self.check["size"],
            "t_idle": self.t_idle,
            "capped": self.capped,
            "t_first": self.t_first,
            "t_last": self.t_last,
            "frames": self.frames,
            "max_gap": self.max_gap,
            "max_gap_at": self.max_gap_at,
            "stalls": self.stalls,
            "echoes": self.echoes,
            "unechoed": self.key_sent is not None,
            "traces": sorted(self.traces.values(), key=lambda t: -t.get("gap", 0))[:4],
        }


def rss() -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident set size, in bytes."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 5 ms."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def running(app: Any, headless: bool) -> AsyncIterator[Any]:
    """``app.run_test`` at ``SIZE``; an error of the body is not hidden by one at shutdown."""
    inner: list[str] = []
    try:
        async with app.run_test(headless=headless, size=SIZE) as pilot:
            try:
                yield pilot
            except BaseException:
                inner.append(traceback.format_exc())
                raise
    except BaseException:
        if inner:
            raise RuntimeError(f"in the benchmark:\n{inner[0]}") from None
        raise


async def stream_once(
    app: Any,
    pilot: Any,
    check: dict[str, Any],
    keys: bool,
    trace: bool = False,
    cap: float = CHILD_TIMEOUT / 2,
    probe_class: type[Probe] = Probe,
) -> Probe:
    """Send "go" with Enter and wait until the answer is on screen; returns the probe.

    After ``cap`` seconds the probe is returned with ``capped`` set (the turn still runs).
    ``probe_class`` lets another app (``markdown_peer.py``) say when its answer is complete.
    """
    probe = probe_class(app, check)
    probe.install()
    if trace:
        probe.trace_stalls()
    probe.spawn(probe.heartbeat())
    app.prompt.load_text("go")
    await pilot.pause()
    probe.t_send = time.perf_counter()
    probe.spawn(pilot.press("enter"))
    if keys:
        probe.spawn(probe.type_keys(pilot))
    try:
        await wait_until(lambda: probe.t_done is not None, cap, "the answer")
    except TimeoutError:
        probe.capped = True
        return probe
    await wait_until(lambda: probe.key_sent is None, 5.0, "the last key's echo")
    await wait_until(lambda: not app.busy, 30.0, "the turn to end")
    await pilot.pause()
    return probe


async def child_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """The child's work for one stream: start the app, stream, report."""
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp

    runtime = start(Options(workspace=Path(spec["workspace"])))
    app = ChatApp(runtime)
    try:
        async with running(app, spec["headless"]) as pilot:
            await pilot.pause()
            before = rss()
            probe = await stream_once(
                app,
                pilot,
                spec["check"],
                spec.get("keys", True),
                spec.get("trace", False),
                spec.get("cap", CHILD_TIMEOUT / 2),
            )
            result = probe.result()
            result["rss_before"] = before
            gc.collect()
            result["rss_after"] = rss()
            result["widgets"] = len(app.query("*"))
            result["internal_errors"] = list(app.internal_errors)
            if probe.capped:  # the app is still busy for a long time: leave at once
                Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
                os._exit(0)
    finally:
        runtime.transcript.close()
    return result


def child_main(spec_path: str, work: Callable[[dict[str, Any]], Any]) -> int:
    """Run ``work(spec)`` (a coroutine function) and write its result (or traceback)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    try:
        result = asyncio.run(work(spec))
    except BaseException:  # noqa: BLE001 - the parent shows it
        result = {"error": traceback.format_exc()}
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


# -- the table ------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def summarize(
    stream: Stream, tui: list[dict[str, Any]], pipe: list[dict[str, Any]], cap: float
) -> dict[str, Any]:
    """Medians over runs (worst case for stalls, pooled samples for key echoes).

    A run stopped at ``cap`` counts as ``cap`` for "on screen" (a lower bound).
    """
    med = statistics.median

    def since_send(r: dict[str, Any], key: str) -> float | None:
        return None if r[key] is None else r[key] - r["t_send"]

    def median_of(values: Any) -> float | None:
        present = [v for v in values if v is not None]
        return med(present) if present else None

    ends = [r["t_done"] or r["t_send"] + cap for r in tui]
    echoes = sorted(e for r in tui for e in r["echoes"])
    worst = max(tui, key=lambda r: r["max_gap"])
    return {
        "screen": med(end - r["t_send"] for end, r in zip(ends, tui, strict=True)),
        "capped": sum(r["capped"] for r in tui),
        "runs": len(tui),
        "drained": median_of(since_send(r, "t_last") for r in tui if not r["capped"]),
        "idle": median_of(since_send(r, "t_idle") for r in tui),
        "got": min(r["fragments"] for r in tui),
        "pre_request": median_of(r["t_request"] - r["t_send"] for r in tui if r["t_request"]),
        "pipe": med(p["done"] for p in pipe),
        "pipe_total": med(p["total"] for p in pipe),
        "rate": med(r["fragments"] / (r["t_last"] - r["t_first"]) for r in tui),
        "pipe_rate": med(p["rate"] for p in pipe),
        "stall": worst["max_gap"],
        "stall_at": worst["max_gap_at"],
        "stalls": max(r["stalls"] for r in tui),
        "fps": med(r["frames"] / (end - r["t_send"]) for end, r in zip(ends, tui, strict=True)),
        "widgets": max(r.get("widgets", 0) for r in tui),
        "rss": max(r["rss_after"]["VmHWM"] for r in tui),
        "echo_median": med(echoes) if echoes else None,
        "echo_max": echoes[-1] if echoes else None,
        "echo_n": len(echoes),
        "drawn": all(r.get("drawn", True) for r in tui if not r["capped"]),
        "errors": sum(len(r.get("internal_errors", [])) for r in tui),
    }


def rows(results: dict[str, dict[str, Any]], names: dict[str, str]) -> list[list[str]]:
    """One row per metric, one column per stream measured, then the budget."""
    keys = list(results)

    def line(label: str, fn: Callable[[dict[str, Any], str], str], budget: str = "") -> list[str]:
        return [label, *(fn(results[key], key) for key in keys), budget]

    def screen(s: dict[str, Any], key: str) -> str:
        if s["capped"]:
            text = f"> {s['screen']:.0f} s: not on screen ({s['capped']}/{s['runs']} runs)"
        else:
            text = _ms(s["screen"])
        return f"{text} ({_verdict(s['screen'] <= 1.0)})" if key == "markdown" else text

    def ratio(s: dict[str, Any], key: str) -> str:
        text = f"{'> ' if s['capped'] else ''}{s['screen'] / s['pipe']:.2f}x"
        ok = s["screen"] <= 1.5 * s["pipe"]
        return f"{text} ({_verdict(ok)})" if key == "save_file" else text

    def rate(s: dict[str, Any], key: str) -> str:
        text = f"{s['rate']:,.0f}/s"
        return f"{text} ({_verdict(s['rate'] >= 5000)})" if key == "save_file" else text

    def stall(s: dict[str, Any], key: str) -> str:
        return (
            f"{_ms(s['stall'])} at +{s['stall_at']:.2f} s, {s['stalls']} over 50 ms "
            f"({_verdict(s['stall'] <= STALL_BUDGET)})"
        )

    def echo(s: dict[str, Any], key: str) -> str:
        if s["echo_max"] is None:
            return "no sample"
        ok = s["echo_max"] < STALL_BUDGET
        return f"{_ms(s['echo_median'])} / {_ms(s['echo_max'])}, n={s['echo_n']} ({_verdict(ok)})"

    def drained(s: dict[str, Any], key: str) -> str:
        if s["drained"] is None:
            return f"{s['got']:,.0f} fragments by the cap"
        idle = "still busy" if s["idle"] is None else _ms(s["idle"])
        return f"{_ms(s['drained'])} / {idle}"

    return [
        ["stream", *(names[key] for key in keys), "budget"],
        line("fragments on the wire", lambda s, k: f"{s['wire']:,}"),
        line("TUI: send -> on screen", screen, "markdown <= 1 s"),
        line("TUI: send -> request", lambda s, k: _ms(s["pre_request"])),
        line("TUI: send -> last fragment / turn over", drained),
        line(
            "pipe: request -> done line (whole run)",
            lambda s, k: f"{_ms(s['pipe'])} ({_ms(s['pipe_total'])})",
        ),
        line("TUI / pipe", ratio, "save_file <= 1.5x"),
        line("TUI fragments/s drained (characters / fragment size)", rate, "save_file >= 5,000/s"),
        line(
            "pipe fragments/s (characters / fragment size)", lambda s, k: f"{s['pipe_rate']:,.0f}/s"
        ),
        line("TUI frames written/s", lambda s, k: f"{s['fps']:.0f}"),
        line("longest loop stall", stall, "<= 50 ms"),
        line("key echo median / max", echo, "< 50 ms"),
        line(
            "widgets in the DOM / peak RSS",
            lambda s, k: f"{s['widgets']:,} / {s['rss'] / 2**20:.0f} MB",
        ),
    ]


def print_traces(stream: Stream, runs: list[dict[str, Any]]) -> None:
    """The stacks sampled during the longest stalls (``--trace-stalls``), innermost last."""
    for number, run in enumerate(runs, 1):
        for trace in run["traces"]:
            samples = trace["samples"]
            print(
                f"\n{stream.key} run {number}: {_ms(trace.get('gap'))} stall at "
                f"+{trace['at']:.3f} s, {len(samples)} samples (5 ms apart); first and last:"
            )
            for sample in (samples[0], samples[-1]) if len(samples) > 1 else samples:
                print("    " + "\n    ".join(sample[-12:]) + "\n    --")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the TUI streaming table (or, with ``--child``, be the measured child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smaller streams, one run")
    parser.add_argument("--repeats", type=int, default=None, help="runs per stream (default 3)")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="Textual's headless driver instead of a pty (no terminal writes)",
    )
    parser.add_argument("--only", choices=("markdown", "save_file", "paced_markdown", "paced"))
    parser.add_argument(
        "--trace-stalls",
        action="store_true",
        help="sample the app's stack during stalls over 30 ms and print it",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=None,
        help="seconds a run may take to show its answer (default 15, quick 10)",
    )
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    ns.cap = ns.cap or (10.0 if ns.quick else 15.0)
    if ns.child:
        return child_main(ns.child, child_stream)
    repeats = ns.repeats or (1 if ns.quick else 3)
    chosen = [s for s in streams(ns.quick) if ns.only in (None, s.key)]
    results: dict[str, dict[str, Any]] = {}
    names = {s.key: s.name for s in streams(ns.quick)}
    with Server() as server:
        for stream in chosen:
            tui: list[dict[str, Any]] = []
            pipe: list[dict[str, Any]] = []
            pipe_run(stream, server)  # warm-up (cold caches), not counted
            for _ in range(repeats):  # interleaved, so a change in machine load hits both
                pipe.append(pipe_run(stream, server))
                if not (tui and tui[-1]["capped"]):  # a capped run is not repeated
                    tui.append(tui_run(stream, server, ns.headless, ns.trace_stalls, ns.cap))
            if ns.trace_stalls:
                print_traces(stream, tui)
            summary = summarize(stream, tui, pipe, ns.cap)
            results[stream.key] = {**summary, "wire": stream.fragments}
    table_rows = rows(results, names)
    print(table(table_rows[0], table_rows[1:], ns.markdown))
    notes = [
        f"{k}: not all runs drew the closing text" for k, s in results.items() if not s["drawn"]
    ]
    notes += [f"{k}: {s['errors']} internal errors" for k, s in results.items() if s["errors"]]
    driver = "headless driver" if ns.headless else f"pty {SIZE[0]}x{SIZE[1]}"
    print(
        f"\n{driver}; median of {repeats} run(s) (a run capped at {ns.cap:.0f} s is not "
        "repeated); stall = worst run; key echo pooled; times from Enter."
        + ("".join(f"\nWARNING {n}" for n in notes))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
