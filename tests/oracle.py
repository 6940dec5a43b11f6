"""An exact line-restriction oracle, written for the tests and sharing no code with exactconvex.

The tests use it as the independent source of truth about convexity: it never imports the
package, reads the network from its JSON document (the ``exactconvex.network`` format of
``shared/spec/network-format.md``) with its own number parser, and computes with
``fractions.Fraction`` only.

The idea is the definition of convexity itself: f is convex on R^d iff its restriction
t -> f(p + t u) to every line is convex.  Along a line every neuron is an exact
piecewise-affine function of t; the oracle propagates these functions layer by layer (a
sum of piecewise-affine functions is piecewise affine on the union of the breakpoints; an
activation splits each piece where it crosses 0).  A piecewise-affine function of one
variable is convex iff its slope increases at every breakpoint, so a line on which some
slope decreases proves "not convex", with an explicit witness.  No finite set of lines
proves "convex" for d >= 2, so the oracle only ever says "not convex" or "no violation
found"; for d = 1 one line is all of R and the answer is complete.

Networks are given as the JSON document (a dict, or its text) or as the parsed
:class:`OracleNet`.  Numbers: JSON integers, JSON decimals (exact decimal meaning: the
text is read with ``parse_float=Fraction`` by :func:`parse_network_text`; an already
parsed Python float is read by its shortest decimal representation), strings holding an
integer, ``"p/q"`` or a decimal.

>>> absx = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
...         "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]}
>>> slope_changes(absx, 0, [0], [1])
[(Fraction(0, 1), Fraction(2, 1))]
>>> convex_on_line(absx, 0, [5], [-3])
True
>>> evaluate(absx, ["-3/2"])
(Fraction(3, 2),)
"""

from __future__ import annotations

import bisect
import json
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Optional, Sequence

__all__ = ["to_fraction", "OracleNet", "parse_network", "parse_network_text", "evaluate", "PiecewiseAffine",
           "restrict", "restriction", "slope_changes", "convex_on_line", "line_violation", "oracle_verdict",
           "violates", "random_lines", "lines_through", "certificate_lines", "NOT_CONVEX", "NO_VIOLATION"]

NOT_CONVEX = "not convex"
NO_VIOLATION = "no violation found"


# ----- numbers and the network document ----------------------------------------------------

def to_fraction(value) -> Fraction:
    """An exact number of the network format as a Fraction.

    >>> [to_fraction(v) for v in (3, "-3/4", "0.125", "1e-3", 0.1, Fraction(2, 6))]
    [Fraction(3, 1), Fraction(-3, 4), Fraction(1, 8), Fraction(1, 1000), Fraction(1, 10), Fraction(1, 3)]
    """
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):  # a JSON decimal parsed as a float: the decimal it spells
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        return Fraction(value.strip())
    # anything with an exact rational value (python-flint's fmpq prints as "p/q" or "n")
    text = str(value)
    return Fraction(text)


@dataclass(frozen=True)
class OracleLayer:
    weight: tuple          # rows of Fractions
    bias: tuple            # Fractions
    skip: tuple            # ((source, rows), ...) sorted by source
    slope: Fraction        # LeakyReLU negative slope of a hidden layer (0 = ReLU, always 0 on the output layer)


@dataclass(frozen=True)
class OracleNet:
    input_dim: int
    layers: tuple

    @property
    def num_outputs(self) -> int:
        return len(self.layers[-1].bias)


def _matrix(rows) -> tuple:
    return tuple(tuple(to_fraction(v) for v in row) for row in rows)


def _slope(activation) -> Fraction:
    if activation is None or activation == "relu":
        return Fraction(0)
    if isinstance(activation, dict) and set(activation) == {"leaky_relu"}:
        return to_fraction(activation["leaky_relu"])
    raise ValueError(f"unknown activation {activation!r}")


def parse_network(doc) -> OracleNet:
    """Read a network document (dict, JSON text, or an OracleNet, returned as is)."""
    if isinstance(doc, OracleNet):
        return doc
    if isinstance(doc, (str, bytes)):
        return parse_network_text(doc)
    d = doc["input_dim"]
    layers = []
    widths = [d]
    for l, L in enumerate(doc["layers"], start=1):
        weight = _matrix(L["weight"])
        n = len(weight)
        bias = tuple(to_fraction(v) for v in L["bias"]) if "bias" in L else (Fraction(0),) * n
        skip = tuple(sorted((int(k), _matrix(rows)) for k, rows in L.get("skip", {}).items()))
        last = l == len(doc["layers"])
        slope = _slope(L.get("activation"))
        if last and "activation" in L:
            raise ValueError("the output layer has no activation")
        if "slope" in L:  # the plain-list form of Network.from_lists, accepted for convenience
            slope = to_fraction(L["slope"])
        for row in weight:
            assert len(row) == widths[-1], f"layer {l}: row of length {len(row)}, expected {widths[-1]}"
        assert len(bias) == n
        for k, rows in skip:
            assert 0 <= k <= l - 2 and len(rows) == n and all(len(r) == widths[k] for r in rows), f"layer {l} skip {k}"
        widths.append(n)
        layers.append(OracleLayer(weight, bias, skip, Fraction(0) if last else slope))
    return OracleNet(d, tuple(layers))


def parse_network_text(text) -> OracleNet:
    """Read the JSON text of a network; decimals keep their exact decimal value."""
    return parse_network(json.loads(text, parse_float=Fraction))


# ----- exact evaluation --------------------------------------------------------------------

def _activate(z: Fraction, slope: Fraction) -> Fraction:
    return z if z > 0 else slope * z


def evaluate(net, x: Sequence) -> tuple:
    """The outputs f(x), exactly, by the forward pass of the format's definition."""
    net = parse_network(net)
    x = [to_fraction(v) for v in x]
    assert len(x) == net.input_dim
    h = [x]
    for l, layer in enumerate(net.layers, start=1):
        z = []
        for i, row in enumerate(layer.weight):
            v = layer.bias[i] + sum((w * a for w, a in zip(row, h[l - 1])), Fraction(0))
            for k, rows in layer.skip:
                v += sum((w * a for w, a in zip(rows[i], h[k])), Fraction(0))
            z.append(v)
        h.append(z if l == len(net.layers) else [_activate(v, layer.slope) for v in z])
    return tuple(h[-1])


def violates(net, witness: dict) -> bool:
    """True iff the witness (output, x, y, lambda) shows f_k above its chord, by exact evaluation."""
    lam = to_fraction(witness["lambda"])
    k = witness["output"]
    x = [to_fraction(v) for v in witness["x"]]
    y = [to_fraction(v) for v in witness["y"]]
    if not 0 < lam < 1:
        return False
    mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    return evaluate(net, mid)[k] > lam * evaluate(net, x)[k] + (1 - lam) * evaluate(net, y)[k]


# ----- piecewise-affine functions of one variable -------------------------------------------

def _sample(lo: Optional[Fraction], hi: Optional[Fraction]) -> Fraction:
    """A point strictly inside the interval (lo, hi); None stands for -inf / +inf."""
    if lo is None and hi is None:
        return Fraction(0)
    if lo is None:
        return hi - 1
    if hi is None:
        return lo + 1
    return (lo + hi) / 2


class PiecewiseAffine:
    """t -> a_i t + b_i on the i-th interval between consecutive ``breaks`` (continuous).

    ``pieces[i] = (a_i, b_i)`` holds on (breaks[i-1], breaks[i]) with breaks[-1] = -inf and
    breaks[len] = +inf, so there is one more piece than breakpoints.
    """

    __slots__ = ("breaks", "pieces")

    def __init__(self, breaks: Sequence[Fraction], pieces: Sequence[tuple]):
        assert len(pieces) == len(breaks) + 1
        assert all(a < b for a, b in zip(breaks, breaks[1:]))
        self.breaks = tuple(breaks)
        self.pieces = tuple(pieces)

    @classmethod
    def affine(cls, slope, intercept) -> "PiecewiseAffine":
        return cls((), ((Fraction(slope), Fraction(intercept)),))

    def piece_at(self, t: Fraction) -> tuple:
        """The piece on the interval containing t (at a breakpoint: the one to its right)."""
        return self.pieces[bisect.bisect_right(self.breaks, t)]

    def __call__(self, t) -> Fraction:
        a, b = self.piece_at(Fraction(t))
        return a * t + b

    def intervals(self):
        bounds = (None,) + self.breaks + (None,)
        return list(zip(bounds[:-1], bounds[1:]))

    def simplified(self) -> "PiecewiseAffine":
        """The same function without breakpoints between equal pieces."""
        breaks, pieces = [], [self.pieces[0]]
        for t, piece in zip(self.breaks, self.pieces[1:]):
            if piece != pieces[-1]:
                breaks.append(t)
                pieces.append(piece)
        return PiecewiseAffine(breaks, pieces)

    def slope_changes(self) -> list:
        """[(t, slope right of t - slope left of t)] at every genuine breakpoint."""
        f = self.simplified()
        return [(t, right[0] - left[0]) for t, left, right in zip(f.breaks, f.pieces, f.pieces[1:])]

    def is_convex(self) -> bool:
        return all(change > 0 for _, change in self.slope_changes())

    def __repr__(self) -> str:
        return f"PiecewiseAffine(breaks={list(map(str, self.breaks))}, pieces={[(str(a), str(b)) for a, b in self.pieces]})"


def _combine(terms: Iterable[tuple], constant: Fraction) -> PiecewiseAffine:
    """constant + sum of c * f over (c, f) in terms, on the union of their breakpoints."""
    terms = [(c, f) for c, f in terms if c != 0]
    breaks = sorted({t for _, f in terms for t in f.breaks})
    bounds = [None] + breaks + [None]
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m = _sample(lo, hi)
        a, b = Fraction(0), constant
        for c, f in terms:
            fa, fb = f.piece_at(m)
            a += c * fa
            b += c * fb
        pieces.append((a, b))
    return PiecewiseAffine(breaks, pieces)


def _activate_pw(f: PiecewiseAffine, slope: Fraction) -> PiecewiseAffine:
    """sigma(f(t)) with sigma(z) = z for z > 0 and slope * z for z <= 0: split pieces where f crosses 0."""
    breaks = list(f.breaks)
    for (lo, hi), (a, b) in zip(f.intervals(), f.pieces):
        if a != 0:
            t0 = -b / a
            if (lo is None or lo < t0) and (hi is None or t0 < hi):
                breaks.append(t0)
    breaks.sort()
    bounds = [None] + breaks + [None]
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m = _sample(lo, hi)
        a, b = f.piece_at(m)
        # inside (lo, hi) the piece has no zero, so its sign at m is its sign on the whole interval
        pieces.append((a, b) if a * m + b > 0 else (slope * a, slope * b))
    return PiecewiseAffine(breaks, pieces).simplified()


# ----- restriction to a line ---------------------------------------------------------------

def restrict(net, p: Sequence, u: Sequence) -> list:
    """The exact restrictions t -> f_k(p + t u), one PiecewiseAffine per output k."""
    net = parse_network(net)
    p = [to_fraction(v) for v in p]
    u = [to_fraction(v) for v in u]
    assert len(p) == len(u) == net.input_dim
    h = [[PiecewiseAffine.affine(ui, pi) for pi, ui in zip(p, u)]]
    for l, layer in enumerate(net.layers, start=1):
        z = []
        for i, row in enumerate(layer.weight):
            terms = list(zip(row, h[l - 1]))
            for k, rows in layer.skip:
                terms.extend(zip(rows[i], h[k]))
            z.append(_combine(terms, layer.bias[i]))
        h.append([f.simplified() for f in z] if l == len(net.layers) else [_activate_pw(f, layer.slope) for f in z])
    return h[-1]


def restriction(net, k: int, p: Sequence, u: Sequence) -> PiecewiseAffine:
    """The exact restriction t -> f_k(p + t u) of output k."""
    return restrict(net, p, u)[k]


def slope_changes(net, k: int, p: Sequence, u: Sequence) -> list:
    """[(t, change of slope at t)] of t -> f_k(p + t u), every change nonzero, t increasing."""
    return restriction(net, k, p, u).slope_changes()


def convex_on_line(net, k: int, p: Sequence, u: Sequence) -> bool:
    """True iff t -> f_k(p + t u) is convex (its slope never decreases)."""
    return restriction(net, k, p, u).is_convex()


def line_violation(net, k: int, p: Sequence, u: Sequence) -> Optional[dict]:
    """A witness {"output", "x", "y", "lambda"} on the line p + t u, checked by exact evaluation, or None.

    At a breakpoint t0 where the slope decreases, the points t0 -/+ delta (delta half the
    distance to the nearest other breakpoint) and lambda = 1/2 put f(t0) above the chord.
    """
    net = parse_network(net)
    p = [to_fraction(v) for v in p]
    u = [to_fraction(v) for v in u]
    f = restriction(net, k, p, u).simplified()
    for i, (t0, change) in enumerate(f.slope_changes()):
        if change >= 0:
            continue
        gaps = [t0 - f.breaks[i - 1]] if i > 0 else []
        gaps += [f.breaks[i + 1] - t0] if i + 1 < len(f.breaks) else []
        delta = min(gaps) / 2 if gaps else Fraction(1)
        witness = {"output": k, "x": [a + (t0 - delta) * b for a, b in zip(p, u)],
                   "y": [a + (t0 + delta) * b for a, b in zip(p, u)], "lambda": Fraction(1, 2)}
        if not violates(net, witness):  # the restriction and the forward pass disagree: an oracle bug
            raise AssertionError(f"oracle: concave breakpoint at t = {t0} not confirmed by evaluation")
        return witness
    return None


def oracle_verdict(net, k: Optional[int], lines: Iterable[tuple]) -> str:
    """"not convex" if output k (every output if k is None) bends down on one of the lines (p, u),
    otherwise "no violation found"."""
    net = parse_network(net)
    outputs = range(net.num_outputs) if k is None else [k]
    for p, u in lines:
        fs = restrict(net, p, u)
        if any(not fs[j].is_convex() for j in outputs):
            return NOT_CONVEX
    return NO_VIOLATION


# ----- lines to look along -----------------------------------------------------------------

def _direction(d: int, rng: random.Random) -> list:
    while True:
        u = [Fraction(rng.randint(-5, 5), rng.randint(1, 3)) for _ in range(d)]
        if any(u):
            return u


def random_lines(d: int, rng: random.Random, n: int = 16, scale: int = 20) -> list:
    """n random rational lines (p, u) of Q^d, plus, for d >= 2, the coordinate axes through 0.

    For d = 1 the single line (0, 1) already is all of R, so only it is returned.
    """
    if d == 1:
        return [([Fraction(0)], [Fraction(1)])]
    lines = [([Fraction(0)] * d, [Fraction(int(i == j)) for j in range(d)]) for i in range(d)]
    for _ in range(n):
        p = [Fraction(rng.randint(-scale * 4, scale * 4), rng.randint(1, 4)) for _ in range(d)]
        lines.append((p, _direction(d, rng)))
    return lines


def lines_through(points: Iterable[Sequence], d: int, rng: random.Random, per_point: int = 2) -> list:
    """per_point lines through each of the points (of Q^d), in random directions."""
    lines = []
    for q in points:
        q = [to_fraction(v) for v in q]
        if len(q) != d:
            continue
        for _ in range(per_point):
            lines.append((q, _direction(d, rng)))
    return lines


def certificate_lines(cert: dict, rng: random.Random, per_point: int = 2) -> list:
    """Lines through the facet points and interior points of a certificate's region graph and
    through its witness points (if any): where a false certificate would hide a bend."""
    d = parse_network(cert["network"]).input_dim
    points, interiors = [], []
    for region in (cert.get("region_graph") or {}).get("regions", []):
        points.extend(f["point"] for f in region.get("facets", []))
        points.append(region["interior_point"])
        interiors.append([to_fraction(v) for v in region["interior_point"]])
    lines = lines_through(points, d, rng, per_point)
    # lines joining the interior points of consecutive regions cross many facets at once
    interiors = [q for q in interiors if len(q) == d]
    for a, b in zip(interiors, interiors[1:]):
        if a != b:
            lines.append((a, [y - x for x, y in zip(a, b)]))
    w = cert.get("witness")
    if w:
        x = [to_fraction(v) for v in w["x"]]
        y = [to_fraction(v) for v in w["y"]]
        if x != y:
            lines.append((x, [b - a for a, b in zip(x, y)]))
    return lines
