"""The ``chattui`` command: the TUI, pipe mode (``-p``), ``export``, ``config``,
``models`` and ``mcp``.

Start-up is kept lean: ``--version`` and ``--help`` import neither Textual
nor httpx; each mode imports what it needs only once it is chosen.

Exit codes: 0 the final turn finished normally; 1 a provider or tool-loop
failure; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from providers.reasoning import REASONING_LEVELS
from tui import __version__
from tui.exitcodes import ExitCode

if TYPE_CHECKING:
    from tui.core.config import Config

DESCRIPTION = "A terminal chat client for LLMs that renders tool calls live while they stream."
EPILOG = """commands:
  chattui export [ID|latest] --format md|json [-o FILE]   print or write a transcript
  chattui config [--config PATH]                           show and check the config file
  chattui models [--provider NAME] [--json]                list the models the server offers
  chattui mcp [--config PATH]                              start the MCP servers, list their tools

With no config file, $OPENAI_API_KEY or $ANTHROPIC_API_KEY selects that API,
otherwise chattui runs its offline demo.
"""


def _session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", metavar="NAME", help="provider table from the config")
    parser.add_argument("--model", metavar="MODEL", help="override the provider's model")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to use")
    parser.add_argument(
        "--reasoning",
        choices=REASONING_LEVELS,
        help="reasoning effort for this session (overrides the provider's reasoning setting)",
    )
    parser.add_argument(
        "--workspace", metavar="DIR", type=Path, help="the only directory file tools may touch"
    )
    parser.add_argument(
        "--resume",
        metavar="ID",
        nargs="?",
        const="latest",
        help="continue a saved conversation (default: latest)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The main parser (TUI and pipe mode)."""
    parser = argparse.ArgumentParser(
        prog="chattui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chattui {__version__}")
    parser.add_argument(
        "-p",
        "--prompt",
        metavar="PROMPT",
        help="pipe mode: run one turn without the TUI (stdin is appended)",
    )
    parser.add_argument(
        "--json", action="store_true", help="pipe mode: print one JSON event per line"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="pipe mode: approve tool calls (within the approval policy)",
    )
    parser.add_argument(
        "--attach",
        metavar="FILE",
        action="append",
        default=[],
        help="pipe mode: attach a workspace file (an image, or text); repeatable",
    )
    _session_options(parser)
    return parser


def build_export_parser() -> argparse.ArgumentParser:
    """``chattui export``."""
    parser = argparse.ArgumentParser(
        prog="chattui export", description="Print or write a transcript."
    )
    parser.add_argument("ref", nargs="?", default="latest", metavar="ID|latest")
    parser.add_argument("--format", choices=("md", "json"), default="md")
    parser.add_argument("-o", "--output", metavar="FILE", type=Path)
    return parser


def build_config_parser() -> argparse.ArgumentParser:
    """``chattui config``."""
    parser = argparse.ArgumentParser(
        prog="chattui config", description="Show which config file is used and check it."
    )
    parser.add_argument("--config", metavar="PATH", type=Path)
    return parser


def _replace_unencodable(error: UnicodeError) -> tuple[str | bytes, int]:
    """Codec error handler: U+FFFD for each character the stream cannot encode.

    For UTF-8 it is given as bytes: the encoder takes only ASCII text from a handler.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    count = error.end - error.start
    if error.encoding.replace("-", "").lower() == "utf8":
        return "\ufffd".encode() * count, error.end
    return "?" * count, error.end


codecs.register_error("chattui.replace", _replace_unencodable)


def unicode_safe(*streams: object) -> None:
    """Make ``streams`` print a lone surrogate (which model text may hold) as U+FFFD.

    A strict UTF-8 stream raises ``UnicodeEncodeError`` on one, mid-answer. The TUI shows
    U+FFFD for it already; this gives every printer (text, summaries, exports) the same.
    """
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="chattui.replace")


def build_models_parser() -> argparse.ArgumentParser:
    """``chattui models``."""
    parser = argparse.ArgumentParser(
        prog="chattui models",
        description="List the models the provider's server offers (* marks the configured one).",
    )
    parser.add_argument("--provider", metavar="NAME", help="provider table from the config")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to use")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    unicode_safe(sys.stdout, sys.stderr)
    try:
        if args[:1] == ["export"]:
            return _export(build_export_parser().parse_args(args[1:]))
        if args[:1] == ["config"]:
            return _config(build_config_parser().parse_args(args[1:]))
        if args[:1] == ["models"]:
            return _models(build_models_parser().parse_args(args[1:]))
        if args[:1] == ["mcp"]:
            parser = build_config_parser()
            parser.prog, parser.description = (
                "chattui mcp",
                "Start each MCP server, list its tools.",
            )
            return _mcp(parser.parse_args(args[1:]))
        ns = build_parser().parse_args(args)
        if ns.prompt is not None:
            from tui.pipe import run_pipe

            return run_pipe(ns)
        if ns.json or ns.yes:
            print("chattui: --json and --yes apply to pipe mode (-p PROMPT)", file=sys.stderr)
            return ExitCode.USAGE
        return _run_tui(ns)
    except KeyboardInterrupt:
        return 130


def _run_tui(ns: argparse.Namespace) -> int:
    """The TUI, with no garbage collection until its first screen is drawn.

    Start-up makes about 100,000 objects that live as long as the process (Textual, its
    stylesheet, our modules and widgets), and the collector would walk them all several times
    before the first screen (a tenth of the start-up). ``tui.ui.pacing.settle_gc`` turns it
    back on once the first screen is drawn, after one collection.

    The methods of the ~120 dataclasses and the ~120 regular expressions made before that
    screen are compiled once and kept (``tui.core.dataclass_cache``, ``tui.core.regex_cache``;
    the app saves new ones after its first screen).
    """
    gc.disable()
    from tui.core import dataclass_cache, regex_cache

    dataclass_cache.install()
    regex_cache.install()
    try:
        from tui.ui.app import run_app

        return run_app(ns)
    finally:
        regex_cache.uninstall()
        dataclass_cache.uninstall()
        gc.enable()


def _export(ns: argparse.Namespace) -> int:
    from tui.core import locations
    from tui.core.transcript import TranscriptError, load, resolve, to_json, to_markdown

    try:
        transcript = load(resolve(locations.transcripts_dir(), ns.ref))
    except (TranscriptError, OSError) as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    text = to_markdown(transcript) if ns.format == "md" else to_json(transcript)
    if ns.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        ns.output.write_text(text, encoding="utf-8", errors="chattui.replace")
    except OSError as exc:
        print(f"chattui: cannot write {ns.output}: {exc.strerror}", file=sys.stderr)
        return ExitCode.FAILED
    print(f"wrote {ns.output}", file=sys.stderr)
    return ExitCode.OK


def _load_config(path: Path | None) -> Config | None:
    """The config at ``path`` (or the default place), or None after saying why it is unusable."""
    from tui.core.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return None


def _config(ns: argparse.Namespace) -> int:
    from tui.core.keys import Severity, doctor

    config = _load_config(ns.config)
    if config is None:
        return ExitCode.USAGE
    findings = doctor(config)
    for finding in findings:
        prefix = "" if finding.severity is Severity.INFO else f"{finding.severity}: "
        print(f"{prefix}{finding.text}")
    problems = sum(f.severity is Severity.PROBLEM for f in findings)
    print(f"{problems} problem(s)" if problems else "ok")
    return ExitCode.USAGE if problems else ExitCode.OK


def _mcp(ns: argparse.Namespace) -> int:
    from tui.core.mcp.report import check_servers, report_lines
    from tui.core.mcp.status import ServerState

    config = _load_config(ns.config)
    if config is None:
        return ExitCode.USAGE
    if not config.mcp:
        print("no MCP servers configured ([mcp.servers.NAME] tables)")
        return ExitCode.OK
    statuses = check_servers(config)
    for line in report_lines(config, statuses):
        print(line)
    up = all(status.state is ServerState.READY for status in statuses)
    return ExitCode.OK if up else ExitCode.FAILED


def _models(ns: argparse.Namespace) -> int:
    import json

    from tui.core.catalog import models_for
    from tui.core.config import ConfigError

    try:
        chosen, found = models_for(ns.provider, ns.config)
    except ConfigError as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if found.error:
        print(f"chattui: {chosen.name}: {found.error}", file=sys.stderr)
        return ExitCode.FAILED
    if ns.json:
        models = [{"id": m.id, "label": m.label} for m in found.models]
        data = {"provider": chosen.name, "kind": chosen.kind, "current": chosen.model}
        print(json.dumps({**data, "models": models}, ensure_ascii=False))
        return ExitCode.OK
    for model in found.models:  # names are printable: providers.models drops the rest
        mark = "*" if model.id == chosen.model else " "
        print(f"{mark} {model.id}" + (f"  ({model.label})" if model.label else ""))
    print(f"{len(found.models)} models from {chosen.name} ({chosen.kind})", file=sys.stderr)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
