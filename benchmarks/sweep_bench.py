"""Benchmark of sweeps (issue 15): parallel speed-up of --jobs 2 over --jobs 1, and the Dask path's overhead.

Run from the repository root (in the venv):

    python benchmarks/sweep_bench.py                 # 20,000 decisions per engine (about a minute)
    python benchmarks/sweep_bench.py --count 500     # a quick look (2,000 decisions)
    python benchmarks/sweep_bench.py --no-dask       # without the Dask lines

The grid is small networks with PyTorch's default initialisation, 4 cells x COUNT networks
(``d=2,3;widths=4x4,8x8;init=torch;seed=0``): decisions of a fraction of a millisecond, where
scheduling costs show most.  Each engine sweeps the same grid into a fresh results file, timed
from ``sweep()`` call to return, so a local pool's start-up is included; a Dask cluster is
started once beforehand (its start-up is printed apart) and passed as a client.  The machine's
load average is printed with each line: the cores may be shared.

Columns: wall seconds, networks per second, speed-up over serial, and the sum of the per-network
decision times the rows report (it grows when the workers compete for cores with other work).
Dask overhead per network = (wall with a one-worker LocalCluster - serial wall) / networks.
The machine's capacity for parallel work is measured before and after (a pure-Python loop run by
one process, then by two at once): no speed-up can beat it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from exactconvex.sweep import read_results, sweep


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _spin(_=None) -> float:
    """Seconds of a fixed pure-Python loop (CPU only: no memory, no I/O)."""
    t = time.perf_counter()
    s = 0
    for i in range(3_000_000):
        s += i * i
    return time.perf_counter() - t


_STARTUP = """
import time
from exactconvex.sweep import Cell
from exactconvex.sweep.engines import ProcessEngine
from exactconvex.sweep.worker import Options
t = time.perf_counter()
engine = ProcessEngine({workers})
futures = [engine.submit(("grid", [(Cell(2, (3,), 1, "torch", 0), [i])]), Options()) for i in range({workers})]
[f.result() for f in futures]
print(time.perf_counter() - t)
engine.close()
"""


def pool_startup(workers: int) -> float:
    """Seconds from creating a local pool to its first results (the fork server's start and imports, the
    workers' start), measured in a fresh subprocess so that no fork server is running already."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _STARTUP.format(workers=workers)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.split()[-1])


def cpu_capacity(workers: int) -> float:
    """How many times one process's work `workers` processes do at once on this machine right now:
    `workers` x (time of the loop alone) / (time of the slowest of `workers` copies run together).
    About `workers` on idle cores; less when other programs share them (the ceiling of any speed-up)."""
    import multiprocessing

    alone = min(_spin() for _ in range(2))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_spin, range(workers))  # start-up apart
        together = max(pool.map(_spin, range(workers)))
    return workers * alone / together


def _run(spec: str, folder: str, label: str, **engine) -> tuple[float, float, int]:
    out = os.path.join(folder, f"{label}.jsonl")
    t = time.perf_counter()
    summary = sweep(grid=spec, results=out, progress=False, **engine)
    wall = time.perf_counter() - t
    assert summary.computed == summary.networks, "a sweep left networks without a row"
    decisions = sum(r["seconds"] or 0 for r in read_results(out))
    return wall, decisions, summary.networks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000, help="networks per cell (4 cells; default 5000)")
    ap.add_argument("--jobs", type=int, default=2, help="workers of the parallel runs (default 2)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask lines")
    args = ap.parse_args(argv)
    spec = f"d=2,3;widths=4x4,8x8;count={args.count};init=torch;seed=0"
    print(f"grid: {spec}  ({4 * args.count} decisions per engine)")
    print(f"machine: {os.cpu_count()} CPUs, load average before: {_load()}")
    before = cpu_capacity(args.jobs)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sweep(grid="d=2;widths=4x4;count=20;init=torch", results=os.path.join(folder, "warm.jsonl"))  # imports
        wall, dec, n = _run(spec, folder, "serial", jobs=1)
        rows.append(("serial (jobs 1)", 1, wall, dec, _load()))
        serial = wall
        wall, dec, n = _run(spec, folder, "jobs", jobs=args.jobs)
        rows.append((f"local processes (jobs {args.jobs})", args.jobs, wall, dec, _load()))
        dask_note = None
        if not args.no_dask:
            try:
                import logging

                from distributed import Client, LocalCluster
            except ImportError:
                dask_note = "Dask: not installed (pip install 'exactconvex[dask]'), lines skipped"
            else:
                for workers in (1, args.jobs):
                    t = time.perf_counter()
                    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                            Client(cluster) as client:
                        start = time.perf_counter() - t
                        wall, dec, n = _run(spec, folder, f"dask{workers}", dask=client)
                    rows.append((f"Dask LocalCluster ({workers} worker{'s' if workers > 1 else ''})", workers,
                                 wall, dec, _load()))
                    if workers == 1:
                        overhead = (wall - serial) / n
                        dask_note = (f"Dask overhead per network (1-worker LocalCluster vs serial): "
                                     f"{overhead * 1e3:+.3f} ms; cluster start-up {start:.1f} s (not included)")
    head = (f"{'engine':<30} {'workers':>7} {'seconds':>8} {'networks/s':>10} {'speed-up':>8} "
            f"{'sum of decisions s':>18}  load after")
    print()
    print(head)
    print("-" * len(head))
    for label, workers, wall, dec, load in rows:
        print(f"{label:<30} {workers:>7} {wall:>8.2f} {n / wall:>10.0f} {serial / wall:>7.2f}x {dec:>18.2f}  {load}")
    if dask_note:
        print(dask_note)
    startup = pool_startup(args.jobs)
    local = next(r for r in rows if r[0].startswith("local"))
    print(f"local pool start-up (imports in the fork server, workers' start): {startup:.2f} s, included above; "
          f"speed-up of jobs {args.jobs} without it: {serial / (local[2] - startup):.2f}x")
    after = cpu_capacity(args.jobs)
    print(f"CPU capacity of {args.jobs} processes (a pure-Python loop, {args.jobs} copies at once vs one alone): "
          f"{before:.2f}x before, {after:.2f}x after; other programs sharing the cores lower it, and it bounds "
          "every speed-up above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
