"""Pictures of the exact regions with matplotlib (the optional extra ``plot``).

Every shape drawn comes from ``geometry.region_drawing``: exact polygons, facet segments and
bends, converted to floats only here, at the last moment.  Conventions of every picture:

* regions are filled by their affine piece: equal gradient and offset, equal colour (light
  colours without red; with more pieces than colours, adjacent pieces still differ);
* facets with bend > 0 (convex kinks) are thin dark blue lines, facets with bend < 0
  (concave kinks, each one a proof that f is not convex) thick red lines, and facets with
  bend = 0 (the activation pattern changes but f does not bend) thin dotted grey lines;
* a witness of non-convexity (x, y, lambda = 1/2, checked exactly) is marked: x and y as
  white dots, the chord between them dashed, its midpoint as a star.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot (no global state, no
screen needed); notebooks display them, ``save_figure`` writes them atomically.
"""

from __future__ import annotations

import math
import os
from typing import Callable, Sequence

from flint import fmpq

from ..network.formats import write_atomically
from ..numbers import approximate, q_str, to_q
from .geometry import RegionDrawing, region_drawing, to_float

__all__ = ["plot_regions", "plot_drawing", "save_figure", "MatplotlibMissing", "FORMATS"]

FORMATS = ("png", "svg", "pdf")

# light, distinguishable, and none of them red or pink: red is kept for the concave kinks
PALETTE = ("#a6cee3", "#fdbf6f", "#b2df8a", "#cab2d6", "#ffff99", "#80b1d3", "#e5d8bd", "#8dd3c7",
           "#d9d9d9", "#bebada", "#ccebc5", "#fdd0a2", "#9ecae1", "#dadaeb", "#c7e9c0", "#b3de69")
CONVEX_COLOUR, CONCAVE_COLOUR, FLAT_COLOUR, CURVE_COLOUR = "#1f3b73", "#d62728", "#8c8c8c", "#1f3b73"

_MISSING = ("drawing needs matplotlib, the optional extra 'plot' of exactconvex: "
            "pip install 'exactconvex[plot]' (or pip install matplotlib)")


class MatplotlibMissing(ImportError):
    """matplotlib is not installed (the message says how to install it)."""


_FIGURE_CLASS = []


def _figure_class():
    """``matplotlib.figure.Figure`` with a ``_repr_png_``, so that a notebook shows the picture even
    when no pyplot backend was set up (made once, when matplotlib is first needed)."""
    if _FIGURE_CLASS:
        return _FIGURE_CLASS[0]
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MatplotlibMissing(_MISSING, name="matplotlib") from None

    class RegionFigure(Figure):
        def _repr_png_(self) -> bytes:
            import io

            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
            return buffer.getvalue()

    RegionFigure.__module__ = __name__
    RegionFigure.__qualname__ = "RegionFigure"  # found by pickle through the module's __getattr__
    _FIGURE_CLASS.append(RegionFigure)
    return RegionFigure


def __getattr__(name: str):
    if name == "RegionFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _short(v: fmpq) -> str:
    """Exact when short, else a decimal approximation (4 digits, computed from the exact value)."""
    v = to_q(v)
    text = q_str(v)
    return text if len(text) <= 9 else approximate(v, 4)


def _point_text(p: Sequence) -> str:
    return "(" + ", ".join(_short(v) for v in p) + ")"


class _Scale:
    """Exact coordinates to floats for drawing.  When the axis range does not fit floats well
    (beyond their range, or narrower than their resolution around it), the axis shows the
    exact affine rescaling (v - lo) / (hi - lo) instead, and its label says so."""

    def __init__(self, lo: fmpq, hi: fmpq):
        self.lo, self.span = lo, hi - lo
        try:
            flo, fhi = to_float(lo), to_float(hi)
            self.identity = (math.isfinite(flo) and math.isfinite(fhi) and fhi - flo > 1e-250
                             and fhi - flo > 1e-9 * max(abs(flo), abs(fhi)) and max(abs(flo), abs(fhi)) < 1e250)
        except OverflowError:
            self.identity = False

    def __call__(self, v: fmpq) -> float:
        if self.identity:
            return to_float(v)
        return to_float((v - self.lo) / self.span)

    def label(self, name: str) -> str:
        if self.identity:
            return name
        shift = f"{name} - {_short(self.lo)}" if self.lo >= 0 else f"{name} + {_short(-self.lo)}"
        return f"({shift}) / {_short(self.span)}"


def _piece_colours(drawing: RegionDrawing) -> dict:
    """piece -> colour: all different when there are few pieces; otherwise a greedy colouring of
    the pieces' adjacency, so that two pieces meeting at a facet never share a colour."""
    pieces = sorted({c.piece for c in drawing.cells})
    if len(pieces) <= len(PALETTE):
        return {p: PALETTE[i] for i, p in enumerate(pieces)}
    piece_of = {c.region: c.piece for c in drawing.cells}
    neighbours: dict = {p: set() for p in pieces}
    for f in drawing.facets:
        a, b = (piece_of.get(r) for r in f.regions)
        if a is not None and b is not None and a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    colour: dict = {}
    count = [0] * len(PALETTE)
    for p in pieces:  # deterministic greedy colouring, the least used free colour first (a varied picture)
        used = {colour[q] for q in neighbours[p] if q in colour}
        free = [i for i in range(len(PALETTE)) if i not in used] or list(range(len(PALETTE)))
        colour[p] = min(free, key=lambda i: (count[i], i))
        count[colour[p]] += 1
    return {p: PALETTE[i] for p, i in colour.items()}


def _legend_handles(drawing: RegionDrawing, d: int, surface: bool = False) -> list:
    from matplotlib.lines import Line2D

    n = {k: sum(1 for f in drawing.facets if f.kind == k) for k in ("convex", "concave", "flat")}
    where = " in the window" if len(drawing.facets) < drawing.region_facets else ""
    counts = {k: f"{v}{where}" for k, v in n.items()}
    what = "facets" if d == 2 else "kinks"
    handles = []
    if d == 2:
        handles.append(Line2D([], [], color=CONVEX_COLOUR, lw=1.2,
                              label=f"convex {what}, bend > 0 ({counts['convex']})"))
        handles.append(Line2D([], [], color=CONCAVE_COLOUR, lw=3,
                              label=f"concave {what}, bend < 0 ({counts['concave']})"))
        if not surface:  # a surface has no crease there, so nothing is drawn
            handles.append(Line2D([], [], color=FLAT_COLOUR, lw=0.8, ls=":",
                                  label=f"no bend, bend = 0 ({counts['flat']})"))
    else:
        handles.append(Line2D([], [], color=CONVEX_COLOUR, marker="o", ls="none", ms=5,
                              label=f"convex kink, bend > 0 ({counts['convex']})"))
        handles.append(Line2D([], [], color=CONCAVE_COLOUR, marker="o", ls="none", ms=10,
                              label=f"concave kink, bend < 0 ({counts['concave']})"))
        if n["flat"]:
            handles.append(Line2D([], [], color=FLAT_COLOUR, marker="|", ls="none", ms=8,
                                  label=f"no bend, bend = 0 ({counts['flat']})"))
    if drawing.witness is not None:
        handles.append(Line2D([], [], color="black", ls="--", marker="o", mfc="white", mec="black", ms=6,
                              label="witness x, y: f((x+y)/2) > (f(x)+f(y))/2"))
    return handles


def _title(drawing: RegionDrawing, name: str | None, plane_text: str | None) -> str:
    d = len(drawing.window) // 2
    head = (name + ", " if name else "") + f"output {drawing.output}"
    if plane_text:
        head += ", " + plane_text
    facets = "facets" if d == 2 else "kinks"
    verdict = (f"{drawing.concave_facets} concave {facets} (red): not convex" if drawing.concave_facets
               else "no concave facet: convex")
    shown = ""
    if len(drawing.cells) < drawing.regions:
        shown = f" ({len(drawing.cells)} in the window)"
    return (f"{head}\n{drawing.regions} regions{shown}, {drawing.pieces} affine pieces, "
            f"{drawing.region_facets} {facets}; {verdict}")


def _draw_witness_2d(ax, drawing, sx, sy) -> None:
    w = drawing.witness
    if w is None:
        return
    x, y = w["x"], w["y"]
    m = tuple(w["lambda"] * a + (1 - w["lambda"]) * b for a, b in zip(x, y))
    ax.plot([sx(x[0]), sx(y[0])], [sy(x[1]), sy(y[1])], color="black", ls="--", lw=1.5, zorder=6)
    ax.plot([sx(x[0]), sx(y[0])], [sy(x[1]), sy(y[1])], ls="none", marker="o", mfc="white", mec="black",
            ms=7, zorder=7)
    ax.plot([sx(m[0])], [sy(m[1])], ls="none", marker="*", color="black", ms=11, zorder=7)
    x0, x1, y0, y1 = drawing.window  # the label points towards the middle of the window, so it stays inside
    dx = 18 if 2 * m[0] < x0 + x1 else -60
    dy = 18 if 2 * m[1] < y0 + y1 else -24
    ax.annotate("witness", xy=(sx(m[0]), sy(m[1])), xytext=(dx, dy), textcoords="offset points", fontsize=9,
                arrowprops={"arrowstyle": "->", "color": "black"}, zorder=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})


def _draw_plane(ax, drawing: RegionDrawing, axis_names) -> None:
    from matplotlib.collections import LineCollection, PolyCollection

    x0, x1, y0, y1 = drawing.window
    sx, sy = _Scale(x0, x1), _Scale(y0, y1)
    colours = _piece_colours(drawing)
    polygons = [[(sx(x), sy(y)) for x, y in c.vertices] for c in drawing.cells]
    faces = [colours[c.piece] for c in drawing.cells]
    # edges in the face colour hide the hairline seams antialiasing leaves between polygons
    ax.add_collection(PolyCollection(polygons, facecolors=faces, edgecolors=faces, linewidths=0.5, zorder=1))
    busy = len(drawing.facets) > 200  # thinner lines when there are many, red still the thickest
    styles = {"flat": {"colors": FLAT_COLOUR, "linewidths": 0.8, "linestyles": ":", "zorder": 2},
              "convex": {"colors": CONVEX_COLOUR, "linewidths": 0.8 if busy else 1.2, "zorder": 3},
              "concave": {"colors": CONCAVE_COLOUR, "linewidths": 2.0 if busy else 3.0, "zorder": 4}}
    for kind, style in styles.items():
        segments = [[(sx(p[0]), sy(p[1])) for p in f.ends] for f in drawing.facets if f.kind == kind]
        if segments:
            ax.add_collection(LineCollection(segments, **style))
    _draw_witness_2d(ax, drawing, sx, sy)
    ax.set_xlim(sx(x0), sx(x1))
    ax.set_ylim(sy(y0), sy(y1))
    ratio = (y1 - y0) / (x1 - x0)
    if sx.identity and sy.identity and fmpq(1, 4) <= ratio <= 4:
        ax.set_aspect("equal")  # shapes and angles as they are, when the window is not too elongated
    ax.set_xlabel(sx.label(axis_names[0]))
    ax.set_ylabel(sy.label(axis_names[1]))


def _draw_surface(ax, drawing: RegionDrawing, axis_names) -> None:
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    x0, x1, y0, y1 = drawing.window
    values = [c.value(v) for c in drawing.cells for v in c.vertices]
    z0, z1 = min(values), max(values)
    if z0 == z1:
        z0, z1 = z0 - 1, z1 + 1
    sx, sy, sz = _Scale(x0, x1), _Scale(y0, y1), _Scale(z0, z1)
    colours = _piece_colours(drawing)
    # each convex polygon as a fan of triangles: matplotlib pads lists of polygons with different vertex
    # counts with uninitialised memory and projects it (matplotlib issue 32272: overflow warnings,
    # and infinite axis limits now and then); triangles also give its depth sorting smaller pieces
    triangles, faces = [], []
    for c in drawing.cells:
        lifted = [(sx(x), sy(y), sz(c.value((x, y)))) for x, y in c.vertices]
        for i in range(1, len(lifted) - 1):
            triangles.append([lifted[0], lifted[i], lifted[i + 1]])
            faces.append(colours[c.piece])
    ax.add_collection3d(Poly3DCollection(triangles, facecolors=faces, edgecolors=faces, linewidths=0.3,
                                         alpha=0.95, zorder=1))
    styles = {"convex": {"colors": CONVEX_COLOUR, "linewidths": 1.0, "zorder": 3},
              "concave": {"colors": CONCAVE_COLOUR, "linewidths": 3.0, "zorder": 4}}
    for kind, style in styles.items():  # flat facets are not drawn on the surface: there is no crease
        segments = [[(sx(p[0]), sy(p[1]), sz(drawing.value(f.regions[0], p))) for p in f.ends]
                    for f in drawing.facets if f.kind == kind]
        if segments:
            ax.add_collection3d(Line3DCollection(segments, **style))
    w = drawing.witness
    if w is not None:
        f = drawing.network.evaluate
        k = drawing.output
        x, y, lam = w["x"], w["y"], w["lambda"]
        m = tuple(lam * a + (1 - lam) * b for a, b in zip(x, y))
        fx, fy, fm = f(x)[k], f(y)[k], f(m)[k]
        chord = lam * fx + (1 - lam) * fy
        ax.plot([sx(x[0]), sx(y[0])], [sy(x[1]), sy(y[1])], [sz(fx), sz(fy)], color="black", ls="--", lw=1.5,
                marker="o", mfc="white", mec="black", ms=6, zorder=6)
        ax.plot([sx(m[0])], [sy(m[1])], [sz(fm)], ls="none", marker="*", color="black", ms=11, zorder=7)
        ax.plot([sx(m[0])], [sy(m[1])], [sz(chord)], ls="none", marker="o", color="black", ms=3, zorder=7)
    ax.set_xlim(sx(x0), sx(x1))
    ax.set_ylim(sy(y0), sy(y1))
    ax.set_zlim(sz(z0), sz(z1))
    ax.set_xlabel(sx.label(axis_names[0]))
    ax.set_ylabel(sy.label(axis_names[1]))
    ax.set_zlabel(sz.label("f"))


def _draw_graph(ax, drawing: RegionDrawing, axis_name: str) -> None:
    x0, x1 = drawing.window
    ends = sorted((c.vertices[0][0], c.vertices[1][0], c) for c in drawing.cells)
    values = [c.value((t,)) for lo, hi, c in ends for t in (lo, hi)]
    if drawing.witness is not None:
        values += [drawing.network.evaluate(drawing.witness[k])[drawing.output] for k in ("x", "y")]
    z0, z1 = min(values), max(values)
    pad = (z1 - z0) / 12 if z1 > z0 else fmpq(1)
    z0, z1 = z0 - pad, z1 + pad
    sx, sz = _Scale(x0, x1), _Scale(z0, z1)
    colours = _piece_colours(drawing)
    for lo, hi, c in ends:  # the pieces' intervals, shaded like the regions of a 2-D picture
        ax.axvspan(sx(lo), sx(hi), color=colours[c.piece], alpha=0.55, lw=0, zorder=0)
    xs = [sx(t) for lo, hi, _ in ends for t in (lo, hi)]
    ys = [sz(c.value((t,))) for lo, hi, c in ends for t in (lo, hi)]
    ax.plot(xs, ys, color=CURVE_COLOUR, lw=1.8, zorder=2)
    for f in drawing.facets:
        q = f.ends[0]
        fx, fy = sx(q[0]), sz(drawing.value(f.regions[0], q))
        if f.kind == "concave":
            ax.axvline(fx, color=CONCAVE_COLOUR, lw=1.2, ls="--", alpha=0.6, zorder=1)
            ax.plot([fx], [fy], ls="none", marker="o", color=CONCAVE_COLOUR, ms=10, zorder=4)
        elif f.kind == "convex":
            ax.plot([fx], [fy], ls="none", marker="o", color=CONVEX_COLOUR, ms=5, zorder=3)
        else:
            ax.plot([fx], [fy], ls="none", marker="|", color=FLAT_COLOUR, ms=8, zorder=3)
    w = drawing.witness
    if w is not None:
        k = drawing.output
        x, y, lam = w["x"], w["y"], w["lambda"]
        m = tuple(lam * a + (1 - lam) * b for a, b in zip(x, y))
        f = drawing.network.evaluate
        ax.plot([sx(x[0]), sx(y[0])], [sz(f(x)[k]), sz(f(y)[k])], color="black", ls="--", lw=1.5, marker="o",
                mfc="white", mec="black", ms=6, zorder=5)
        ax.plot([sx(m[0])], [sz(f(m)[k])], ls="none", marker="*", color="black", ms=11, zorder=6)
    ax.set_xlim(sx(x0), sx(x1))
    ax.set_ylim(sz(z0), sz(z1))
    ax.set_xlabel(sx.label(axis_name))
    ax.set_ylabel(sz.label("f"))


def plot_drawing(drawing: RegionDrawing, ax=None, *, surface: bool = False, title: str | None = None,
                 name: str | None = None, plane_text: str | None = None, axis_names=None, legend: bool = True):
    """Draw a ``RegionDrawing`` (see ``plot_regions``); returns the matplotlib Figure."""
    Figure = _figure_class()
    d = len(drawing.window) // 2
    if surface and d != 2:
        raise ValueError("a surface needs a 2-D input (d = 2, or a plane through R^d); for d = 1 the picture "
                         "already is the graph of f")
    if ax is None:
        fig = Figure(figsize=(7.5, 6.2) if d == 2 else (7.5, 4.8))
        ax = fig.add_subplot(projection="3d", computed_zorder=False) if surface else fig.add_subplot()
    elif surface and getattr(ax, "name", "") != "3d":
        raise ValueError("surface=True needs a 3-D axes (projection='3d')")
    names = axis_names or (("x1", "x2") if d == 2 else ("x",))
    if d == 1:
        _draw_graph(ax, drawing, names[0])
    elif surface:
        _draw_surface(ax, drawing, names)
    else:
        _draw_plane(ax, drawing, names)
    ax.set_title(title if title is not None else _title(drawing, name, plane_text), fontsize=10)
    if legend:
        ax.legend(handles=_legend_handles(drawing, d, surface), loc="upper center", bbox_to_anchor=(0.5, -0.12),
                  ncol=2, fontsize=8, frameon=False)
    return ax.figure


def _plane_text(p, u, v) -> str:
    return f"on the plane p + a u + b v,\np = {_point_text(p)}, u = {_point_text(u)}, v = {_point_text(v)}"


def plot_regions(net, ax=None, output: int = 0, window=None, *, surface: bool = False, plane=None,
                 title: str | None = None, name: str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 geometry_progress: Callable[[int, int], None] | None = None, max_regions: int | None = None,
                 timeout: float | None = None, legend: bool = True):
    """A picture of the exact linear regions of ``net``, as a matplotlib Figure.

    * d = 2: every region as its exact polygon inside the window, filled by affine piece, facets
      coloured by bend (concave ones thick and red), a witness of non-convexity marked;
    * ``surface=True`` (d = 2): the graph of f over the window in 3-D, each polygon lifted by its
      exact affine piece, concave creases in red;
    * d = 1: the graph of f with its kinks (exact breakpoints), concave ones in red;
    * d > 2: give ``plane=(p, u, v)`` (or the string "P;U;V"): the picture is that of
      (a, b) -> f(p + a u + b v), the network ``restrict_to_plane(net, p, u, v)``, and the title says so.

    Parameters
    ----------
    net : Network
    ax : matplotlib Axes, optional
        Draw into it (3-D axes for a surface); otherwise a new Figure is made (no pyplot).
    output : int
        Which output (0-based).
    window : None, "X0,X1,Y0,Y1" or (X0, X1, Y0, Y1) exact numbers; (X0, X1) for d = 1
        None: a window containing every vertex of the region complex (``geometry.default_window``).
    plane : (p, u, v) or "P;U;V", optional
    title, name : the whole title, or a name (file name) to begin the default title with.
    progress : callable(done, found), optional
        Called while the region graph is built (as ``explore(..., progress=...)``).
    geometry_progress : callable(done, total), optional
        Called while the exact polygons and facets are computed (``region_drawing``).
    max_regions, timeout : optional bounds on the region graph (``LimitReached``).

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])
    >>> fig = plot_regions(net)
    >>> fig.axes[0].get_title().splitlines()[1]
    '4 regions, 4 affine pieces, 4 facets; 2 concave facets (red): not convex'
    """
    _figure_class()  # fail early, before the region graph, when matplotlib is missing
    from ..network.restrict import parse_plane, restrict_to_plane

    plane_text = None
    axis_names = None
    if plane is not None:
        if isinstance(plane, str):
            p, u, v = parse_plane(plane, net.input_dim)
        else:
            p, u, v = ([to_q(x) for x in vec] for vec in plane)
        net = restrict_to_plane(net, p, u, v)
        plane_text = _plane_text(p, u, v)
        axis_names = ("a (along u)", "b (along v)")
    elif net.input_dim > 2:
        raise ValueError(f"the network has input dimension {net.input_dim}: pictures are of d = 1 or 2; "
                         "give a plane through R^d, plane=(p, u, v), to draw f on it")
    drawing = region_drawing(net, window, output, progress=progress, max_regions=max_regions, timeout=timeout,
                             geometry_progress=geometry_progress)
    return plot_drawing(drawing, ax, surface=surface, title=title, name=name, plane_text=plane_text,
                        axis_names=axis_names, legend=legend)


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> str:
    """Write ``fig`` to ``path`` (png, svg or pdf, from the extension) atomically
    (``network.formats.write_atomically``: into a temporary file in the same folder, renamed over
    ``path`` only when complete; a new file gets the usual permissions, a replaced one keeps its mode).  Metadata that would change
    from run to run (dates, random ids) are left out, so the same picture gives the same file.
    Returns the format."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{path}: the picture's file name must end in .png, .svg or .pdf")
    import matplotlib

    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]

    def write(fh):
        with matplotlib.rc_context({"svg.hashsalt": "exactconvex"}):
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)

    write_atomically(path, write)
    return fmt
