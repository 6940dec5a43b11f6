"""Shared test set-up: hypothesis profiles, the ``torch`` fixture, small helpers.

* Hypothesis runs with ``deadline=None`` (exact arithmetic on huge rationals has
  unpredictable timings).  Tests write ``@settings(max_examples=scaled(n))``: n examples
  normally, 20 n with ``HYPOTHESIS_PROFILE=thorough`` (for a long hunt before a release).
* Tests that need PyTorch take the session fixture ``torch``.  Without PyTorch they are
  skipped, with a message on how to get the CPU build, except in CI (environment variable
  ``CI=true``), where a missing PyTorch fails them: CI must exercise the PyTorch bridge.
* The fixture ``cli`` is ``strategies.run_cli``: ``cli("info", path)`` runs
  ``python -m exactconvex info PATH`` in a subprocess and returns the ``CompletedProcess``.

Helpers that test files import (``scaled``, ``run_cli``, the strategies) live in
``tests/strategies.py``, not here: importing from a conftest breaks as soon as a second
conftest.py exists.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# tests/ on sys.path, so that test files can `from strategies import ...` under any import mode
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile("exactconvex", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "exactconvex"))

from strategies import run_cli  # noqa: E402  (needs tests/ on sys.path)

TORCH_CPU_HINT = ("install the PyTorch CPU build: pip install 'torch==2.13.0+cpu' "
                  "(from a local wheel) or pip install torch --index-url https://download.pytorch.org/whl/cpu")


@pytest.fixture(scope="session")
def torch():
    """The ``torch`` module; skip (or, under CI=true, fail) when it cannot be imported."""
    try:
        import torch as torch_module
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PyTorch cannot be imported ({exc}); the PyTorch tests must run in CI: "
                        f"{TORCH_CPU_HINT}", pytrace=False)
        pytest.skip(f"PyTorch is not installed; to run these tests, {TORCH_CPU_HINT}")
    return torch_module


@pytest.fixture
def cli():
    return run_cli
