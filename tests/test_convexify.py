"""convexify, margin, expressivity and the "nearest_convex" certificate (issue 16).

Properties, each checked against something computed another way: ``exactconvex.check`` (the
verdict code, not the cone) decides convexity of every candidate, the one-hidden-layer closed form
is computed here from the network's rows, and the certificates go through the independent checker.
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import pytest
from flint import fmpq, fmpq_mat
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import exactconvex
from exactconvex import Network, check, verify
from exactconvex.convexify import (cone_of, convexify, deepest_row, expressivity, lower_bound, margin, norm_of,
                                   output_parameters)
from exactconvex.convexify import exact_lp
from exactconvex.network import Layer, network_to_dict
from exactconvex.sweep.generate import icnn_structured, network_rng, torch_network
from strategies import networks, scaled, slopes, small_integers, small_rationals


def q(v) -> fmpq:
    if isinstance(v, fmpq):
        return v
    v = Fraction(v)
    return fmpq(v.numerator, v.denominator)


def with_output_rows(net: Network, rows: dict) -> Network:
    """``net`` with output k's weights from hidden units set to rows[k], built here (not by the cone):
    the order is that of ``output_parameters`` (skips from hidden layers by source, then the main weight)."""
    last = net.layers[-1]
    W = fmpq_mat(last.weight)
    S = {k: fmpq_mat(M) for k, M in last.skip.items()}
    for k, row in rows.items():
        for p, v in zip(output_parameters(net), row):
            (W if p.layer == net.depth - 1 else S[p.layer])[k, p.index] = q(v)
    return Network(net.input_dim, net.layers[:-1] + [Layer(W, last.bias, S)])


def row_of(net: Network, k: int) -> list:
    last = net.layers[-1]
    return [(last.weight if p.layer == net.depth - 1 else last.skip[p.layer])[k, p.index]
            for p in output_parameters(net)]


def one_layer_distance(net: Network, k: int) -> fmpq:
    """Closed form (geometry notes, sections 6 and 8): group the rows (w_j, b_j), w_j != 0, by hyperplane
    (divided by their first nonzero entry c_j of w_j).  With slope s, output k is affine plus, per group,
    (1 - s) S ReLU(t), S = sum_j a_j |c_j|; a weight a_j moves the group's bend by (1 - s) |c_j| per unit, so
    the linf distance of a group with (1 - s) S < 0 is -(1 - s) S / (|1 - s| sum_j |c_j|); the largest wins."""
    hidden, out = net.layers
    s = hidden.slope
    groups: dict[tuple, list] = {}
    for j in range(hidden.width):
        row = [hidden.weight[j, i] for i in range(net.input_dim)] + [hidden.bias[j, 0]]
        c = next((v for v in row[:-1] if v != 0), None)
        if c is not None:
            groups.setdefault(tuple(v / c for v in row), []).append((out.weight[k, j], abs(c)))
    worst = fmpq(0)
    if s == 1:
        return worst
    for members in groups.values():
        bend = (1 - s) * sum((a * c for a, c in members), fmpq(0))
        if bend < 0:
            worst = max(worst, -bend / (abs(1 - s) * sum((c for _, c in members), fmpq(0))))
    return worst


def torch_net(hidden, n, seed=0, outputs=1) -> Network:
    return torch_network(network_rng(seed, 2, hidden, outputs, n), 2, hidden, outputs)


# ----- convex networks are returned unchanged ---------------------------------------------------------

@pytest.mark.parametrize("n", range(3))
def test_convex_network_is_returned_unchanged_with_distance_zero(n):
    net = icnn_structured(torch_net([4, 4], n))
    for norm in ("linf", "l1"):
        r = convexify(net, norm)
        assert r.distance == 0 and r.convex_before and r.network == net
        cert = r.certificate()
        assert cert["outputs"][0]["multipliers"] == []
        assert verify(cert, network=net).valid


@settings(max_examples=scaled(30))
@given(networks(d_range=(1, 2), depth_range=(1, 3), width_range=(1, 3), outputs=(1, 2), slopes=slopes()))
def test_convexify_is_idempotent_and_its_result_is_convex_and_certified(net):
    for norm in ("linf", "l1"):
        r = convexify(net, norm)
        out = r.network
        assert check(out).convex
        assert r.convex_before == check(net).convex
        assert (r.distance == 0) == r.convex_before
        # only the weights from hidden units changed, by the claimed distance
        assert out.layers[:-1] == net.layers[:-1] or all(a.weight == b.weight and a.bias == b.bias
                                                         for a, b in zip(out.layers[:-1], net.layers[:-1]))
        assert out.layers[-1].bias == net.layers[-1].bias and set(out.layers[-1].skip) == set(net.layers[-1].skip)
        assert out.layers[-1].skip.get(0) == net.layers[-1].skip.get(0)
        per_output = [norm_of([a - b for a, b in zip(row_of(out, k), row_of(net, k))], norm)
                      for k in range(net.num_outputs)]
        assert per_output == [o.distance for o in r.outputs]
        assert r.distance == norm_of(per_output, norm)  # linf: the largest, l1: the sum
        result = verify(r.certificate(), network=net)
        assert result.valid, result.reason
        again = convexify(out, norm)
        assert again.distance == 0 and again.network == out


def test_affine_network_and_no_hidden_weights():
    affine = Network.from_lists(2, [{"weight": [[1, -2]], "bias": [3]}])
    r = convexify(affine)
    assert r.distance == 0 and r.network == affine and verify(r.certificate(), network=affine).valid
    m = margin(affine)
    assert m.convex and m.margin is None and m.expressivity.equals_orthant


# ----- one hidden layer: the closed form ----------------------------------------------------------------

@st.composite
def one_layer_networks(draw):
    """One hidden layer with repeated, proportional and opposite rows (hyperplane groups), several outputs."""
    d = draw(st.integers(1, 2))
    base = draw(st.lists(st.tuples(*[small_integers(-2, 2)] * (d + 1)), min_size=1, max_size=3))
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        w = draw(st.sampled_from(base))
        c = draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(2), Fraction(-1, 2), Fraction(3)]))
        rows.append([c * v for v in w])
    m = draw(st.integers(1, 2))
    out = [[draw(small_rationals()) for _ in rows] for _ in range(m)]
    s = draw(slopes())
    return Network.from_lists(d, [{"weight": [r[:-1] for r in rows], "bias": [r[-1] for r in rows], "slope": s},
                                  {"weight": out}])


@settings(max_examples=scaled(60))
@given(one_layer_networks())
def test_one_hidden_layer_linf_distance_is_the_closed_form(net):
    r = convexify(net)
    expected = [one_layer_distance(net, k) for k in range(net.num_outputs)]
    assert [o.distance for o in r.outputs] == expected
    assert r.distance == max(expected)
    assert check(r.network).convex
    assert verify(r.certificate(), network=net).valid


def test_leaky_closed_form_by_hand():
    # sigma(z) = z (z > 0), z / 2 (z <= 0): f = sigma(x) - 3 sigma(-x) bends by (1 - 1/2)(1 - 3) = -1 at 0;
    # a weight moves the bend by 1/2 per unit, so the linf distance is 1 / (1/2 + 1/2) = 1 = -S / sum |c_j|
    net = Network.from_lists(1, [{"weight": [[1], [-1]], "slope": "1/2"}, {"weight": [[1, -3]]}])
    r = convexify(net)
    assert r.distance == 1 and r.network.layers[-1].weight == fmpq_mat(1, 2, [2, -2])
    # a concave activation (s = 2) flips the sign: sigma(x) + sigma(-x) is concave, -sigma(x) - sigma(-x) convex
    concave = Network.from_lists(1, [{"weight": [[1], [-1]], "slope": 2}, {"weight": [[1, 1]]}])
    assert convexify(concave).distance == 1 == one_layer_distance(concave, 0)
    identity = Network.from_lists(1, [{"weight": [[1], [-1]], "slope": 1}, {"weight": [[1, -7]]}])
    assert convexify(identity).distance == 0


# ----- optimality against brute force -----------------------------------------------------------------------

def _grid(distance: fmpq, n: int, norm: str) -> list[tuple]:
    inner = distance * fmpq(7, 8)
    steps = [fmpq(-1), fmpq(-1, 2), fmpq(0), fmpq(1, 2), fmpq(1)] if n <= 2 else [fmpq(-1), fmpq(0), fmpq(1)]
    grid = [()]
    for _ in range(n):
        grid = [g + (s * inner,) for g in grid for s in steps]
    return [u for u in grid if norm_of(u, norm) < distance]


@settings(max_examples=scaled(20))
@given(networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), skips=False), st.sampled_from(["linf", "l1"]))
def test_no_convex_output_row_on_a_grid_is_nearer(net, norm):
    r = convexify(net, norm)
    assume(r.distance > 0)
    theta0, theta = r.outputs[0].theta0, r.outputs[0].theta
    assert check(with_output_rows(net, {0: theta})).convex  # attained ...
    assert norm_of([a - b for a, b in zip(theta, theta0)], norm) == r.distance
    shrunk = tuple(a + fmpq(15, 16) * (b - a) for a, b in zip(theta0, theta))
    for u in _grid(r.distance, len(theta0), norm) + [tuple(b - a for a, b in zip(theta0, shrunk))]:
        candidate = with_output_rows(net, {0: [a + v for a, v in zip(theta0, u)]})
        assert not check(candidate).convex, f"a convex output row nearer than {r.distance}: {u}"  # ... and optimal


# ----- the certificate: tampering is rejected ---------------------------------------------------------------

@pytest.fixture(scope="module")
def proof():
    net = torch_net([4, 4], 0)
    r = convexify(net)
    assert len(r.outputs[0].multipliers) >= 2
    return net, r, r.certificate()


def _invalid(cert, net, *fragments):
    result = verify(cert, network=net)
    assert not result.valid
    assert any(f in result.reason for f in fragments), result.reason


def test_certificate_verifies_with_both_kernels(proof):
    net, r, cert = proof
    assert verify(cert, network=net).valid and verify(cert, network=net, reference=True).valid
    assert verify(json.loads(json.dumps(cert)), network=net).valid


def test_tampered_distance_is_rejected(proof):
    net, r, cert = proof
    for half in ("outputs", "top"):
        bad = copy.deepcopy(cert)
        D = fmpq(str(r.distance)) / 2
        if half == "outputs":
            bad["outputs"][0]["distance"] = str(D)
        bad["distance"] = str(D)
        _invalid(bad, net, "not by the claimed", "distance is")


def test_tampered_multipliers_are_rejected(proof):
    net, r, cert = proof
    bad = copy.deepcopy(cert)
    bad["outputs"][0]["multipliers"][0]["y"] = str(fmpq(bad["outputs"][0]["multipliers"][0]["y"]) * 3)
    _invalid(bad, net, "the multipliers prove a distance of at least")
    bad = copy.deepcopy(cert)
    bad["outputs"][0]["multipliers"][0]["y"] = "-" + bad["outputs"][0]["multipliers"][0]["y"]
    _invalid(bad, net, "is negative")
    bad = copy.deepcopy(cert)
    bad["outputs"][0]["multipliers"] = bad["outputs"][0]["multipliers"][1:]
    _invalid(bad, net, "the multipliers prove", "not negative")
    bad = copy.deepcopy(cert)
    bad["outputs"][0]["multipliers"] = []
    _invalid(bad, net, "no multipliers")
    bad = copy.deepcopy(cert)
    bad["outputs"][0]["multipliers"][0]["facet"] = 99
    _invalid(bad, net, "has no facet 99")
    bad = copy.deepcopy(cert)
    regions = bad["region_graph"]["regions"]
    m = bad["outputs"][0]["multipliers"][0]
    m["facet"] = (m["facet"] + 1) % len(regions[m["region"]]["facets"])  # another facet of the same region
    assert not verify(bad, network=net).valid


def test_a_convex_but_farther_network_is_not_accepted_as_nearest():
    net = Network.from_lists(2, [{"weight": [[1, 0], [-1, 0], [0, 1]]}, {"weight": [[1, -2, 1]]}])
    r = convexify(net)
    cert = r.certificate()
    o = r.outputs[0]
    assert r.distance == fmpq(1, 2) and verify(cert, network=net).valid
    # the zero row is convex (an affine output), and here it is farther than the optimum
    D = norm_of(o.theta0, "linf")
    assert D > r.distance
    farther = with_output_rows(net, {0: [0] * len(o.theta)})
    assert check(farther).convex
    bad = copy.deepcopy(cert)
    bad["convexified"] = network_to_dict(farther)
    bad["distance"] = bad["outputs"][0]["distance"] = str(D)
    _invalid(bad, net, "the multipliers prove a distance of at least")


def test_a_nearer_network_that_is_not_convex_is_rejected(proof):
    net, r, cert = proof
    o = r.outputs[0]
    halfway = with_output_rows(net, {0: [a + (b - a) / 2 for a, b in zip(o.theta0, o.theta)]})
    bad = copy.deepcopy(cert)
    bad["convexified"] = network_to_dict(halfway)
    bad["distance"] = bad["outputs"][0]["distance"] = str(r.distance / 2)
    _invalid(bad, net, "bends by")


def test_other_changes_of_the_convexified_network_are_rejected(proof):
    net, r, cert = proof
    for layer, key in ((0, "bias"), (1, "weight"), (2, "bias")):
        bad = copy.deepcopy(cert)
        entries = bad["convexified"]["layers"][layer][key]
        if isinstance(entries[0], list):
            entries[0][0] = str(fmpq(str(entries[0][0])) + 1)
        else:
            entries[0] = str(fmpq(str(entries[0])) + 1)
        _invalid(bad, net, "differs from the network's")
    bad = copy.deepcopy(cert)
    bad["norm"] = "l2"
    _invalid(bad, net, "is not one of")
    bad = copy.deepcopy(cert)
    bad["norm"] = "l1"
    _invalid(bad, net, "not by the claimed", "multipliers prove")
    other = torch_net([4, 4], 1)
    _invalid(cert, other, "differs from the given network")


# ----- the LPs: proposal, exact fallback, floats out of range ------------------------------------------------

@settings(max_examples=scaled(60))
@given(st.data())
def test_exact_lp_proposal_and_simplex_agree_and_are_optimal(data):
    N = data.draw(st.integers(1, 4))
    m = data.draw(st.integers(0, 6))
    A = [[q(data.draw(small_rationals())) for _ in range(N)] for _ in range(m)]
    b = [q(-abs(data.draw(small_rationals()))) for _ in range(m)]  # x = 0 is feasible
    for j in range(N):  # a box keeps it bounded
        A += [[fmpq(int(i == j)) for i in range(N)], [fmpq(-int(i == j)) for i in range(N)]]
        b += [fmpq(-3), fmpq(-3)]
    c = [q(data.draw(small_rationals())) for _ in range(N)]
    for solution in (exact_lp.minimise(A, b, c), exact_lp.minimise(A, b, c, propose=False)):
        x, y = solution.x, solution.y
        assert all(sum((a * v for a, v in zip(row, x)), fmpq(0)) >= bi for row, bi in zip(A, b))
        assert all(v >= 0 for v in y)
        assert [sum((A[i][j] * y[i] for i in range(len(A))), fmpq(0)) for j in range(N)] == c
        assert solution.value == sum((ci * xi for ci, xi in zip(c, x)), fmpq(0)) == \
            sum((bi * yi for bi, yi in zip(b, y)), fmpq(0))


@pytest.mark.parametrize("norm", ["linf", "l1"])
def test_exact_fallback_gives_the_same_distance(monkeypatch, norm):
    nets = [torch_net([4, 4], n) for n in range(3)] + [torch_net([3], 0, outputs=2)]
    proposed = [convexify(net, norm) for net in nets]
    monkeypatch.setattr(exact_lp, "_proposed_basis", lambda *args: None)
    for net, p in zip(nets, proposed):
        exact = convexify(net, norm)
        assert exact.distance == p.distance
        assert all(o.how in ("exact simplex", "unchanged (already convex)") for o in exact.outputs)
        assert verify(exact.certificate(), network=net).valid


def test_weights_beyond_the_float_range():
    big = fmpq(10) ** 400
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[big, -2 * big]]}])
    r = convexify(net)
    assert r.distance == big / 2 and verify(r.certificate(), network=net).valid
    tiny = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, -1]},
                                  {"weight": [[1 / big, -1, 1]], "bias": [0]}])
    r = convexify(tiny, "l1")
    assert check(r.network).convex and verify(r.certificate(), network=tiny).valid


# ----- margin ------------------------------------------------------------------------------------------------

@settings(max_examples=scaled(25))
@given(networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), outputs=(1, 2)))
def test_margin_is_the_largest_safe_radius(net):
    m = margin(net, with_expressivity=False)
    if not m.convex:
        assert m.margin == -m.distance == -convexify(net).distance < 0
        return
    for o in m.outputs:
        if o.margin is None:
            continue
        g = m.cone.facets[o.facet].row
        theta0 = row_of(net, o.output)
        sign = [fmpq((v > 0) - (v < 0)) for v in g]
        edge = [t - o.margin * s for t, s in zip(theta0, sign)]  # within the margin: still convex
        assert check(with_output_rows(net, {o.output: edge})).convex
        beyond = [t - (o.margin + fmpq(1, 1000) * (1 + o.margin)) * s for t, s in zip(theta0, sign)]
        assert not check(with_output_rows(net, {o.output: beyond})).convex


@settings(max_examples=scaled(30))
@given(one_layer_networks())
def test_margin_of_one_hidden_layer_is_the_closed_form(net):
    hidden = net.layers[0]
    assume(hidden.slope < 1)
    m = margin(net, with_expressivity=False)
    assume(m.convex)
    groups: dict[tuple, list] = {}
    for j in range(hidden.width):
        row = [hidden.weight[j, i] for i in range(net.input_dim)] + [hidden.bias[j, 0]]
        c = next((v for v in row[:-1] if v != 0), None)
        if c is not None:
            groups.setdefault(tuple(v / c for v in row), []).append((j, abs(c)))
    for o in m.outputs:
        values = [sum((net.layers[1].weight[o.output, j] * c for j, c in g), fmpq(0)) /
                  sum((c for _, c in g), fmpq(0)) for g in groups.values()]
        assert o.margin == (min(values) if values else None)


def test_margin_reports_the_facet_and_a_negative_margin_when_not_convex():
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[3, -1]]}])  # 3 relu(x) - relu(-x)
    m = margin(net)
    assert m.convex and m.margin == 1 and m.cone.facets[m.outputs[0].facet].neuron == (1, 0)
    concave = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-3, -1]]}])
    m = margin(concave)
    assert not m.convex and m.distance == 2 and m.margin == -2


# ----- expressivity: the cone against the ICNN orthant -----------------------------------------------------------

def test_distinct_hyperplanes_give_exactly_the_orthant():
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 1, -1]}, {"weight": [[1, 2, 3]]}])
    x = expressivity(net)
    assert x.orthant_in_cone and x.equals_orthant and x.beyond_orthant is None


def test_shared_hyperplane_gives_a_larger_cone_with_an_exact_member():
    net = Network.from_lists(2, [{"weight": [[1, 1], [-2, -2], [0, 1]], "bias": [1, -2, 0]}, {"weight": [[1, 1, 1]]}])
    x = expressivity(net)
    assert x.strictly_larger
    member = x.beyond_orthant
    assert any(v < 0 for v in member)
    assert check(with_output_rows(net, {0: member})).convex


@pytest.mark.parametrize("n", range(3))
def test_random_hidden_layers_orthant_witness_and_members(n):
    net = torch_net([4, 4], n)
    x = expressivity(net)
    if not x.orthant_in_cone:
        p, e = x.orthant_witness
        unit = [1 if (q_.layer, q_.index) == (p.layer, p.index) else 0 for q_ in output_parameters(net)]
        assert not check(with_output_rows(net, {0: unit})).convex
    if x.beyond_orthant is not None:
        assert any(v < 0 for v in x.beyond_orthant)
        assert check(with_output_rows(net, {0: x.beyond_orthant})).convex


def test_deepest_row_has_its_margin():
    net = torch_net([4, 8], 3, seed=0)
    cone = cone_of(net)
    theta, r = deepest_row(cone)
    assert all(abs(v) <= 1 for v in theta)
    if r > 0:
        m = margin(with_output_rows(net, {0: theta}), with_expressivity=False)
        assert m.convex and m.margin >= r


def test_lower_bound_is_hoelder():
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}])
    cone = cone_of(net)
    assert lower_bound(cone, {0: fmpq(5)}, cone.theta(0), "linf") == fmpq(1, 2)
    assert lower_bound(cone, {0: fmpq(5)}, cone.theta(0), "l1") == 1
    assert lower_bound(cone, {0: fmpq(5)}, (1, 1), "linf") is None


def test_public_names():
    import exactconvex.convexify as cx

    assert callable(cx.convexify) and callable(cx.margin) and callable(cx.expressivity)
    assert exactconvex.verify is verify


def test_arrangements_of_the_serial_and_the_parallel_search_give_the_same_certificate(monkeypatch):
    # the search's regions rebuild their rows and maps from NET when asked; the certificate of
    # OUT must use OUT's maps whichever search made the regions (--jobs 2 ones are lazier still)
    import numpy as np

    from exactconvex.convexify import cone_of, convexify
    from exactconvex.graph import explore
    from exactconvex.sweep.generate import torch_network

    from exactconvex.graph import parallel as pool

    monkeypatch.setattr(pool, "SERIAL_LEVEL", 1)  # the workers from the first level on
    monkeypatch.setattr(pool, "SERIAL_SECONDS", 0)
    net = torch_network(np.random.default_rng(4), 2, [6, 6])
    serial, parallel = explore(net), explore(net, jobs=2)
    assert any(type(r).__name__ == "_FoundRegion" for r in parallel.regions)  # the workers' regions
    certs = [convexify(net, cone=cone_of(net, arrangement=a)).certificate() for a in (serial, parallel)]
    assert certs[0] == certs[1]
    assert verify(certs[0]).valid and "convexified" in certs[0]
