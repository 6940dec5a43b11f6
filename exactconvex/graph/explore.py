"""Exact enumeration of the full-dimensional activation regions and their facets.

The search walks the region adjacency graph from one region, crossing every facet
(geometry notes, sections 1, 3-5):

* a region is a pattern s with an exact interior point (every non-constant constraint
  strictly satisfied);
* its constraints are grouped by hyperplane (positive multiples); a group is a facet when
  ``facet_witness`` finds a point where it is tight and all other groups strict, and
  otherwise it is redundant, proven by a Farkas certificate over the facets;
* the neighbour across a facet is the pattern just past the facet point along the
  outward normal (``Network.pattern_along``); its interior point is that point pushed
  a proven-safe step along the normal.

Every facet of every region gets its neighbour, so the regions found cover R^d (section 4).
No bounding box: LPs are over all of R^d, regions may be unbounded.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

from flint import fmpq

from ..network import LocalAffine, Network
from ..polyhedra import canonical_key, dot, facet_witness, farkas_certificate, step_inside, values_at

__all__ = ["Region", "Facet", "Arrangement", "explore", "LimitReached", "constraints_of"]


class LimitReached(RuntimeError):
    """A bound on the work (regions or seconds) was hit before the graph was complete."""

    def __init__(self, message: str, regions_done: int, regions_found: int):
        super().__init__(message)
        self.regions_done = regions_done
        self.regions_found = regions_found


@dataclass
class Facet:
    neuron: int  # flat index of a hidden neuron whose constraint defines the facet
    point: tuple  # exact point in the facet's relative interior
    neighbor: int  # region id across the facet
    outward: tuple  # gradient of -g: points out of this region (not normalised)


@dataclass
class Region:
    id: int
    pattern: tuple
    interior_point: tuple
    local: LocalAffine
    constraints: list = field(default_factory=list)  # (neuron, a, c), non-constant only, g >= 0
    facets: list = field(default_factory=list)
    redundant: list = field(default_factory=list)  # (neuron, multipliers, constant)

    def output_gradient(self, k: int) -> tuple:
        G, _ = self.local.output
        return tuple(G[k, j] for j in range(G.ncols()))

    def output_offset(self, k: int) -> fmpq:
        return self.local.output[1][k, 0]


@dataclass
class Arrangement:
    network: Network
    regions: list
    seconds: float


def constraints_of(net: Network, local: LocalAffine) -> tuple[list, bool]:
    """Non-constant constraints (neuron, a, c) with g = a.x + c >= 0 on the region, and whether the
    constant ones all hold (False means the pattern's polyhedron is empty)."""
    out, feasible = [], True
    d = net.input_dim
    for idx, (l, j) in enumerate(net.hidden_neurons):
        G, g = local.pre[l]
        sign = 1 if local.pattern[idx] else -1
        a = tuple(G[j, c] * sign for c in range(d))
        c = g[j, 0] * sign
        if any(v != 0 for v in a):
            out.append((idx, a, c))
        elif c < 0:
            feasible = False
    return out, feasible


def _start_point(net: Network) -> tuple:
    """A deterministic rational point that is interior to its own region."""
    rng = random.Random(20251)
    d = net.input_dim
    for attempt in range(10_000):
        if attempt == 0:
            x = tuple(fmpq(1 + 2 * i, 7 + 3 * i) for i in range(d))
        else:
            x = tuple(fmpq(rng.randint(-997, 997), rng.choice((101, 103, 107, 109))) for _ in range(d))
        local = net.local_affine(net.pattern(x))
        cons, _ = constraints_of(net, local)
        if all(v != 0 for v in values_at([(a, c) for _, a, c in cons], x)):
            return x
    raise RuntimeError("no interior starting point found")  # pragma: no cover - measure zero


def _classify(region: Region) -> list[tuple[int, tuple, tuple]]:
    """Facets (representative neuron, group function, witness point); fills region.redundant."""
    groups: dict[tuple, list] = {}
    for neuron, a, c in region.constraints:
        groups.setdefault(canonical_key(a, c), []).append((neuron, a, c))
    keys = list(groups)
    reps = [(groups[k][0][1], groups[k][0][2]) for k in keys]
    facets, nonfacets = [], []
    for i, key in enumerate(keys):
        others = reps[:i] + reps[i + 1:]
        p = facet_witness(reps[i], others, hint=region.interior_point)
        if p is not None:
            facets.append((i, tuple(p)))
        else:
            nonfacets.append(i)
    basis = [reps[i] for i, _ in facets]
    for i in nonfacets:
        for neuron, a, c in groups[keys[i]]:
            cert = farkas_certificate((a, c), basis)
            if cert is None:  # would contradict Farkas' lemma: the facet list is wrong
                raise AssertionError(f"region {region.id}: constraint of neuron {neuron} is neither a facet "
                                     "nor implied by the facets")
            region.redundant.append((neuron, cert[0], cert[1]))
    return [(groups[keys[i]][0][0], reps[i], p) for i, p in facets]


def explore(net: Network, *, max_regions: int | None = None, timeout: float | None = None,
            progress: Callable[[int, int], None] | None = None) -> Arrangement:
    """All full-dimensional activation regions of ``net`` with their facets and neighbours.

    Raises LimitReached when ``max_regions`` regions were found or ``timeout`` seconds passed
    before every region was processed.
    """
    t0 = time.perf_counter()
    x0 = _start_point(net)
    pattern0 = net.pattern(x0)
    by_pattern: dict[tuple, int] = {}
    regions: list[Region] = []

    def add_region(pattern, point, local) -> int:
        if max_regions is not None and len(regions) >= max_regions:
            raise LimitReached(f"stopped at the limit of {max_regions} regions "
                               f"({sum(1 for r in regions if r.facets or r.redundant)} fully processed)",
                               done, len(regions))
        rid = len(regions)
        cons, _ = constraints_of(net, local)
        regions.append(Region(rid, pattern, tuple(point), local, cons))
        by_pattern[pattern] = rid
        return rid

    done = 0
    add_region(pattern0, x0, net.local_affine(pattern0))
    while done < len(regions):
        if timeout is not None and time.perf_counter() - t0 > timeout:
            raise LimitReached(f"stopped after {timeout:g} s with {done} regions processed and "
                               f"{len(regions)} found", done, len(regions))
        region = regions[done]
        for neuron, (a, c), p in _classify(region):
            outward = tuple(-v for v in a)
            pattern, local = net.pattern_along(p, outward)
            nid = by_pattern.get(pattern)
            if nid is None:
                cons, _ = constraints_of(net, local)
                eps = step_inside([(ca, cc) for _, ca, cc in cons], p, outward)
                if eps is None:  # the neighbour rule guarantees a step; anything else is a bug
                    raise AssertionError(f"no interior point across the facet of neuron {neuron} "
                                         f"of region {region.id}")
                point = tuple(pi + eps * ni for pi, ni in zip(p, outward))
                nid = add_region(pattern, point, local)
            region.facets.append(Facet(neuron, p, nid, outward))
        done += 1
        if progress is not None:
            progress(done, len(regions))
    return Arrangement(net, regions, time.perf_counter() - t0)


def switching_neurons(a: Region, b: Region) -> list[int]:
    return [i for i, (s, t) in enumerate(zip(a.pattern, b.pattern)) if s != t]


def edge_normal(net: Network, a: Region, b: Region, switching: list[int]) -> tuple:
    """The local gradient of the earliest switching neuron, oriented from a into b.

    Its upstream pattern is the same on both sides, so its gradient is too; it is a
    nonzero multiple of the facet normal (geometry notes, section 3).
    """
    first = switching[0]
    l, j = net.hidden_neurons[first]
    G, _ = a.local.pre[l]
    grad = tuple(G[j, c] for c in range(net.input_dim))
    return grad if b.pattern[first] else tuple(-v for v in grad)


def bend(a: Region, b: Region, normal: tuple, k: int) -> fmpq:
    """(grad_b - grad_a) . normal for output k: >= 0 everywhere iff output k is convex."""
    ga, gb = a.output_gradient(k), b.output_gradient(k)
    return dot([y - x for x, y in zip(ga, gb)], normal)


def violation_witness(net: Network, a: Region, b: Region, point: tuple, normal: tuple, k: int):
    """Rational x, y, lambda with f_k(lambda x + (1-lambda) y) > lambda f_k(x) + (1-lambda) f_k(y),
    from a facet with a negative bend: the short segment through the facet point along the normal.
    Checked by exact evaluation; returns None if the check fails (it cannot when the bend is < 0)."""
    neg = tuple(-v for v in normal)
    # at a relative-interior point of the facet, only the facet's own constraints vanish, and
    # they increase into their region (geometry notes, section 3), so a safe step exists
    ta = step_inside([(ca, cc) for _, ca, cc in a.constraints], point, neg)
    tb = step_inside([(ca, cc) for _, ca, cc in b.constraints], point, normal)
    if ta is None or tb is None:
        return None
    t = min(ta, tb)
    x = tuple(p - t * n for p, n in zip(point, normal))
    y = tuple(p + t * n for p, n in zip(point, normal))
    lam = fmpq(1, 2)
    return check_witness(net, k, x, y, lam)


def check_witness(net: Network, k: int, x, y, lam):
    mid = tuple(lam * xi + (1 - lam) * yi for xi, yi in zip(x, y))
    if net.evaluate(mid)[k] > lam * net.evaluate(x)[k] + (1 - lam) * net.evaluate(y)[k]:
        return {"output": k, "x": x, "y": y, "lambda": lam}
    return None
