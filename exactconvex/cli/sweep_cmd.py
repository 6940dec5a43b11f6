"""``exactconvex sweep``: decide many networks, in parallel, into a resumable JSON-lines file.

    exactconvex sweep (NETS... | --grid SPEC) -o RESULTS.jsonl [--jobs N] [--dask ADDRESS]
                      [--timeout S] [--max-regions N] [--method M] [--certs DIR] [--certs-for WHICH]
                      [--export DIR] [--seed S] [--retry-undecided] [--chunk N] [--box A,B] [--json]
                      [--quiet]

Contract: ``shared/spec/cli.md``.  Exit 0 when every network got a row (decided or not: a row
with ``"convex": null`` says why), 2 when the sweep could not start or was interrupted (rows
written so far are kept; rerun the same command to resume).  The work is in ``exactconvex.sweep``,
imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

__all__ = ["add_parser", "run"]

_EPILOG = """\
grid SPEC: key=value parts separated by ';' (quote it in the shell):
  d=2;widths=8x8,16x16;count=1000;init=torch;seed=0
  d=3;depth=2..10;width=2..10;count=5000
  paper-depth;count=1000          (a preset, then keys that override it)
keys:
  d        input dimension(s): 2 | 2,3 | 2..10 (ranges are inclusive)
  widths   hidden widths per architecture, layers joined by x: 8x8,16x16,4x4x4
  width    with depth: every architecture of `depth` hidden layers of equal `width`
  depth    number(s) of hidden layers (give widths, or width and depth)
  outputs  number(s) of outputs (default 1)
  count    networks per cell
  init     torch (default): PyTorch's nn.Linear initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
           drawn with NumPy, rounded to float32 and read exactly;
           icnn: the same networks with every weight out of a hidden layer made >= 0;
           int or int:K: integers in [-K, K] (K = 3); several: init=torch,icnn
  seed     a nonnegative integer (default 0, or --seed)
  box      A,B: also decide convexity on the box [A, B]^d (as --box A,B)
presets: paper-2d (d=2, 2 hidden layers of width 1,2,4,...,512, count=100),
         paper-depth (d=3, depth 2..10 x width 2..10, count=5000),
         paper-dim (d=2..10 x width 2..10, depth 2, count=5000)
Network n of a cell depends on (seed, d, widths, outputs, n) only: the same whatever the count,
the order or the number of workers. Its id, e.g. d2-8x8-torch-seed0-000017, names its row, its
certificate (--certs) and its exported file (--export).

results: one JSON object per line and network, with at least "network", "convex" (true, false,
or null with "error" saying why), "method", "regions", "seconds", then the architecture,
"icnn_structure", the exact "witness" of a "not convex", the "certificate" file; with --box
also "box", "convex_box" (true, false or null), "method_box" and a "witness_box" inside it. Rows are
appended as chunks finish; a rerun with the same file skips the networks already there (a
half-written last line is dropped and redone). When the sweep completes, the file is sorted:
this sweep's rows in grid order (or in the order of the files).

engines: --jobs N runs N local processes (concurrent.futures); --dask ADDRESS uses a Dask
cluster (pip install 'exactconvex[dask]'): a scheduler address tcp://host:8786, a scheduler
file, or `local` for a LocalCluster of --jobs workers (default: one per CPU). Files are read by
the workers: on a cluster they must be at the same path there (grids need nothing).
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``sweep`` subcommand on an argparse subparsers object."""
    s = subparsers.add_parser(
        "sweep", help="decide many networks in parallel into a resumable JSON-lines file",
        description="Decide many networks exactly (files or a generated grid), in local processes or on a\n"
                    "Dask cluster, writing one JSON row per network. Resumable: a rerun with the same\n"
                    "RESULTS file skips what is done.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("networks", metavar="NETS", nargs="*",
                   help="network files or globs (quote globs such as 'nets/*.json' so that the shell keeps them)")
    s.add_argument("--grid", metavar="SPEC", help="generate the networks from a grid spec (see below)")
    s.add_argument("-o", "--output", metavar="RESULTS.jsonl", required=True, help="the results file (JSON lines)")
    s.add_argument("--jobs", type=int, metavar="N",
                   help="local worker processes (default 1: no pool; 0: one per CPU); with --dask local, the workers")
    s.add_argument("--dask", metavar="ADDRESS",
                   help="a Dask scheduler address (tcp://host:8786), a scheduler file, or 'local'")
    s.add_argument("--timeout", type=float, metavar="S", help="per network: no verdict (null) after S seconds")
    s.add_argument("--max-regions", type=int, metavar="N", help="per network: no verdict (null) after N regions")
    from ..decide.rules import METHODS

    s.add_argument("--method", default="auto", choices=METHODS,
                   help="how to decide, as in check (default auto)")
    s.add_argument("--certs", metavar="DIR", help="write the certificate of each verdict to DIR/<id>.json, "
                                                   "each checked by the independent checker first")
    s.add_argument("--certs-for", default="all", choices=["all", "convex", "not-convex", "convex-not-icnn"],
                   help="which verdicts get a certificate with --certs (default all)")
    s.add_argument("--export", metavar="DIR", help="with --grid: write every generated network to DIR/<id>.json")
    s.add_argument("--seed", type=int, metavar="S", help="the grid's seed (when the spec has no seed=)")
    s.add_argument("--retry-undecided", action="store_true",
                   help="decide again the networks whose row says null (e.g. with a larger --timeout)")
    s.add_argument("--chunk", type=int, metavar="N",
                   help="networks per task (default: sized to about 0.25 s of work per task)")
    s.add_argument("--box", metavar="A,B",
                   help="also decide convexity on the box [A, B]^d (exact numbers A < B, such as -100,100): rows "
                        "get convex_box, the summary counts the networks convex in the box but not on R^d")
    s.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    from .common import allow_negative_values

    allow_negative_values(s)  # --box -100,100
    s.set_defaults(run=run)
    return s


def _terminate_like_interrupt():
    """SIGTERM (a batch system ending the job, ``kill``) stops the sweep like Ctrl-C: workers and a
    local Dask cluster are shut down; the rows already written are kept either way."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _usage_error():
    from .common import UsageError  # what every command shares lives in cli.common

    return UsageError


def run(args) -> int:
    from ..sweep import SweepError, sweep

    UsageError = _usage_error()

    if args.networks and args.grid is not None:
        raise UsageError("give network files or --grid, not both")
    if not args.networks and args.grid is None:
        raise UsageError("nothing to sweep: give network files (or globs) or --grid SPEC")
    previous = _terminate_like_interrupt()
    try:
        summary = sweep(args.networks or None, grid=args.grid, results=args.output, jobs=args.jobs, dask=args.dask,
                        seed=args.seed, method=args.method, timeout=args.timeout, max_regions=args.max_regions,
                        certs=args.certs, certs_for=args.certs_for, export=args.export,
                        retry_undecided=args.retry_undecided, chunk=args.chunk, progress=not args.quiet,
                        box=args.box)
    except SweepError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        raise UsageError(f"interrupted; the rows written to {args.output} are kept: rerun the same command "
                         "to resume") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(summary)
    sys.stdout.flush()
    return 0
