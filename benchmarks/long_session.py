"""Long sessions, timed from outside: resume and export of a 1,000-turn transcript.

Printed as the first table of ``memory.py`` (``memory.py --times``: that table alone; medians
of 3 runs, ``--quick`` 1). The transcript (``write_transcript``: each turn the user's
question and a 0.2 KB Markdown answer, a paragraph and a code fence; every 10th turn also a
``save_file`` call of 2 KB and its result, the tenth-last one of 1 MB, so the resumed screen
shows its card) is written to a fresh data dir; ``memory.py`` resumes the same file in
process for its RSS.

* resume: ``chattui --resume`` spawned on a pty (120x40) until the status bar, the footer and
  the newest answer are drawn. Floor: a bare Textual app with one ``Input``
  (``startup.BARE_APP``) until its first screen, spawned the same way just before: the
  interpreter, Textual and a first frame, which any Textual client pays before showing
  anything; what chattui adds is reading the file and building the screen of the newest
  turns. (Reading and parsing the file alone is the export's floor below.)
* export: ``chattui export latest --format md|json -o FILE``, process spawn to exit. Floor: a
  Python process that reads the same file and ``json.loads`` every line, the least any
  export of it must do (no output written).

Runs alternate floor and chattui; the ratio is the median of per-run ratios. Budget: each at
most 1 s (the ratio is printed to compare runs on a loaded machine).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import chattui_command
from _pty import PtyChild, child_env, strip_ansi
from startup import _usable, first_screen

BIG_FILE = 2**20  # one save_file of the transcript writes a file this big
TIME_BUDGET = 1.0  # seconds, for resume to a usable screen and for export
PARSE_FLOOR = (
    "import json, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    records = [json.loads(line) for line in f]\n"
)
ANSWER = (
    "Answer {n}: the `parse` step is **linear**, and the cache keeps the last result, so a "
    "second call with the same text costs nothing. Here is the shape of it:\n\n"
    "```python\ndef parse(text):\n    return text.split()\n```\n"
)
DEMO_CONFIG = '[providers.demo]\nkind = "demo"\n[tools]\nworkspace = "{workspace}"\n'


def write_transcript(data_dir: Path, workspace: Path, turns: int) -> Path:
    """A ``turns``-turn conversation saved the way chattui saves one."""
    from providers.conversation import AssistantMessage, TextPart, ToolCall, ToolResult
    from providers.conversation import UserMessage as UserMsg
    from tui.core import locations
    from tui.core.transcript import TranscriptWriter

    directory = locations.transcripts_dir({"CHATTUI_DATA_DIR": str(data_dir)})
    line = "def handler(event):\n    return {'ok': True}\n"
    source, big = line * 50, line * (BIG_FILE // len(line))
    with TranscriptWriter.create(
        directory, provider="demo", model="demo", workspace=str(workspace)
    ) as writer:
        for turn in range(1, turns + 1):
            writer.append_user(UserMsg(f"question {turn}"))
            if turn % 10 == 0:
                content = big if turn == turns - 10 else source
                arguments = {"path": f"f{turn}.py", "content": content}
                call = ToolCall(f"call_{turn}", "save_file", arguments, json.dumps(arguments))
                writer.append(AssistantMessage((call,), "demo", "tool_calls"))
                writer.append(ToolResult(call.id, "save_file", f"wrote f{turn}.py"))
            writer.append(AssistantMessage((TextPart(ANSWER.format(n=turn)),), "demo", "stop"))
        return writer.path


def demo_env(tmp: Path) -> dict[str, str]:
    """A child's environment with the offline demo provider configured and a workspace."""
    workspace = tmp / "ws"
    workspace.mkdir(exist_ok=True)
    config = tmp / "config.toml"
    config.write_text(DEMO_CONFIG.format(workspace=workspace), encoding="utf-8")
    return child_env(tmp, config)


def _resume_screen(tmp: Path, turns: int) -> float:
    """Seconds from spawning ``chattui --resume`` on a pty to a usable screen showing the
    newest answer."""
    newest = f"Answer {turns}:"

    def shown(output: bytes) -> bool:
        return newest in strip_ansi(output) and _usable(output)

    command = [*chattui_command(), "--workspace", str(tmp / "ws"), "--resume"]
    child = PtyChild(command, demo_env(tmp), watch=shown)
    child.event.wait(60.0)
    seen = child.seen
    child.finish(5.0, kill=True)
    if seen is None:
        raise RuntimeError(f"resume not shown: {strip_ansi(bytes(child.output))[-300:]!r}")
    return seen - child.started


def _timed(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def session_times(turns: int, repeats: int) -> list[list[str]]:
    """Resume and export of a ``turns``-turn transcript beside their floors, alternated."""
    runs: dict[str, list[tuple[float, float]]] = {"resume": [], "md": [], "json": []}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = demo_env(tmp)
        path = write_transcript(tmp / "data", tmp / "ws", turns)
        parse = [sys.executable, "-c", PARSE_FLOOR, str(path)]
        for _ in range(repeats):
            runs["resume"].append((first_screen(bare=True), _resume_screen(tmp, turns)))
            for fmt in ("md", "json"):
                export = [*chattui_command(), "export", "latest", "--format", fmt]
                target = ["-o", str(tmp / f"out.{fmt}")]
                runs[fmt].append((_timed(parse, env), _timed(export + target, env)))
        size = path.stat().st_size
    med = statistics.median
    labels = {
        "resume": (
            f"resume {turns:,} turns ({size / 1e6:.1f} MB) to a usable screen",
            "bare Textual app's first screen",
        ),
        "md": ("chattui export --format md of that transcript", "read + json.loads each line"),
        "json": ("chattui export --format json", "read + json.loads each line"),
    }
    out: list[list[str]] = []
    for key, pairs in runs.items():
        label, floor_name = labels[key]
        ours, ratio = med(o for _, o in pairs), med(o / f for f, o in pairs)
        verdict = "met" if ours <= TIME_BUDGET else "MISSED"
        floor = f"{floor_name}: {med(f for f, _ in pairs) * 1000:,.0f} ms"
        out.append([label, floor, f"{ours * 1000:,.0f} ms", f"{ratio:.2f}x", verdict])
    return out
