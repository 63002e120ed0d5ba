"""Hypothesis settings for the property tests over the config file and the command line.

In the suite the tests are bounded and deterministic: a fixed number of examples drawn
from a derandomized generator (the same cases on every run and every machine), no
example database, no per-example deadline (a busy machine must not turn into a
failure), and no "explain" phase (it re-runs a failing case hundreds of times).

``CHATTUI_FUZZ_EXAMPLES=N`` is the long profile (``python3 dev.py bench`` sets it): N
examples from a random seed, so each long run explores new cases; a failure prints the
seed and a ``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

EXAMPLES_VARIABLE = "CHATTUI_FUZZ_EXAMPLES"


def long_profile() -> int | None:
    """The number of examples the long profile asks for, or None in the suite."""
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return int(value) if value else None


def fuzz_settings(examples: int) -> settings:
    """Settings for one property test: ``examples`` in the suite, more in the long profile.

    Args:
        examples: How many cases the suite runs (keep the test under a few seconds).
    """
    long = long_profile()
    # Function-scoped fixtures (the autouse no-network guard) are meant to be shared by
    # every example of a test; the state examples must not share lives in module fixtures
    # the tests reset themselves.
    checks = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
    return settings(
        max_examples=long or examples,
        derandomize=long is None,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=checks,
        print_blob=True,
    )
