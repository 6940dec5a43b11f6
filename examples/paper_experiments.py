"""The paper's three experiments, redone exactly with ``exactconvex sweep`` (issue 15).

Gagneux et al. ("Convexity in ReLU neural networks: beyond ICNNs?", code: annegnx/beyondicnn,
``expes/``) measure how often random ReLU networks are convex: PyTorch's default ``nn.Linear``
initialisation, one output, two or more hidden layers, a float32 checker confined to the box
[-100, 100]^d.  Their three grids are the sweep presets here, with the fixed seed 0:

* ``2d``:    d = 2, two hidden layers of equal width 1, 2, 4, ..., 512, 100 networks per width
             (``expe_count_convex_2D.py``);
* ``depth``: d = 3, depth 2..10 hidden layers x width 2..10, 5000 networks per cell
             (``expe_count_convex_depth.py``);
* ``dim``:   d = 2..10 x width 2..10, two hidden layers, 5000 networks per cell
             (``expe_count_convex_inputdim.py``).

Every network is decided exactly twice: on all of R^d (the question exactconvex answers) and on
the paper's box [-100, 100]^d (``check(..., box=(-100, 100))``).

Usage (from the repository root, in the venv)::

    python examples/paper_experiments.py 2d    --jobs 2
    python examples/paper_experiments.py depth --count 1000 --jobs 2 --timeout 20
    python examples/paper_experiments.py dim   --count 1000 --jobs 2 --dask local
    python examples/paper_experiments.py all   --tables-only     # tables and figures from the rows
    python examples/paper_experiments.py verify                  # re-check every committed certificate
    python examples/paper_experiments.py export depth --count 200 --to nets/depth   # the network files

Each experiment writes ``OUT/<experiment>/`` (default ``OUT = results/paper``):

* ``results.jsonl``: one row per network (rerunning resumes; raising ``--count`` keeps the networks
  already decided, since network n of a cell depends only on the seed, the architecture and n);
  ``results.jsonl.gz``, its compressed copy (the one committed);
* ``certificates/``: the certificate (on R^d) of every convex network that is not ICNN-structured,
  checked by the independent checker before it is written;
* ``cells.csv`` / ``cells.md``: per cell the networks, the share convex on R^d with its 95 %
  Clopper-Pearson interval, the share convex in [-100, 100]^d (with its interval), the share
  convex in the box and not on R^d, the shares ICNN-structured and convex-but-not-ICNN-structured,
  the undecided networks (on R^d, on the box), and the median and p90 seconds per network;
* ``grid.txt``: the canonical grid spec (seed included) that regenerates the networks exactly;
* figures: ``heatmap.png`` (depth: width x depth; dim: width x input dimension) or ``curve.png``
  (2d: share by width), convex on R^d beside convex in the box, like the paper's figures.

``OUT/README.md`` gets the tables between ``<!-- tables:NAME -->`` markers (the rest of it is
prose kept as written).  The networks themselves are not stored (tens of thousands of files):
``python examples/paper_experiments.py export depth --count 200 --to nets/depth`` writes them
(the same files as ``exactconvex sweep --grid "$(cat OUT/depth/grid.txt)" -o r.jsonl --export nets/``,
which decides them too).
"""

from __future__ import annotations

import argparse
import csv
import glob
import gzip
import json
import os
import re
import shutil
import statistics
import sys
import time

EXPERIMENTS = {"2d": "paper-2d", "depth": "paper-depth", "dim": "paper-dim"}
BOX = ("-100", "100")  # the paper's bounding box, exact
DEFAULT_TIMEOUT = 20.0  # seconds per network (R^d, then the box); a row past it says null, honestly


# ----- tables -------------------------------------------------------------------------------------
def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-int(q * 100) * len(s) // 100) - 1))]


def cell_table(rows: list[dict]) -> list[dict]:
    """One entry per cell (d, hidden widths): counts, shares with 95 % Clopper-Pearson intervals, timings.

    Shares on R^d are among the networks decided on R^d, shares in the box among those decided in
    the box; ``share_icnn`` and ``share_convex_not_icnn`` are among all the cell's networks.
    """
    from exactconvex.sweep import clopper_pearson

    cells: dict[tuple, list] = {}
    for r in rows:
        cells.setdefault((r["input_dim"], tuple(r["hidden_widths"])), []).append(r)
    table = []
    for (d, hidden), rs in sorted(cells.items(), key=lambda kv: (kv[0][0], len(kv[0][1]), kv[0][1])):
        n = len(rs)
        rd = [r for r in rs if r["convex"] is not None]
        bx = [r for r in rs if r.get("convex_box") is not None]
        convex = sum(1 for r in rd if r["convex"])
        convex_box = sum(1 for r in bx if r["convex_box"])
        box_not_rd = sum(1 for r in rs if r.get("convex_box") is True and r["convex"] is False)
        icnn = sum(1 for r in rs if r.get("icnn_structure"))
        convex_not_icnn = sum(1 for r in rs if r["convex"] is True and not r.get("icnn_structure"))
        affine = sum(1 for r in rs if r["convex"] is True and r.get("affine") is True)
        convex_not_icnn_curved = sum(1 for r in rs if r["convex"] is True and not r.get("icnn_structure")
                                     and r.get("affine") is False)
        times = [r["seconds"] for r in rs if r.get("seconds") is not None]
        lo, hi = clopper_pearson(convex, len(rd))
        blo, bhi = clopper_pearson(convex_box, len(bx))
        table.append({
            "d": d, "depth": len(hidden), "width": hidden[0], "hidden_widths": "x".join(map(str, hidden)),
            "networks": n, "convex_rd": convex, "decided_rd": len(rd),
            "share_rd": convex / len(rd) if rd else None, "ci95_rd_low": lo, "ci95_rd_high": hi,
            "convex_box": convex_box, "decided_box": len(bx),
            "share_box": convex_box / len(bx) if bx else None, "ci95_box_low": blo, "ci95_box_high": bhi,
            "box_not_rd": box_not_rd, "icnn": icnn, "share_icnn": icnn / n,
            "convex_not_icnn": convex_not_icnn, "share_convex_not_icnn": convex_not_icnn / n,
            "convex_affine": affine, "convex_not_icnn_not_affine": convex_not_icnn_curved,
            # undecided in the box: rows that tried the box (they carry "box") without a verdict there
            "undecided_rd": n - len(rd), "undecided_box": sum(1 for r in rs if "box" in r) - len(bx),
            "median_seconds": statistics.median(times) if times else None,
            "p90_seconds": _quantile(times, 0.9)})
    return table


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.2f} ms" if v < 1 else f"{v:.2f} s"


def cells_markdown(table: list[dict]) -> str:
    """The full per-cell table (Markdown)."""
    head = ("| d | hidden | networks | convex on R^d | 95 % CI | convex in box | 95 % CI | box, not R^d "
            "| ICNN-structured | convex, not ICNN | of which affine | undecided R^d / box | median | p90 |\n"
            "|---|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for c in table:
        lines.append(
            f"| {c['d']} | {c['hidden_widths']} | {c['networks']} | {c['convex_rd']} ({_pct(c['share_rd'])}) "
            f"| [{_pct(c['ci95_rd_low'])}, {_pct(c['ci95_rd_high'])}] | {c['convex_box']} ({_pct(c['share_box'])}) "
            f"| [{_pct(c['ci95_box_low'])}, {_pct(c['ci95_box_high'])}] | {c['box_not_rd']} "
            f"| {c['icnn']} ({_pct(c['share_icnn'])}) | {c['convex_not_icnn']} ({_pct(c['share_convex_not_icnn'])}) "
            f"| {c['convex_not_icnn'] - c['convex_not_icnn_not_affine']} "
            f"| {c['undecided_rd']} / {c['undecided_box']} | {_secs(c['median_seconds'])} | {_secs(c['p90_seconds'])} |")
    return head + "\n".join(lines) + "\n"


def matrix_markdown(table: list[dict], row_key: str, col_key: str, value, title: str) -> str:
    """A heatmap as a Markdown matrix: rows ``row_key``, columns ``col_key``, cells ``value(c)``."""
    rows = sorted({c[row_key] for c in table})
    cols = sorted({c[col_key] for c in table})
    at = {(c[row_key], c[col_key]): c for c in table}
    out = [f"| {title} | " + " | ".join(f"{col_key} {v}" for v in cols) + " |",
           "|---|" + "---:|" * len(cols)]
    for r in rows:
        out.append(f"| {row_key} {r} | " + " | ".join(value(at[(r, k)]) if (r, k) in at else "" for k in cols) + " |")
    return "\n".join(out) + "\n"


def _count_share(key: str):
    def fmt(c: dict) -> str:
        decided = c["decided_rd"] if key == "convex_rd" else c["decided_box"]
        return f"{c[key]}/{decided}" if decided else "-"
    return fmt


def differing_rows(table: list[dict]) -> list[dict]:
    """The cells where the share convex on R^d differs from the share convex in the box."""
    return [c for c in table if c["share_rd"] != c["share_box"]]


def differing_markdown(table: list[dict]) -> str:
    diff = differing_rows(table)
    if not diff:
        return "No cell has a share on R^d different from its share in the box.\n"
    out = ["| d | hidden | networks | convex on R^d | convex in box | convex in box, not on R^d | undecided R^d / box |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for c in diff:
        out.append(f"| {c['d']} | {c['hidden_widths']} | {c['networks']} | {c['convex_rd']}/{c['decided_rd']} "
                   f"({_pct(c['share_rd'])}) | {c['convex_box']}/{c['decided_box']} ({_pct(c['share_box'])}) "
                   f"| {c['box_not_rd']} | {c['undecided_rd']} / {c['undecided_box']} |")
    return "\n".join(out) + "\n"


def overall(table: list[dict]) -> dict:
    keys = ("networks", "convex_rd", "decided_rd", "convex_box", "decided_box", "box_not_rd", "icnn",
            "convex_not_icnn", "convex_affine", "convex_not_icnn_not_affine", "undecided_rd", "undecided_box")
    return {k: sum(c[k] for c in table) for k in keys}


def experiment_markdown(name: str, table: list[dict], rows: list[dict], grid_text: str) -> str:
    """The README section of one experiment: what ran, the totals, the matrices, the differing cells."""
    tot = overall(table)
    times = [r["seconds"] for r in rows if r.get("seconds") is not None]
    counts = sorted({c["networks"] for c in table})
    parts = [f"Grid: `{grid_text}` (box [-100, 100]^d), {tot['networks']} networks "
             f"({'/'.join(map(str, counts))} per cell); decision time summed over networks: "
             f"{sum(times):.0f} s, median {_secs(statistics.median(times) if times else None)}, "
             f"p90 {_secs(_quantile(times, 0.9))}, max {_secs(max(times) if times else None)}.\n",
             f"Convex on R^d: **{tot['convex_rd']}** of {tot['decided_rd']} decided "
             f"({tot['undecided_rd']} undecided); convex in [-100, 100]^d: **{tot['convex_box']}** of "
             f"{tot['decided_box']} decided ({tot['undecided_box']} undecided); convex in the box but not on "
             f"R^d: **{tot['box_not_rd']}**; ICNN-structured: {tot['icnn']}; convex and not ICNN-structured: "
             f"**{tot['convex_not_icnn']}** (their certificates are in `{name}/certificates/`). "
             f"Of the convex networks, {tot['convex_affine']} compute an affine function (convex and concave: "
             f"dead neurons), and {tot['convex_not_icnn_not_affine']} are convex, not affine and not "
             f"ICNN-structured.\n"]
    if name == "2d":
        parts.append(cells_markdown(table))
    else:
        col = "depth" if name == "depth" else "d"
        label = "depth" if name == "depth" else "input dimension d"
        parts.append(f"Convex on R^d (convex / decided), width x {label}:\n\n"
                     + matrix_markdown(table, "width", col, _count_share("convex_rd"), "R^d"))
        parts.append(f"Convex in [-100, 100]^d (convex / decided), width x {label}:\n\n"
                     + matrix_markdown(table, "width", col, _count_share("convex_box"), "box"))
        parts.append(f"Median / p90 seconds per network (R^d and box together), width x {label}:\n\n"
                     + matrix_markdown(table, "width", col,
                                       lambda c: f"{_secs(c['median_seconds'])} / {_secs(c['p90_seconds'])}",
                                       "time"))
        parts.append(f"Every cell with its intervals, ICNN shares and undecided counts: [`{name}/cells.md`]"
                     f"({name}/cells.md) (also `{name}/cells.csv`).\n")
    parts.append("Cells where the share on R^d differs from the share in the box:\n\n" + differing_markdown(table))
    parts.append(box_not_rd_markdown(rows))
    return "\n".join(parts)


def box_not_rd_markdown(rows: list[dict], limit: int = 40) -> str:
    """The networks convex in the box and not on R^d, with where their witness on R^d lies."""
    from fractions import Fraction

    found = [r for r in rows if r.get("convex_box") is True and r["convex"] is False]
    if not found:
        return ""
    out = [f"The {len(found)} networks convex in [-100, 100]^d and not on R^d (their witness of non-convexity "
           "on R^d, the exact points x and y of the row, lies outside the box):\n",
           "| network | witness: largest coordinate of x, y (absolute value) |", "|---|---:|"]
    for r in found[:limit]:
        w = r.get("witness") or {}
        far = max((abs(Fraction(v)) for v in (w.get("x") or []) + (w.get("y") or [])), default=None)
        out.append(f"| `{r['network']}` | {'-' if far is None else f'{float(far):.4g}'} |")
    if len(found) > limit:
        out.append(f"| ... and {len(found) - limit} more (rows with convex_box true and convex false) | |")
    return "\n".join(out) + "\n"


def write_tables(table: list[dict], folder: str) -> None:
    with open(os.path.join(folder, "cells.csv"), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    with open(os.path.join(folder, "cells.md"), "w", encoding="utf-8") as fh:
        fh.write(cells_markdown(table))


# ----- figures ------------------------------------------------------------------------------------
def heatmaps(table: list[dict], col_key: str, col_label: str, path: str, title: str) -> None:
    """Share convex on R^d and in the box, width (x axis) by ``col_key`` (y axis), counts written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    widths = sorted({c["width"] for c in table})
    ys = sorted({c[col_key] for c in table})
    at = {(c["width"], c[col_key]): c for c in table}
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), constrained_layout=True)
    vmax = max([c["share_rd"] or 0 for c in table] + [c["share_box"] or 0 for c in table] + [1e-3])
    for ax, (key, share, name) in zip(axes, (("convex_rd", "share_rd", "convex on $\\mathbb{R}^d$"),
                                             ("convex_box", "share_box", "convex in $[-100, 100]^d$"))):
        grid = np.full((len(ys), len(widths)), np.nan)
        for i, y in enumerate(ys):
            for j, w in enumerate(widths):
                c = at.get((w, y))
                if c is not None and c[share] is not None:
                    grid[i, j] = c[share]
        im = ax.imshow(grid, origin="lower", cmap="rocket_r" if "rocket_r" in plt.colormaps() else "magma_r",
                       vmin=0, vmax=vmax, aspect="auto")
        for i, y in enumerate(ys):
            for j, w in enumerate(widths):
                c = at.get((w, y))
                if c is not None:
                    ax.text(j, i, str(c[key]), ha="center", va="center", fontsize=8,
                            color="white" if (c[share] or 0) > 0.6 * vmax else "black")
        ax.set_xticks(range(len(widths)), widths)
        ax.set_yticks(range(len(ys)), ys)
        ax.set_xlabel("width")
        ax.set_ylabel(col_label)
        ax.set_title(name)
    fig.colorbar(im, ax=axes, label="share convex (numbers: convex networks)")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curve(table: list[dict], path: str, title: str) -> None:
    """Share convex by width (2-D grid): R^d and box with 95 % intervals, and the ICNN-structured share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = sorted(table, key=lambda c: c["width"])
    widths = [c["width"] for c in table]
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for share, lo, hi, label, marker, shift in (
            ("share_rd", "ci95_rd_low", "ci95_rd_high", "convex on $\\mathbb{R}^2$", "o", 0.97),
            ("share_box", "ci95_box_low", "ci95_box_high", "convex in $[-100, 100]^2$", "s", 1.03)):
        xs = [w * shift for w in widths]
        ys = [c[share] for c in table]
        err = [[c[share] - c[lo] for c in table], [c[hi] - c[share] for c in table]]
        ax.errorbar(xs, ys, yerr=err, marker=marker, capsize=3, label=label)
    ax.plot(widths, [c["share_icnn"] for c in table], ":", marker="^", label="ICNN-structured")
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths, widths)
    ax.set_xlabel("width of both hidden layers (d = 2)")
    ax.set_ylabel("share of networks (95 % Clopper-Pearson)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    ax.set_title(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----- the README -----------------------------------------------------------------------------------
def update_readme(out: str, name: str, section: str) -> None:
    """Replace the text between ``<!-- tables:NAME -->`` and ``<!-- /tables:NAME -->`` in OUT/README.md."""
    path = os.path.join(out, "README.md")
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# The paper's experiments, exactly\n"
    start, end = f"<!-- tables:{name} -->", f"<!-- /tables:{name} -->"
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {name}\n\n{block}\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def mark_affine(folder: str, rows: list[dict], timeout: float = DEFAULT_TIMEOUT) -> None:
    """Add ``"affine"`` to the convex rows: whether the network is also concave, i.e. computes an
    affine function (dead neurons, cancelling paths).  Decided exactly (``check`` on -f), cached
    in ``affine.json`` (id -> true / false / null when the bound stopped it)."""
    from exactconvex import check
    from exactconvex.graph import LimitReached
    from exactconvex.network import combine
    from exactconvex.sweep import Cell

    path = os.path.join(folder, "affine.json")
    cache = json.load(open(path, encoding="utf-8")) if os.path.exists(path) else {}
    todo = [r for r in rows if r["convex"] is True and r["network"] not in cache]
    for r in todo:
        cell = Cell(r["input_dim"], tuple(r["hidden_widths"]), r["outputs"], r["init"], r["seed"])
        try:
            cache[r["network"]] = check(combine([cell.network(r["index"])], [-1]), timeout=timeout).convex
        except LimitReached:
            cache[r["network"]] = None
    if todo:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(dict(sorted(cache.items())), fh, indent=0)
    for r in rows:
        if r["convex"] is True:
            r["affine"] = cache.get(r["network"])


def report(out: str, name: str) -> list[dict]:
    """Tables, figures and the README section of one experiment, from its rows."""
    from exactconvex.sweep import read_results

    folder = os.path.join(out, name)
    rows = [r for r in read_results(os.path.join(folder, "results.jsonl")) if r.get("init") == "torch"]
    if not rows:
        raise SystemExit(f"{folder}: no rows yet (run the experiment first)")
    mark_affine(folder, rows)
    table = cell_table(rows)
    write_tables(table, folder)
    grid_text = open(os.path.join(folder, "grid.txt"), encoding="utf-8").read().strip()
    per_cell = "/".join(map(str, sorted({c["networks"] for c in table})))
    title = {"2d": "d = 2, two hidden layers", "depth": "d = 3, equal widths",
             "dim": "two hidden layers"}[name] + f", PyTorch init, seed 0, {per_cell} networks per cell"
    if name == "2d":
        curve(table, os.path.join(folder, "curve.png"), title)
    elif name == "depth":
        heatmaps(table, "depth", "depth (hidden layers)", os.path.join(folder, "heatmap.png"), title)
    else:
        heatmaps(table, "d", "input dimension d", os.path.join(folder, "heatmap.png"), title)
    update_readme(out, name, experiment_markdown(name, table, rows, grid_text))
    return table


def compress(folder: str) -> None:
    """``results.jsonl.gz`` from ``results.jsonl`` (deterministic: no name or time in the header)."""
    src = os.path.join(folder, "results.jsonl")
    with open(src, "rb") as fh, open(src + ".gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            shutil.copyfileobj(fh, gz)


# ----- running ------------------------------------------------------------------------------------
def run(name: str, args) -> None:
    from exactconvex.sweep import PRESETS, parse_grid, sweep

    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    results = os.path.join(folder, "results.jsonl")
    if not os.path.exists(results) and os.path.exists(results + ".gz"):  # resume from the committed rows
        with gzip.open(results + ".gz", "rb") as gz, open(results, "wb") as fh:
            shutil.copyfileobj(gz, fh)
    spec = EXPERIMENTS[name] + (f";count={args.count}" if args.count is not None else "")
    grid = parse_grid(spec)
    with open(os.path.join(folder, "grid.txt"), "w", encoding="utf-8") as fh:
        fh.write(grid.text + "\n")
    print(f"== {name}: {grid.text} (box [-100, 100]^d, timeout {args.timeout} s per network)", flush=True)
    t0 = time.perf_counter()
    summary = sweep(grid=grid, results=results, jobs=args.jobs, dask=args.dask, timeout=args.timeout,
                    max_regions=args.max_regions, box=BOX, certs=os.path.join(folder, "certificates"),
                    certs_for="convex-not-icnn", retry_undecided=args.retry_undecided, progress=not args.quiet)
    print(summary)
    print(f"{name}: {time.perf_counter() - t0:.1f} s wall", flush=True)
    compress(folder)


def verify_certificates(out: str) -> int:
    """Re-check every committed certificate with the independent checker, and that its network is
    the grid's network of that id (so a certificate cannot be about another network)."""
    from exactconvex.checker import verify
    from exactconvex.network import network_from_dict
    from exactconvex.sweep import Cell

    bad = 0
    for name in EXPERIMENTS:
        files = sorted(glob.glob(os.path.join(out, name, "certificates", "*.json")))
        for path in files:
            # the id names the network: d<d>-<w1>x<w2>...-torch-seed<s>-<n>
            m = re.fullmatch(r"d(\d+)-([\dx]+)-torch-seed(\d+)-(\d+)\.json", os.path.basename(path))
            cell = m and Cell(int(m.group(1)), tuple(map(int, m.group(2).split("x"))), 1, "torch", int(m.group(3)))
            cert = json.load(open(path, encoding="utf-8"))
            result = verify(cert)
            same = bool(cell) and network_from_dict(cert["network"]) == cell.network(int(m.group(4)))
            if not (result.valid and same and cert.get("claim") == "convex"):
                bad += 1
                print(f"FAIL {path}: valid={result.valid} same_network={same} claim={cert.get('claim')} "
                      f"{getattr(result, 'reason', '')}")
        print(f"{name}: {len(files)} certificates checked")
    print("all certificates verify" if not bad else f"{bad} certificates fail")
    return 1 if bad else 0


def export_networks(name: str, count: int | None, folder: str) -> int:
    """Write the networks of an experiment (the first ``count`` per cell) to ``folder/<id>.json``,
    without deciding them: the same files as ``exactconvex sweep --export``."""
    from exactconvex.sweep import parse_grid
    from exactconvex.sweep.worker import export_text, file_name, grid_metadata

    grid = parse_grid(EXPERIMENTS[name] + (f";count={count}" if count is not None else ""))
    os.makedirs(folder, exist_ok=True)
    for cell, n in grid.items():
        ident = cell.network_id(n)
        with open(os.path.join(folder, file_name(ident)), "w", encoding="utf-8") as fh:
            fh.write(export_text(cell.network(n), ident, grid_metadata(cell, n)))
    print(f"{name}: {len(grid)} networks written to {folder}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("experiment", choices=[*EXPERIMENTS, "all", "verify", "export"])
    ap.add_argument("which", nargs="?", choices=list(EXPERIMENTS), help="with export: the experiment")
    ap.add_argument("--to", help="with export: the folder for the network files (default nets/<experiment>)")
    ap.add_argument("--count", type=int, help="networks per cell (default: the paper's, 100 for 2d and "
                                               "5000 for depth and dim)")
    ap.add_argument("--out", default=os.path.join("results", "paper"), help="results folder (default results/paper)")
    ap.add_argument("--jobs", type=int, default=2, help="local worker processes (default 2)")
    ap.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler address, scheduler file, or local")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"per network: no verdict (null) after S seconds (default {DEFAULT_TIMEOUT:g})")
    ap.add_argument("--max-regions", type=int, help="per network: no verdict (null) after N regions")
    ap.add_argument("--retry-undecided", action="store_true",
                    help="decide again the rows without a verdict (on R^d or in the box), e.g. with a larger --timeout")
    ap.add_argument("--tables-only", action="store_true", help="rebuild tables, figures and README from the rows")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if args.experiment == "verify":
        return verify_certificates(args.out)
    if args.experiment == "export":
        if args.which is None:
            ap.error("export needs the experiment: export 2d|depth|dim [--count N] [--to DIR]")
        return export_networks(args.which, args.count, args.to or os.path.join("nets", args.which))
    for name in (list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]):
        if not args.tables_only:
            run(name, args)
        report(args.out, name)
        print(f"{name}: tables in {os.path.join(args.out, name, 'cells.md')}, README section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
