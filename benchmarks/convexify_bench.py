"""Benchmark of issue 16: the nearest convex output layer of random PyTorch-initialised networks.

Run from the repository root (in the venv):

    python benchmarks/convexify_bench.py             # 100 networks each of d = 2, widths 4,4 and 8,8
    python benchmarks/convexify_bench.py --count 10  # a quick look

Networks: ``exactconvex.sweep.generate.torch_network`` (PyTorch's default nn.Linear initialisation in
float32, read exactly), network n of an architecture drawn from ``network_rng(seed, 2, widths, 1, n)``.
Per network, timed separately:

* ``convexify``: ``convexify(net, "linf")`` (region graph, bend rows, the exact linear programs);
* ``cert+verify``: building its "nearest_convex" certificate and verifying it with the independent
  checker against the network (every result is certified; the table counts the valid ones);
* ``check``: ``check(net, method="regions", certificate=True)``, certification of the same network
  (region graph and certificate of the verdict), for comparison.

Prints the distribution of the linf distances (min / median / p90 / max), how the optimum was found
(float proposal confirmed exactly, or the exact simplex), the times (median and p90 per network), and
the cone of convex output rows against the ICNN orthant (orthant inside the cone; cone with an
interior point, i.e. a row of positive margin: ``deepest_row``).
"""

from __future__ import annotations

import argparse
import statistics
import time

from exactconvex.checker import verify
from exactconvex.convexify import convexify, deepest_row, expressivity
from exactconvex.decide import check
from exactconvex.sweep.generate import network_rng, torch_network


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def run(hidden: list[int], count: int, seed: int) -> dict:
    rows = []
    for n in range(count):
        net = torch_network(network_rng(seed, 2, hidden, 1, n), 2, hidden)
        t0 = time.perf_counter()
        result = convexify(net, "linf")
        t1 = time.perf_counter()
        valid = verify(result.certificate(), network=net).valid
        t2 = time.perf_counter()
        verdict = check(net, method="regions", certificate=True)
        t3 = time.perf_counter()
        cone = result.cone
        x = expressivity(cone=cone)
        _, depth = deepest_row(cone)
        rows.append({"distance": result.distance, "valid": valid, "convex_before": result.convex_before,
                     "how": result.outputs[0].how, "regions": len(cone.arrangement.regions),
                     "convexify": t1 - t0, "cert": t2 - t1, "check": t3 - t2, "check_convex": verdict.convex,
                     "orthant_in_cone": x.orthant_in_cone, "beyond": x.beyond_orthant is not None, "interior": depth > 0})
    return {"hidden": hidden, "rows": rows}


def report(results: list[dict], count: int, seed: int) -> None:
    print(f"\nNearest convex output layer (linf) of {count} random PyTorch-initialised networks per architecture, "
          f"d = 2, seed {seed}")
    head = (f"{'widths':<7} {'nets':>4} {'convex':>6} {'certified':>9} {'regions':>8} | {'linf distance':^35} | "
            f"{'found by':<22}")
    print(head)
    print(f"{'':<7} {'':>4} {'before':>6} {'':>9} {'median':>8} | {'min':>8} {'median':>8} {'p90':>8} {'max':>8} |")
    print("-" * len(head))
    for res in results:
        rows = res["rows"]
        d = [float(r["distance"]) for r in rows]
        how = {}
        for r in rows:
            how[r["how"]] = how.get(r["how"], 0) + 1
        how_text = ", ".join(f"{k}: {v}" for k, v in sorted(how.items()))
        print(f"{','.join(map(str, res['hidden'])):<7} {len(rows):>4} {sum(r['convex_before'] for r in rows):>6} "
              f"{sum(r['valid'] for r in rows):>9} {statistics.median(r['regions'] for r in rows):>8.0f} | "
              f"{min(d):8.4f} {statistics.median(d):8.4f} {pct(d, 0.9):8.4f} {max(d):8.4f} | {how_text}")
    print("\nSeconds per network (median / p90)")
    head = (f"{'widths':<7} | {'convexify':>15} | {'cert + verify':>15} | {'check(regions, cert)':>20} | "
            f"{'convexify / check':>17}")
    print(head)
    print("-" * len(head))
    for res in results:
        rows = res["rows"]

        def mp(key):
            v = [r[key] for r in rows]
            return f"{statistics.median(v):7.3f} /{pct(v, 0.9):6.3f}"

        ratio = statistics.median(r["convexify"] / r["check"] for r in rows)
        print(f"{','.join(map(str, res['hidden'])):<7} | {mp('convexify'):>15} | {mp('cert'):>15} | "
              f"{mp('check'):>20} | {ratio:17.2f}")
    print("\nThe cone of convex output rows against the ICNN orthant (rows >= 0)")
    head = f"{'widths':<7} | {'orthant in cone':>15} | {'cone has interior':>17} | {'member with a negative weight':>29}"
    print(head)
    print("-" * len(head))
    for res in results:
        rows = res["rows"]
        print(f"{','.join(map(str, res['hidden'])):<7} | {sum(r['orthant_in_cone'] for r in rows):>15} | "
              f"{sum(r['interior'] for r in rows):>17} | {sum(r['beyond'] for r in rows):>29}")
    agree = all(r["check_convex"] == r["convex_before"] for res in results for r in res["rows"])
    print(f"\ncheck's verdicts agree with convexify's 'convex before': {agree}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    results = [run(hidden, args.count, args.seed) for hidden in ([4, 4], [8, 8])]
    report(results, args.count, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
