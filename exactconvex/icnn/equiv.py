"""Exact equivalence of two networks on all of R^d.

h = f - g is one network (``combine([f, g], [1, -1])``: the hidden layers side by side).
h is identically 0 iff every full-dimensional region of its region graph has a zero local
output map (gradient 0 and offset 0): the regions cover R^d (``proofs/completeness.md``)
and h is affine on each.  Otherwise the interior point of a region with a nonzero map, moved
along the map's gradient if h happens to vanish there, is a rational point where f and g
differ; that is checked by exact evaluation of f and g before it is reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flint import fmpq

from ..certificates import equivalence_certificate
from ..graph import explore
from ..network import Network, NetworkError, combine
from ..polyhedra import step_inside

__all__ = ["equivalent", "Equivalence", "difference_network", "equivalence_certificate"]


@dataclass
class Equivalence:
    """The answer of ``equivalent``: truthy iff f and g compute the same function."""

    equivalent: bool
    point: tuple | None  # a rational point where f and g differ (None when equivalent)
    output: int | None  # the output that differs there
    f_value: fmpq | None
    g_value: fmpq | None
    regions: int
    seconds: float
    certificate: dict | None = None

    def __bool__(self) -> bool:
        return self.equivalent


def difference_network(f: Network, g: Network) -> Network:
    """One network computing f - g (f's hidden neurons first, then g's, layer by layer)."""
    if f.input_dim != g.input_dim:
        raise NetworkError(f"the networks have different input dimensions ({f.input_dim} and {g.input_dim})")
    if f.num_outputs != g.num_outputs:
        raise NetworkError(f"the networks have different numbers of outputs ({f.num_outputs} and {g.num_outputs})")
    return combine([f, g], [1, -1])


def _differing_point(f: Network, g: Network, region, k: int):
    """A point of ``region`` (where h = f - g is affine and its output k is not 0) with f_k != g_k."""
    x = region.interior_point
    fx, gx = f.evaluate(x)[k], g.evaluate(x)[k]
    if fx != gx:
        return x, fx, gx
    # h_k(x) = 0 at the interior point, so its gradient is nonzero: step along it, inside
    grad = region.output_gradient(k)
    eps = step_inside([(a, c) for _, a, c in region.constraints], x, grad)
    y = tuple(xi + eps * gi for xi, gi in zip(x, grad))
    fy, gy = f.evaluate(y)[k], g.evaluate(y)[k]
    if fy == gy:  # pragma: no cover - h_k(y) = eps |grad|^2 > 0 inside the region
        raise AssertionError("no differing point found in a region with a nonzero map")
    return y, fy, gy


def equivalent(f: Network, g: Network, *, certificate: bool = True, max_regions: int | None = None,
               timeout: float | None = None, progress=None) -> Equivalence:
    """Decide exactly whether f and g compute the same function on all of R^d (every output).

    Returns an ``Equivalence``: when they differ, ``point`` is a rational point with
    f(point) != g(point) (checked exactly, values in ``f_value``/``g_value``); when they
    agree, ``certificate`` (if asked for) is a claim "equivalent" certificate.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = lambda layers: network_from_dict({"format": "exactconvex.network", "version": 1,
    ...                                         "input_dim": 1, "layers": layers})
    >>> absx = net([{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    >>> also = net([{"weight": [[2], [-1]]}, {"weight": [["1/2", 1]]}])   # ReLU(2x)/2 + ReLU(-x)
    >>> equivalent(absx, also).equivalent
    True
    >>> r = equivalent(absx, net([{"weight": [[1], [-1]]}, {"weight": [[1, 2]]}]))
    >>> r.equivalent, r.f_value != r.g_value
    (False, True)
    """
    t0 = time.perf_counter()
    h = difference_network(f, g)
    arrangement = explore(h, max_regions=max_regions, timeout=timeout, progress=progress)
    for region in arrangement.regions:
        G, c = region.local.output
        for k in range(h.num_outputs):
            if c[k, 0] != 0 or any(G[k, j] != 0 for j in range(h.input_dim)):
                x, fx, gx = _differing_point(f, g, region, k)
                return Equivalence(False, x, k, fx, gx, len(arrangement.regions), time.perf_counter() - t0)
    result = Equivalence(True, None, None, None, None, len(arrangement.regions), time.perf_counter() - t0)
    if certificate:
        result.certificate = equivalence_certificate(f, g, h, arrangement)
    result.seconds = time.perf_counter() - t0
    return result


