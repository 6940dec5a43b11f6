"""The nearest convex output layer: ``convexify(net, norm)``.

With the hidden layers of NET fixed, output k is convex iff its free weights theta (see
``cone.py``) lie in the cone C = {theta : g_e . theta >= 0}.  Outputs are independent, so each
output row gets its own linear program (u = theta - theta_0, theta_0 NET's row):

* linf: minimise t subject to -t <= u_i <= t and g_e . (theta_0 + u) >= 0;
* l1:   minimise sum_i s_i subject to -s_i <= u_i <= s_i and g_e . (theta_0 + u) >= 0.

The optimum D_k and a dual solution come from ``exact_lp.minimise`` (a float proposal confirmed
exactly, or the exact simplex).  The dual's multipliers y_e >= 0 on the facet rows give
w = sum_e y_e g_e with w . theta >= 0 on all of C, hence for every convex theta
||theta - theta_0||_inf >= -(w . theta_0) / ||w||_1 (Hoelder; for l1 divide by ||w||_inf), and
LP duality makes that bound equal to D_k: the certificate of optimality (geometry notes,
section 9; ``docs/certificate-format.md``, claim "nearest_convex").

The whole output layer's distance is the largest D_k (linf) or their sum (l1): the rows are
independent and the norm is taken over all free weights of the output layer.

linf optima are rarely unique, and a vertex of the first program may move every weight by D.
A second program picks, among the rows at linf distance D_k, one that changes the weights least
in l1 (each weight is changed only as much as needed); it is confirmed exactly like the first
(its optimality in l1 is a courtesy, its feasibility and distance D_k are what count, and the
certificate checks them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

from flint import fmpq

from ..network import Network
from .cone import Cone, FacetRow, cone_of
from .exact_lp import minimise

__all__ = ["NORMS", "OutputDistance", "ConvexifyResult", "convexify", "lower_bound", "norm_of"]

NORMS = ("linf", "l1")


def norm_of(values: Sequence, norm: str) -> fmpq:
    """||v||_inf or ||v||_1, exactly."""
    if norm == "linf":
        return max((abs(v) for v in values), default=fmpq(0))
    return sum((abs(v) for v in values), fmpq(0))


def lower_bound(cone: Cone, multipliers: dict[int, fmpq], theta0: Sequence, norm: str) -> fmpq | None:
    """-(w . theta_0) / ||w||_* for w = sum_e y_e g_e (``multipliers``: facet index -> y_e >= 0), the dual
    norm ||.||_* being l1 for the linf distance and linf for the l1 distance; None unless w . theta_0 < 0.

    Every convex output row is at least that far from theta_0 (geometry notes, section 9).
    """
    n = cone.dimension
    w = [fmpq(0)] * n
    for e, y in multipliers.items():
        row = cone.facets[e].row
        w = [a + y * g for a, g in zip(w, row)]
    value = sum((a * t for a, t in zip(w, theta0)), fmpq(0))
    if value >= 0:
        return None
    return -value / norm_of(w, "l1" if norm == "linf" else "linf")


@dataclass
class OutputDistance:
    """One output row: NET's weights ``theta0``, the nearest convex ones ``theta`` at ``distance``,
    and the facet multipliers proving that no convex row is nearer (facet index into
    ``Cone.facets`` -> y_e > 0; empty when the output was convex already)."""

    output: int
    convex_before: bool
    distance: fmpq
    theta0: tuple
    theta: tuple
    multipliers: dict[int, fmpq] = field(default_factory=dict)
    how: str = "unchanged (already convex)"


@dataclass
class ConvexifyResult:
    """What ``convexify`` returns: the convexified network and the proof of both halves."""

    original: Network
    network: Network
    norm: str
    distance: fmpq
    outputs: list[OutputDistance]
    cone: Cone
    seconds: float

    @property
    def convex_before(self) -> bool:
        return all(o.convex_before for o in self.outputs)

    def certificate(self) -> dict:
        """The claim "nearest_convex" (``docs/certificate-format.md``), for ``exactconvex.verify``."""
        from ..certificates.convexify import nearest_convex_certificate

        return nearest_convex_certificate(self)

    def facet(self, index: int) -> FacetRow:
        return self.cone.facets[index]

    def summary(self) -> dict:
        """The JSON report of the command line (exact numbers as strings)."""
        from ..numbers import q_str

        return {"distance": q_str(self.distance), "norm": self.norm, "convex_before": self.convex_before,
                "outputs": [{"output": o.output, "distance": q_str(o.distance), "convex_before": o.convex_before,
                             "changed_weights": sum(1 for a, b in zip(o.theta0, o.theta) if a != b),
                             "facets_in_proof": len(o.multipliers), "how": o.how} for o in self.outputs],
                "regions": len(self.cone.arrangement.regions), "facets": len(self.cone.facets),
                "weights_per_output": self.cone.dimension, "seconds": round(self.seconds, 6)}


def _solve_output(cone: Cone, k: int, norm: str) -> OutputDistance:
    theta0 = cone.theta(k)
    rows = cone.distinct_rows()
    n = cone.dimension
    bends = [sum((g * t for g, t in zip(row, theta0)), fmpq(0)) for row, _, _ in rows]
    if all(v >= 0 for v in bends):
        return OutputDistance(k, True, fmpq(0), theta0, theta0)
    zero, one = fmpq(0), fmpq(1)

    def unit(i, sign, extra):  # sign * e_i in the u block, ``extra`` in the second block
        return [sign if j == i else zero for j in range(n)] + extra

    facet_rows = [list(row) + [zero] * (1 if norm == "linf" else n) for row, _, _ in rows]
    facet_rhs = [-v for v in bends]
    if norm == "linf":  # variables (u, t)
        box = [unit(i, s, [one]) for i in range(n) for s in (-one, one)]
        c = [zero] * n + [one]
    else:  # variables (u, s)
        box = [unit(i, sg, [one if j == i else zero for j in range(n)]) for i in range(n) for sg in (-one, one)]
        c = [zero] * n + [one] * n
    first = minimise(facet_rows + box, facet_rhs + [zero] * len(box), c)
    distance = first.value
    u = first.x[:n]
    how = first.how
    # multipliers on facets: row = g_e / scale, so y_row * row = (y_row / scale) g_e
    multipliers = {}
    for (row, scale, e), y in zip(rows, first.y):
        if y != 0:
            multipliers[e] = y / scale
    if norm == "linf":  # among the rows at distance D, the one changing the weights least in l1
        tied = [list(row) + [zero] * n for row, _, _ in rows]
        box = [unit(i, sg, [one if j == i else zero for j in range(n)]) for i in range(n) for sg in (-one, one)]
        cap = [unit(i, sg, [zero] * n) for i in range(n) for sg in (-one, one)]
        second = minimise(tied + box + cap, facet_rhs + [zero] * len(box) + [-distance] * len(cap),
                          [zero] * n + [one] * n)
        u2 = second.x[:n]
        if norm_of(u2, "linf") == distance:  # guaranteed by the constraints and the optimality of D
            u = u2
    theta = tuple(t + v for t, v in zip(theta0, u))
    result = OutputDistance(k, False, distance, theta0, theta, multipliers, how)
    _self_check(cone, result, norm)
    return result


def _self_check(cone: Cone, o: OutputDistance, norm: str) -> None:
    """The properties the certificate states, asserted exactly before anything is handed out."""
    if not cone.contains(o.theta):
        raise AssertionError(f"output {o.output}: the computed row is not in the cone")
    if norm_of([a - b for a, b in zip(o.theta, o.theta0)], norm) != o.distance:
        raise AssertionError(f"output {o.output}: the computed row is not at the computed distance")
    if any(y <= 0 for y in o.multipliers.values()) or lower_bound(cone, o.multipliers, o.theta0, norm) != o.distance:
        raise AssertionError(f"output {o.output}: the dual multipliers do not prove the distance")


def convexify(net: Network, norm: str = "linf", *, cone: Cone | None = None, max_regions: int | None = None,
              timeout: float | None = None, progress=None) -> ConvexifyResult:
    """The network with NET's hidden layers whose output weights from hidden units are nearest to
    NET's (in ``norm`` over all of them) among those that make every output convex on R^d.

    Parameters
    ----------
    net : Network
    norm : "linf" (default) or "l1"
        Over the output layer's weights from hidden units (main weight and skips from hidden
        layers); the output bias and the skip from the input are kept (they never bend).
    cone : Cone, optional
        ``cone_of(net)`` when already computed.
    max_regions, timeout, progress
        Bounds on the region graph (``LimitReached`` when hit).

    Returns
    -------
    ConvexifyResult
        ``network`` (NET itself when it is convex already: distance 0), ``distance`` (exact), per
        output the distance, the rows and the dual multipliers; ``certificate()`` proves both
        halves (checked by ``exactconvex.verify``).

    Examples
    --------
    >>> from exactconvex import Network, check
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}])  # relu(x) - 2 relu(-x)
    >>> r = convexify(net)
    >>> r.distance, r.network.layers[-1].weight, check(r.network).convex
    (1/2, [3/2, -3/2], True)
    >>> from exactconvex import verify
    >>> verify(r.certificate(), network=net).valid
    True
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose linf or l1")
    t0 = time.perf_counter()
    cone = cone if cone is not None else cone_of(net, max_regions=max_regions, timeout=timeout, progress=progress)
    outputs = [_solve_output(cone, k, norm) for k in range(net.num_outputs)]
    changed = {o.output: o.theta for o in outputs if not o.convex_before}
    out = cone.with_rows(changed) if changed else net
    total = norm_of([o.distance for o in outputs], norm)  # linf: the largest; l1: the sum
    return ConvexifyResult(net, out, norm, total, outputs, cone, time.perf_counter() - t0)
