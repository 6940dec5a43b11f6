"""Convexity on a box Q = [A, B]^d, exactly (``proofs/box.md``).

f is convex on Q iff every facet of the region complex whose relative interior meets the open
box has a bend >= 0 (``proofs/box.md``, Theorem).  So, with the region graph of all of R^d
(``explore``), only the facets with a negative bend need a look, one exact question each: does
the facet F = P ∩ {g = 0} (P its region) meet the open box?

* yes: a point p of relint F strictly inside the box, and the short segment p -+ eps n through
  it (n the facet's normal, eps small enough to stay in both regions and in the box) violates
  convexity, by exact evaluation: a witness with x, y in the box;
* no: a *separation*, nonnegative multipliers lambda of region constraints g_nu >= 0, a
  multiplier gamma of any sign of the facet's g = 0, and nonnegative multipliers of the box
  constraints x_k - A > 0 (``lower``) and B - x_k > 0 (``upper``), whose combination
  S = sum lambda g_nu + gamma g + sum lower_k (x_k - A) + upper_k (B - x_k) is a constant s <= 0,
  with s < 0 or some box multiplier > 0.  At a point of F inside the open box S would be > 0
  (or >= 0 with s < 0): no such point exists.

The question is one exact LP, solved in its dual form: minimise s over the multipliers with
the box multipliers summing to 1 and s >= -1 (``_dual``).  By LP duality its optimum is the
largest t such that some point of F lies at distance >= t (coordinatewise) inside the box,
capped below at -1: <= 0 gives the separation, > 0 a point (``_primal``) from which a relative-
interior point follows exactly (``proofs/box.md``, Lemma 1).

A float search along random segments inside the box (``search_in_box``) proposes witnesses
first; every proposal is confirmed by exact evaluation, so floats only save time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from flint import fmpq

from ..network import Network
from ..numbers import q_from_float, to_q
from ..polyhedra import dot, lp_free, simplex_standard, step_inside
from ..polyhedra.rows import float_guess
from .explore import Arrangement, Region, bend, check_witness
from .floatsearch import confirm_kinks, float_forward, float_layers

__all__ = ["Box", "parse_box", "Separation", "BoxOutcome", "BoxDecider", "box_witness", "search_in_box",
           "witness_in_box"]


@dataclass(frozen=True)
class Box:
    """The closed box [lower, upper]^d (lower < upper, exact).

    >>> box = parse_box("-100,100")
    >>> box.contains((fmpq(-100), fmpq(3))), box.contains_open((fmpq(-100), fmpq(3)))
    (True, False)
    """

    lower: fmpq
    upper: fmpq

    def contains(self, p: Sequence) -> bool:
        """p in the closed box."""
        return all(self.lower <= v <= self.upper for v in p)

    def contains_open(self, p: Sequence) -> bool:
        """p in the open box."""
        return all(self.lower < v < self.upper for v in p)

    def rows(self, d: int) -> list[tuple[tuple, fmpq]]:
        """The box as constraints (a, c), a . x + c >= 0: x_k - A >= 0, then B - x_k >= 0, k = 0..d-1."""
        unit = [tuple(fmpq(int(i == k)) for i in range(d)) for k in range(d)]
        return [(e, -self.lower) for e in unit] + [(tuple(-v for v in e), self.upper) for e in unit]

    def text(self, d: int | None = None) -> str:
        """``[A, B]^d`` as exact numbers."""
        from ..numbers import q_str

        return f"[{q_str(self.lower)}, {q_str(self.upper)}]" + (f"^{d}" if d is not None else "")


def parse_box(value) -> Box:
    """A ``Box`` from "A,B", a pair (A, B) of exact numbers (ints, strings, Fractions, fmpq) or a Box.

    Raises ValueError unless A < B are exact numbers (floats are read as the decimal they print).

    >>> parse_box("-1/2, 1e6")
    Box(lower=-1/2, upper=1000000)
    >>> parse_box((3, 3))
    Traceback (most recent call last):
        ...
    ValueError: a box [A, B]^d needs A < B, got A = 3, B = 3
    """
    if isinstance(value, Box):
        return value
    parts = value.split(",") if isinstance(value, str) else list(value)
    if len(parts) != 2:
        raise ValueError(f"a box is two exact numbers A,B (such as -100,100), got {value!r}")
    try:
        lower, upper = (to_q(p.strip() if isinstance(p, str) else p) for p in parts)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"a box is two exact numbers A,B (such as -100,100): {exc}") from None
    if not lower < upper:
        raise ValueError(f"a box [A, B]^d needs A < B, got A = {lower}, B = {upper}")
    return Box(lower, upper)


@dataclass
class Separation:
    """Why facet ``facet`` of region ``region`` misses the open box (module docstring):
    S = sum multipliers_i g_{neurons_i} + facet_multiplier g + sum lower_k (x_k - A) + upper_k (B - x_k)
    is the constant ``constant`` <= 0, and ``constant`` < 0 or some lower/upper multiplier is > 0.
    ``neurons`` are flat hidden-neuron indices of constraints of the region."""

    region: int
    facet: int
    neurons: list
    multipliers: list
    facet_multiplier: fmpq
    lower: list
    upper: list
    constant: fmpq


@dataclass
class BoxOutcome:
    """The box verdict on one output: a witness (x, y in the box), or convex on the box with the
    separations of the facets whose bend is negative (keyed by (region, facet))."""

    convex: bool
    witness: dict | None = None
    separations: dict = field(default_factory=dict)


def _facet_rows(region: Region) -> list[tuple[tuple, fmpq]]:
    """The constraint g = a . x + c >= 0 of every listed facet of the region, in order."""
    position = {n: i for i, n in enumerate(region.neurons)}
    return [region.rows.row(position[f.neuron]) for f in region.facets]


def _combination(sep_rows, g, box: Box, d: int, lam, gamma, lower, upper) -> tuple[list, fmpq]:
    """(gradient, constant) of sum lam_i rows_i + gamma g + sum lower_k (x_k - A) + upper_k (B - x_k)."""
    grad = [fmpq(0)] * d
    const = fmpq(0)
    for (a, c), m in [*zip(sep_rows, lam), (g, gamma)]:
        if m:
            grad = [u + m * v for u, v in zip(grad, a)]
            const += m * c
    for k in range(d):
        grad[k] += lower[k] - upper[k]
        const += upper[k] * box.upper - lower[k] * box.lower
    return grad, const


def _dual(others: list, g: tuple, box: Box, d: int):
    """Minimise s over the separation multipliers (lambda on ``others``, gamma = gamma+ - gamma-,
    lower, upper, all >= 0 but gamma) with sum(lower + upper) = 1 and s >= -1 (slack sigma):
    (optimum, lambda, gamma, lower, upper).  Always feasible (lower_0 = upper_0 = 1/2) and bounded."""
    zero = fmpq(0)
    columns, costs = [], []
    for a, c in others:
        columns.append(list(a) + [zero, c])
        costs.append(c)
    a_g, c_g = g
    columns.append(list(a_g) + [zero, c_g])
    costs.append(c_g)
    columns.append([-v for v in a_g] + [zero, -c_g])
    costs.append(-c_g)
    for k in range(d):  # lower_k: x_k - A
        columns.append([fmpq(int(i == k)) for i in range(d)] + [fmpq(1), -box.lower])
        costs.append(-box.lower)
    for k in range(d):  # upper_k: B - x_k
        columns.append([-fmpq(int(i == k)) for i in range(d)] + [fmpq(1), box.upper])
        costs.append(box.upper)
    columns.append([zero] * (d + 1) + [fmpq(-1)])  # sigma
    costs.append(zero)
    rows = [[col[r] for col in columns] for r in range(d + 2)]
    res = simplex_standard(costs, rows, [zero] * d + [fmpq(1), fmpq(-1)])
    if res.status != "optimal":  # pragma: no cover - feasible and bounded by construction
        raise AssertionError(f"the box separation LP is {res.status}")
    y, m = res.x, len(others)
    return res.value, y[:m], y[m] - y[m + 1], y[m + 2:m + 2 + d], y[m + 2 + d:m + 2 + 2 * d]


def _primal(others: list, g: tuple, box: Box, d: int) -> tuple[list, fmpq]:
    """A point x of F = {g = 0, others >= 0} and t with A + t <= x_k <= B - t, t maximal."""
    zero, one = fmpq(0), fmpq(1)
    A_ub = [[-v for v in a] + [zero] for a, _ in others]
    b_ub = [c for _, c in others]
    for k in range(d):
        e = [fmpq(int(i == k)) for i in range(d)]
        A_ub.append([-v for v in e] + [one])  # x_k - A - t >= 0
        b_ub.append(-box.lower)
        A_ub.append(e + [one])  # B - x_k - t >= 0
        b_ub.append(box.upper)
    res = lp_free([zero] * d + [-one], A_ub=A_ub, b_ub=b_ub, A_eq=[list(g[0]) + [zero]], b_eq=[-g[1]])
    if res.status != "optimal":  # pragma: no cover - called only when the dual says t* > 0
        raise AssertionError(f"the box point LP is {res.status}")
    return res.x[:d], res.x[d]


def _power_of_two_below(bound: fmpq) -> fmpq:
    """The largest power of two <= bound (bound > 0), at most 1/2."""
    step = fmpq(1, 2)
    while step > bound:
        step /= 2
    return step


def witness_in_box(w: dict | None, box: Box) -> bool:
    """Whether a violation witness {output, x, y, lambda} has x and y in the closed box (then the
    whole segment, the point at lambda included, is in the box)."""
    return w is not None and box.contains(w["x"]) and box.contains(w["y"])


def box_witness(net: Network, a: Region, b: Region, point: tuple, normal: tuple, k: int, box: Box):
    """The segment point -+ t normal, inside both regions and the open box, as a witness of output k
    (checked by exact evaluation; None if the check fails, which a negative bend at a relative-
    interior point of the facet inside the open box rules out)."""
    d = net.input_dim
    walls = box.rows(d)
    neg = tuple(-v for v in normal)
    ta = step_inside([(ca, cc) for _, ca, cc in a.constraints] + walls, point, neg)
    tb = step_inside([(ca, cc) for _, ca, cc in b.constraints] + walls, point, normal)
    if ta is None or tb is None:
        return None
    t = min(ta, tb)
    x = tuple(p - t * n for p, n in zip(point, normal))
    y = tuple(p + t * n for p, n in zip(point, normal))
    return check_witness(net, k, x, y, fmpq(1, 2))


class BoxDecider:
    """Box questions about the facets of an explored arrangement, each answered once.

    Examples
    --------
    A concave kink at x = 10^6 only: convex on [-100, 100], not on [-100, 10^7].

    >>> from exactconvex.graph import explore
    >>> net = Network.from_lists(1, [{"weight": [[1]], "bias": [-10**6]}, {"weight": [[-1]]}])
    >>> arr = explore(net)
    >>> BoxDecider(net, arr, parse_box("-100,100")).output(0).convex
    True
    >>> out = BoxDecider(net, arr, parse_box("-100,10000000")).output(0)
    >>> out.convex, out.witness["x"] < (10**6,) < out.witness["y"]
    (False, True)
    """

    def __init__(self, net: Network, arrangement: Arrangement, box: Box):
        self.net, self.arrangement, self.box = net, arrangement, box
        self._answers: dict[tuple[int, int], tuple | Separation] = {}

    def facet(self, r: int, i: int) -> tuple | Separation:
        """A point of relint F ∩ open box for facet i of region r, or a ``Separation`` (exact)."""
        key = (r, i)
        if key not in self._answers:
            self._answers[key] = self._decide(r, i)
        return self._answers[key]

    def _decide(self, r: int, i: int) -> tuple | Separation:
        region = self.arrangement.regions[r]
        f = region.facets[i]
        if self.box.contains_open(f.point):
            return tuple(f.point)
        d, box = self.net.input_dim, self.box
        rows = _facet_rows(region)
        g, others = rows[i], rows[:i] + rows[i + 1:]
        neurons = [x.neuron for j, x in enumerate(region.facets) if j != i]
        value, lam, gamma, lower, upper = _dual(others, g, box, d)
        if value <= 0:
            grad, const = _combination(others, g, box, d, lam, gamma, lower, upper)
            if any(grad) or const != value or const > 0 or not (const < 0 or any(lower) or any(upper)):
                raise AssertionError("the box separation does not check")  # pragma: no cover
            keep = [j for j, m in enumerate(lam) if m != 0]
            return Separation(r, i, [neurons[j] for j in keep], [lam[j] for j in keep], gamma, list(lower),
                              list(upper), const)
        # the facet meets the open box: a point x of F with slack t > 0, then towards the facet's
        # relative-interior point q: x + tau (q - x) is in relint F, and inside the box while
        # tau |q_k - x_k| < t (proofs/box.md, Lemma 1)
        x, t = _primal(others, g, box, d)
        q = tuple(f.point)
        far = max(abs(qk - xk) for qk, xk in zip(q, x))
        tau = _power_of_two_below(t / (2 * far)) if far else fmpq(1, 2)
        p = tuple(xk + tau * (qk - xk) for qk, xk in zip(q, x))
        if not box.contains_open(p):  # pragma: no cover - by the choice of tau
            raise AssertionError("the box point is not inside the open box")
        return p

    def negative_facets(self, k: int, both_sides: bool = False) -> list[tuple[int, int]]:
        """(region, facet) of the facets where output k bends by < 0: each facet once (from the region
        with the smaller id), or as listed by both regions (``both_sides``)."""
        regs = self.arrangement.regions
        out = []
        for r in regs:
            for i, f in enumerate(r.facets):
                if (both_sides or f.neighbor > r.id) and bend(r, regs[f.neighbor], f.outward, k) < 0:
                    out.append((r.id, i))
        return out

    def _witness(self, r: int, i: int, point: tuple, k: int) -> dict:
        regs = self.arrangement.regions
        f = regs[r].facets[i]
        w = box_witness(self.net, regs[r], regs[f.neighbor], point, f.outward, k, self.box)
        if w is None or not witness_in_box(w, self.box):  # pragma: no cover - proofs/box.md, Theorem
            raise AssertionError("a negative bend inside the open box without a violation witness")
        return w

    def output(self, k: int, certificate: bool = False) -> BoxOutcome:
        """Output k on the box: a witness inside it, or convex with the separations of every negative
        facet (as listed by both of its regions when ``certificate``: the checker checks each listing)."""
        negative = self.negative_facets(k, both_sides=certificate)
        for r, i in negative:  # cheap first: a listed facet point already inside the open box
            point = self.arrangement.regions[r].facets[i].point
            if self.box.contains_open(point):
                return BoxOutcome(False, self._witness(r, i, tuple(point), k))
        separations = {}
        for r, i in negative:
            answer = self.facet(r, i)
            if isinstance(answer, Separation):
                separations[r, i] = answer
            else:
                return BoxOutcome(False, self._witness(r, i, answer, k))
        return BoxOutcome(True, None, separations)


# ----- a float search inside the box, confirmed exactly -----------------------------------------------

def search_in_box(net: Network, outputs: Sequence[int], box: Box, *, lines: int = 48, seed: int = 0) -> dict:
    """Violations of convexity with x and y in the box, proposed by float evaluation along random
    segments inside it and confirmed by exact evaluation: {output: witness}.  Proves nothing when
    it finds nothing."""
    import math

    import numpy as np

    lo, hi = float_guess(box.lower), float_guess(box.upper)
    lo, hi = max(lo, -1e15), min(hi, 1e15)  # a sub-box of a huge box still proposes
    width = hi - lo
    if not (math.isfinite(width) and width > 0):
        return {}
    rng = np.random.default_rng(seed)
    slopes = [float_guess(s) for s in net.slopes]
    layers = float_layers(net)
    d = net.input_dim
    ts = np.linspace(-1.0, 1.0, 129)
    found: dict[int, dict] = {}
    inner_lo, inner_hi = lo + width / 64, hi - width / 64
    for i in range(lines):
        if i % 2:  # anywhere in the box, segments as long as the box allows
            p = rng.uniform(inner_lo, inner_hi, size=d)
        else:  # near the origin (where random networks have their kinks), at several scales
            p = np.clip(rng.normal(size=d) * 10.0 ** (i // 2 % 4 - 1), inner_lo, inner_hi)
        u = rng.normal(size=d)
        with np.errstate(divide="ignore"):
            reach = np.minimum(hi - p, p - lo) / np.abs(u)
        T = float(np.min(reach)) * 0.99
        if i % 2 == 0:
            T = min(T, 4 * 10.0 ** (i // 2 % 4 - 1))
        if not (math.isfinite(T) and T > 0):
            continue
        X = p[None, :] + (ts * T)[:, None] * u[None, :]
        with np.errstate(all="ignore"):
            F = float_forward(layers, X, slopes)
        pq = [q_from_float(v) for v in p]
        uq = [q_from_float(v) for v in u]
        h = q_from_float(T / 64)
        if confirm_kinks(net, F, outputs, found, lambda j: (pq, uq, q_from_float(ts[j + 1] * T), h),
                         lambda x, y: box.contains(x) and box.contains(y)):
            break
    return found
