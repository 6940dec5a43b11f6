"""Sweeps: decide thousands of networks, in parallel, into a resumable JSON-lines file.

``sweep(...)`` takes network files (paths or globs) or a generated grid, decides each network
exactly with the bounds of ``check`` (``timeout``, ``max_regions``), and appends one JSON row
per network to a results file as chunks finish.  A rerun with the same file skips what is done,
so an interrupted sweep loses at most the networks in flight.  Work runs in this process
(``jobs=1``), in local processes (``jobs=N``, ``concurrent.futures``) or on a Dask cluster
(``dask="tcp://host:8786"``, a scheduler file, or ``"local"``).  Grid networks are generated in the
workers from (cell, index); network n of an architecture depends only on (seed, architecture, n).

>>> import os, tempfile
>>> from exactconvex.sweep import sweep, read_results
>>> out = os.path.join(tempfile.mkdtemp(), "results.jsonl")
>>> summary = sweep(grid="d=2;widths=4x4;count=5;init=int;seed=1", results=out)
>>> summary.networks, len(read_results(out))
(5, 5)
>>> read_results(out)[0]["network"]
'd2-4x4-int3-seed1-000000'

The module itself is callable (``exactconvex.sweep(...)`` is ``exactconvex.sweep.sweep(...)``):
once imported, a subpackage shadows a function of the same name in its parent package, so the
package forwards calls to the function rather than let ``exactconvex.sweep`` change meaning.
"""

from __future__ import annotations

import sys
import types

from .driver import sweep
from .generate import icnn_structured, int_network, network_rng, torch_network
from .results import read_results
from .spec import PRESETS, Cell, GridSpec, SweepError, parse_grid
from .summary import SweepSummary, clopper_pearson
from .worker import Options, decide_row

__all__ = ["sweep", "SweepSummary", "SweepError", "parse_grid", "GridSpec", "Cell", "PRESETS", "read_results",
           "torch_network", "icnn_structured", "int_network", "network_rng", "clopper_pearson", "Options",
           "decide_row"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
