"""Float proposals of all facets of a polyhedron at once, by polar duality.

With an interior point x0, P = {x : a_i . x + c_i >= 0} becomes, in y = x - x0,
P = {y : p_i . y <= 1} with p_i = -a_i / g_i(x0).  Its polar is conv({0} u {p_i}), and the
constraint i defines a facet of P iff p_i is a vertex of that hull.  Each vertex of P is a
hull facet away from 0, each extreme ray of P a hull facet through 0, so averaging the
vertices (and adding the rays) around p_i gives a central point of facet i.

Everything here is a guess in floats (one Qhull call per region); the caller checks every
proposal exactly and falls back on exact LPs when a check fails.  Constraint gradients lie
in the span of the network's input-facing weights, so the hull is computed in that
quotient (``basis``), where it is full-dimensional.
"""

from __future__ import annotations

import numpy as np

__all__ = ["propose_facets", "span_basis", "Polar", "supports_of_redundant"]


class Polar:
    """The float polar hull of a region: proposals of facets, and supports for Farkas guesses."""

    def __init__(self, points, equations, simplices):
        self.points, self.equations, self.simplices = points, equations, simplices


def supports_of_redundant(polar: "Polar | None", indices) -> list[tuple[list[int], list[int]]]:
    """For non-vertex polar points, the hull facet each one's ray from 0 leaves through, as
    (that facet's vertices, the points leaving through it), one pair per facet used.

    p_t = s * (convex combination of that facet's vertices) with s <= 1, so those vertices
    are the constraints that imply constraint t (a guess: the caller solves exactly).
    """
    if polar is None or polar.equations is None or len(indices) == 0:
        return []
    E = polar.equations
    off = E[:, -1]
    away = off < 0
    if not away.any():
        return []
    idx = list(indices)
    with np.errstate(all="ignore"):
        scores = (polar.points[np.add(idx, 1)] @ E[away, :-1].T) / (-off[away])
    by_facet: dict[int, list[int]] = {}
    for t, b in zip(idx, np.argmax(scores, axis=1).tolist()):
        by_facet.setdefault(b, []).append(t)
    simplices = polar.simplices[away][list(by_facet)].tolist()
    return [([v - 1 for v in vertices if v > 0], members) for vertices, members in zip(simplices, by_facet.values())]


def span_basis(rows: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (d x r) of the row span: the complement of the lineality space."""
    if rows.size == 0:
        return np.zeros((rows.shape[1] if rows.ndim == 2 else 0, 0))
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    r = int(np.sum(s > tol * max(1.0, s[0])))
    return vt[:r].T


def propose_facets(A: np.ndarray, g0: np.ndarray, basis: np.ndarray, polar_out: list | None = None
                   ) -> dict[int, np.ndarray] | None:
    """Float guesses {constraint index: offset y from x0 of a central point of its facet}.

    A: (m x d) constraint gradients, g0: (m,) constraint values at x0 (all > 0), basis: (d x r).
    Returns None when the hull cannot be computed (degenerate input): the caller then decides
    each constraint by LPs.
    """
    m = A.shape[0]
    r = basis.shape[1]
    if m == 0 or r == 0:
        return {}
    with np.errstate(all="ignore"):
        P = -(A @ basis) / g0[:, None]  # polar points, in quotient coordinates
    if not np.isfinite(P).all():
        return None
    if r == 1:
        out = {}
        pos = np.nonzero(P[:, 0] > 0)[0]
        neg = np.nonzero(P[:, 0] < 0)[0]
        for idx in ([pos[np.argmax(P[pos, 0])]] if len(pos) else []) + \
                   ([neg[np.argmin(P[neg, 0])]] if len(neg) else []):
            out[int(idx)] = basis[:, 0] * (1.0 / P[idx, 0])
        return out
    if m < r + 1:
        return None
    try:
        from scipy.spatial import ConvexHull, QhullError
    except ImportError:  # pragma: no cover
        return None
    pts = np.vstack([np.zeros((1, r)), P])
    try:
        hull = ConvexHull(pts)
    except (QhullError, ValueError):
        # points over many orders of magnitude (weights of 10^30 and 10^-30 in one region) make
        # the initial simplex look flat; a joggled hull still proposes, and every proposal is checked
        try:
            hull = ConvexHull(pts, qhull_options="QJ")
        except (QhullError, ValueError):
            return None
    if polar_out is not None:
        polar_out.append(Polar(pts, hull.equations, hull.simplices))
    scale = float(np.max(np.abs(pts))) or 1.0
    E, S = hull.equations, hull.simplices
    normal, off = E[:, :-1], E[:, -1]
    away = off < -1e-12 * scale  # hull facets away from 0 are vertices of P, the others its rays
    idx = hull.vertices[hull.vertices > 0]
    # incidence of the polar points idx with the hull facets (0/1 matrices): the sums over each
    # point's facets below are small matrix products, not per-facet loops
    corner_of, ray_of = _incidence(S[away], m + 1)[idx], _incidence(S[~away], m + 1)[idx]
    with np.errstate(all="ignore"):
        corner = normal[away] / -off[away, None]
        count = corner_of.sum(axis=1)
        # a central point of each facet: the mean of its vertices, pushed along the sum of its rays
        mean = np.where(count[:, None] > 0, (corner_of @ corner) / count[:, None], 0.0)
        # pushed by the facet's own size (how far its vertices lie from their mean, at least 1), not
        # by its distance from x0: the next region's interior point is taken near this point, so a
        # push that grows with the distance from x0 compounds along the search (interior points at
        # 10^12 after a few dozen steps outwards, where the float LPs lose the near facets)
        squared = (corner * corner).sum(axis=1)[None, :] - 2 * (mean @ corner.T) + (mean * mean).sum(axis=1)[:, None]
        spread = np.sqrt(np.maximum(np.where(corner_of > 0, squared, 0.0), 0.0).max(axis=1, initial=0.0))
    push = 1.0 + np.where(np.isfinite(spread), spread, 0.0)
    Y = (mean + (ray_of @ normal[~away]) * push[:, None]) @ basis.T
    return {int(v) - 1: Y[k] for k, v in enumerate(idx)}


def _incidence(simplices: np.ndarray, points: int) -> np.ndarray:
    """The points x facets 0/1 matrix: entry (v, f) is 1 when point v is a vertex of facet f."""
    out = np.zeros((points, len(simplices)))
    out[simplices.ravel(), np.repeat(np.arange(len(simplices)), simplices.shape[1])] = 1.0
    return out
