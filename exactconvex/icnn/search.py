"""Search for convex networks with more kinks on a line than any ICNN of their widths.

A counterexample for hidden widths (n1, ..., nk) is a convex network with those widths whose
restriction to some line has more than n1 + 2 (n2 + ... + nk) kinks (``line.py``).  A line
restriction of a d-dimensional network is a one-dimensional network with the same widths and
connections, so searching one-dimensional networks covers every input dimension.  In one
dimension the whole function is its restriction to R, so convexity is read off the same exact
walk (every slope change >= 0).

Phases (deterministic for a given seed, until the budget in seconds runs out):

1. an exhaustive grid: every network whose weights and biases are all in {-1, 0, 1} (the
   output bias and the input skip into the output change neither kinks nor convexity, so they
   are 0), up to permutations of the neurons of each hidden layer (the rows of each hidden
   layer are enumerated as sorted multisets, which covers every network once its layers are
   sorted one after the other);
2. random networks with small rational weights (integers in [-3, 3], halves for biases);
3. local search from the best-scoring candidates (score: kinks beyond the bound minus a penalty
   per concave kink), changing one or two weights at a time.

Floats only screen (a vectorised version of the same walk); every candidate is confirmed with
exact rational arithmetic before it is reported.

Connections (``skips``): "none" = plain feed-forward; "input" = the ICNN connections
(skips from the input into every later hidden layer); "all" = skips from every earlier
layer.  The bound holds for ICNNs with any of these connections.

Activations (``slopes``): one LeakyReLU slope per hidden layer (default: ReLU everywhere);
the searched networks carry them, the float screen and the exact walk both use them.  The
bound is about ICNNs of the widths, whatever activation the searched network has.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from ..network import Network
from .line import icnn_kink_bound, kink_changes

__all__ = ["search_counterexample", "SearchResult", "Layout", "GRID_VALUES"]

GRID_VALUES = (-1.0, 0.0, 1.0)
SKIP_MODES = ("none", "input", "all")


# ----- the parameters of a one-dimensional network, as one flat vector ----------------------

class Layout:
    """Where each weight of a network of widths [1, n1, ..., nk, 1] sits in a flat vector.

    Hidden neuron i of layer l owns one contiguous *row*: its main weights, then its skip
    weights (sources in increasing order), then its bias.  The output row has main weights
    and skips from hidden layers only (no bias, no input skip: they are affine).
    """

    def __init__(self, widths: list[int], skips: str = "none", slopes=None):
        if skips not in SKIP_MODES:
            raise ValueError(f"skips must be one of {', '.join(SKIP_MODES)}")
        if len(widths) < 3 or widths[0] != 1 or widths[-1] != 1 or any(n < 1 for n in widths):
            raise ValueError("the architecture must be 1,n1,...,nk,1 with k >= 1 positive hidden widths")
        self.widths, self.skips = list(widths), skips
        self.L = len(widths) - 1
        from ..numbers import to_q

        self.slopes = [to_q(0)] * (self.L - 1) if slopes is None else [to_q(v) for v in slopes]
        if len(self.slopes) != self.L - 1:
            raise ValueError(f"slopes needs one entry per hidden layer ({self.L - 1}), got {len(self.slopes)}")
        self.float_slopes = [_float_guess(v) for v in self.slopes]
        self.rows: list[list] = []  # per layer l (1..L): list of (kind, source, length) parts of a row
        for l in range(1, self.L + 1):
            parts = [("W", l - 1, widths[l - 1])]
            for k in self.skip_sources(l):
                parts.append(("S", k, widths[k]))
            if l < self.L:
                parts.append(("b", None, 1))
            self.rows.append(parts)
        self.row_len = [sum(n for _, _, n in parts) for parts in self.rows]
        self.offsets = [0]
        for l in range(1, self.L + 1):
            self.offsets.append(self.offsets[-1] + widths[l] * self.row_len[l - 1])
        self.size = self.offsets[-1]

    def skip_sources(self, l: int) -> list[int]:
        last = l == self.L
        if self.skips == "none" or l < 2:
            return []
        if self.skips == "input":
            return [] if last else [0]
        return [k for k in range(0, l - 1) if not (last and k == 0)]

    @property
    def hidden_widths(self) -> list[int]:
        return self.widths[1:-1]

    def unpack(self, theta: np.ndarray) -> list[dict]:
        """Per layer: {"W": (B, n_l, n_{l-1}), "S": {k: (B, n_l, n_k)}, "b": (B, n_l)} views of theta (B, size)."""
        B = theta.shape[0]
        out = []
        for l in range(1, self.L + 1):
            n = self.widths[l]
            block = theta[:, self.offsets[l - 1]:self.offsets[l]].reshape(B, n, self.row_len[l - 1])
            pos, layer = 0, {"S": {}, "b": np.zeros((B, n))}
            for kind, src, length in self.rows[l - 1]:
                part = block[:, :, pos:pos + length]
                pos += length
                if kind == "W":
                    layer["W"] = part
                elif kind == "S":
                    layer["S"][src] = part
                else:
                    layer["b"] = part[:, :, 0]
            out.append(layer)
        return out

    def network(self, theta_row: np.ndarray) -> Network:
        """The exact network of one parameter vector (its floats are read exactly)."""
        from fractions import Fraction

        def q(v):  # the exact value of the float that was screened
            return Fraction(float(v))

        layers = []
        for l, layer in enumerate(self.unpack(np.asarray(theta_row, dtype=float)[None, :]), start=1):
            entry = {"weight": [[q(v) for v in row] for row in layer["W"][0]],
                     "bias": [q(v) for v in layer["b"][0]]}
            if layer["S"]:
                entry["skip"] = {k: [[q(v) for v in row] for row in S[0]] for k, S in layer["S"].items()}
            if l < self.L:
                entry["slope"] = self.slopes[l - 1]
            layers.append(entry)
        return Network.from_lists(1, layers)


def _float_guess(v) -> float:
    """A float of an exact slope for the screen (a guess; huge values saturate)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


# ----- the float screen: the exact walk of line.py, vectorised over a batch ------------------

def _forward(layers: list[dict], T: np.ndarray, upto: int, slopes=None) -> np.ndarray:
    """Pre-activations of layer ``upto`` at the points T (B, N): (B, N, n_upto); ``slopes``: the
    LeakyReLU slope (float) of every hidden layer, None for ReLU."""
    h = [T[:, :, None]]
    for l, layer in enumerate(layers[:upto], start=1):
        z = np.einsum("bnj,bij->bni", h[l - 1], layer["W"]) + layer["b"][:, None, :]
        for k, S in layer["S"].items():
            z = z + np.einsum("bnj,bij->bni", h[k], S)
        if l == upto:
            return z
        s = slopes[l - 1] if slopes is not None else 0.0
        h.append(np.maximum(z, 0.0) if s == 0 else np.where(z > 0, z, s * z))
    raise AssertionError("unreachable")


def _fill_sort(c: np.ndarray) -> np.ndarray:
    """Sort candidate points per row, replacing missing ones (NaN) by a present one (or 0)."""
    c = np.where(np.isfinite(c), c, np.nan)
    first = np.where(np.isfinite(c).any(axis=1), np.nanmin(np.where(np.isnan(c), np.inf, c), axis=1), 0.0)
    c = np.where(np.isnan(c), first[:, None], c)
    return np.sort(c, axis=1)


def screen(layout: Layout, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float estimates (kinks, concave kinks) per row of theta (B, size)."""
    layers = layout.unpack(theta)
    B = theta.shape[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w, b = layers[0]["W"][:, :, 0], layers[0]["b"]
        P = _fill_sort(np.where(w != 0, -b / w, np.nan))
        for l in range(2, layout.L):
            ext = np.concatenate([P[:, :1] - 1, P, P[:, -1:] + 1], axis=1)
            Z = _forward(layers, ext, l, layout.float_slopes)  # (B, K + 2, n)
            Zp = Z[:, 1:-1]
            za, zb = Zp[:, :-1], Zp[:, 1:]
            ta, tb = P[:, :-1, None], P[:, 1:, None]
            inner = np.where(za * zb < 0, ta + (tb - ta) * za / (za - zb), np.nan).reshape(B, -1)
            # rays: z is affine beyond the outer candidates; a slope within rounding of 0 is 0
            sl, sr = Z[:, 1] - Z[:, 0], Z[:, -1] - Z[:, -2]
            sl = np.where(np.abs(sl) > 1e-12 * (1 + np.abs(Z[:, 0]) + np.abs(Z[:, 1])), sl, np.nan)
            sr = np.where(np.abs(sr) > 1e-12 * (1 + np.abs(Z[:, -1]) + np.abs(Z[:, -2])), sr, np.nan)
            ql, qr = Z[:, 1] / sl, -Z[:, -2] / sr  # roots P0 - ql and PK + qr, when > 0
            left = np.where(ql > 0, P[:, :1] - ql, np.nan)
            right = np.where(qr > 0, P[:, -1:] + qr, np.nan)
            P = _fill_sort(np.concatenate([P, inner, left, right], axis=1))
        tol = 1e-9 * (1 + np.abs(P))
        D = np.abs(P[:, :, None] - P[:, None, :])
        D = np.where(D > tol[:, :, None], D, np.inf).min(axis=2)
        eps = np.minimum(D / 4, 1.0)
        pts = np.concatenate([P - eps, P, P + eps], axis=1)
        F = _forward(layers, pts, layout.L, layout.float_slopes)[:, :, 0]
        K = P.shape[1]
        fl, f0, fr = F[:, :K], F[:, K:2 * K], F[:, 2 * K:]
        sl, sr = (f0 - fl) / eps, (fr - f0) / eps
        change = sr - sl
        first = np.concatenate([np.ones((B, 1), bool), np.diff(P, axis=1) > tol[:, 1:]], axis=1)
        thr = 1e-7 * (1 + np.abs(sl) + np.abs(sr))
        ok = np.isfinite(change)
        kinks = (first & ok & (np.abs(change) > thr)).sum(axis=1)
        concave = (first & ok & (change < -thr)).sum(axis=1) + (~ok).any(axis=1) * 1000
    return kinks, concave


# ----- exact confirmation --------------------------------------------------------------------

def exact_kinks(net: Network) -> tuple[int, bool]:
    """(number of kinks, convex) of a one-dimensional network, exactly."""
    changes = kink_changes(net, [0], [1])
    return len(changes), all(c > 0 for _, c in changes)


@dataclass
class SearchResult:
    """The outcome of ``search_counterexample``."""

    widths: list
    skips: str
    bound: int
    found: bool
    network: Network | None = None
    kinks: int | None = None
    phase: str | None = None  # "grid", "random" or "local"
    seconds: float = 0.0
    screened: int = 0
    confirmed_exactly: int = 0
    grid_size: int = 0
    grid_checked: int = 0
    grid_exhausted: bool = False
    best_kinks: int | None = None  # most kinks of an exactly confirmed convex candidate
    note: str = ""
    slopes: list | None = None  # the LeakyReLU slope of every hidden layer (exact; 0 = ReLU)

    def summary(self) -> dict:
        out = {"architecture": ",".join(map(str, self.widths)), "skips": self.skips, "bound": self.bound,
               "found": self.found, "kinks": self.kinks, "phase": self.phase, "seconds": round(self.seconds, 3),
               "screened": self.screened, "grid": {"values": list(map(int, GRID_VALUES)), "size": self.grid_size,
                                                   "checked": self.grid_checked, "exhausted": self.grid_exhausted},
               "best_convex_kinks": self.best_kinks, "note": self.note}
        if self.slopes and any(s != 0 for s in self.slopes):
            out["slopes"] = [str(s) for s in self.slopes]
        return out


def _grid_parts(layout: Layout) -> list[np.ndarray]:
    """Per layer, the array of its possible row blocks: sorted multisets of rows for hidden layers."""
    V = np.array(GRID_VALUES)
    parts = []
    for l in range(1, layout.L + 1):
        r, n = layout.row_len[l - 1], layout.widths[l]
        rows = np.array(list(itertools.product(V, repeat=r))) if r else np.zeros((1, 0))
        if l < layout.L:
            combos = np.array(list(itertools.combinations_with_replacement(range(len(rows)), n)))
        else:  # the one output neuron: every row
            combos = np.arange(len(rows))[:, None]
        parts.append(rows[combos].reshape(len(combos), n * r))
    return parts


def grid_batch(parts: list[np.ndarray], start: int, stop: int) -> np.ndarray:
    """Grid networks number start..stop-1 (mixed radix over the layers' parts, the output fastest)."""
    idx = np.arange(start, stop)
    cols = []
    for p in reversed(parts):
        cols.append(p[idx % len(p)])
        idx = idx // len(p)
    return np.concatenate(list(reversed(cols)), axis=1)


def grid_size(layout: Layout) -> int:
    size = 1
    for l in range(1, layout.L + 1):
        r, n = layout.row_len[l - 1], layout.widths[l]
        size *= math.comb(len(GRID_VALUES) ** r + n - 1, n) if l < layout.L else len(GRID_VALUES) ** r
    return size


def search_counterexample(arch, seed: int = 0, budget: float = 60.0, skips: str = "none", *,
                          batch: int = 4096, grid_max: int = 2_000_000, grid_limit: int | None = None,
                          progress=None, slopes=None) -> SearchResult:
    """Search networks of architecture ``arch`` = [1, n1, ..., nk, 1] for a convex one with more kinks than
    the ICNN bound n1 + 2 (n2 + ... + nk); see the module docstring for the phases.  ``slopes``: the
    LeakyReLU slope of every hidden layer of the searched networks (default: ReLU).

    The grid phase runs when the grid has at most ``grid_max`` networks (``grid_limit`` stops it
    after that many), for at most half of the budget.  Returns a SearchResult; ``network`` is
    exactly confirmed (convex, ``kinks`` > ``bound``).
    """
    t0 = time.perf_counter()
    layout = Layout(list(arch), skips, slopes)
    bound = icnn_kink_bound(layout.hidden_widths)
    res = SearchResult(list(arch), skips, bound, False, slopes=list(layout.slopes))
    if layout.L == 2:
        res.note = (f"one hidden layer: a network has at most n1 = {bound} kinks on a line, which is the bound "
                    f"(and every convex one is an ICNN of the same width, see to_icnn); no counterexample exists")
        return res
    rng = np.random.default_rng(seed)
    best_exact = [None]

    def elapsed():
        return time.perf_counter() - t0

    def confirm(theta, kinks, concave, phase) -> bool:
        idx = np.nonzero((kinks > bound) & (concave == 0))[0]
        for i in idx[:64]:
            net = layout.network(theta[i])
            n, convex = exact_kinks(net)
            res.confirmed_exactly += 1
            if convex:
                best_exact[0] = max(best_exact[0] or 0, n)
            if convex and n > bound:
                res.found, res.network, res.kinks, res.phase = True, net, n, phase
                return True
        return False

    # 1. the exhaustive grid
    res.grid_size = grid_size(layout)
    parts = _grid_parts(layout) if res.grid_size <= grid_max else None
    limit = res.grid_size if grid_limit is None else min(grid_limit, res.grid_size)
    if parts is not None:
        start = 0
        while start < limit and elapsed() < budget / 2:
            theta = grid_batch(parts, start, min(start + batch, limit))
            kinks, concave = screen(layout, theta)
            res.screened += len(theta)
            start += len(theta)
            res.grid_checked = start
            if confirm(theta, kinks, concave, "grid"):
                break
            if progress:
                progress("grid", res)
        res.grid_exhausted = not res.found and res.grid_checked >= res.grid_size
    if not res.found:
        _random_and_local(layout, bound, rng, budget, batch, res, confirm, elapsed, progress)
    res.best_kinks = best_exact[0]
    res.seconds = elapsed()
    if not res.found:
        grid = f"the grid of every weight in {{-1, 0, 1}} ({res.grid_size} networks up to neuron order) was " + (
            "exhausted" if res.grid_exhausted else f"checked for {res.grid_checked} of them" if parts is not None
            else f"skipped (more than {grid_max} networks)")
        res.note = (f"no counterexample found in {res.seconds:.1f} s: {grid}, then {res.screened - res.grid_checked} "
                    f"random and local-search candidates; this proves nothing about other weights")
    return res


def _random_params(rng, layout: Layout, B: int) -> np.ndarray:
    theta = rng.integers(-3, 4, size=(B, layout.size)).astype(float)
    halves = rng.random((B, layout.size)) < 0.3
    theta = np.where(halves, rng.integers(-6, 7, size=(B, layout.size)) / 2.0, theta)
    zeros = rng.random((B, layout.size)) < 0.1
    return np.where(zeros, 0.0, theta)


def _random_and_local(layout, bound, rng, budget, batch, res, confirm, elapsed, progress) -> None:
    """Alternate random batches with mutations of a pool of the best distinct candidates so far;
    the pool restarts when its best score has not improved for a while."""
    pool_theta = np.zeros((0, layout.size))
    pool_score = np.zeros(0)
    keep, patience = 64, 40
    round_no, best, since_best = 0, -np.inf, 0
    while elapsed() < budget:
        round_no += 1
        local = len(pool_theta) > 0 and round_no % 2 == 0
        if local:  # mutate the best candidates: one or two weights each
            theta = pool_theta[rng.integers(0, len(pool_theta), size=batch)].copy()
            rows = np.arange(batch)
            for probability in (1.0, 0.7):
                pos = rng.integers(0, layout.size, size=batch)
                new = _random_params(rng, layout, batch)[rows, pos]
                nudge = rng.random(batch) < 0.5
                new = np.where(nudge, theta[rows, pos] + rng.choice([-0.5, 0.5], size=batch), new)
                mask = rng.random(batch) < probability
                theta[rows[mask], pos[mask]] = new[mask]
            phase = "local"
        else:
            theta = _random_params(rng, layout, batch)
            phase = "random"
        kinks, concave = screen(layout, theta)
        res.screened += len(theta)
        if confirm(theta, kinks, concave, phase):
            return
        # kinks beyond the bound, a penalty per concave kink, a little noise to break ties
        score = kinks - bound - 1.5 * concave + 0.1 * rng.random(len(theta))
        all_theta, first = np.unique(np.concatenate([pool_theta, theta]), axis=0, return_index=True)
        all_score = np.concatenate([pool_score, score])[first]
        order = np.argsort(-all_score, kind="stable")[:keep]
        pool_theta, pool_score = all_theta[order], all_score[order]
        top = np.floor(pool_score[0] * 10)
        if top > best:
            best, since_best = top, 0
        else:
            since_best += 1
            if since_best > patience:  # stuck: start a new pool
                pool_theta, pool_score = np.zeros((0, layout.size)), np.zeros(0)
                best, since_best = -np.inf, 0
        if progress:
            progress(phase, res)
