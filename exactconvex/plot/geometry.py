"""The exact geometry behind the pictures: region polygons, facet segments, the drawing window.

Nothing here needs matplotlib.  For a network with input dimension d = 2, every
full-dimensional activation region of the region graph is the intersection of its facet
half-planes (geometry notes, section 4; facet points and outward normals come exactly from
``exactconvex.graph.explore``).  Intersecting those half-planes with the drawing window
(Sutherland-Hodgman clipping in exact rationals) gives the region's polygon inside the
window, with exact vertices.  For d = 1 a region is an interval and a facet a breakpoint.

Every facet is drawn as the exact segment shared by the two closed regions it separates
(inside the window), with its bend (grad_B - grad_A) . n for the chosen output, n the
normal of the region graph (``exactconvex.graph``), so the colours of the picture are the
signs the convexity verdict is made of.

The default window contains every vertex of the region complex (the vertices of every
region's polygon: exact intersections of pairs of its facet lines), every facet's
relative-interior point and every region's interior point, with a margin: each region then
meets the window in a polygon of positive area (its interior point is strictly inside both),
and a convex region meets the convex window in one piece, so every region appears exactly
once.  Floats are used only to draw (``to_float``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

from flint import fmpq

from ..numbers import exponent10, to_q

__all__ = ["RegionCell", "FacetPiece", "RegionDrawing", "region_drawing", "region_polygons", "default_window",
           "focus_window", "parse_window", "polygon_area", "polygon_centroid", "to_float"]

Point = tuple  # exact coordinates (fmpq, ...)
HalfPlane = tuple  # (a_1, ..., a_d, c): a . x + c >= 0


@dataclass
class RegionCell:
    """One region inside the window: a convex polygon (d = 2, vertices counter-clockwise) or
    an interval (d = 1, vertices (lo,) and (hi,)), exact, with the region's data."""

    region: int  # node id in the region graph (``exactconvex.regions``) and in ``explore``
    vertices: list  # exact points
    pattern: tuple
    gradient: tuple  # of the drawn output, exact
    offset: fmpq
    piece: int  # equal gradient and offset <=> equal piece (numbered in order of region id)
    interior_point: tuple

    @property
    def measure(self) -> fmpq:
        """Exact area (d = 2) or length (d = 1) inside the window."""
        if len(self.vertices[0]) == 1:
            return self.vertices[1][0] - self.vertices[0][0]
        return polygon_area(self.vertices)

    @property
    def centroid(self) -> tuple:
        """Exact centroid (strictly inside the region: the polygon is convex with positive area)."""
        if len(self.vertices[0]) == 1:
            return ((self.vertices[0][0] + self.vertices[1][0]) / 2,)
        return polygon_centroid(self.vertices)

    def value(self, x: Sequence) -> fmpq:
        """The region's affine piece at x (exact)."""
        return sum((g * xi for g, xi in zip(self.gradient, x)), fmpq(0)) + self.offset


@dataclass
class FacetPiece:
    """The part of a facet inside the window: the segment (d = 2) or breakpoint (d = 1) shared by
    ``regions`` = (A, B), with ``normal`` from A into B and ``bend`` = (grad_B - grad_A) . normal."""

    regions: tuple
    ends: tuple  # two exact points (equal when d = 1)
    normal: tuple
    bend: fmpq

    @property
    def kind(self) -> str:
        """"concave" (bend < 0: a proven concave kink), "convex" (bend > 0) or "flat" (bend = 0)."""
        return "concave" if self.bend < 0 else "convex" if self.bend > 0 else "flat"


@dataclass
class RegionDrawing:
    """Everything a picture of the regions shows, exactly.

    ``cells`` holds one entry per region meeting the window with positive measure (with the
    default window: every region); ``facets`` the facet pieces inside the window;
    ``witness`` a violation of convexity of the drawn output ({"output", "x", "y", "lambda"},
    checked by exact evaluation) when a facet has a negative bend, else None.
    """

    network: object  # the Network drawn (input dimension 1 or 2)
    output: int
    window: tuple  # (x0, x1) or (x0, x1, y0, y1), exact
    cells: list
    facets: list
    regions: int  # number of regions in the whole region graph
    region_facets: int  # number of facets in the whole region graph
    concave_facets: int  # of the whole region graph
    vertices: list = field(default_factory=list)  # vertices of the region complex (d = 2), exact
    affine: dict = field(default_factory=dict)  # region id -> (gradient, offset) of the drawn output, every region
    witness: dict | None = None
    pieces: int = 0  # distinct affine pieces of the drawn output
    seconds: float = 0.0

    def value(self, region: int, x: Sequence) -> fmpq:
        """The drawn output at x, by the affine piece of ``region`` (exact; x in that closed region)."""
        gradient, offset = self.affine[region]
        return sum((g * xi for g, xi in zip(gradient, x)), fmpq(0)) + offset

    @property
    def window_measure(self) -> fmpq:
        w = self.window
        return (w[1] - w[0]) * (w[3] - w[2]) if len(w) == 4 else w[1] - w[0]


# ----- exact plane geometry -------------------------------------------------------------------

def _value(h: HalfPlane, p: Point) -> fmpq:
    if len(p) == 2:  # the hot path of every picture of a plane
        return h[0] * p[0] + h[1] * p[1] + h[2]
    return h[0] * p[0] + h[1]


def polygon_area(vertices: Sequence[Point]) -> fmpq:
    """Signed area (shoelace), positive for counter-clockwise vertices; exact.

    >>> polygon_area([(fmpq(0), fmpq(0)), (fmpq(1), fmpq(0)), (fmpq(0), fmpq(1))])
    1/2
    """
    n = len(vertices)
    twice = fmpq(0)
    for i in range(n):
        (x0, y0), (x1, y1) = vertices[i], vertices[(i + 1) % n]
        twice += x0 * y1 - x1 * y0
    return twice / 2


def polygon_centroid(vertices: Sequence[Point]) -> tuple:
    """Exact centroid of a polygon with nonzero area.

    >>> polygon_centroid([(fmpq(0), fmpq(0)), (fmpq(2), fmpq(0)), (fmpq(2), fmpq(2)), (fmpq(0), fmpq(2))])
    (1, 1)
    """
    n = len(vertices)
    cx = cy = fmpq(0)
    for i in range(n):
        (x0, y0), (x1, y1) = vertices[i], vertices[(i + 1) % n]
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    six_area = 6 * polygon_area(vertices)
    return cx / six_area, cy / six_area


def _clip(polygon: list, h: HalfPlane) -> list:
    """The part of a convex polygon where h >= 0 (Sutherland-Hodgman, exact)."""
    out = []
    n = len(polygon)
    values = [_value(h, p) for p in polygon]
    for i in range(n):
        p, q = polygon[i], polygon[(i + 1) % n]
        gp, gq = values[i], values[(i + 1) % n]
        if gp >= 0:
            out.append(p)
        if (gp > 0 > gq) or (gp < 0 < gq):
            t = gp / (gp - gq)
            out.append(tuple(a + t * (b - a) for a, b in zip(p, q)))
    return out


def _simplify(polygon: list) -> list:
    """Without repeated or collinear consecutive vertices; [] when nothing of positive area is left."""
    changed = True
    pts = list(polygon)
    while changed and len(pts) >= 3:
        changed = False
        for i in range(len(pts)):
            a, b, c = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
            if b == a or (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) == 0:
                del pts[i]
                changed = True
                break
    return pts if len(pts) >= 3 and polygon_area(pts) > 0 else []


def _window_halfplanes(window: tuple) -> list:
    if len(window) == 2:
        x0, x1 = window
        return [(fmpq(1), -x0), (fmpq(-1), x1)]
    x0, x1, y0, y1 = window
    one, zero = fmpq(1), fmpq(0)
    return [(one, zero, -x0), (-one, zero, x1), (zero, one, -y0), (zero, -one, y1)]


def _region_halfplanes(region) -> list:
    """The region as the intersection of its facet half-planes a . x + c >= 0 (a = -outward)."""
    out = []
    for f in region.facets:
        o, p = f.outward, f.point
        if len(o) == 2:
            out.append((-o[0], -o[1], o[0] * p[0] + o[1] * p[1]))
        else:
            out.append((-o[0], o[0] * p[0]))
    return out


def _line_interval(halfplanes: list, q: Point, direction: Point):
    """The exact interval of t with q + t*direction in every half-plane: (lo, hi), None meaning
    unbounded on that side; False when empty."""
    lo = hi = None
    two = len(q) == 2
    for h in halfplanes:
        slope = h[0] * direction[0] + h[1] * direction[1] if two else h[0] * direction[0]
        at_q = _value(h, q)
        if slope == 0:
            if at_q < 0:
                return False
        elif slope > 0:
            t = -at_q / slope
            lo = t if lo is None or t > lo else lo
        else:
            t = at_q / -slope
            hi = t if hi is None or t < hi else hi
    if lo is not None and hi is not None and lo > hi:
        return False
    return lo, hi


def _corner(h: HalfPlane, k: HalfPlane):
    """The point where the lines of h and k meet, or None when they are parallel."""
    a0, a1, c = h
    b0, b1, e = k
    det = a0 * b1 - a1 * b0
    if det == 0:
        return None
    return (-c * b1 + e * a1) / det, (-a0 * e + b0 * c) / det


def _angle_order(u: HalfPlane, v: HalfPlane) -> int:
    """Compare the directions of two normals counter-clockwise from the positive x1 axis (exact)."""
    hu = 0 if u[1] > 0 or (u[1] == 0 and u[0] > 0) else 1
    hv = 0 if v[1] > 0 or (v[1] == 0 and v[0] > 0) else 1
    if hu != hv:
        return hu - hv
    cross = u[0] * v[1] - u[1] * v[0]
    return -1 if cross > 0 else 1 if cross < 0 else 0


def _region_vertices(hs: list) -> list:
    """The vertices of one region (the intersection of its facet half-planes, none redundant).

    Walking its boundary counter-clockwise, the facets' normals turn counter-clockwise, and two
    consecutive facets meet at a vertex exactly when the turn between them is less than a half
    turn; so the facets sorted by the angle of their normals give the vertices in O(F log F).
    Each candidate is checked against every half-plane; should one fail (it cannot when no
    facet is redundant), every pair of facet lines is tried instead.
    """
    from functools import cmp_to_key

    if len(hs) < 2:
        return []
    ordered = sorted(hs, key=cmp_to_key(_angle_order))
    out = []
    for i, h in enumerate(ordered):
        k = ordered[(i + 1) % len(ordered)]
        if h[0] * k[1] - h[1] * k[0] > 0:  # less than a half turn from h to k
            p = _corner(h, k)
            if not all(_value(g, p) >= 0 for g in hs):
                return _region_vertices_by_pairs(hs)
            out.append(p)
    return out


def _region_vertices_by_pairs(hs: list) -> list:
    out = []
    for i in range(len(hs)):
        for j in range(i + 1, len(hs)):
            p = _corner(hs[i], hs[j])
            if p is not None and p not in out and all(_value(g, p) >= 0 for g in hs):
                out.append(p)
    return out


def _complex_vertices(halfplanes_of: list) -> list:
    """Every vertex of every region (exact, sorted, without repeats)."""
    found = set()
    for hs in halfplanes_of:
        found.update(_region_vertices(hs))
    return sorted(found)


def _power_of_ten(k: int) -> fmpq:
    return fmpq(10 ** k) if k >= 0 else fmpq(1, 10 ** -k)


def default_window(points: Sequence[Point], d: int) -> tuple:
    """A window containing every point strictly inside, with a margin, its sides rounded
    outwards to round decimal numbers: (x0, x1) for d = 1, (x0, x1, y0, y1) for d = 2.

    >>> default_window([(fmpq(0), fmpq(0)), (fmpq(1), fmpq(2))], 2)
    (-1/5, 6/5, -1/5, 11/5)
    """
    if not points:
        points = [tuple(fmpq(0) for _ in range(d))]
    lo = [min(p[i] for p in points) for i in range(d)]
    hi = [max(p[i] for p in points) for i in range(d)]
    size = max(h - l for l, h in zip(lo, hi))
    if size == 0:
        biggest = max(max(abs(l), abs(h)) for l, h in zip(lo, hi))
        size = biggest / 2 if biggest != 0 else fmpq(2)
    margin = size / 10
    step = _power_of_ten(exponent10(int(size.p), int(size.q)) - 1)
    window = []
    for l, h in zip(lo, hi):
        half = max((h - l) / 2, size / 4) + margin  # no axis thinner than half the other
        mid = (l + h) / 2
        window.append(fmpq(((mid - half) / step).floor()) * step)
        window.append(fmpq(((mid + half) / step).ceil()) * step)
    return tuple(window)


def parse_window(text: str, d: int) -> tuple:
    """``"X0,X1,Y0,Y1"`` (d = 2) or ``"X0,X1"`` (d = 1): exact numbers with X0 < X1 and Y0 < Y1.

    >>> parse_window("-1,1/2,0,3", 2)
    (-1, 1/2, 0, 3)
    """
    form = "X0,X1,Y0,Y1 (four exact numbers)" if d == 2 else "X0,X1 (two exact numbers)"
    items = [s.strip() for s in text.split(",")]
    if len(items) != 2 * d:
        raise ValueError(f"--window {text!r} needs {2 * d} numbers for a network with {d}-dimensional input: "
                         f"write {form}, as in --window={'-2,2,-1,3' if d == 2 else '-2,2'}")
    try:
        values = tuple(to_q(s) for s in items)
    except ValueError as exc:
        raise ValueError(f"--window {text!r}: {exc}") from None
    for i, name in zip(range(d), "XY"):
        if not values[2 * i] < values[2 * i + 1]:
            raise ValueError(f"--window {text!r}: {name}0 must be smaller than {name}1")
    return values


def to_float(v: fmpq) -> float:
    """The nearest float (correctly rounded; OverflowError when beyond the float range)."""
    return float(Fraction(int(v.p), int(v.q)))


# ----- the drawing ------------------------------------------------------------------------------

def _as_window(window, d: int):
    if window is None:
        return None
    if isinstance(window, str):
        return parse_window(window, d)
    values = tuple(to_q(v) for v in window)
    if len(values) != 2 * d:
        raise ValueError(f"a window for a network with {d}-dimensional input has {2 * d} numbers, not {len(values)}")
    for i in range(d):
        if not values[2 * i] < values[2 * i + 1]:
            raise ValueError("a window needs X0 < X1" + (" and Y0 < Y1" if d == 2 else ""))
    return values


def _facet_pairs(arrangement) -> list:
    """Each facet once, as (A, B, facet point) with A < B, in a deterministic order."""
    seen = {}
    for r in arrangement.regions:
        for f in r.facets:
            key = (min(r.id, f.neighbor), max(r.id, f.neighbor))
            if key not in seen:
                seen[key] = f.point
    return [(a, b, p) for (a, b), p in sorted(seen.items())]


def region_drawing(net, window=None, output: int = 0, *, progress: Callable[[int, int], None] | None = None,
                   max_regions: int | None = None, timeout: float | None = None, arrangement=None,
                   geometry_progress: Callable[[int, int], None] | None = None) -> RegionDrawing:
    """The exact regions, facets and witness of a network with input dimension 1 or 2.

    Parameters
    ----------
    net : Network
        Input dimension 1 or 2 (restrict a larger one first: ``exactconvex.network.restrict``).
    window : None, a string "X0,X1,Y0,Y1" or a sequence of exact numbers
        None: the default window (module docstring).  For d = 1: (X0, X1).
    output : int
        Which output's pieces and bends.
    progress : callable(done, found), optional
        Passed to ``explore``, called as regions are processed.
    max_regions, timeout : optional bounds, as in ``exactconvex.regions`` (``LimitReached``).
    arrangement : an ``explore(net)`` result to reuse, optional.
    geometry_progress : callable(done, total), optional
        Called during the exact geometry after the region graph (regions, then facets, are the steps).

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])
    >>> drawing = region_drawing(net, window="-1,1,-1,1")
    >>> sorted(c.measure for c in drawing.cells), [f.kind for f in drawing.facets]
    ([1, 1, 1, 1], ['convex', 'concave', 'concave', 'convex'])
    """
    from ..graph import bend, check_witness, edge_normal, explore, switching_neurons, violation_witness

    d = net.input_dim
    if d not in (1, 2):
        raise ValueError(f"the network has input dimension {d}; pictures of regions need 1 or 2 "
                         "(restrict it to a plane first: exactconvex.network.restrict.restrict_to_plane)")
    if not 0 <= output < net.num_outputs:
        raise ValueError(f"output {output} does not exist (the network has {net.num_outputs} outputs, "
                         f"numbered from 0)")
    window = _as_window(window, d)
    arr = arrangement if arrangement is not None else explore(net, max_regions=max_regions, timeout=timeout,
                                                             progress=progress)
    regs = arr.regions
    steps = 2 * len(regs)  # polygons, then facets (about as many as regions in the plane)

    def tick(done: int) -> None:
        if geometry_progress is not None and (done % 64 == 0 or done == steps):
            geometry_progress(done, steps)

    halfplanes_of = [_region_halfplanes(r) for r in regs]
    vertices = _complex_vertices(halfplanes_of) if d == 2 else []
    pairs = _facet_pairs(arr)
    if window is None:
        points = list(vertices) + [tuple(p) for _, _, p in pairs] + [tuple(r.interior_point) for r in regs]
        window = default_window(points, d)
    bounds = _window_halfplanes(window)

    pieces: dict = {}
    cells = []
    for i, (r, hs) in enumerate(zip(regs, halfplanes_of)):
        tick(i)
        key = (r.output_gradient(output), r.output_offset(output))
        piece = pieces.setdefault(key, len(pieces))
        if d == 2:
            x0, x1, y0, y1 = window
            poly = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            for h in hs:
                poly = _clip(poly, h)
                if not poly:
                    break
            poly = _simplify(poly) if poly else []
            if not poly:
                continue
            verts = poly
        else:
            interval = _line_interval(hs + bounds, (fmpq(0),), (fmpq(1),))
            if interval is False or interval[0] >= interval[1]:
                continue
            verts = [(interval[0],), (interval[1],)]
        cells.append(RegionCell(r.id, verts, r.pattern, key[0], key[1], piece, tuple(r.interior_point)))

    facets = []
    concave_all = 0
    for i, (a, b, q) in enumerate(pairs):
        tick(len(regs) + i * len(regs) // max(len(pairs), 1))
        ra, rb = regs[a], regs[b]
        normal = edge_normal(net, ra, rb, switching_neurons(ra, rb))
        bd = bend(ra, rb, normal, output)
        concave_all += bd < 0
        if d == 1:
            if window[0] <= q[0] <= window[1]:
                facets.append(FacetPiece((a, b), (tuple(q), tuple(q)), normal, bd))
            continue
        direction = (-normal[1], normal[0])
        interval = _line_interval(halfplanes_of[a] + halfplanes_of[b] + bounds, q, direction)
        if interval is False or interval[0] is None or interval[1] is None or interval[0] >= interval[1]:
            continue  # the facet misses the window (or only touches it)
        ends = tuple(tuple(qi + t * di for qi, di in zip(q, direction)) for t in interval)
        facets.append(FacetPiece((a, b), ends, normal, bd))

    witness = _witness(net, regs, halfplanes_of, bounds, facets, pairs, output, d,
                       check_witness, violation_witness, edge_normal, switching_neurons, bend) if concave_all else None
    tick(steps)
    affine = {r.id: (r.output_gradient(output), r.output_offset(output)) for r in regs}
    return RegionDrawing(network=net, output=output, window=window, cells=cells, facets=facets, regions=len(regs),
                         region_facets=len(pairs), concave_facets=concave_all, vertices=vertices, affine=affine,
                         witness=witness, pieces=len(pieces), seconds=arr.seconds)


def _dyadic_below(t: fmpq) -> fmpq:
    """The largest power of two <= t (t > 0): short numbers in the witness."""
    k = int(t.p).bit_length() - int(t.q).bit_length()
    s = fmpq(2) ** k if k >= 0 else fmpq(1, 2 ** -k)
    while s > t:
        s /= 2
    while s * 2 <= t:
        s *= 2
    return s


def _witness(net, regs, halfplanes_of, bounds, facets, pairs, output, d, check_witness, violation_witness,
             edge_normal, switching_neurons, bend):
    """A violation of convexity across the most concave facet, visible in the window if one is there:
    x and y on the segment through the middle of the facet along its normal, as far apart as the two
    regions (inside the window) allow halved, lambda = 1/2; checked by exact evaluation."""
    visible = [f for f in facets if f.bend < 0]
    if visible:
        f = min(visible, key=lambda f: (f.bend, f.regions))
        a, b = f.regions
        mid = tuple((u + v) / 2 for u, v in zip(*f.ends))
        n = f.normal
        ia = _line_interval(halfplanes_of[a] + bounds, mid, n)
        ib = _line_interval(halfplanes_of[b] + bounds, mid, n)
        if ia is not False and ib is not False and ia[0] is not None and ib[1] is not None:
            reach = min(-ia[0], ib[1])
            if reach > 0:
                t = _dyadic_below(reach / 2)
                x = tuple(m - t * v for m, v in zip(mid, n))
                y = tuple(m + t * v for m, v in zip(mid, n))
                w = check_witness(net, output, x, y, fmpq(1, 2))
                if w is not None:
                    return w
    worst = None  # no concave facet in the window (or a failed check): the short segment of the graph module
    for a, b, q in pairs:
        ra, rb = regs[a], regs[b]
        normal = edge_normal(net, ra, rb, switching_neurons(ra, rb))
        bd = bend(ra, rb, normal, output)
        if bd < 0 and (worst is None or bd < worst[0]):
            worst = (bd, ra, rb, q, normal)
    if worst is None:
        return None
    _, ra, rb, q, normal = worst
    return violation_witness(net, ra, rb, tuple(q), normal, output)


def focus_window(drawing: RegionDrawing, share: fmpq = fmpq(9, 10)) -> tuple | None:
    """A smaller window around where most of the picture happens, or None when the window is fine.

    Deep networks often have a few vertices far out (bent hyperplanes meeting at a shallow angle), so
    the default window, which holds every vertex, shows the busy middle as a dot.  This is a
    window (``default_window``) around the middle ``share`` of the vertices in each coordinate
    (of the facet points, when there are few vertices), returned when it is at most a fifth of
    the window in width or in height; a suggestion for ``--window``, never used by itself.
    """
    d = len(drawing.window) // 2
    points = drawing.vertices if len(drawing.vertices) >= 10 else [f.ends[0] for f in drawing.facets]
    if len(points) < 10:
        return None
    box = []
    for i in range(d):
        values = sorted(p[i] for p in points)
        cut = int((1 - share) / 2 * len(values))
        box.append((values[cut], values[len(values) - 1 - cut]))
    inside = [p for p in points if all(lo <= p[i] <= hi for i, (lo, hi) in enumerate(box))]
    focus = default_window(inside, d)
    w = drawing.window
    if any(5 * (focus[2 * i + 1] - focus[2 * i]) <= w[2 * i + 1] - w[2 * i] for i in range(d)):
        return focus
    return None


def region_polygons(net, window=None, output: int = 0, **kwargs) -> list:
    """The exact polygons (d = 2) or intervals (d = 1) of the regions inside the window, as
    ``RegionCell`` objects (``region``: node id of the region graph, ``vertices``: exact, counter-clockwise),
    the same ones ``plot_regions`` draws.  Keyword arguments as ``region_drawing``.

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(2, [{"weight": [[1, 1]]}, {"weight": [[1]]}])
    >>> [(c.region, c.vertices) for c in region_polygons(net, "0,2,0,2")]
    [(0, [(0, 0), (2, 0), (2, 2), (0, 2)])]
    """
    return region_drawing(net, window, output, **kwargs).cells
