"""Benchmark of sweeps (issue 15): parallel speed-up of --jobs 2 over --jobs 1, and the Dask path's overhead.

Run from the repository root (in the venv):

    python benchmarks/sweep_bench.py                 # 20,000 decisions per engine (about a minute)
    python benchmarks/sweep_bench.py --count 500     # a quick look (2,000 decisions)
    python benchmarks/sweep_bench.py --no-dask       # without the Dask lines
    python benchmarks/sweep_bench.py --repeat 3      # fastest of 3 interleaved rounds (shared machines)

The grid is small networks with PyTorch's default initialisation, 4 cells x COUNT networks
(``d=2,3;widths=4x4,8x8;init=torch;seed=0``): decisions of a fraction of a millisecond, where
scheduling costs show most.  Each engine sweeps the same grid into a fresh results file, in a
fresh process (imports done before the timing), timed from ``sweep()`` call to return, so a
local pool's start-up (a new fork server) is included; a Dask cluster is started beforehand
(its start-up is printed apart) and passed as a client.  The machine's
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


def _measure(engine: str, spec: str, jobs: int) -> dict:
    """One timed sweep in this (fresh) process: imports done beforehand, a local pool started inside the
    timing (its fork server is new), a Dask cluster started outside it."""
    with tempfile.TemporaryDirectory() as folder:
        sweep(grid="d=2;widths=4x4;count=20;init=torch", results=os.path.join(folder, "warm.jsonl"))  # imports
        if engine == "serial":
            wall, dec, n = _run(spec, folder, "serial", jobs=1)
            return {"wall": wall, "decisions": dec, "networks": n}
        if engine == "jobs":
            wall, dec, n = _run(spec, folder, "jobs", jobs=jobs)
            return {"wall": wall, "decisions": dec, "networks": n}
        import logging
        import warnings

        from distributed import Client, LocalCluster

        workers = 1 if engine == "dask1" else jobs
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                start = time.perf_counter() - t
                wall, dec, n = _run(spec, folder, engine, dask=client)
        return {"wall": wall, "decisions": dec, "networks": n, "start": start}


def _fresh(engine: str, spec: str, jobs: int) -> dict:
    import json
    import subprocess

    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", engine, "--spec", spec,
                          "--jobs", str(jobs)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000, help="networks per cell (4 cells; default 5000)")
    ap.add_argument("--jobs", type=int, default=2, help="workers of the parallel runs (default 2)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds (default 1); engines alternate within a round and each line keeps its fastest "
                         "round, the usual defence against other programs on shared cores")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask lines")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:  # one measurement, in a fresh process (see _fresh)
        import json

        print(json.dumps(_measure(args.measure, args.spec, args.jobs)))
        return 0
    spec = f"d=2,3;widths=4x4,8x8;count={args.count};init=torch;seed=0"
    print(f"grid: {spec}  ({4 * args.count} decisions per engine, each run in a fresh process, "
          f"{args.repeat} round{'s' if args.repeat > 1 else ''})")
    print(f"machine: {os.cpu_count()} CPUs, load average before: {_load()}")
    before = cpu_capacity(args.jobs)
    engines = [("serial", "serial (jobs 1)", 1), ("jobs", f"local processes (jobs {args.jobs})", args.jobs)]
    dask_note = None
    if not args.no_dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            dask_note = "Dask: not installed (pip install 'exactconvex[dask]'), lines skipped"
        else:
            engines += [("dask1", "Dask LocalCluster (1 worker)", 1),
                        ("dask", f"Dask LocalCluster ({args.jobs} workers)", args.jobs)]
    runs: dict[str, list] = {key: [] for key, _, _ in engines}
    loads: dict[str, str] = {}
    for _ in range(args.repeat):
        for key, _, _ in engines:
            runs[key].append(_fresh(key, spec, args.jobs))
            loads[key] = _load()
    best = {key: min(rs, key=lambda r: r["wall"]) for key, rs in runs.items()}
    serial = best["serial"]["wall"]
    n = best["serial"]["networks"]
    head = (f"{'engine':<30} {'workers':>7} {'seconds':>8} {'networks/s':>10} {'speed-up':>8} "
            f"{'sum of decisions s':>18}  all rounds s        load after")
    print()
    print(head)
    print("-" * len(head))
    for key, label, workers in engines:
        b = best[key]
        rounds = " ".join(f"{r['wall']:.1f}" for r in runs[key])
        print(f"{label:<30} {workers:>7} {b['wall']:>8.2f} {n / b['wall']:>10.0f} {serial / b['wall']:>7.2f}x "
              f"{b['decisions']:>18.2f}  {rounds:<19} {loads[key]}")
    if "dask1" in best:
        overhead = (best["dask1"]["wall"] - serial) / n
        dask_note = (f"Dask overhead per network (1-worker LocalCluster vs serial): {overhead * 1e3:+.3f} ms; "
                     f"cluster start-up {best['dask1']['start']:.1f} s (not included)")
    if dask_note:
        print(dask_note)
    startup = pool_startup(args.jobs)
    print(f"local pool start-up (fork server start and imports, workers' start): {startup:.2f} s, included above; "
          f"speed-up of jobs {args.jobs} without it: {serial / (best['jobs']['wall'] - startup):.2f}x")
    after = cpu_capacity(args.jobs)
    print(f"CPU capacity of {args.jobs} processes (a pure-Python loop, {args.jobs} copies at once vs one alone): "
          f"{before:.2f}x before, {after:.2f}x after; other programs sharing the cores lower it, and it bounds "
          "every speed-up above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
