"""Benchmarks of issue 7: decision and full certification on the authors' grid of random networks.

Run from the repository root (in the venv):

    python benchmarks/run.py            # the full grid (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # a few seconds

Prints one table for decisions (auto method, exact witness included) and one for full
certification of the ICNN versions (region graph, certificate, then the independent checker),
each row against the anchor times of the paper authors' float32 checker; then CLI start-up time,
the fitted log-log slope of time against regions, and (full run) memory for d=2 64x64.
Writes ``benchmarks/results/time_vs_regions.png`` when matplotlib is installed.
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


def big_network(seed):
    rng = np.random.default_rng(seed + 2)
    net = icnn_version(random_network(rng, 2, [64, 64]))
    t = time.perf_counter()
    v = check(net, method="regions", certificate=True)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a one-minute version")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
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
