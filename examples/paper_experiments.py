"""The paper's three experiments, redone exactly with ``exactconvex sweep`` (issue 15).

Gagneux et al. measure how often random ReLU networks (PyTorch's default ``nn.Linear``
initialisation, two or more hidden layers) are convex, on three grids; here they are the sweep
presets, with fixed seed 0:

* ``2d``:    d = 2, two hidden layers of width 1, 2, 4, ..., 512, 100 networks per width;
* ``depth``: d = 3, depth 2..10 x width 2..10, 5000 networks per cell;
* ``dim``:   d = 2..10 x width 2..10, two hidden layers, 5000 networks per cell.

Usage (from the repository root, in the venv)::

    python examples/paper_experiments.py --experiment depth --count 1000 --jobs 2
    python examples/paper_experiments.py --experiment all --dask tcp://host:8786
    python examples/paper_experiments.py --experiment 2d --timeout 600 --jobs 2

Each experiment writes ``OUT/<experiment>/`` (default ``OUT = results/paper``): ``results.jsonl``
(one row per network; rerunning resumes), ``certificates/`` (the certificate of every convex
network that is not ICNN-structured, verified before it is written), and ``cells.csv`` /
``cells.md``: per cell the networks, the share convex on R^d with its 95 % Clopper-Pearson
interval, the shares ICNN-structured and convex-but-not-ICNN-structured, undecided networks,
median and p90 seconds.  The same networks come back for any count (network n of a cell depends
on the seed, the architecture and n only), so a run at ``--count 1000`` is the first 1000 of the
full 5000.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys

from exactconvex.sweep import PRESETS, clopper_pearson, read_results, sweep

EXPERIMENTS = {"2d": "paper-2d", "depth": "paper-depth", "dim": "paper-dim"}


def cell_table(rows: list[dict]) -> list[dict]:
    """Per (d, hidden widths): counts, shares (with the 95 % interval of the convex share), timings."""
    cells: dict[tuple, list] = {}
    for r in rows:
        cells.setdefault((r["input_dim"], tuple(r["hidden_widths"])), []).append(r)
    table = []
    for (d, hidden), rs in cells.items():
        n = len(rs)
        convex = sum(1 for r in rs if r["convex"] is True)
        decided = sum(1 for r in rs if r["convex"] is not None)
        icnn = sum(1 for r in rs if r.get("icnn_structure"))
        convex_not_icnn = sum(1 for r in rs if r["convex"] is True and not r.get("icnn_structure"))
        times = sorted(r["seconds"] for r in rs if r["convex"] is not None and r["seconds"] is not None)
        lo, hi = clopper_pearson(convex, decided) if decided else (None, None)
        table.append({
            "d": d, "hidden_widths": "x".join(map(str, hidden)), "networks": n, "decided": decided,
            "undecided": n - decided, "convex": convex,
            "share_convex": convex / decided if decided else None, "ci95_low": lo, "ci95_high": hi,
            "share_icnn_structure": icnn / n, "share_convex_not_icnn": convex_not_icnn / n,
            "median_seconds": statistics.median(times) if times else None,
            "p90_seconds": times[min(len(times) - 1, max(0, -(-9 * len(times) // 10) - 1))] if times else None})
    return table


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_tables(table: list[dict], folder: str) -> None:
    with open(os.path.join(folder, "cells.csv"), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    with open(os.path.join(folder, "cells.md"), "w", encoding="utf-8") as fh:
        fh.write("| " + " | ".join(table[0]) + " |\n|" + "---|" * len(table[0]) + "\n")
        for row in table:
            fh.write("| " + " | ".join(_fmt(v) for v in row.values()) + " |\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", choices=[*EXPERIMENTS, "all"], default="all")
    ap.add_argument("--count", type=int, help="networks per cell (default: the paper's; 2d always keeps 100 "
                                               "unless given)")
    ap.add_argument("--out", default=os.path.join("results", "paper"), help="results folder (default results/paper)")
    ap.add_argument("--jobs", type=int, help="local worker processes (or Dask workers with --dask local)")
    ap.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler address, scheduler file, or local")
    ap.add_argument("--timeout", type=float, help="per network: no verdict (null) after S seconds")
    ap.add_argument("--max-regions", type=int, help="per network: no verdict (null) after N regions")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        preset = EXPERIMENTS[name]
        spec = preset if args.count is None else f"{preset};count={args.count}"
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        print(f"== {name}: {PRESETS[preset]}" + (f" (count={args.count})" if args.count else ""))
        summary = sweep(grid=spec, results=os.path.join(folder, "results.jsonl"), jobs=args.jobs, dask=args.dask,
                        timeout=args.timeout, max_regions=args.max_regions,
                        certs=os.path.join(folder, "certificates"), certs_for="convex-not-icnn",
                        progress=not args.quiet)
        print(summary)
        table = cell_table([r for r in read_results(os.path.join(folder, "results.jsonl"))
                            if r.get("init") == "torch"])
        write_tables(table, folder)
        print(f"tables: {os.path.join(folder, 'cells.csv')}, {os.path.join(folder, 'cells.md')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
