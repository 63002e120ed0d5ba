"""The long fuzzing profile: the config and command-line property tests with many examples.

The suite runs these property tests bounded and derandomized (the same few dozen cases
every time); this runs each with ``--examples`` cases (default 500, ``--quick`` 40) from
a random seed, so every run explores new configs and command lines. Each test runs in
its own pytest process; the table gives the examples, the time and the outcome. A
failure prints pytest's report (with the falsifying example and a ``@reproduce_failure``
blob) and makes ``python3 dev.py bench`` report this script as failed.

Run: ``python benchmarks/fuzz.py [--examples N] [--quick] [--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from _common import ROOT, table

from tests.support.fuzz import EXAMPLES_VARIABLE

# (pytest node id, what it generates)
TESTS = [
    (
        "tests/core/test_config_fuzz.py::test_generated_configs_load_or_fail_clearly",
        "config files from the schema, valid and broken",
    ),
    (
        "tests/core/test_config_fuzz.py::test_files_that_are_not_toml_fail_clearly",
        "bytes that are not TOML",
    ),
    (
        "tests/cli/test_cli_fuzz.py::test_any_command_line_ends_clearly",
        "command lines",
    ),
    (
        "tests/cli/test_cli_fuzz.py::test_when_the_doctor_says_ok_the_run_starts",
        "configs: doctor ok means the run starts",
    ),
]


def run_one(node: str, examples: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run one property test in a fresh pytest with ``examples`` cases; (seconds, result)."""
    env = {**os.environ, EXAMPLES_VARIABLE: str(examples)}
    command = [sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def main(argv: Sequence[str] | None = None) -> int:
    """Print the fuzzing table; raise when a property fails (so run_all counts it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="40 examples per test")
    parser.add_argument("--markdown", action="store_true")
    ns = parser.parse_args(argv)
    examples = 40 if ns.quick else ns.examples
    rows, failures = [], []
    for node, what in TESTS:
        seconds, done = run_one(node, examples)
        outcome = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        rows.append([what, examples, f"{seconds:.1f} s", outcome])
        if done.returncode != 0:
            failures.append(f"--- {node}\n{done.stdout[-6000:]}{done.stderr[-2000:]}")
    print(table(["property", "examples", "time", "outcome"], rows, ns.markdown))
    print("\nrandom seed per run; a failure shows its falsifying example and how to replay it.")
    if failures:
        print("\n".join(failures))
        raise RuntimeError(f"{len(failures)} property test(s) failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
