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

LeakyReLU (section 8): the regions are the same sign patterns as for ReLU and only the local
maps change (an off neuron passes s times its pre-activation); every map here comes from the
model (``local_affine``, ``flip_local``, ``pattern_along``), so nothing below assumes that an
off neuron outputs 0.  A neuron that is constant on a region is settled by its sign alone
(constant 0 counts as off and passes s * 0 = 0), whatever its slope.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

from flint import fmpq, fmpq_mat

from ..network import LocalAffine, Network
import numpy as np

from ..polyhedra import (facet_witness, farkas_certificate, farkas_guess, farkas_holds_for_rows, farkas_on_support_many,
                         project_onto, q_from_float_nice, q_from_floats_nice, step_from_values, step_inside)
from ..polyhedra.rows import FEW_ROWS, Rows, float_guess, floats_of, hyperplane_groups
from ..polyhedra.polar import propose_facets, span_basis, supports_of_redundant


__all__ = ["Region", "Facet", "Arrangement", "explore", "LimitReached", "constraints_of", "constraint_rows",
           "implied_certificates"]


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
    neurons: list = field(default_factory=list)  # the neuron of each non-constant constraint
    rows: Rows | None = None  # those constraints g = a.x + c >= 0, in the order of ``neurons``
    facets: list = field(default_factory=list)
    redundant: list = field(default_factory=list)  # (neuron, support, multipliers, constant)
    implied: list = field(default_factory=list)  # (support, neurons): the other redundant ones, each a
    #   nonnegative combination of the support's facets and a constant (multipliers: implied_certificates)
    has_zero: bool = False  # some neuron is constant zero on the region

    @property
    def constraints(self) -> list[tuple[int, tuple, fmpq]]:
        """The non-constant constraints as (neuron, a, c)."""
        return [(n,) + self.rows.row(i) for i, n in enumerate(self.neurons)]

    def output_gradient(self, k: int) -> tuple:
        cache = self.__dict__.setdefault("_gradients", {})
        if k not in cache:  # bends ask for it once per facet
            G, _ = self.local.output
            cache[k] = tuple(G[k, j] for j in range(G.ncols()))
        return cache[k]

    def integer_gradient(self, k: int) -> tuple:
        """``output_gradient(k)`` as an integer row N (a 1 x d matrix) and a denominator D > 0
        (``bend``).  From ``output_gradient``, not from the local maps: a ``--jobs`` coordinator
        gets the gradients from its workers and never computes its regions' maps."""
        cache = self.__dict__.setdefault("_integer_gradients", {})
        if k not in cache:
            g = self.output_gradient(k)
            cache[k] = fmpq_mat(1, len(g), g).numer_denom()
        return cache[k]

    def output_offset(self, k: int) -> fmpq:
        offsets = self.__dict__.get("_offsets")
        return offsets[k] if offsets is not None else self.local.output[1][k, 0]


class LazyRegion(Region):
    """A region whose local maps, constraints and rows are computed from its pattern when first
    asked for (``graph.parallel`` keeps only what the merge needs in the coordinator; the serial
    search drops each region's rows once its neighbours have theirs)."""

    def __init__(self, net: Network, *args, **kwargs):
        self.__dict__["_net"] = net
        super().__init__(*args, **kwargs)

    @property
    def local(self) -> LocalAffine:
        value = self.__dict__.get("_local")
        if value is None:
            value = self.__dict__["_local"] = self._net.local_affine(self.pattern)
        return value

    @local.setter
    def local(self, value) -> None:
        self.__dict__["_local"] = value

    @property
    def rows(self) -> Rows:
        value = self.__dict__.get("_rows")
        if value is None:
            self.neurons, value, _, _ = constraint_rows(self._net, self.local)
            self.__dict__["_rows"] = value
        return value

    @rows.setter
    def rows(self, value) -> None:
        self.__dict__["_rows"] = value

    @property
    def neurons(self) -> list:
        value = self.__dict__.get("_neurons")
        if value is None:
            value, self.rows, _, _ = constraint_rows(self._net, self.local)
            self.__dict__["_neurons"] = value
        return value

    @neurons.setter
    def neurons(self, value) -> None:
        self.__dict__["_neurons"] = value


@dataclass
class Arrangement:
    network: Network
    regions: list
    seconds: float


def constraint_rows(net: Network, local: LocalAffine) -> tuple[list[int], Rows, bool, bool]:
    """The non-constant constraints g = +-z_nu >= 0 where ``local``'s pattern holds, as
    (their neurons, their rows), whether the constant ones all hold (False: the pattern's
    polyhedron is empty), and whether some neuron is constant zero there."""
    return _rows_from_layer(net, local, 1)


def _rows_from_layer(net: Network, local: LocalAffine, first: int) -> tuple[list[int], Rows, bool, bool]:
    """``constraint_rows`` of the layers from ``first`` on."""
    d = net.input_dim
    w = d + 1
    neurons, flat = [], []
    feasible, zero = True, False
    idx = net.neuron_index(first, 0)
    pattern = local.pattern
    for l in range(first, net.depth):
        G, g = local.pre[l]
        eG, eg = G.entries(), g.entries()
        if len(eg) >= 16 and all(eG):  # a wide layer, no zero weight (so no constant row): all rows at once
            n = len(eg)
            rows = [None] * (n * w)
            for t in range(d):
                rows[t::w] = eG[t::d]
            rows[d::w] = eg
            for k in [j * w for j, on in enumerate(pattern[idx:idx + n]) if not on]:
                rows[k:k + w] = [-v for v in rows[k:k + w]]
            neurons.extend(range(idx, idx + n))
            flat.extend(rows)
            idx += n
            continue
        for j, c in enumerate(eg):  # row by row: some may be constant (zero, or deciding feasibility)
            a = eG[j * d:(j + 1) * d]
            on = pattern[idx]
            if any(a):
                neurons.append(idx)
                if on:
                    flat.extend(a)
                    flat.append(c)
                else:
                    flat.extend([-v for v in a])
                    flat.append(-c)
            elif c == 0:
                zero = True
            elif (c < 0) if on else (c > 0):
                feasible = False
            idx += 1
    return neurons, Rows(d, flat), feasible, zero


def rows_after_flip(net: Network, neurons: list[int], rows: Rows, neuron: int, local: LocalAffine
                    ) -> tuple[list[int], Rows, bool]:
    """``constraint_rows`` of the neighbour across the facet of ``neuron`` (``local``: its maps,
    ``flip_local`` of the region's), for a region (its ``neurons`` and ``rows`` as
    ``constraint_rows`` gives them) with no constant-zero neuron: the rows of the
    neuron's layer and those before it do not depend on the neuron's state, so they are the
    region's, with the neuron's own row negated (floats too, when computed); only the later
    layers' rows are new (a first-layer flip at d2 256x256 reuses half the rows, all their floats).
    Returns the neurons, the rows and whether some neuron is constant zero in the neighbour.
    """
    layer = net.hidden_neurons[neuron][0]
    own = neurons.index(neuron)
    if layer == net.depth - 1:  # the last hidden layer feeds no constraint: the same rows, one negated
        return neurons, rows.with_row_negated(own), False
    kept = bisect.bisect_left(neurons, net.neuron_index(layer + 1, 0))
    later, tail, _, zero = _rows_from_layer(net, local, layer + 1)
    return neurons[:kept] + later, rows.with_row_negated(own, keep=kept).followed_by(tail.flat), zero


def constraints_of(net: Network, local: LocalAffine) -> tuple[list, bool, bool]:
    """Non-constant constraints (neuron, a, c) with g = a.x + c >= 0 on the region, whether the
    constant ones all hold (False means the pattern's polyhedron is empty), and whether some
    neuron is constant zero there."""
    neurons, rows, feasible, zero = constraint_rows(net, local)
    return [(n,) + rows.row(i) for i, n in enumerate(neurons)], feasible, zero


def _start_point(net: Network) -> tuple:
    """A deterministic rational point that is interior to its own region."""
    rng = random.Random(20251)
    d = net.input_dim
    for attempt in range(10_000):
        if attempt == 0:
            x = tuple(fmpq(1 + 2 * i, 7 + 3 * i) for i in range(d))
        else:
            x = tuple(fmpq(rng.randint(-997, 997), rng.choice((101, 103, 107, 109))) for _ in range(d))
        _, rows, _, _ = constraint_rows(net, net.local_affine(net.pattern(x)))
        if all(rows.values([x])[0]):
            return x
    raise RuntimeError("no interior starting point found")  # pragma: no cover - measure zero


def _point_across(rows: Rows, p: tuple, outward: tuple) -> tuple | None:
    """An exact interior point of the region of ``rows`` just past the facet point p along
    ``outward``, with small denominators when possible; None if there is none.

    A float guess of the step (half the distance to the nearest decreasing row, a power of
    two) and dyadic roundings of the point reached are tried first, each checked exactly;
    if none is interior, the step is computed exactly (``step_from_values``).
    """
    if len(rows) >= 64 or rows.trusted:  # floats guess the step (checked exactly), no exact ratios
        F = rows.floats
        with np.errstate(all="ignore"):
            values = F @ np.append(floats_of(p), 1.0)
            slopes = F[:, :-1] @ floats_of(outward)
            ratios = np.where(slopes < 0, values / -slopes, np.inf)
            reach = float(np.min(ratios)) if len(ratios) else np.inf
        if 0 < reach < np.inf:
            eps = fmpq(1) if reach >= 4 else fmpq(1, 2 ** (math.ceil(-math.log2(reach / 2)) + 1))
            found = _simpler_interior_point(rows, tuple(pi + eps * ni for pi, ni in zip(p, outward)))
            if found is not None:
                return found
    (at_p, slopes), _ = rows.scaled_values([p], [outward])
    eps = step_from_values(at_p, slopes)
    if eps is None:
        return None
    x = tuple(pi + eps * ni for pi, ni in zip(p, outward))
    return _simpler_interior_point(rows, x) or x


def _simpler_interior_point(rows: Rows, point: tuple) -> tuple | None:
    """``point`` or a point with small denominators near it, if one of them is strictly interior
    (checked exactly), the simplest first; otherwise None.  Coordinates beyond 10^15 (or beyond
    the float range) are kept exact: only moderate floats are rounded."""
    floats = [float_guess(v) for v in point]

    def rounded(bits: int) -> tuple:
        scale = 1 << bits
        return tuple(fmpq(int(round(f * scale)), scale) if abs(f) < 1e15 else v for v, f in zip(point, floats))

    # the coarsest rounding almost always works: made and checked alone first, the others only if it fails
    coarse = rounded(8)
    if not rows.not_positive([coarse])[0]:
        return coarse
    finer = [rounded(20), rounded(40), point]
    return next((cand for bad, cand in zip(rows.not_positive(finer), finer) if not bad), None)


def _classify(region: Region, basis) -> list[tuple[int, tuple, tuple, int]]:
    """Facets (representative neuron, group function, witness point, group size), in the order
    the Farkas certificates refer to; fills region.implied with the constraints confirmed in
    groups (their supports, read off the polar hull) and region.redundant with explicit, sparse
    certificates for the rest.

    Floats propose (all facets at once by polarity), exact checks dispose: a proposed facet
    counts only with an exact witness point, a constraint counts as redundant only with an
    exact Farkas certificate over the facets, and exact LPs decide whatever is left.
    """
    rows, neurons = region.rows, region.neurons
    groups = hyperplane_groups(rows)
    reps = _Representatives(rows, groups)
    m = len(reps)
    singletons = m == len(neurons)
    if singletons:  # the usual case, every group one row: the group of row r is r
        group_of = list(range(m))
    else:
        group_of = [0] * len(neurons)
        for i, g in enumerate(groups):
            for r in g:
                group_of[r] = i
    x0 = region.interior_point
    witness: dict[int, tuple] = {}
    polar: list = []
    independent = _independent_facets(rows, reps, [g[0] for g in groups], group_of, x0) if 0 < m <= rows.d else None
    if independent is not None:
        witness.update(independent)
    elif m:
        first = group_of if singletons else [g[0] for g in groups]
        A, g0 = _polar_inputs(rows, first, x0)
        proposals = propose_facets(A, g0, basis, polar) or {}
        _check_proposals(rows, reps, group_of, x0, proposals, witness)
    redundant: dict[int, tuple | None] = {}  # group -> (facet positions, multipliers, constant), None if implied
    implied: list = []  # (the facets of a support, as groups; the groups it implies)

    def try_supports(hull, indices):  # one exact solve for the constraints behind one hull facet
        for support, members in supports_of_redundant(hull, indices):
            if all(f in witness for f in support):
                support = sorted(support)
                holds = farkas_holds_for_rows(rows.flat, rows.d, members if singletons else [groups[i][0] for i in members],
                                              [reps[f] for f in support], list(range(len(support))), True,
                                              rows.floats if rows.trusted else None)
                solved = members if all(holds) else [i for i, ok in zip(members, holds) if ok]
                redundant.update(dict.fromkeys(solved))  # None: implied, its multipliers re-solved from the support on demand
                if solved:
                    implied.append((support, solved))

    candidates = [i for i in range(m) if i not in witness]
    try_supports(polar[0] if polar else None, candidates)
    left = [i for i in candidates if i not in redundant]
    if left and polar and proposals:
        # neither a facet nor implied by a hull facet's vertices: in far-out regions, usually a facet
        # the hull missed; a second hull from a better centre proposes it (no LP per constraint)
        again = _recentred_proposals(A, g0, basis, proposals)
        if again is not None:
            more, hull = again
            _check_proposals(rows, reps, group_of, x0, {i: more[i] for i in left if i in more}, witness)
            try_supports(hull, [i for i in left if i not in witness])
    facet_order = sorted(witness)
    # what the hulls left undecided (at d2 256x256 usually none of 512 rows): the passes below go
    # over this short list, not over every row
    undecided = [i for i in left if i not in witness and i not in redundant]
    facet_reps = [reps[f] for f in facet_order]
    position = {f: k for k, f in enumerate(facet_order)}
    for support, members in implied:
        region.implied.append(([position[f] for f in support], list(map(neurons.__getitem__, members)) if singletons
                               else [neurons[r] for i in members for r in groups[i]]))

    explicit: dict[int, tuple] = {}  # the groups of ``redundant`` with their certificates

    def keep_dense(i, cert):  # facets are only ever appended, so positions stay valid
        lam, mu = cert
        support = [k for k, v in enumerate(lam) if v != 0]
        redundant[i] = explicit[i] = (support, [lam[k] for k in support], mu)

    for i in undecided:
        cert = farkas_guess(reps[i], facet_reps, at=x0)
        if cert is not None:
            keep_dense(i, cert)
    undecided = [i for i in undecided if i not in redundant]
    for i in undecided:  # floats propose facet points (checked exactly); no exact LP yet
        p = facet_witness(reps[i], reps[:i] + reps[i + 1:], hint=x0, float_only=True)
        if p is not None:
            witness[i] = tuple(p)
            facet_order.append(i)
    later = []
    for i in undecided:
        if i in witness or i in redundant:
            continue
        # a Farkas certificate over the facets found so far is the cheaper exact proof (d + 1
        # equations); only without one does the exact facet LP (all constraints) decide
        cert = farkas_certificate(reps[i], [reps[f] for f in facet_order])
        if cert is not None:
            keep_dense(i, cert)
            continue
        p = facet_witness(reps[i], reps[:i] + reps[i + 1:], exact_only=True)
        if p is not None:
            witness[i] = tuple(p)
            facet_order.append(i)
        else:
            later.append(i)  # not a facet: implied by the facets, some of which came later
    for i in later:
        cert = farkas_certificate(reps[i], [reps[f] for f in facet_order])
        if cert is None:  # would contradict Farkas' lemma: the facet list is wrong
            raise AssertionError(f"region {region.id}: a constraint is neither a facet nor implied by the facets")
        keep_dense(i, cert)
    for i in sorted(explicit):
        support, lam, mu = explicit[i]
        if len(groups[i]) == 1:
            region.redundant.append((neurons[groups[i][0]], support, lam, mu))
            continue
        rep_a = reps[i][0]
        pivot = next(k for k, v in enumerate(rep_a) if v != 0)
        for r in groups[i]:
            a, _ = rows.row(r)
            ratio = a[pivot] / rep_a[pivot]  # members of a group are positive multiples of its first
            region.redundant.append((neurons[r], support, [v * ratio for v in lam] if ratio != 1 else lam,
                                     mu * ratio))
    return [(neurons[groups[i][0]], reps[i], witness[i], len(groups[i])) for i in facet_order]


class _Representatives:
    """``rows.row`` of the first row of each group, as a sequence built on demand: in a wide region
    most groups are redundant and only ever read off the rows' flat list."""

    __slots__ = ("rows", "groups", "built")

    def __init__(self, rows: Rows, groups: list[list[int]]):
        self.rows, self.groups, self.built = rows, groups, {}

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.groups)))]
        value = self.built.get(i)
        if value is None:
            value = self.built[i] = self.rows.row(self.groups[i][0])
        return value

    def __iter__(self):
        return (self[i] for i in range(len(self.groups)))


def _independent_facets(rows: Rows, reps: list, first: list[int], group_of: list[int], x0: tuple
                        ) -> dict[int, tuple] | None:
    """Witnesses of every group as a facet when the groups' gradients a_1..a_m are linearly
    independent (always so for at most d generic constraints, as in the low-rank regions of wide
    inputs): x0 - g_i(x0) A^T (A A^T)^-1 e_i has g_i = 0 and every other g_j = g_j(x0) > 0.

    Floats first: the pseudo-inverse proposes the moves, each point is put exactly on its
    hyperplane (``project_onto``) and all are checked exactly in one product; if a check fails,
    the exact m x m inverse gives the points.  No LP per constraint.  None when the gradients are
    dependent (the general path decides then)."""
    m, d = len(reps), len(x0)
    F = rows.floats[first] if rows.trusted else None
    if F is not None and np.isfinite(F).all():
        z, G = np.append(floats_of(x0), 1.0), F[:, :-1]
        with np.errstate(all="ignore"):
            try:  # column i: x0 + column lands on g_i = 0 (A^T (A A^T)^-1, a quarter of pinv's time)
                moves = G.T @ np.linalg.solve(G @ G.T, np.diag(-(F @ z)))
            except np.linalg.LinAlgError:  # dependent in floats: the exact Gram matrix decides below
                moves = None
        candidates = None
        if moves is not None and np.isfinite(moves).all() and np.abs(moves).max(initial=0.0) < 2.0 ** 40:
            # every move rounded to a multiple of 2^-24 at once (a guess; the checks below decide)
            from flint import fmpz_mat

            steps = fmpq_mat(fmpz_mat(d, m, np.rint(np.ldexp(moves, 24)).astype(np.int64).ravel().tolist())) / (1 << 24)
            e = (steps + fmpq_mat(d, m, [v for v in x0 for _ in range(m)])).entries()
            candidates = _onto_own_rows(rows, [(first[i], reps[i], e[i::m]) for i in range(m)])
        if candidates is not None:
            bad = rows.not_positive(candidates)
            if all(all(group_of[r] == i for r in b) for i, b in enumerate(bad)):
                return dict(enumerate(candidates))
    A = fmpq_mat(m, d, [v for a, _ in reps for v in a])
    At = A.transpose()
    gram = A * At
    if gram.rank() < m:
        return None
    values = A * fmpq_mat(d, 1, list(x0))
    exact_moves = At * gram.inv()  # column i: the move that changes g_i by 1 and no other g_j
    out = {}
    for i in range(m):
        gi = values[i, 0] + reps[i][1]
        out[i] = tuple(x0[k] - gi * exact_moves[k, i] for k in range(d))
    return out


def _check_proposals(rows: Rows, reps: list, group_of: list[int], x0: tuple, proposals: dict,
                     witness: dict) -> None:
    """Turn float proposals {group: offset from x0} into exact facet witnesses (all checked in one
    product): a proposal counts when every row vanishing or negative at its point (put exactly on
    the group's hyperplane) is on that hyperplane."""
    moved = []
    items = sorted(proposals.items())
    if not items:
        return
    d = len(x0)
    offsets = q_from_floats_nice(np.array([y for _, y in items]))
    for k, (i, _) in enumerate(items):
        offset = offsets[k * d:(k + 1) * d]
        if None in offset:  # the guess overflowed: no proposal, the LPs decide this one
            continue
        moved.append((i, [xi + oi for xi, oi in zip(x0, offset)]))
    if moved:
        points = _onto_own_rows(rows, [(reps.groups[i][0], reps[i], p) for i, p in moved])
        for bad, (i, _), p in zip(rows.not_positive(points), moved, points):
            if all(group_of[r] == i for r in bad):
                witness[i] = p


def _onto_own_rows(rows: Rows, items: list) -> list[tuple]:
    """Each point of ``items`` = [(row index, its (a, c), point)] put exactly on that row's hyperplane
    (``project_onto``), with every row's value at its point read off one integer product
    (``Rows.scaled_values_at``, rather than one dot product of 80-bit rationals each) when there
    are few rows: their integer matrix is then built anyway, for ``not_positive``.  (Of 512 rows
    at d2 256x256 it is not, and building it cost more than the dot products: the 2-job build
    went 110 -> 151 s, its peak 1.4 -> 2.5 GB.)"""
    if len(rows) >= FEW_ROWS:
        return [tuple(project_onto(p, rep)) for _, rep, p in items]
    values, scale = rows.scaled_values_at([t for t, _, _ in items], [p for _, _, p in items])
    return [tuple(project_onto(p, rep, fmpq(v, scale))) for v, (_, rep, p) in zip(values, items)]


def _recentred_proposals(A: np.ndarray, g0: np.ndarray, basis, proposals: dict):
    """Proposals {group: offset from x0} and the hull of a second polar, from a better centre; None
    when there is none.

    When the facets' distances from x0 span many orders of magnitude (an interior point near
    one corner of a long unbounded region), the polar points of the far facets crowd around 0
    and Qhull's tolerances take them for non-vertices: each such facet would cost an LP.  The
    mean of the proposed facet points is a point of the region (a convex combination of points of
    it) from which the distances are balanced.  Floats only: every proposal is checked exactly."""
    with np.errstate(all="ignore"):
        distances = g0 / np.linalg.norm(A, axis=1)
        if not (np.isfinite(distances).all() and distances.max() > 1e3 * distances.min()):
            return None
        shift = np.mean(np.array(list(proposals.values())), axis=0)
        g1 = g0 + A @ shift
    if not (np.isfinite(g1).all() and (g1 > 1e-9 * np.abs(g0)).all()):
        return None
    again: list = []
    more = propose_facets(A, g1, basis, again)
    if not more or not again:
        return None
    return {i: y + shift for i, y in more.items()}, again[0]


def _polar_inputs(rows: Rows, first: list[int], x0: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Float gradients A and values g0 > 0 at x0 of the rows ``first``, for the polar proposals
    (only A / g0 matters there).  From the float rows when they are trustworthy, otherwise (entries
    beyond the float range, large or small) from the exact ratios a_i / g_i(x0), which are in range
    far more often than a_i and g_i themselves."""
    if rows.trusted:
        F, z = rows.floats[first], np.append(floats_of(x0), 1.0)
        with np.errstate(all="ignore"):
            g0 = F @ z  # a guess; where cancellation may have spoilt it, the exact values instead
            if not (g0 > 1e-9 * (np.abs(F) @ np.abs(z))).all():
                g0 = floats_of(rows.values([x0])[0])[first]
        return F[:, :-1], g0
    values = rows.values([x0])[0]
    d = rows.d
    ratios = [v / values[i] for i in first for v in rows.row(i)[0]]
    return floats_of(ratios).reshape(len(first), d), np.ones(len(first))


def implied_certificates(region: Region) -> list[tuple[int, list, list, fmpq]]:
    """(neuron, support, multipliers, constant) for every constraint of ``region.implied``: the
    exact solution of its Farkas identity on the support (computed here, on demand)."""
    position = {n: i for i, n in enumerate(region.neurons)}
    facets = [region.rows.row(position[f.neuron]) for f in region.facets]
    out = []
    for support, members in region.implied:
        certs = farkas_on_support_many([region.rows.row(position[n]) for n in members], facets, support, True)
        out.extend((n, support, lam, mu) for n, (lam, mu) in zip(members, certs))
    return out


def _facets_and_neighbours(net: Network, basis, region: Region, known) -> list:
    """Classify one region and find what lies across each of its facets.

    Returns, per facet in order, (neuron, facet point, outward normal, neighbour pattern, new)
    with ``new`` None when the pattern is in ``known`` (a mapping or set of patterns), else the
    neighbour's (interior point, local maps, neurons, rows, has_zero).  With ``known`` None,
    nothing is computed for the neighbours and ``new`` says whether the neighbour's pattern
    came from ``pattern_along`` (True) or from flipping the facet's neuron (False).  Depends only on the
    region and ``known``, so regions of one BFS level may be processed in any order or process
    (``graph.parallel``); the caller assigns ids in order, which keeps the graph deterministic.
    """
    out = []
    for neuron, (a, c), p, group_size in _classify(region, basis):
        outward = tuple(-v for v in a)
        if group_size == 1 and not region.has_zero:
            # only neurons vanishing at p can change state just past it; here that is this
            # neuron alone, its upstream unchanged, and its constraint decreasing: it flips
            pattern = region.pattern[:neuron] + (1 - region.pattern[neuron],) + region.pattern[neuron + 1:]
            local = None
        else:
            pattern, local = net.pattern_along(p, outward)
        new = None
        if known is None:
            new = local is not None
        elif pattern not in known:
            if local is None:  # a flip (so no neuron is constant zero here)
                local = net.flip_local(region.local, neuron)
                neurons, rows, zero = rows_after_flip(net, region.neurons, region.rows, neuron, local)
            else:
                neurons, rows, _, zero = constraint_rows(net, local)
            point = _point_across(rows, p, outward)
            if point is None:  # the neighbour rule guarantees a step; anything else is a bug
                l, j = net.hidden_neurons[neuron]
                raise AssertionError(f"no interior point across the facet of neuron {j} of layer {l} "
                                     f"of region {region.id}")
            new = (point, local, neurons, rows, zero)
        out.append((neuron, p, outward, pattern, new))
    region.rows.release()
    return out


class _Graph:
    """The regions found so far, ids in discovery order, with the bounds of ``explore``."""

    def __init__(self, net: Network, max_regions, timeout, progress):
        self.net = net
        self.t0 = time.perf_counter()
        self.max_regions, self.timeout, self.progress = max_regions, timeout, progress
        self.regions: list[Region] = []
        self.by_pattern: dict[tuple, int] = {}
        self.done = 0

    def check_room(self) -> None:
        """Raise LimitReached when one more region would pass ``max_regions``."""
        if self.max_regions is not None and len(self.regions) >= self.max_regions:
            raise LimitReached(f"stopped at the limit of {self.max_regions} regions "
                               f"({self.done} fully processed)", self.done, len(self.regions))

    def add(self, pattern, point, local, neurons, rows, zero) -> int:
        self.check_room()
        regions = self.regions
        rid = len(regions)
        regions.append(LazyRegion(self.net, rid, pattern, tuple(point), local, neurons, rows, has_zero=zero))
        self.by_pattern[pattern] = rid
        return rid

    def check_time(self) -> None:
        if self.timeout is not None and time.perf_counter() - self.t0 > self.timeout:
            raise LimitReached(f"stopped after {self.timeout:g} s with {self.done} regions processed and "
                               f"{len(self.regions)} found", self.done, len(self.regions))

    def merge(self, region: Region, found: list) -> None:
        """Record one processed region's facets, adding its new neighbours in facet order."""
        for neuron, p, outward, pattern, new in found:
            nid = self.by_pattern.get(pattern)
            if nid is None:
                nid = self.add(pattern, *new)
            region.facets.append(Facet(neuron, p, nid, outward))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.regions))


def _process_next(net: Network, basis, graph: _Graph) -> None:
    """Process the next region in id order (the serial search's step): its facets, its new
    neighbours with their rows; then its own rows are dropped (its children have theirs; they
    are rebuilt from its local maps if asked for, ``LazyRegion``: 418 -> 260 MB for 8,257
    regions at d2 128x128, no slower)."""
    graph.check_time()
    region = graph.regions[graph.done]
    graph.merge(region, _facets_and_neighbours(net, basis, region, graph.by_pattern))
    region.rows = None


def _first_region(net: Network, graph: _Graph):
    x0 = _start_point(net)
    pattern0 = net.pattern(x0)
    local0 = net.local_affine(pattern0)
    neurons0, rows0, _, zero0 = constraint_rows(net, local0)
    graph.add(pattern0, x0, local0, neurons0, rows0, zero0)
    return span_basis(_input_facing_rows(net))


def explore(net: Network, *, max_regions: int | None = None, timeout: float | None = None,
            progress: Callable[[int, int], None] | None = None, jobs: int | None = None) -> Arrangement:
    """All full-dimensional activation regions of ``net`` with their facets and neighbours.

    Raises LimitReached when ``max_regions`` regions were found or ``timeout`` seconds passed
    before every region was processed.  ``jobs`` > 1 explores on that many processes, level by
    level of the breadth-first search (``graph.parallel``): the same regions, ids, facets and
    certificates as the serial run.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]})
    >>> [r.pattern for r in explore(net).regions]
    [(1, 0), (0, 1)]
    """
    if jobs is not None and jobs > 1:
        from .parallel import explore_parallel

        return explore_parallel(net, jobs, max_regions=max_regions, timeout=timeout, progress=progress)
    graph = _Graph(net, max_regions, timeout, progress)
    basis = _first_region(net, graph)
    regions = graph.regions
    with old_objects_frozen() as settle:
        while graph.done < len(regions):
            _process_next(net, basis, graph)
            settle(graph.done)
    return Arrangement(net, regions, time.perf_counter() - graph.t0)


@contextlib.contextmanager
def old_objects_frozen(every: int = 64):
    """Keep the regions found so far out of Python's cyclic garbage collector while exploring.

    The graph only grows, and its objects (tuples of rationals, regions) hold no reference
    cycles, so scanning them again and again finds nothing; but a full collection scans them
    all, which made one region in a few thousand cost 50-250 ms (a pause of the whole heap, in
    the middle of the search) at d6 8x8.  At the start and every ``every`` regions the objects
    alive are moved to the permanent generation (``gc.freeze``, which costs next to nothing:
    every 512 regions, the first full collection still scanned nearly 512 regions' objects, a
    12.6-ms pause at d8 8x8; every 64, no pause over 2 ms); new garbage is still collected as usual, and
    everything is handed back to the collector at the end (``gc.unfreeze``).  A caller that
    froze objects itself (a forking server, say) keeps its permanent generation as it was: the
    search then leaves the collector alone.  Yields the function to call with the number of
    regions done."""
    if gc.get_freeze_count():  # not ours to unfreeze at the end
        yield lambda done: None
        return

    def settle(done: int) -> None:
        if done % every == 0:
            gc.freeze()

    gc.freeze()  # what is alive already (the modules loaded, the caller's objects) first: a full collection
    try:  # of those early in the search was one pause of 13-16 ms in the fifth region at d8 8x8
        yield settle
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off for work after the search that makes no reference
    cycles (the verdict's bends, the certificate's dicts, lists and strings): each full
    collection would scan the whole region graph again and find nothing, which was more than
    half the time of writing the certificate of 11,010 regions (d6 8x8: 6.0 s -> 2.5 s).  The
    collector is left as it was found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _input_facing_rows(net: Network) -> np.ndarray:
    """Rows of every weight applied to the input x inside hidden layers: their span contains every
    constraint gradient, its orthogonal complement is the lineality space of the network.

    Floats for a guess (the polar proposals): each row is scaled by its largest entry (exactly)
    before it becomes floats, so that weights beyond the float range, large or small, still give
    entries in [-1, 1]; all-zero rows are left out."""
    rows = []
    for W in [net.layers[0].weight] + [layer.skip[0] for layer in net.layers[:-1] if 0 in layer.skip]:
        for i in range(W.nrows()):
            row = [W[i, j] for j in range(net.input_dim)]
            top = max(abs(v) for v in row)
            if top != 0:
                rows.append([float_guess(v / top) for v in row])
    return np.array(rows) if rows else np.zeros((0, net.input_dim))


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
    """(grad_b - grad_a) . normal for output k: >= 0 everywhere iff output k is convex.

    Over the integers: each region's output gradient is an integer row over one denominator, the
    normal an integer column over another, so the two dot products are integer products (at d10,
    35 -> 10 us per bend against rational dot products, whose every product and sum reduces a
    fraction of 80-bit numbers)."""
    Na, Da = a.integer_gradient(k)
    Nb, Db = b.integer_gradient(k)
    n, Dn = fmpq_mat(len(normal), 1, normal).numer_denom()
    return fmpq((Nb * n)[0, 0] * Da - (Na * n)[0, 0] * Db, Da * Db * Dn)


def facet_bend(region: Region, facet: Facet, other: Region, k: int) -> fmpq:
    """``bend`` across ``facet`` of ``region`` (into ``other``, its neighbour) along the facet's
    outward normal, computed once per facet and output (the verdict and the certificate both ask)."""
    cache = region.__dict__.setdefault("_facet_bends", {})
    key = (facet.neighbor, k)  # two convex regions share at most one facet
    value = cache.get(key)
    if value is None:
        value = cache[key] = bend(region, other, facet.outward, k)
    return value


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
