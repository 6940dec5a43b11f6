"""How robustly convex a network is, and how much more its hidden layers allow than an ICNN.

Margin (geometry notes, section 9).  For an output row theta_0 in the cone C and a facet e with
g_e != 0, the smallest bend across e over the linf ball of radius r around theta_0 is
g_e . theta_0 - r ||g_e||_1 (Hoelder, attained at a corner).  So every output row within r of
theta_0 is convex iff r <= min_e (g_e . theta_0) / ||g_e||_1: that minimum is the margin, exact,
with the facet attaining it.  Facets with g_e = 0 bend by 0 whatever the row; when there is no
other facet, every output row is convex and the margin is unbounded (``None``).

For a network that is not convex, ``margin`` reports its linf distance to convexity (the
``convexify`` distance) as a *negative* margin, so that the margin is a signed distance to the
boundary of C: positive inside, negative outside; ``distance`` holds the distance itself.
For several outputs the rows are independent: the network's margin is the smallest output's
margin when every output is convex, and minus the largest distance otherwise.

Expressivity.  An ICNN's output rows form the orthant theta >= 0.  The orthant lies in C iff
every g_e is >= 0 entrywise (the unit rows e_j generate it); otherwise a unit row e_j and a
facet with g_e[j] < 0 show that one ICNN-style row is not convex for these hidden layers.  C
reaches beyond the orthant iff some theta in C has a negative entry: for each coordinate i
the exact program min theta_i over C within the box [-1, 1]^n tells (C is a cone, so the box
loses nothing), and its optimal vertex is that member.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flint import fmpq

from ..network import Network
from .cone import Cone, FacetRow, Parameter, cone_of
from .exact_lp import minimise
from .nearest import convexify, norm_of

__all__ = ["OutputMargin", "MarginResult", "Expressivity", "margin", "expressivity", "deepest_row"]


@dataclass
class OutputMargin:
    """One output: ``margin`` (None: unbounded; negative: minus ``distance``), the facet attaining
    it (index into ``Cone.facets``; None when unbounded or not convex), and the linf distance to
    convexity (0 when convex)."""

    output: int
    convex: bool
    margin: fmpq | None
    facet: int | None
    distance: fmpq


@dataclass
class Expressivity:
    """The cone C of convex output rows against the ICNN orthant theta >= 0.

    ``orthant_in_cone``: every row >= 0 is convex; if not, ``orthant_witness`` = (parameter j, facet
    index e) with g_e[j] < 0 (the unit row e_j is not convex).  ``beyond_orthant``: an exact
    member of C with a negative entry (every bend checked >= 0 exactly), or None when C lies in
    the orthant.  ``strictly_larger``: the orthant lies in C and C is larger.
    """

    orthant_in_cone: bool
    orthant_witness: tuple[Parameter, int] | None
    beyond_orthant: tuple | None

    @property
    def strictly_larger(self) -> bool:
        return self.orthant_in_cone and self.beyond_orthant is not None

    @property
    def equals_orthant(self) -> bool:
        return self.orthant_in_cone and self.beyond_orthant is None


@dataclass
class MarginResult:
    """What ``margin`` returns; ``summary()`` is the command line's JSON report."""

    network: Network
    convex: bool
    margin: fmpq | None
    distance: fmpq
    outputs: list[OutputMargin]
    expressivity: Expressivity | None
    cone: Cone
    seconds: float

    def facet(self, index: int) -> FacetRow:
        return self.cone.facets[index]

    def summary(self) -> dict:
        from ..numbers import q_str

        def q(v):
            return None if v is None else q_str(v)

        def facet_json(e):
            if e is None:
                return None
            f = self.cone.facets[e]
            return {"region": f.region, "facet": f.facet, "neighbor": f.neighbor, "neuron": list(f.neuron),
                    "point": [q_str(v) for v in f.point], "row": [q_str(v) for v in f.row]}

        report = {"convex": self.convex, "margin": q(self.margin), "unbounded": self.convex and self.margin is None,
                  "distance": q_str(self.distance), "norm": "linf",
                  "outputs": [{"output": o.output, "convex": o.convex, "margin": q(o.margin),
                               "distance": q_str(o.distance), "facet": facet_json(o.facet)} for o in self.outputs],
                  "weights": [[p.layer, p.index] for p in self.cone.parameters],
                  "regions": len(self.cone.arrangement.regions), "facets": len(self.cone.facets),
                  "seconds": round(self.seconds, 6)}
        x = self.expressivity
        if x is not None:
            report["expressivity"] = {
                "orthant_in_cone": x.orthant_in_cone, "strictly_larger": x.strictly_larger,
                "equals_orthant": x.equals_orthant,
                "orthant_witness": None if x.orthant_witness is None else
                {"weight": [x.orthant_witness[0].layer, x.orthant_witness[0].index],
                 "facet": facet_json(x.orthant_witness[1])},
                "beyond_orthant": None if x.beyond_orthant is None else [q_str(v) for v in x.beyond_orthant]}
        return report


def _output_margin(cone: Cone, k: int) -> OutputMargin:
    theta0 = cone.theta(k)
    best, where = None, None
    for e, f in enumerate(cone.facets):
        if f.is_zero:
            continue
        bend = sum((g * t for g, t in zip(f.row, theta0)), fmpq(0))
        if bend < 0:
            return OutputMargin(k, False, None, None, fmpq(0))  # distance filled in by the caller
        value = bend / norm_of(f.row, "l1")
        if best is None or value < best:
            best, where = value, e
    return OutputMargin(k, True, best, where, fmpq(0))


def expressivity(net: Network | None = None, *, cone: Cone | None = None, max_regions: int | None = None,
                 timeout: float | None = None, progress=None) -> Expressivity:
    """Is the cone of convex output rows of ``net``'s hidden layers strictly larger than the ICNN orthant?

    Examples
    --------
    >>> from exactconvex import Network
    >>> same_line = Network.from_lists(1, [{"weight": [[1], [2]]}, {"weight": [[1, 1]]}])  # two kinks at 0
    >>> x = expressivity(same_line)
    >>> x.strictly_larger, x.beyond_orthant
    (True, (-1, 1))
    """
    if cone is None:
        cone = cone_of(net, max_regions=max_regions, timeout=timeout, progress=progress)
    witness = None
    for e, f in enumerate(cone.facets):
        j = next((j for j, v in enumerate(f.row) if v < 0), None)
        if j is not None:
            witness = (cone.parameters[j], e)
            break
    return Expressivity(witness is None, witness, _beyond_orthant(cone))


def _beyond_orthant(cone: Cone) -> tuple | None:
    """An exact member of C with a negative entry, or None when C lies in the orthant."""
    n = cone.dimension
    for k in range(cone.network.num_outputs):  # the network's own rows first: the most telling members
        theta = cone.theta(k)
        if any(v < 0 for v in theta) and cone.contains(theta):
            return theta
    rows = [list(row) for row, _, _ in cone.distinct_rows()]
    zero, one = fmpq(0), fmpq(1)
    box = [[s if j == i else zero for j in range(n)] for i in range(n) for s in (one, -one)]
    for i in range(n):
        cost = [one if j == i else zero for j in range(n)]
        found = minimise(rows + box, [zero] * len(rows) + [-one] * len(box), cost)
        if found.value < 0:
            theta = tuple(found.x)
            if not cone.contains(theta):  # pragma: no cover - the program's constraints say it is
                raise AssertionError("a member of the cone found by the exact program is not in the cone")
            return theta
    return None


def deepest_row(cone: Cone, bound=1) -> tuple[tuple, fmpq]:
    """The output row of largest margin among those with every weight in [-bound, bound], and that margin.

    Maximises r subject to g_e . theta >= r ||g_e||_1 for every facet with g_e != 0 and
    |theta_i| <= bound (exactly; ``exact_lp.minimise``): every row within r of theta (linf) is
    convex, and no row of the box has a larger margin.  r = 0 means C has no interior point in
    the box (C is then contained in a hyperplane, or is {0}); r is capped at ``bound``.

    Examples
    --------
    >>> from exactconvex import Network
    >>> C = cone_of(Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]))
    >>> deepest_row(C)  # the facet's row is (1, 1): theta = (1, 1) has margin 2 / 2 = 1
    ((1, 1), 1)
    """
    n = cone.dimension
    bound = fmpq(bound)
    zero, one = fmpq(0), fmpq(1)
    rows = [list(row) + [-norm_of(row, "l1")] for row, _, _ in cone.distinct_rows()]
    box = [[s if j == i else zero for j in range(n)] + [zero] for i in range(n) for s in (one, -one)]
    cap = [[zero] * n + [-one]]
    found = minimise(rows + box + cap, [zero] * len(rows) + [-bound] * len(box) + [-bound], [zero] * n + [-one])
    theta, r = tuple(found.x[:n]), found.x[n]
    if not cone.contains(theta):  # pragma: no cover - the program's constraints say it is
        raise AssertionError("the deepest row found by the exact program is not in the cone")
    return theta, r


def margin(net: Network, *, with_expressivity: bool = True, cone: Cone | None = None,
           max_regions: int | None = None, timeout: float | None = None, progress=None) -> MarginResult:
    """The linf margin of convexity of ``net``'s output layer, exactly.

    Convex network: the largest r such that every output layer within r (linf, over the weights
    from hidden units) is convex, with the facet attaining it (``None``: unbounded).  Not convex:
    minus its linf distance to convexity (``distance``, the ``convexify`` distance).

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[3, -1]]}])  # 3 relu(x) - relu(-x)
    >>> m = margin(net)
    >>> m.convex, m.margin, m.cone.facets[m.outputs[0].facet].neuron
    (True, 1, (1, 0))
    """
    t0 = time.perf_counter()
    cone = cone if cone is not None else cone_of(net, max_regions=max_regions, timeout=timeout, progress=progress)
    outputs = [_output_margin(cone, k) for k in range(net.num_outputs)]
    convex = all(o.convex for o in outputs)
    distance = fmpq(0)
    if not convex:
        nearest = convexify(net, "linf", cone=cone)
        for o, d in zip(outputs, nearest.outputs):
            if not o.convex:
                o.distance, o.margin = d.distance, -d.distance
        distance = nearest.distance
        value = -distance
    else:
        bounded = [o.margin for o in outputs if o.margin is not None]
        value = min(bounded) if bounded else None
    x = expressivity(cone=cone) if with_expressivity else None
    return MarginResult(net, convex, value, distance, outputs, x, cone, time.perf_counter() - t0)
