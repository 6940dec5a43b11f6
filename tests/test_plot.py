"""The pictures draw exactly the regions: exact polygons that tile the window, one per region.

The polygons checked here are the ones ``plot_regions`` draws (``region_drawing`` makes both).
Properties, on d = 2 networks that are generic, degenerate (coincident, proportional, opposite
and parallel hyperplanes, dead neurons), with a lineality space, LeakyReLU, and on d = 1:

* the polygons' exact areas sum exactly to the window's area (no gap, no overlap);
* each polygon's exact centroid has its region's activation pattern (``net.pattern``), and the
  region's affine piece is f at the centroid and at every vertex;
* with the default window, every region of the region graph (``exactconvex.regions``, built
  independently) appears as exactly one polygon, also when the arrangement has no vertex;
* facets carry the region graph's bends, and a negative bend comes with a checked witness.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import networks, rationals, run_cli, scaled, slopes, small_integers

import exactconvex
from exactconvex import Network, load, to_q
from exactconvex.plot import default_window, parse_window, region_drawing, region_polygons

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_EXAMPLE = os.path.join(ROOT, "examples", "networks", "spec_example.json")
COUNTEREXAMPLE = os.path.join(ROOT, "proofs", "certificates", "counterexample-1-3-2-1-plain.json")


def two_d(layers) -> Network:
    return Network.from_lists(2, layers)


# ----- the networks ------------------------------------------------------------------------------

GENERIC = two_d([{"weight": [[1, -1], ["1/2", 2], [-3, 1], [2, "5/3"]], "bias": [0, "-3/4", 2, 1]},
                 {"weight": [[1, -2, 1, 0], [0, 1, -1, 2], [-1, 0, 3, 1]], "bias": [1, 0, "-1/2"]},
                 {"weight": [[1, "5/2", -1]], "bias": [0]}])
# coincident (duplicate, proportional, opposite) hyperplanes, a dead neuron, a constant one
DEGENERATE = two_d([{"weight": [[1, 1], [2, 2], [-1, -1], [0, 0], [0, 0], [1, -1]], "bias": [0, 0, 0, 1, -1, 0]},
                    {"weight": [[1, -1, 2, 1, 1, 0], [0, 1, 1, -1, 0, 1]], "bias": [0, 1]},
                    {"weight": [[1, -1]], "bias": [0]}])
# f depends on x1 + x2 only: every region is a strip, no vertex
LINEALITY = two_d([{"weight": [[1, 1], [-2, -2], [3, 3]], "bias": [0, 1, -2]},
                   {"weight": [[1, 1, -1], [2, -1, 1]], "bias": [0, "1/2"]},
                   {"weight": [[1, -3]]}])
# parallel vertical lines only (no vertex at all)
PARALLEL = two_d([{"weight": [[1, 0], [1, 0], [-1, 0]], "bias": [0, -1, 5]}, {"weight": [[1, -2, 1]]}])
AFFINE = two_d([{"weight": [[1, 2]], "bias": [3]}])  # no hidden layer: one region, the whole plane
DEAD = two_d([{"weight": [[0, 0]], "bias": [-1]}, {"weight": [[5]]}])  # one constant-off neuron
LEAKY = Network.from_lists(2, [{"weight": [[1, -1], [1, 1], [0, 1]], "bias": [0, -1, 1], "slope": "1/4"},
                               {"weight": [[1, -1, 1], [-1, 2, 0]], "bias": [0, 1], "skip": {0: [[1, 0], [0, -1]]},
                                "slope": -1},
                               {"weight": [[1, 1], [2, -1]], "skip": {0: [[1, 1], [0, 0]], 1: [[1, 0, 0], [0, 0, 1]]}}])

NAMED = {"generic": GENERIC, "degenerate": DEGENERATE, "lineality": LINEALITY, "parallel": PARALLEL,
         "affine": AFFINE, "dead": DEAD, "leaky": LEAKY}


# ----- the properties ------------------------------------------------------------------------------

def assert_exact_picture(net: Network, window=None, output: int = 0):
    drawing = region_drawing(net, window, output)
    w = drawing.window
    assert all(isinstance(v, fmpq) for v in w)
    cells = drawing.cells
    total = sum((c.measure for c in cells), fmpq(0))
    assert total == drawing.window_measure  # exact: the polygons tile the window
    assert len({c.region for c in cells}) == len(cells)  # each region at most once
    for c in cells:
        assert c.measure > 0
        centroid = c.centroid
        assert net.pattern(centroid) == c.pattern
        k = drawing.output
        assert net.evaluate(centroid)[k] == c.value(centroid)
        for v in c.vertices:  # inside the window, and the piece holds on the closed region (continuity)
            assert all(w[2 * i] <= v[i] <= w[2 * i + 1] for i in range(len(v)))
            assert net.evaluate(v)[k] == c.value(v)
        if net.input_dim == 2:  # convex, counter-clockwise, no repeated or collinear vertex
            n = len(c.vertices)
            for i in range(n):
                (ax, ay), (bx, by), (cx, cy) = c.vertices[i - 1], c.vertices[i], c.vertices[(i + 1) % n]
                assert (bx - ax) * (cy - by) - (by - ay) * (cx - bx) > 0
    for f in drawing.facets:  # continuity across each drawn facet, at its middle
        mid = tuple((a + b) / 2 for a, b in zip(*f.ends))
        a, b = f.regions
        assert drawing.value(a, mid) == drawing.value(b, mid) == net.evaluate(mid)[drawing.output]
    return drawing


def assert_every_region_once(net: Network, output: int = 0):
    """With the default window: the polygons are exactly the region graph's regions."""
    drawing = assert_exact_picture(net, None, output)
    G = exactconvex.regions(net, output)  # built independently of the drawing
    assert sorted(c.region for c in drawing.cells) == sorted(G.nodes)
    for c in drawing.cells:
        assert G.nodes[c.region]["pattern"] == c.pattern
    assert drawing.regions == G.number_of_nodes()
    # every facet of the graph is drawn, with the graph's bend
    assert len(drawing.facets) == G.number_of_edges() == drawing.region_facets
    for f in drawing.facets:
        assert G.edges[f.regions]["bend"] == f.bend
    # the window holds every vertex of the region complex strictly inside, and those are exactly the
    # polygon corners inside the window (found independently, by clipping)
    w = drawing.window
    for v in drawing.vertices:
        assert w[0] < v[0] < w[1] and w[2] < v[1] < w[3]
    if net.input_dim == 2:
        corners = {v for c in drawing.cells for v in c.vertices if w[0] < v[0] < w[1] and w[2] < v[1] < w[3]}
        assert corners == set(drawing.vertices)
    concave = [e for e in G.edges if G.edges[e]["bend"] < 0]
    assert drawing.concave_facets == len(concave)
    if concave:
        wit = drawing.witness
        assert wit is not None and wit["output"] == output
        mid = tuple(wit["lambda"] * a + (1 - wit["lambda"]) * b for a, b in zip(wit["x"], wit["y"]))
        fx, fy, fm = (net.evaluate(p)[output] for p in (wit["x"], wit["y"], mid))
        assert fm > wit["lambda"] * fx + (1 - wit["lambda"]) * fy
    else:
        assert drawing.witness is None
    return drawing


@pytest.mark.parametrize("name", sorted(NAMED))
def test_default_window_shows_every_region_once(name):
    assert_every_region_once(NAMED[name])


@pytest.mark.parametrize("name", sorted(NAMED))
@pytest.mark.parametrize("window", ["-1,1,-1,1", "0,1/3,-7,-6", "-100,3,1/2,2", "1000,1001,1000,1001"])
def test_polygons_tile_any_window(name, window):
    drawing = assert_exact_picture(NAMED[name], window)
    assert drawing.window == parse_window(window, 2)


def test_parallel_lines_only():
    drawing = assert_every_region_once(PARALLEL)
    assert drawing.vertices == []  # no vertex at all, yet every strip is there
    assert len(drawing.cells) == 4
    assert all(len(c.vertices) == 4 for c in drawing.cells)


def test_lineality_space_gives_strips():
    drawing = assert_every_region_once(LINEALITY)
    assert drawing.vertices == []
    for f in drawing.facets:  # every facet is a line x1 + x2 = c
        (ax, ay), (bx, by) = f.ends
        assert ax + ay == bx + by


def test_affine_network_is_one_polygon():
    drawing = assert_every_region_once(AFFINE)
    assert len(drawing.cells) == 1 and drawing.facets == [] and drawing.witness is None
    assert drawing.cells[0].measure == drawing.window_measure


def test_spec_example():
    net = load(SPEC_EXAMPLE)
    drawing = assert_every_region_once(net)
    assert drawing.regions == 14 and drawing.region_facets == 21
    assert drawing.concave_facets == 3
    assert not exactconvex.check(net).convex


def test_multi_output_pieces_and_bends_follow_the_output():
    for k in range(LEAKY.num_outputs):
        drawing = assert_every_region_once(LEAKY, k)
        for c in drawing.cells:
            assert c.value(c.centroid) == LEAKY.evaluate(c.centroid)[k]


def test_pieces_are_equal_exactly_when_the_affine_maps_are():
    drawing = region_drawing(DEGENERATE)
    for a in drawing.cells:
        for b in drawing.cells:
            same = (a.gradient, a.offset) == (b.gradient, b.offset)
            assert (a.piece == b.piece) == same


def test_region_polygons_are_the_drawing_cells():
    cells = region_polygons(GENERIC, "-2,2,-2,2")
    drawing = region_drawing(GENERIC, "-2,2,-2,2")
    assert [(c.region, c.vertices) for c in cells] == [(c.region, c.vertices) for c in drawing.cells]


@settings(max_examples=scaled(15))
@given(networks(d_range=2, depth_range=(1, 3), width_range=(1, 3), skips=True))
def test_random_networks(net):
    assert_every_region_once(net)


@settings(max_examples=scaled(15))
@given(networks(d_range=2, depth_range=(2, 3), width_range=(1, 4), values=small_integers(), skips=True))
def test_random_degenerate_networks(net):
    assert_every_region_once(net)


@settings(max_examples=scaled(10))
@given(networks(d_range=2, depth_range=(2, 3), width_range=(1, 3), slopes=slopes(), outputs=(1, 2)), st.data())
def test_random_leaky_networks_and_outputs(net, data):
    assert_every_region_once(net, data.draw(st.integers(0, net.num_outputs - 1)))


@settings(max_examples=scaled(15))
@given(networks(d_range=2, depth_range=(1, 3), width_range=(1, 3)), rationals(), rationals(),
       st.fractions(min_value=Fraction(1, 100), max_value=10), st.fractions(min_value=Fraction(1, 100), max_value=10))
def test_random_windows(net, x0, y0, width, height):
    window = (x0, x0 + width, y0, y0 + height)
    assert_exact_picture(net, window)


@settings(max_examples=scaled(15))
@given(networks(d_range=2, depth_range=(2, 3), width_range=(1, 4), values=small_integers()))
def test_vertices_by_angle_order_are_all_pairwise_corners(net):
    from exactconvex.graph import explore
    from exactconvex.plot.geometry import _region_halfplanes, _region_vertices, _region_vertices_by_pairs

    for net in (net, *NAMED.values()):
        for region in explore(net).regions:
            hs = _region_halfplanes(region)
            assert sorted(_region_vertices(hs)) == sorted(_region_vertices_by_pairs(hs))


# ----- d = 1 -------------------------------------------------------------------------------------

def test_counterexample_graph_has_the_certified_kinks():
    with open(COUNTEREXAMPLE) as fh:
        cert = json.load(fh)
    net = exactconvex.network_from_dict(cert["network"])
    drawing = assert_every_region_once(net)
    kinks = sorted(f.ends[0][0] for f in drawing.facets if f.bend != 0)
    assert kinks == sorted(to_q(k) for k in cert["kinks"])
    assert drawing.concave_facets == 0 and drawing.witness is None  # it is convex


@settings(max_examples=scaled(15))
@given(networks(d_range=1, depth_range=(1, 4), width_range=(1, 3), slopes=slopes()))
def test_random_one_dimensional_networks(net):
    assert_every_region_once(net)
    assert_exact_picture(net, "-1/3,2")


# ----- the window ---------------------------------------------------------------------------------

def test_default_window_contains_its_points_with_a_margin():
    pts = [(to_q(1), to_q("1/3")), (to_q(-2), to_q(5))]
    x0, x1, y0, y1 = default_window(pts, 2)
    assert x0 < -2 and x1 > 1 and y0 < to_q("1/3") and y1 > 5
    assert default_window([], 2) == default_window([(fmpq(0), fmpq(0))], 2)
    tiny = [(to_q("1/10000000000000000000000"), to_q(0)), (to_q("2/10000000000000000000000"), to_q(0))]
    w = default_window(tiny, 2)
    assert w[0] < tiny[0][0] and w[1] > tiny[1][0] and w[1] - w[0] < to_q("1/1000000000000000000000")


def test_focus_window_suggests_the_busy_middle():
    from exactconvex.plot import RegionDrawing, focus_window

    inner = [(fmpq(i, 10), fmpq(j, 10)) for i in range(10) for j in range(10)]
    outer = [(fmpq(10 ** 6), fmpq(10 ** 6 + k)) for k in range(3)]
    window = default_window(inner + outer, 2)
    drawing = RegionDrawing(network=None, output=0, window=window, cells=[], facets=[], regions=0, region_facets=0,
                            concave_facets=0, vertices=sorted(inner + outer))
    x0, x1, y0, y1 = focus_window(drawing)
    assert all(x0 < x < x1 and y0 < y < y1 for x, y in inner)
    assert x1 - x0 < 10 and y1 - y0 < 10
    assert focus_window(region_drawing(load(SPEC_EXAMPLE))) is None  # nothing far out there


@pytest.mark.parametrize("text, d, what", [("0,1,2", 2, "needs 4 numbers"), ("1,0,0,1", 2, "X0 must be smaller"),
                                           ("0,1,1,1", 2, "Y0 must be smaller"), ("0,a,0,1", 2, "not a number"),
                                           ("0,1,0,1", 1, "needs 2 numbers")])
def test_bad_windows(text, d, what):
    with pytest.raises(ValueError, match=what):
        parse_window(text, d)


# ----- pictures (matplotlib) -----------------------------------------------------------------------

def test_plot_regions_returns_a_figure_with_what_it_drew():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from exactconvex.plot import plot_regions

    fig = plot_regions(load(SPEC_EXAMPLE), name="spec")
    assert isinstance(fig, Figure)
    assert fig._repr_png_()[:4] == MAGIC["png"]  # a notebook shows it without a pyplot backend
    ax = fig.axes[0]
    assert "3 concave facets" in ax.get_title()
    reds = [c for c in ax.collections if hasattr(c, "get_segments") and len(c.get_segments()) == 3]
    assert reds, "the three concave facets are drawn as one red line collection"
    # into a given axes, and as a surface into 3-D axes
    fig2 = Figure()
    ax2 = fig2.add_subplot(projection="3d")
    assert plot_regions(GENERIC, ax=ax2, surface=True) is fig2
    with pytest.raises(ValueError, match="3-D axes"):
        plot_regions(GENERIC, ax=Figure().add_subplot(), surface=True)


def test_plot_regions_needs_a_plane_beyond_two_dimensions():
    pytest.importorskip("matplotlib")
    from exactconvex.plot import plot_regions

    net = Network.from_lists(3, [{"weight": [[1, -1, 0], [0, 1, 1]]}, {"weight": [[1, -1]]}])
    with pytest.raises(ValueError, match="plane"):
        plot_regions(net)
    fig = plot_regions(net, plane="0,0,0;1,0,0;0,1,0")
    assert "plane" in fig.axes[0].get_title()
    fig = plot_regions(net, plane=([0, 0, 1], [1, 0, 0], [0, 1, 1]), window=("-1", 1, -1, 1))
    assert fig.axes[0].get_xlim() == (-1.0, 1.0)


def test_geometry_works_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from exactconvex import Network\n"
            "from exactconvex.plot import region_polygons\n"
            "net = Network.from_lists(2, [{'weight': [[1, 0]]}, {'weight': [[1]]}])\n"
            "print(sum(c.measure for c in region_polygons(net, '-1,1,0,1')))\n"
            "from exactconvex.cli.main import main\n"
            f"sys.exit(main(['plot', {SPEC_EXAMPLE!r}, '-o', 'never.png']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.strip() == "2"
    assert proc.returncode == 2
    assert "pip install 'exactconvex[plot]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not os.path.exists(os.path.join(ROOT, "never.png"))


# ----- the command line ----------------------------------------------------------------------------

MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<svg"}


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_cli_writes_pictures(tmp_path, fmt):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"regions.{fmt}"
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert MAGIC[fmt] in data[:400]
    assert "14 regions" in proc.stdout and "3 concave" in proc.stdout
    assert sorted(os.listdir(tmp_path)) == [out.name]  # no temporary file left behind


def test_cli_json_surface_window_and_determinism(tmp_path):
    pytest.importorskip("matplotlib")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", a, "--json", "--surface", "--window=-2,2,-3/2,2")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["window"] == ["-2", "2", "-3/2", "2"] and report["surface"] is True
    assert report["regions"] == 14 and report["concave_facets"] == 3 and report["convex"] is False
    assert set(report["witness"]) >= {"x", "y", "lambda"}
    run_cli("plot", SPEC_EXAMPLE, "-o", b, "--json", "--surface", "--window=-2,2,-3/2,2")
    assert a.read_bytes() == b.read_bytes()  # the same picture gives the same file


def test_cli_refuses_d_above_two_without_a_plane(tmp_path):
    net = tmp_path / "net3.json"
    net.write_text(json.dumps({"format": "exactconvex.network", "version": 1, "input_dim": 3,
                               "layers": [{"weight": [[1, -1, 0], [0, 1, 1]], "bias": [0, -1]},
                                          {"weight": [[1, -1]]}]}))
    out = tmp_path / "plane.png"
    proc = run_cli("plot", net, "-o", out)
    assert proc.returncode == 2
    assert "--plane" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
    pytest.importorskip("matplotlib")
    proc = run_cli("plot", net, "-o", out, "--plane", "0,0,0;1,0,0;0,1,1", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["plane"] == {"point": ["0", "0", "0"], "u": ["1", "0", "0"], "v": ["0", "1", "1"]}
    assert out.read_bytes()[:4] == MAGIC["png"]
    if "witness" in report:  # in the coordinates of R^3, a real violation there
        full = load(str(net))
        w = report["witness"]
        x, y, lam = [to_q(v) for v in w["x"]], [to_q(v) for v in w["y"]], to_q(w["lambda"])
        mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
        assert full.evaluate(mid)[0] > lam * full.evaluate(x)[0] + (1 - lam) * full.evaluate(y)[0]


@pytest.mark.parametrize("extra, what", [
    (["--window", "0,1,0"], "needs 4 numbers"),
    (["--window=1,0,0,1"], "X0 must be smaller"),
    (["--output", "1"], "does not exist"),
    (["--plane", "0,0;1,1;2,2"], "linearly dependent"),
    (["--plane", "0,0;1,0"], "three parts"),
    (["--max-regions", "2"], "limit of 2 regions"),
])
def test_cli_bad_input_exits_2(tmp_path, extra, what):
    out = tmp_path / "x.png"
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", out, *extra)
    assert proc.returncode == 2, proc.stdout
    assert what in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_refuses_bad_outputs(tmp_path):
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", tmp_path / "x.jpg")
    assert proc.returncode == 2 and ".png, .svg or .pdf" in proc.stderr
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", tmp_path / "missing" / "x.png")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    # the network file itself (whatever its name) is never overwritten
    disguised = tmp_path / "net.png"
    shutil.copy(SPEC_EXAMPLE, disguised)
    before = disguised.read_bytes()
    proc = run_cli("plot", disguised, "-o", disguised)
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr
    assert disguised.read_bytes() == before
    (tmp_path / "dir.png").mkdir()
    proc = run_cli("plot", SPEC_EXAMPLE, "-o", tmp_path / "dir.png")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_cli_one_dimensional_graph_and_surface_refusal(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "graph.svg"
    proc = run_cli("plot", COUNTEREXAMPLE_NET(tmp_path), "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["input_dim"] == 1 and report["facets"] == 8 and report["convex"] is True
    proc = run_cli("plot", COUNTEREXAMPLE_NET(tmp_path), "-o", out, "--surface")
    assert proc.returncode == 2 and "--surface" in proc.stderr


def COUNTEREXAMPLE_NET(tmp_path) -> str:
    path = tmp_path / "counterexample.json"
    if not path.exists():
        with open(COUNTEREXAMPLE) as fh:
            path.write_text(json.dumps(json.load(fh)["network"]))
    return str(path)
