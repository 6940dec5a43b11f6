"""Counts of a sweep: convex / not convex / undecided, overall and per cell, with intervals."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field

__all__ = ["SweepSummary", "clopper_pearson", "summarize"]


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided interval for a share k/n.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 100)
    >>> lo, round(hi, 4)
    (0.0, 0.0362)
    """
    if n <= 0:
        return (0.0, 1.0)
    from scipy.special import betaincinv  # the beta quantile (scipy.stats takes seconds to import)

    alpha = 1 - confidence
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return (lo, hi)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


@dataclass
class SweepSummary:
    """What a sweep did.  ``str(summary)`` is the report the CLI prints; ``to_dict()`` its JSON form.

    ``networks`` rows are in ``results``; ``computed`` of them were decided by this run, ``skipped``
    were already there.  ``errors`` counts undecided rows by reason ("limit", "undecided",
    "unreadable", "worker died", "internal error").  ``cells`` has one entry per architecture (and
    initialisation, for grids) with the share of convex networks among the decided ones and its
    95 % Clopper-Pearson interval.

    With a box (``box``: [A, B] as exact strings), ``convex_box`` / ``not_convex_box`` /
    ``undecided_box`` count the verdicts on the box, and ``convex_box_not_rd`` the networks convex
    in the box but not on R^d; each cell also gets ``share_convex_box`` and its ``ci95_box``.
    """

    results: str
    networks: int = 0
    computed: int = 0
    skipped: int = 0
    convex: int = 0
    not_convex: int = 0
    undecided: int = 0
    icnn_structure: int = 0
    convex_not_icnn: int = 0
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0
    engine: str = ""
    notes: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    box: list | None = None
    convex_box: int = 0
    not_convex_box: int = 0
    undecided_box: int = 0
    convex_box_not_rd: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"{self.networks} networks in {self.results}: {self.computed} decided now "
                 f"({self.engine}, {self.seconds:.1f} s), {self.skipped} already there",
                 f"convex: {self.convex}   not convex: {self.not_convex}   undecided: {self.undecided}"
                 + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) + ")"
                    if self.errors else ""),
                 f"ICNN-structured: {self.icnn_structure}   convex and not ICNN-structured: {self.convex_not_icnn}"]
        if self.box is not None:
            lines.append(f"in the box [{self.box[0]}, {self.box[1]}]^d: convex {self.convex_box}   not convex "
                         f"{self.not_convex_box}   undecided {self.undecided_box}   convex in the box but not on "
                         f"R^d: {self.convex_box_not_rd}")
        if any(c["architecture"] for c in self.cells):
            head = (f"{'architecture':<16} {'init':<7} {'networks':>8} {'convex':>7} {'share':>7} "
                    f"{'95% interval':>15} {'not':>7} {'undec.':>6} {'median s':>9} {'p90 s':>8}")
            lines += ["", head, "-" * len(head)]
            if self.box is not None:
                lines[-2] += f" {'box':>7} {'share':>7} {'box-not-R^d':>11}"
                lines[-1] = "-" * len(lines[-2])
            for c in self.cells:
                share = "-" if c["share_convex"] is None else f"{c['share_convex']:.4f}"
                ci = "-" if c["share_convex"] is None else f"[{c['ci95'][0]:.4f}, {c['ci95'][1]:.4f}]"
                med = "-" if c["median_seconds"] is None else f"{c['median_seconds']:.5f}"
                p90 = "-" if c["p90_seconds"] is None else f"{c['p90_seconds']:.5f}"
                lines.append(f"{(c['architecture'] or '?'):<16} {(c['init'] or '-'):<7} {c['networks']:>8} "
                             f"{c['convex']:>7} {share:>7} {ci:>15} {c['not_convex']:>7} {c['undecided']:>6} "
                             f"{med:>9} {p90:>8}")
                if self.box is not None:
                    share_box = "-" if c["share_convex_box"] is None else f"{c['share_convex_box']:.4f}"
                    lines[-1] += f" {c['convex_box']:>7} {share_box:>7} {c['convex_box_not_rd']:>11}"
        lines += self.notes
        return "\n".join(lines)


def _count_box(summary: SweepSummary, cell: dict, st: dict) -> None:
    """The box verdict of one row: convex in the box, not, undecided; convex in the box and not on R^d."""
    summary.box = summary.box or list(st["box"])
    verdict = st.get("convex_box")
    key = "undecided_box" if verdict is None else "convex_box" if verdict else "not_convex_box"
    setattr(summary, key, getattr(summary, key) + 1)
    cell[key] = cell.get(key, 0) + 1
    if verdict and st.get("convex") is False:
        summary.convex_box_not_rd += 1
        cell["convex_box_not_rd"] = cell.get("convex_box_not_rd", 0) + 1


def summarize(summary: SweepSummary, stats: list[dict]) -> SweepSummary:
    """Fill the counts of ``summary`` from the stats of every row of the sweep (in sweep order)."""
    cells: dict[tuple, dict] = {}
    times: dict[tuple, list] = {}
    for st in stats:
        convex = st["convex"]
        summary.networks += 1
        key = (st.get("architecture"), st.get("init"))
        cell = cells.setdefault(key, {"architecture": key[0], "init": key[1], "networks": 0, "convex": 0,
                                      "not_convex": 0, "undecided": 0, "icnn_structure": 0,
                                      "convex_not_icnn": 0})
        cell["networks"] += 1
        if st.get("icnn_structure"):
            summary.icnn_structure += 1
            cell["icnn_structure"] += 1
        if convex is None:
            summary.undecided += 1
            cell["undecided"] += 1
            reason = (st.get("error") or "unknown").split(":")[0].split(" (")[0]
            summary.errors[reason] = summary.errors.get(reason, 0) + 1
        elif convex:
            summary.convex += 1
            cell["convex"] += 1
            if st.get("icnn_structure") is False:
                summary.convex_not_icnn += 1
                cell["convex_not_icnn"] += 1
        else:
            summary.not_convex += 1
            cell["not_convex"] += 1
        if st.get("box") is not None:
            _count_box(summary, cell, st)
        if convex is not None and st.get("seconds") is not None:
            times.setdefault(key, []).append(st["seconds"])
    for key, cell in cells.items():
        decided = cell["convex"] + cell["not_convex"]
        cell["share_convex"] = cell["convex"] / decided if decided else None
        cell["ci95"] = list(clopper_pearson(cell["convex"], decided)) if decided else None
        ts = times.get(key, [])
        cell["median_seconds"] = statistics.median(ts) if ts else None
        cell["p90_seconds"] = _quantile(ts, 0.9)
        if summary.box is not None:
            decided_box = cell.get("convex_box", 0) + cell.get("not_convex_box", 0)
            for key_ in ("convex_box", "not_convex_box", "undecided_box", "convex_box_not_rd"):
                cell.setdefault(key_, 0)
            cell["share_convex_box"] = cell["convex_box"] / decided_box if decided_box else None
            cell["ci95_box"] = list(clopper_pearson(cell["convex_box"], decided_box)) if decided_box else None
    summary.cells = list(cells.values())
    return summary
