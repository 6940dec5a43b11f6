"""Where the time of a certification goes: a cProfile of ``check(net, "regions", certificate=True)``
grouped into the stages of the region search (issue 13's "profile that explains what remains").

    python benchmarks/profile_regions.py                    # d3 10x10, d8 8x8 (20 s), d2 256x256 (20 s)
    python benchmarks/profile_regions.py --arch "d6 8x8" --seconds 30

Each stage is the internal CPU time (``tottime``) of the functions listed for it, as a share of
the profiled run; "builtins" is everything else (Python's own list, dict, len, all... calls made
by the search, each tiny, together a large share).  cProfile itself slows Python code by about
1.5-2x, so the shares, not the seconds, are the result.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grid import icnn_version, icnn_with_input_skips, random_network  # noqa: E402

from run import _warm_up  # noqa: E402

from exactconvex.decide import LimitReached, check  # noqa: E402

# stage -> substrings of "file:function" (the first stage that matches takes the function)
STAGES = [
    ("polar hull (Qhull and its numpy)", ["polar.py:"]),
    ("exact Farkas solves (implied groups)", ["_solve_on_support", "farkas_holds", "farkas_on_support", "nnls",
                                               "farkas_guess"]),
    ("exact LPs (simplex)", ["lp.py:"]),
    ("float LPs (HiGHS)", ["linprog", "_highs", "highs"]),
    ("exact point checks (integer products)", ["scaled_values", "not_positive", "_columns", "rows.py:values",
                                              "_simpler_interior_point", "step_from_values", "_exact_value"]),
    ("facet candidates (rounding, projection)", ["_check_proposals", "q_from_float", "_project", "project_onto",
                                                 "_independent_facets"]),
    ("local maps and constraint rows", ["flip_local", "constraint_rows", "pattern_along", "_affine_walk",
                                       "local_affine", "with_row_negated", "rows.py:row", "_column"]),
    ("floats of exact rows", ["floats_of", "_trusted_floats", "fromiter", "float_guess", "rows.py:floats"]),
    ("hyperplane groups", ["hyperplane_groups", "_exact_groups", "canonical_key"]),
    ("bends and verdict", ["bend", "edge_normal", "switching_neurons", "output_gradient", "rules.py:",
                           "display.py:"]),
    ("certificate writing", ["writer.py:", "q_str", "point_json"]),
    ("exact dot products", ["polyhedron.py:dot", "builtins.sum"]),
    ("small numpy calls", ["numpy", "ufunc", "fromnumeric", "method 'at'", "method 'reduce'", "_linalg", "svd",
                           "argsort", "vstack"]),
    ("search bookkeeping (explore.py, the rest)", ["explore.py:"]),
]


def network(name: str, seed: int):
    d, widths = name.split()
    d, hidden = int(d[1:]), [int(w) for w in widths.split("x")]
    rng = np.random.default_rng(seed)
    if d >= 6:  # issue 13's higher-dimensional rows: input passed into every layer
        return icnn_with_input_skips(rng, d, hidden)
    return icnn_version(random_network(rng, d, hidden))


def profile(name: str, seconds: float, seed: int) -> None:
    net = network(name, seed)
    _warm_up()  # module imports: not a region's cost
    done = [0]
    profiler = cProfile.Profile(time.process_time)  # CPU time: other load on the machine does not count
    t = time.perf_counter()
    profiler.enable()
    try:
        check(net, method="regions", certificate=True, timeout=seconds,
              progress=lambda d, f: done.__setitem__(0, d))
        status = "complete"
    except LimitReached:
        status = f"stopped at {seconds:g} s"
    profiler.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(profiler).stats
    total = sum(v[2] for v in stats.values())
    shares = {stage: 0.0 for stage, _ in STAGES}
    for (path, line, func), (_, _, tottime, _, _) in stats.items():
        label = f"{os.path.basename(path)}:{func}" if path != "~" else func
        for stage, keys in STAGES:
            if any(k in label for k in keys):
                shares[stage] += tottime
                break
    rest = total - sum(shares.values())
    print(f"\n{name}: {done[0]} regions processed ({status}), {wall:.1f} s under the profiler, "
          f"{wall / max(done[0], 1) * 1e3:.2f} ms per region")
    print(f"{'stage':<42} {'share':>6}")
    print("-" * 49)
    for stage, value in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"{stage:<42} {value / total:>6.1%}")
    print(f"{'builtins (list, dict, len, all...)':<42} {rest / total:>6.1%}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", action="append", help="such as 'd3 10x10' (repeatable)")
    ap.add_argument("--seconds", type=float, default=20.0, help="stop each profile after this many seconds")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for name in args.arch or ["d3 10x10", "d8 8x8", "d2 256x256"]:
        profile(name, args.seconds, args.seed)


if __name__ == "__main__":
    main()
