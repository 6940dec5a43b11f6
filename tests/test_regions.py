"""The exact region graph: counts against hand computations and formulas, and structural properties."""

from __future__ import annotations

import random
from fractions import Fraction
from math import comb

import networkx as nx
from flint import fmpq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactconvex import Network
from exactconvex.graph import LimitReached, min_bend, negative_facets, regions, to_graphml
from strategies import networks, rationals, scaled


def net(d, layers):
    return Network.from_lists(d, layers)


def one_layer(rows, biases, out):
    return net(len(rows[0]), [{"weight": rows, "bias": biases}, {"weight": [out]}])


# ----- counts -------------------------------------------------------------------------------

GENERIC_R2 = ([[1, 0], [0, 1], [1, 1], [1, -2], [3, 1]], [0, 1, 3, "1/2", -7])
GENERIC_R3 = ([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -2, 3]], [0, 1, 2, 5, "-1/3"])


@pytest.mark.parametrize("rows,biases", [GENERIC_R2, GENERIC_R3])
def test_generic_one_layer_counts_match_the_formula(rows, biases):
    n, d = len(rows), len(rows[0])
    G = regions(one_layer(rows, biases, [1] * n))
    assert G.number_of_nodes() == sum(comb(n, i) for i in range(d + 1))
    # each hyperplane is cut by the others into the regions of an arrangement of n-1 in R^(d-1)
    assert G.number_of_edges() == n * sum(comb(n - 1, i) for i in range(d))


def test_degenerate_arrangement_counted_by_hand():
    # x = 0 three times (once doubled, once opposite), y = 0, x + y = 0 through the same point,
    # x = 1 parallel to x = 0, plus a dead neuron and an always-on constant neuron.
    rows = [[1, 0], [2, 0], [-1, 0], [0, 1], [1, 1], [1, 0], [0, 0], [0, 0]]
    biases = [0, 0, 0, 0, 0, -1, -1, 1]
    G = regions(one_layer(rows, biases, [1, 1, 1, 1, -1, 2, 5, -3]))
    # three concurrent lines: 6 sectors; x = 1 crosses two of the lines, adding 3 regions
    assert G.number_of_nodes() == 9
    # pieces: x=0 -> 2, y=0 -> 3, x+y=0 -> 3, x=1 -> 3
    assert G.number_of_edges() == 11
    # the three neurons on x = 0 switch together on both of its pieces
    on_x0 = [data["switching"] for _, _, data in G.edges(data=True) if (1, 0) in data["switching"]]
    assert len(on_x0) == 2 and all(set(s) == {(1, 0), (1, 1), (1, 2)} for s in on_x0)


def test_bent_hyperplane_two_layers_counted_by_hand():
    # z3 = ReLU(x) + ReLU(y) - 1 bends: x + y = 1 in the open first quadrant, x = 1 below, y = 1 left.
    G = regions(net(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]], "bias": [-1]}, {"weight": [[1]]}]))
    assert G.number_of_nodes() == 7
    assert G.number_of_edges() == 9


@pytest.mark.parametrize("breakpoints", [[0], [1, 2, 3], [-5, "1/3", 10**6]])
def test_d1_regions_are_breakpoints_plus_one(breakpoints):
    # neurons x - t and a duplicate 2x - 2t of each: the same breakpoints
    rows = [[1] for _ in breakpoints] + [[2] for _ in breakpoints]
    biases = [-Fraction(t) for t in breakpoints] + [-2 * Fraction(t) for t in breakpoints]
    G = regions(one_layer(rows, biases, [1] * len(rows)))
    assert G.number_of_nodes() == len(breakpoints) + 1
    assert G.number_of_edges() == len(breakpoints)


def test_no_hidden_neurons_and_affine_networks():
    G = regions(net(3, [{"weight": [[1, 2, 3]], "bias": [4]}]))
    assert G.number_of_nodes() == 1 and G.number_of_edges() == 0 and min_bend(G) is None


def test_lineality_space_regions_are_cylinders():
    # only x1 matters in R^3: two regions, one facet, exactly as in d = 1
    G = regions(net(3, [{"weight": [[1, 0, 0], [-1, 0, 0]]}, {"weight": [[1, 1]]}]))
    assert (G.number_of_nodes(), G.number_of_edges(), min_bend(G)) == (2, 1, 2)


def test_bend_uses_the_switching_gradient_unnormalised():
    # f = 3 ReLU(2x - 1): gradient jump 6 across x = 1/2, normal = 2 => bend 12
    G = regions(one_layer([[2]], [-1], [3]))
    (u, v, data), = G.edges(data=True)
    assert data["bend"] == 12 and data["point"] == (fmpq(1, 2),)
    assert data["switching"] == ((1, 0),)


def test_far_away_regions_have_exact_points():
    G = regions(net(1, [{"weight": [[1]], "bias": [-10**6]}, {"weight": [[1]]}, {"weight": [[-1]]}]))
    (_, _, data), = G.edges(data=True)
    assert data["point"] == (10**6,)
    assert negative_facets(G)


def test_bounds_raise_limit_reached():
    rows, biases = GENERIC_R3
    with pytest.raises(LimitReached) as info:
        regions(one_layer(rows, biases, [1] * 5), max_regions=4)
    assert "4" in str(info.value)


def test_graphml_carries_exact_strings(tmp_path):
    G = regions(one_layer([[3], [1]], ["-1/3", 7], [1, "-1/7"]))
    to_graphml(G, tmp_path / "g.graphml")
    H = nx.read_graphml(tmp_path / "g.graphml")
    assert H.number_of_nodes() == 3
    assert any("1/9" in d["point"] for _, _, d in H.edges(data=True))


# ----- properties ---------------------------------------------------------------------------

@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3)))
def test_graph_is_connected_and_degrees_equal_facet_counts(net):
    G = regions(net)
    assert nx.is_connected(G)
    for n, data in G.nodes(data=True):
        assert G.degree(n) == len(data["facets"])
        # the interior point has the region's pattern and every facet neighbour is listed
        assert net.pattern(data["interior_point"]) == data["pattern"]
        assert {f["neighbor"] for f in data["facets"]} == set(G.neighbors(n))
    # patterns are distinct: one node per full-dimensional region
    assert len({d["pattern"] for _, d in G.nodes(data=True)}) == G.number_of_nodes()
    # every constraint that is not on a facet's hyperplane has a valid Farkas certificate over the facets
    from exactconvex.graph.explore import constraints_of

    for n, data in G.nodes(data=True):
        cons = {net.hidden_neurons[i]: (a, c) for i, a, c in constraints_of(net, net.local_affine(data["pattern"]))[0]}
        facet_rows = [cons[f["neuron"]] for f in data["facets"]]
        proved = set()
        for e in data["redundant"]:
            lam, mu = e["multipliers"], e["constant"]
            assert len(lam) == len(e["support"]) and all(v >= 0 for v in lam) and mu >= 0
            a, c = cons[e["neuron"]]
            combo_a = [sum((l * facet_rows[f][0][t] for l, f in zip(lam, e["support"])), fmpq(0))
                       for t in range(net.input_dim)]
            combo_c = sum((l * facet_rows[f][1] for l, f in zip(lam, e["support"])), fmpq(0)) + mu
            assert list(a) == combo_a and c == combo_c
            proved.add(e["neuron"])
        for nu, (a, c) in cons.items():
            on_facet = any(_positive_multiple(list(a) + [c], list(fa[0]) + [fa[1]]) for fa in facet_rows)
            assert nu in proved or on_facet


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3)), st.integers(0, 10**6))
def test_affine_pieces_agree_with_evaluation(net, seed):
    G = regions(net)
    rng = random.Random(seed)
    for n, data in G.nodes(data=True):
        x = data["interior_point"]
        value = net.evaluate(x)[0]
        assert value == sum(g * xi for g, xi in zip(data["gradient"], x)) + data["offset"]
    # continuity across every facet: both pieces agree at the facet point
    for u, v, data in G.edges(data=True):
        p = data["point"]
        pieces = [sum(g * xi for g, xi in zip(G.nodes[w]["gradient"], p)) + G.nodes[w]["offset"] for w in (u, v)]
        assert pieces[0] == pieces[1] == net.evaluate(p)[0]
    del rng


@st.composite
def row_families(draw):
    """Rows of g = a.x + c over Q^d with planted positive and negative multiples, and values
    that floats cannot hold (10^-400 underflows, 10^400 overflows) mixed in."""
    d = draw(st.integers(1, 4))
    value = st.one_of(rationals(extreme=True), st.sampled_from([0, Fraction(1, 10**400), -Fraction(7, 10**400),
                                                                10**400, -(3 * 10**401)]))
    base = draw(st.lists(st.tuples(*[value] * (d + 1)).filter(lambda r: any(r[:-1])), min_size=1, max_size=6))
    rows = list(base)
    for _ in range(draw(st.integers(0, 6))):
        r = draw(st.sampled_from(base))
        t = draw(st.one_of(st.sampled_from([Fraction(1), Fraction(10**300) / 3, Fraction(1, 10**300), -1]),
                           st.builds(Fraction, st.integers(-10**6, 10**6).filter(bool), st.integers(1, 10**6))))
        rows.append(tuple(v * t for v in r))
    if draw(st.booleans()):  # a near-multiple: exact inequality hidden below float resolution
        r = rows[0]
        rows.append(r[:-1] + (r[-1] * (1 + Fraction(1, 2**80)) + Fraction(1, 2**200),))
    return d, draw(st.permutations(rows))


@settings(max_examples=scaled(150), deadline=None)
@given(row_families())
def test_hyperplane_groups_are_exactly_the_positive_multiples(family):
    from exactconvex.polyhedra import canonical_key
    from exactconvex.polyhedra.rows import Rows, hyperplane_groups

    d, rows = family
    flat = [fmpq(v.numerator, v.denominator) for r in rows for v in r]
    groups = hyperplane_groups(Rows(d, flat))
    expected: dict = {}
    for i, r in enumerate(rows):
        q = [fmpq(v.numerator, v.denominator) for v in r]
        expected.setdefault(canonical_key(q[:-1], q[-1]), []).append(i)
    assert sorted(map(sorted, groups)) == sorted(expected.values())
    assert groups == sorted(groups, key=lambda g: g[0]) and all(g == sorted(g) for g in groups)


@settings(max_examples=scaled(150), deadline=None)
@given(st.data())
def test_the_float_filter_of_farkas_signs_decides_as_the_exact_products(data):
    # with the rows' floats, most targets are settled by a proven float bound; every answer must be
    # the exact one, also for zero multipliers (a target on a support's face), huge and tiny
    # numbers, and supports whose inverse's floats cannot be trusted (exact products then)
    from exactconvex.polyhedra import polyhedron
    from exactconvex.polyhedra.rows import Rows

    d = data.draw(st.integers(1, 4))
    # thirds and sevenths: the inverse's floats are rounded, so an exact zero multiplier comes out
    # of the float product as a tiny number of either sign (the plain float sign is often wrong)
    q = st.builds(lambda p, r, e: fmpq(p, r) * fmpq(2) ** e, st.integers(-9, 9), st.sampled_from([1, 3, 7, 11]),
                  st.sampled_from([0, 0, 0, 0, 0, 40, -40, 600, -600, 1100, -1100]))
    support_rows = [[data.draw(q) for _ in range(d + 1)] for _ in range(d)]
    flat = [v for r in support_rows for v in r]
    for _ in range(data.draw(st.integers(1, 6))):
        lam = [data.draw(st.one_of(st.just(fmpq(0)), q)) for _ in range(d)]  # zeros, either sign
        mu = data.draw(st.one_of(st.just(fmpq(0)), q))
        flat += [sum((l * r[t] for l, r in zip(lam, support_rows)), fmpq(0)) + (mu if t == d else 0)
                 for t in range(d + 1)]
    rows = Rows(d, flat)
    targets = list(range(d, len(rows)))
    basis = [(tuple(r[:d]), r[d]) for r in support_rows]
    exact = polyhedron.farkas_holds_for_rows(flat, d, targets, basis, list(range(d)), True)
    if rows.trusted:
        threshold, polyhedron.FILTER_FROM = polyhedron.FILTER_FROM, 1  # the filter even for one target
        try:
            filtered = polyhedron.farkas_holds_for_rows(flat, d, targets, basis, list(range(d)), True, rows.floats)
        finally:
            polyhedron.FILTER_FROM = threshold
        assert filtered == exact


def _positive_multiple(g, h):
    i = next(i for i, v in enumerate(h) if v != 0)
    t = g[i] / h[i]
    return t > 0 and all(x == t * y for x, y in zip(g, h))


@settings(max_examples=scaled(100), deadline=None)
@given(st.data())
def test_farkas_holds_many_agrees_with_the_rational_solve(data):
    # the integer sign test (adjugate, determinant) must say exactly when the solve finds a certificate
    from exactconvex.polyhedra import farkas_holds_many, farkas_on_support_many

    d = data.draw(st.integers(1, 3))
    q = st.builds(lambda p, r: fmpq(p, r), st.integers(-9, 9), st.sampled_from([1, 2, 3, 7, 2**40]))
    basis = [(tuple(data.draw(q) for _ in range(d)), data.draw(q)) for _ in range(d + 1)]
    support = data.draw(st.permutations(range(len(basis))))[:d]
    targets = []
    for _ in range(data.draw(st.integers(1, 5))):
        lam = [data.draw(q) for _ in support]  # either sign: some certificates exist, some do not
        mu = data.draw(q)
        a = tuple(sum((l * basis[f][0][t] for l, f in zip(lam, support)), fmpq(0)) for t in range(d))
        c = sum((l * basis[f][1] for l, f in zip(lam, support)), fmpq(0)) + mu
        targets.append((a, c))
    certs = farkas_on_support_many(targets, basis, support, True)
    assert farkas_holds_many(targets, basis, support, True) == [c is not None for c in certs]
    for (a, c), cert in zip(targets, certs):
        if cert is not None:
            lam, mu = cert
            assert all(v >= 0 for v in lam) and mu >= 0
            assert all(sum((l * basis[f][0][t] for l, f in zip(lam, support)), fmpq(0)) == a[t] for t in range(d))


@settings(max_examples=scaled(60), deadline=None)
@given(st.data())
def test_not_positive_finds_exactly_the_rows_that_are_not_positive(data):
    # the float filter (used from 64 rows on) must never call a row positive that is not
    from exactconvex.polyhedra.rows import Rows

    d = data.draw(st.integers(1, 3))
    tiny = st.sampled_from([Fraction(1, 2**60), -Fraction(1, 2**60), Fraction(1, 10**400), 10**400, 0])
    value = st.one_of(rationals(), tiny) if data.draw(st.booleans()) else rationals()
    points = [tuple(data.draw(value) for _ in range(d)) for _ in range(data.draw(st.integers(1, 3)))]
    flat = []
    for _ in range(data.draw(st.integers(64, 90))):
        a = [data.draw(value) for _ in range(d)]
        p = data.draw(st.sampled_from(points))
        # offsets that put the point exactly on the row, just off it, or anywhere
        on = -sum((x * y for x, y in zip(a, p)), Fraction(0))
        c = data.draw(st.sampled_from([on, on + Fraction(1, 2**70), on - Fraction(1, 2**70), data.draw(value)]))
        flat.extend(fmpq(v.numerator, v.denominator) for v in a + [c])
    rows = Rows(d, flat)
    qpoints = [tuple(fmpq(v.numerator, v.denominator) for v in p) for p in points]
    exact = [[i for i, v in enumerate(col) if v <= 0] for col in rows.values(qpoints)]
    assert rows.not_positive(qpoints) == exact
