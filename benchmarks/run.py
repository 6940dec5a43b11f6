"""Benchmarks of issue 7: decision and full certification on the authors' grid of random networks.

Run from the repository root (in the venv):

    python benchmarks/run.py            # everything (about 30 minutes on 2 cores)
    python benchmarks/run.py --quick    # a few minutes
    python benchmarks/run.py --anchor /path/to/beyondicnn   # with the float checker side by side
    python benchmarks/run.py --only dims --only jobs        # some tables only

Prints one table for decisions (auto method, exact witness included) and one for full
certification of the ICNN versions (region graph, certificate, then the independent checker),
each row against the anchor times of the paper authors' float32 checker; then CLI start-up time,
the fitted log-log slope of time against regions, and (full run) memory for d=2 64x64.
Writes ``benchmarks/results/time_vs_regions.png`` when matplotlib is installed.

Issue 13 added, before those: certification side by side with the paper authors' float32
checker (``--anchor PATH``, a checkout of github.com/annegnx/beyondicnn; skipped without it),
higher dimensions (d6 8x8, d8 8x8, d10 4x4 with input passthroughs: certified regions per second
and the costliest region against the median, the 20 costliest re-timed on their own since the
machine's own pauses reach 30 ms), ``--jobs 2`` against one process, and building
against verifying (each in its own process, with peak memory; up to d2 256x256).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grid import architectures, icnn_version, random_network  # noqa: E402

from exactconvex.checker import verify  # noqa: E402
from exactconvex.decide import check  # noqa: E402

# median seconds per network of the authors' float32 checker (issue 7); "~" = not measured there,
# taken from the nearest measured architecture
ANCHOR = {"d3 2x2": 0.006, "d3 4x4": 0.013, "d3 6x6": 0.032, "d3 8x8": 0.051, "d3 10x10": 0.073,
          "d2 4x4": 0.047, "d4 4x4": 0.047, "d5 4x4": 0.047, "d6 4x4": 0.047,
          "d3 4^3": 0.041, "d3 4^4": 0.041, "d3 4^5": 0.050, "d3 4^6": 0.059, "d2 64x64": 0.34}
MEASURED = {"d3 2x2", "d3 4x4", "d3 6x6", "d3 8x8", "d3 10x10", "d6 4x4", "d3 4^4", "d3 4^6", "d2 64x64"}


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def decision_table(archs, n, seed):
    print(f"\nDecision: check(net), auto method, exact witness included ({n} networks each, seed {seed})")
    head = f"{'arch':<10} {'nets':>4} {'convex':>6} {'not':>4} {'median s':>9} {'p90 s':>8} {'target s':>9} {'met':>4}  methods"
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(seed)
    for name, d, hidden in archs:
        times, conv, methods = [], 0, {}
        for _ in range(n):
            net = random_network(rng, d, hidden)
            t = time.perf_counter()
            v = check(net)
            times.append(time.perf_counter() - t)
            conv += v.convex
            methods[v.method] = methods.get(v.method, 0) + 1
        target = ANCHOR[name] / 5
        med = statistics.median(times)
        print(f"{name:<10} {n:>4} {conv:>6} {n - conv:>4} {med:>9.5f} {pct(times, .9):>8.5f} "
              f"{target:>8.4f}{'' if name in MEASURED else '~'} {'yes' if med <= target else 'NO':>4}  "
              + ", ".join(f"{k}:{c}" for k, c in sorted(methods.items())))


def certification_table(archs, n, seed, points):
    print(f"\nFull certification of ICNN versions: check(net, 'regions', certificate=True), then verify "
          f"({n} networks each)")
    head = (f"{'arch':<10} {'nets':>4} {'median s':>9} {'p90 s':>8} {'regions':>8} {'facets':>7} {'reg/s':>6} "
            f"{'cert KB':>8} {'check s':>8} {'10x anchor':>10} {'met':>4}")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(seed + 1)
    for name, d, hidden in archs:
        times, regs, facets, sizes, checks = [], [], [], [], []
        for _ in range(n):
            net = icnn_version(random_network(rng, d, hidden))
            t = time.perf_counter()
            v = check(net, method="regions", certificate=True)
            dt = time.perf_counter() - t
            text = json.dumps(v.certificate)
            t = time.perf_counter()
            ok = verify(v.certificate).valid
            ct = time.perf_counter() - t
            assert ok and v.convex, "a certificate failed to verify"
            times.append(dt)
            regs.append(v.regions)
            facets.append(v.facets)
            sizes.append(len(text) / 1024)
            checks.append(ct)
            points.append((v.regions, dt))
        med = statistics.median(times)
        rate = sum(regs) / sum(times)
        limit = 10 * ANCHOR[name]
        print(f"{name:<10} {n:>4} {med:>9.3f} {pct(times, .9):>8.3f} {statistics.median(regs):>8.0f} "
              f"{statistics.median(facets):>7.0f} {rate:>6.0f} {statistics.median(sizes):>8.1f} "
              f"{statistics.median(checks):>8.3f} {limit:>9.3f}{'' if name in MEASURED else '~'} "
              f"{'yes' if med <= limit else 'NO':>4}")


def cli_startup():
    example = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "networks",
                           "abs.json")
    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "exactconvex", "check", example], capture_output=True, check=False)
        best = min(best, time.perf_counter() - t)
    print(f"\nCLI start-up: `exactconvex check examples/networks/abs.json` best of 5: {best:.3f} s "
          f"(target < 0.5 s: {'met' if best < 0.5 else 'NOT met'})")


def slope(points):
    pts = [(r, t) for r, t in points if r > 1 and t > 0]
    if len(pts) < 3:
        return None
    x = np.log([r for r, _ in pts])
    y = np.log([t for _, t in pts])
    return float(np.polyfit(x, y, 1)[0])


def plot(points, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot; pip install 'exactconvex[plot]')")
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog([r for r, _ in points], [t for _, t in points], "o", ms=3)
    ax.set_xlabel("regions")
    ax.set_ylabel("seconds (region graph + certificate)")
    ax.set_title("exactconvex: time against regions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def reset_peak() -> None:
    """Start this process's peak RSS (VmHWM) again from its current RSS, where Linux allows it
    (a forked child starts with its parent's high-water mark; so does a table after another)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    """The peak RSS in MB since ``reset_peak`` (VmHWM), or over the whole process where /proc lacks it."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_network(seed):
    rng = np.random.default_rng(seed + 2)
    net = icnn_version(random_network(rng, 2, [64, 64]))
    reset_peak()  # the tables before this one (d8 8x8: 36,700 regions) ran in this process too
    t = time.perf_counter()
    v = check(net, method="regions", certificate=True)
    dt = time.perf_counter() - t
    rss = peak_mb()
    t = time.perf_counter()
    ok = verify(v.certificate).valid
    ct = time.perf_counter() - t
    assert ok and v.convex, "a certificate failed to verify"
    print(f"\nd2 64x64 ICNN version: {v.regions} regions, {v.facets} facets, {dt:.1f} s "
          f"({v.regions / dt:.0f} regions/s; target {10 * ANCHOR['d2 64x64']:.1f} s: "
          f"{'met' if dt <= 10 * ANCHOR['d2 64x64'] else 'NOT met'}), certificate "
          f"{len(json.dumps(v.certificate)) / 1024:.0f} KB checked in {ct:.1f} s, "
          f"peak memory {rss:.0f} MB (target < 2048 MB)")
    return v.regions, dt


# ----- issue 13: the float checker side by side, higher dimensions, --jobs, large certificates ------------

def load() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def anchor_table(anchor_path, n, seed, quick):
    """Certification time against the authors' float32 checker on the same networks, side by side."""
    from anchor import Anchor

    anchor = Anchor(anchor_path)
    archs = [("d3 4x4", 3, [4, 4]), ("d3 6x6", 3, [6, 6]), ("d3 8x8", 3, [8, 8]), ("d3 10x10", 3, [10, 10]),
             ("d2 64x64", 2, [64, 64])]
    if quick:
        archs = archs[:2]
    print(f"\nSide by side with the float32 checker (annegnx/beyondicnn at {anchor_path}; [-100, 100]^d, one "
          f"thread): ICNN-structured networks without skips, {n} each ({load()})")
    head = (f"{'arch':<10} {'nets':>4} {'regions':>8} {'ours s':>8} {'float s':>8} {'ratio':>6} {'target':>6} "
            f"{'met':>4}  (ours: check(net, 'regions', certificate=True); medians)")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(seed + 13)
    anchor.seconds(icnn_version(random_network(rng, 2, [2, 2])))  # warm-up (torch's first call)
    ratios = {}
    for name, d, hidden in archs:
        ours, theirs, regs = [], [], []
        for _ in range(n):
            net = icnn_version(random_network(rng, d, hidden))
            t = time.perf_counter()
            v = check(net, method="regions", certificate=True)
            ours.append(time.perf_counter() - t)
            regs.append(v.regions)
            theirs.append(anchor.seconds(net)[0])
        ratio = statistics.median(ours) / statistics.median(theirs)
        ratios[name] = ratio
        print(f"{name:<10} {n:>4} {statistics.median(regs):>8.0f} {statistics.median(ours):>8.3f} "
              f"{statistics.median(theirs):>8.3f} {ratio:>6.1f} {3:>6} {'yes' if ratio <= 3 else 'NO':>4}")
    widths = [ratios[a] for a in ("d3 4x4", "d3 6x6", "d3 8x8", "d3 10x10") if a in ratios]
    print("ratio along the d3 widths: " + " -> ".join(f"{r:.1f}" for r in widths))


def _per_region(net, timeout, jobs=None):
    """(regions, seconds, per-region costs) of the certified region graph, or what was done by the timeout."""
    from exactconvex.decide import LimitReached

    stamps = []
    t, cpu = time.perf_counter(), time.process_time()
    try:
        v = check(net, method="regions", certificate=True, timeout=timeout, jobs=jobs,
                  progress=lambda done, found: stamps.append(time.perf_counter()))
        complete, cert = True, v.certificate
    except LimitReached:
        complete, cert = False, None
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    costs = np.diff([t] + stamps)[1:]  # costs[i]: region i + 1 (the first region carries the start-up)
    return len(stamps), dt, costs, complete, cpu, cert


RETIMED = 20  # the slowest regions as timed in the run, each processed again on its own


def _retimed(net, cert, regions, repeats=3) -> list[float]:
    """Seconds of each listed region processed again on its own (the least of ``repeats``): its maps
    from its pattern, its facets, and every neighbour's maps, rows and interior point as if all of them
    were new; at least what the search did for it.  A region's cost as timed in the run includes the
    machine's pauses, which a plain busy loop sees too (``machine_pauses``)."""
    import importlib

    from exactconvex.numbers import to_q

    explore = importlib.import_module("exactconvex.graph.explore")  # the module (the package exports the function)
    basis = explore.span_basis(explore._input_facing_rows(net))
    listed = cert["region_graph"]["regions"]
    out = []
    for r in regions:
        pattern = tuple(int(c) for layer in listed[r]["pattern"] for c in layer)
        x = tuple(to_q(v) for v in listed[r]["interior_point"])
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            local = net.local_affine(pattern)
            neurons, rows, _, zero = explore.constraint_rows(net, local)
            region = explore.Region(r, pattern, x, local, neurons, rows, has_zero=zero)
            explore._facets_and_neighbours(net, basis, region, {})
            best = min(best, time.perf_counter() - t)
        out.append(best)
    return out


def machine_pauses(seconds=5.0, unit=20_000) -> tuple[float, float]:
    """(median, largest) seconds of one fixed piece of pure-Python work repeated for ``seconds``: on a
    virtual machine the largest is many times the median (the host's pauses, counted as this process's
    CPU time too), whatever the work."""
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t, s = time.perf_counter(), 0
        for i in range(unit):
            s += i * i
        times.append(time.perf_counter() - t)
    return float(np.median(times)), float(np.max(times))


def _warm_up():
    """Load what the first region of each kind would otherwise pay for (module imports of SciPy's
    LP, NNLS and Qhull wrappers): a one-time cost of the process, not a region's."""
    import scipy.optimize
    import scipy.spatial

    from grid import icnn_with_input_skips

    scipy.optimize.linprog([1.0], bounds=[(0, 1)], method="highs")
    scipy.optimize.nnls(np.eye(2), np.ones(2))
    scipy.spatial.ConvexHull(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    check(icnn_with_input_skips(np.random.default_rng(1), 3, [2, 2]), method="regions", certificate=True)


def high_dimension_table(quick, seed, timeout=None, only=None):
    from grid import icnn_with_input_skips

    rows = [("d6 8x8", 6, [8, 8], 500), ("d8 8x8", 8, [8, 8], 500), ("d10 4x4", 10, [4, 4], 1000)]
    rows = [row for row in rows if not only or row[0] in only] or rows
    _warm_up()
    timeout = timeout or (20 if quick else 240)
    print(f"\nHigher dimensions: ICNN-structured with the input passed into every layer, PyTorch default init, one "
          f"network each, certified (region graph + certificate), serial, timeout {timeout} s ({load()}); reg/s "
          f"over wall time, and over this process's CPU time (what another load on the machine does not change); "
          f"last column: reg/s over wall time with --jobs 2; a run that takes under 5 s: the median of 5 runs")
    head = (f"{'arch':<8} {'regions':>8} {'done':>5} {'seconds':>8} {'reg/s':>6} {'cpu r/s':>7} {'target':>6} {'met':>4} "
            f"{'median ms':>9} {'max ms':>7} {'alone ms':>8} {'max/med':>7} {'<=10x':>5} {'2 jobs':>6}")
    print(head)
    print("-" * len(head))
    for name, d, hidden, target in rows:
        net = icnn_with_input_skips(np.random.default_rng(seed), d, hidden)
        count, dt, costs, complete, cpu, cert = _per_region(net, timeout)
        if dt < 5:  # a sub-second run swings by 30 % with the machine's state: the median of 5 runs
            runs = [(count, dt, costs, complete, cpu, cert)] + [_per_region(net, timeout) for _ in range(4)]
            count, dt, costs, complete, cpu, cert = sorted(runs, key=lambda run: run[1])[2]
        med, top = float(np.median(costs)), float(np.max(costs))
        # the slowest as timed, processed again on their own; every other region took at most the next one's time
        slowest = [int(i) for i in np.argsort(costs)[::-1][:RETIMED]]
        again = _retimed(net, cert, [i + 1 for i in slowest]) if complete and len(costs) > RETIMED else [top]
        worst = max(max(again), float(np.sort(costs)[-RETIMED - 1]) if len(costs) > RETIMED else 0.0)
        rate = count / dt
        count2, dt2, *_ = _per_region(net, timeout, jobs=2)
        if dt2 < 5:  # as above: the median of 5 runs
            dt2 = statistics.median([dt2] + [_per_region(net, timeout, jobs=2)[1] for _ in range(4)])
        print(f"{name:<8} {count:>8} {'yes' if complete else 'no':>5} {dt:>8.1f} {rate:>6.0f} {count / cpu:>7.0f} {target:>6} "
              f"{'yes' if rate >= target else 'NO':>4} {med * 1e3:>9.2f} {top * 1e3:>7.1f} {worst * 1e3:>8.1f} "
              f"{worst / med:>7.1f} {'yes' if worst <= 10 * med else 'NO':>5} {count2 / dt2:>6.0f}")
    pause_med, pause_max = machine_pauses()
    print(f"max ms: the costliest region as timed in the run; alone: the {RETIMED} costliest processed again on "
          f"their own (least of 3, maps from the pattern, every neighbour computed), or the next one's time as "
          f"timed; max/med and <=10x from it. A fixed {pause_med * 1e3:.2f}-ms busy loop on this machine for 5 s: "
          f"largest {pause_max * 1e3:.1f} ms ({pause_max / pause_med:.0f}x its median)")


_CHILD = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
from run import peak_mb, reset_peak
reset_peak()
import numpy as np
from grid import icnn_version, random_network
mode, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "build":
    from exactconvex.decide import check
    net = icnn_version(random_network(np.random.default_rng({seed}), {d}, {hidden}))
    v = check(net, method="regions", certificate=True, jobs={jobs})
    from exactconvex.certificates import certificate_text
    with open(path, "w") as fh:
        fh.write(certificate_text(v.certificate))  # as the CLI writes it
    out = {{"regions": v.regions, "facets": v.facets}}
else:
    from exactconvex.checker import verify
    r = verify(path, jobs={jobs})  # (the peak below is this process's: each part streams alike)
    assert r.valid, r.reason
    out = {{"regions": r.regions}}
out["seconds"] = time.perf_counter() - t
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def _child(mode, path, d, hidden, seed, jobs=1):
    code = _CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)), seed=seed, d=d, hidden=list(hidden),
                         jobs=jobs)
    run = subprocess.run([sys.executable, "-c", code, mode, path], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def build_verify_table(quick, seed, only=None, job_counts=(1, 2)):
    """Certify (jobs 1 and 2), write the certificate, verify the file (with as many jobs); each in its own
    process (peak RSS)."""
    import tempfile

    archs = [("d2 64x64", 2, [64, 64])] if quick else [("d2 64x64", 2, [64, 64]), ("d2 128x128", 2, [128, 128]),
                                                       ("d2 256x256", 2, [256, 256])]
    if only:
        archs = [a for a in archs if a[0] in only] or [(name, int(name[1]), [int(w) for w in name.split()[1].split("x")])
                                                        for name in only]
    print(f"\nBuild and verify with as many jobs, each in its own process (peak RSS: VmHWM, reset at the start; of the first process); the certificate goes through a "
          f"file, which the checker streams ({load()})")
    head = (f"{'arch':<11} {'regions':>8} {'jobs':>4} {'build s':>8} {'MB':>6} {'cert MB':>8} {'verify s':>8} "
            f"{'MB':>6} {'v/b':>5} {'<=0.5':>5} {'total s':>8}")
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for name, d, hidden in archs:
            for jobs in job_counts:
                path = os.path.join(tmp, f"{name.replace(' ', '_')}_{jobs}.json")
                b = _child("build", path, d, hidden, seed + 2, jobs)
                v = _child("verify", path, d, hidden, seed + 2, jobs)
                size = os.path.getsize(path) / 2**20
                total = b["seconds"] + v["seconds"]
                print(f"{name:<11} {b['regions']:>8} {jobs:>4} {b['seconds']:>8.1f} {b['peak_mb']:>6.0f} {size:>8.1f} "
                      f"{v['seconds']:>8.1f} {v['peak_mb']:>6.0f} {v['seconds'] / b['seconds']:>5.2f} "
                      f"{'yes' if v['seconds'] <= 0.5 * b['seconds'] else 'NO':>5} {total:>8.1f}"
                      + ("  (target for d2 256x256 on 2 cores: <= 60 s)" if name == "d2 256x256" and jobs == 2 else ""))
            if len(job_counts) == 2:
                one = open(os.path.join(tmp, f"{name.replace(' ', '_')}_{job_counts[0]}.json"), "rb").read()
                two = open(os.path.join(tmp, f"{name.replace(' ', '_')}_{job_counts[1]}.json"), "rb").read()
                print(f"{'':<11} certificates of jobs {job_counts[0]} and {job_counts[1]} byte-identical: "
                      f"{'yes' if one == two else 'NO'}")


def jobs_table(quick, seed, only=None):
    """--jobs 2 against one process on networks of 5,000 regions or more (in-process, wall time)."""
    from exactconvex.graph import explore

    archs = [("d2 64x64", 2, [64, 64])] if quick else [("d2 128x128", 2, [128, 128]), ("d3 32x32", 3, [32, 32]),
                                                       ("d4 16x16", 4, [16, 16])]
    if only:
        archs = [(name, int(name[1]), [int(w) for w in name.split()[1].split("x")]) for name in only]
    print(f"\n--jobs 2 against one process (region graph only, wall time; target 1.7x at 5,000 regions or more)")
    head = f"{'arch':<11} {'regions':>8} {'1 job s':>8} {'2 jobs s':>8} {'speedup':>7} {'met':>4}  load before/after"
    print(head)
    print("-" * len(head))
    for name, d, hidden in archs:
        net = icnn_version(random_network(np.random.default_rng(seed + 3), d, hidden))
        before = load()
        t = time.perf_counter()
        a = explore(net)
        one = time.perf_counter() - t
        t = time.perf_counter()
        b = explore(net, jobs=2)
        two = time.perf_counter() - t
        assert len(a.regions) == len(b.regions)
        speed = one / two
        print(f"{name:<11} {len(a.regions):>8} {one:>8.1f} {two:>8.1f} {speed:>7.2f} "
              f"{'yes' if speed >= 1.7 else 'NO':>4}  {before} / {load()}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a one-minute version")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anchor", metavar="PATH", help="a checkout of github.com/annegnx/beyondicnn: time the authors' "
                    "float32 checker side by side (needs torch)")
    ap.add_argument("--only", choices=["grid", "anchor", "dims", "jobs", "big"], action="append",
                    help="run only these tables (repeatable; default: all)")
    ap.add_argument("--dims-timeout", type=float, help="seconds per network of the higher-dimension table")
    ap.add_argument("--arch", action="append", help="architectures of the dims, jobs and big tables, such as 'd2 128x128' or 'd10 4x4'")
    ap.add_argument("--big-jobs", type=int, nargs="+", default=[1, 2], help="job counts of the big table")
    args = ap.parse_args(argv)
    only = set(args.only or ["grid", "anchor", "dims", "jobs", "big"])
    if "anchor" in only:
        if args.anchor:
            anchor_table(args.anchor, 3 if args.quick else 10, args.seed, args.quick)
        else:
            print("\n(no --anchor PATH: the side-by-side column against the float checker is skipped)")
    if "dims" in only:
        high_dimension_table(args.quick, args.seed, args.dims_timeout, args.arch)
    if "jobs" in only:
        jobs_table(args.quick, args.seed, args.arch)
    if "big" in only:
        build_verify_table(args.quick, args.seed, args.arch, tuple(args.big_jobs))
    if "grid" not in only:
        return
    archs = architectures(quick=args.quick)
    decision_table(archs, 20 if args.quick else 100, args.seed)
    points = []
    certification_table(archs, 2 if args.quick else 5, args.seed, points)
    cli_startup()
    if not args.quick:
        points.append(big_network(args.seed))
    s = slope(points)
    if s is not None:
        print(f"log-log slope of time against regions: {s:.2f} (1 = linear)")
    plot(points, os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "time_vs_regions.png"))


if __name__ == "__main__":
    main()
