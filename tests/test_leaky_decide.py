"""LeakyReLU through ``check``: the region graph and its bends, the ICNN slope rule, the
one-hidden-layer closed form with slopes, the float search; verdicts judged by the exact
line-restriction oracle (tests/oracle.py, no package code) and by evaluating the network at
the breakpoints of its restrictions."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from exactconvex import Network, network_from_dict, network_to_dict
from exactconvex.checker import verify
from exactconvex.decide import Undecided, check
from exactconvex.decide.fastpaths import icnn_structure, one_layer, one_layer_groups, search_violation
from exactconvex.graph import regions
from strategies import CORPUS_SLOPES, networks, scaled, slopes

ISSUE_MODEL = {"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [
    {"weight": [[2], [1]], "bias": [0, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-2, 0]]}]}


def violates(net: Network, w: dict) -> bool:
    """The witness contract, by exact evaluation with the model and with the oracle's own forward pass."""
    lam, x, y, k = w["lambda"], w["x"], w["y"], w["output"]
    assert 0 < lam < 1
    mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    by_model = net.evaluate(mid)[k] > lam * net.evaluate(x)[k] + (1 - lam) * net.evaluate(y)[k]
    by_oracle = oracle.violates(network_to_dict(net), {"output": k, "x": [str(v) for v in x],
                                                       "y": [str(v) for v in y], "lambda": str(lam)})
    assert by_model == by_oracle
    return by_model


def evaluated_kinks(net: Network, k: int, p, u) -> list:
    """[(t, slope change)] of t -> f_k(p + t u) read from ``net.evaluate`` alone: the oracle only
    says where the breakpoints may be; the slopes between them come from exact evaluations."""
    ts = sorted({t for f in oracle.restrict(network_to_dict(net), p, u) for t in f.breaks})
    if not ts:
        return []
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    h = min(gaps) / 4 if gaps else Fraction(1)

    def f(t):  # Fractions in, the model's exact value out
        v = net.evaluate([Fraction(pi) + t * Fraction(ui) for pi, ui in zip(p, u)])[k]
        return Fraction(int(v.p), int(v.q))

    out = []
    for t in ts:
        left = (f(t) - f(t - h)) / h
        right = (f(t + h) - f(t)) / h
        if right != left:
            out.append((t, right - left))
    return out


def line_truth(net: Network, k: int, lines) -> bool:
    """True iff output k is convex on every line, by evaluation at the breakpoints (and the oracle agrees)."""
    doc = network_to_dict(net)
    convex = True
    for p, u in lines:
        changes = evaluated_kinks(net, k, p, u)
        assert changes == oracle.slope_changes(doc, k, p, u)
        convex &= all(c > 0 for _, c in changes)
    return convex


# ----- the issue's model ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["auto", "regions", "search"])
def test_issue_model_is_not_convex_with_an_exact_witness_and_a_certificate(method):
    net = network_from_dict(ISSUE_MODEL)
    assert [net.evaluate([x])[0] for x in (-2, -1, 0)] == [-2, 0, 1]
    v = check(net, method=method, certificate=True)
    assert not v.convex and v.method != "icnn" and violates(net, v.witness)
    assert v.certificate["claim"] == "not_convex"
    result = verify(v.certificate, network=net)
    assert result.valid, result.reason


def test_issue_model_would_be_convex_as_relu_and_the_graph_sees_the_difference():
    # read with ReLU (the old state_dict guess) the model is convex: the slopes decide
    relu = network_from_dict({**ISSUE_MODEL, "layers": [{k: v for k, v in L.items() if k != "activation"}
                                                        for L in ISSUE_MODEL["layers"]]})
    assert check(relu).convex and check(relu, method="regions").convex
    leaky = network_from_dict(ISSUE_MODEL)
    G = regions(leaky)
    bends = {data["point"]: data["bend"] for *_, data in G.edges(data=True)}
    # along R the slope changes (oracle) have the signs of the facet bends, at the same points
    changes = oracle.slope_changes(ISSUE_MODEL, 0, [0], [1])
    assert {t for t, _ in changes} == {Fraction(int(p[0].p), int(p[0].q)) for p, b in bends.items() if b != 0}
    for t, c in changes:
        b = bends[(fmpq(t.numerator, t.denominator),)]
        assert (b > 0) == (c > 0)


# ----- ICNN structure: the slope rule -------------------------------------------------------------

def _icnn_shape(s1, s2) -> Network:
    """Nonnegative weights out of hidden layers, free input weights: the slopes decide."""
    return Network.from_lists(2, [
        {"weight": [[1, -2], [-1, 1]], "bias": [0, 1], "slope": s1},
        {"weight": [[1, 2], [0, 1]], "bias": [-1, 0], "skip": {"0": [[-3, 1], [2, 2]]}, "slope": s2},
        {"weight": [[1, 1]], "skip": {"1": [[0, "1/2"]], "0": [[-7, 1]]}}])


@pytest.mark.parametrize("s1,s2,structured", [
    (0, 0, True), ("1/2", "1/2", True), (1, 1, True), ("-1", 0, True), ("-3", "1/100", True),
    (2, 0, False), (0, "-1", False), (0, 2, False), ("1/2", "-1/100", False)])
def test_icnn_structure_follows_the_slope_rule(s1, s2, structured):
    net = _icnn_shape(s1, s2)
    assert icnn_structure(net, 0) == net.is_icnn() == structured
    v = check(net, certificate=True)
    if structured:
        assert v.convex and v.method == "icnn"
        assert verify(v.certificate, network=net).valid
    else:
        assert v.method != "icnn"
        with pytest.raises(Undecided):
            check(net, method="icnn")
    # the verdict agrees with the region graph and with the lines
    r = check(net, method="regions")
    assert r.convex == v.convex
    if not v.convex:
        assert violates(net, v.witness)


def test_a_concave_or_non_monotone_activation_after_layer_one_can_break_convexity():
    # layer 2 acts on the convex |x|: slope -1 there gives | |x| - 1 |, not convex
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]], "bias": [-1], "slope": -1},
                                 {"weight": [[1]]}])
    assert not icnn_structure(net, 0)
    v = check(net)
    assert not v.convex and violates(net, v.witness)
    # slope -1 on layer 1 is |z|: convex, and an ICNN
    net = Network.from_lists(1, [{"weight": [[1]], "bias": [-1], "slope": -1}, {"weight": [[3]]}])
    assert icnn_structure(net, 0) and check(net).method == "icnn"


@settings(max_examples=scaled(25), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3), slopes=slopes()))
def test_icnn_structure_implies_convex_regions(network):
    icnn = _abs_hidden_weights(network)
    assert icnn_structure(icnn, 0) == icnn.is_icnn()
    if icnn.is_icnn():
        r = check(icnn, method="regions", certificate=True)
        assert r.convex
        assert verify(r.certificate, network=icnn).valid


def _abs_hidden_weights(network: Network) -> Network:
    from flint import fmpq_mat

    from exactconvex.network import Layer

    def absm(m):
        return fmpq_mat(m.nrows(), m.ncols(), [abs(v) for v in m.entries()])

    layers = []
    for l, layer in enumerate(network.layers, start=1):
        W = layer.weight if l == 1 else absm(layer.weight)
        layers.append(Layer(W, layer.bias, {k: (s if k == 0 else absm(s)) for k, s in layer.skip.items()},
                            layer.slope))
    return Network(network.input_dim, layers)


# ----- one hidden layer: sum_j a_j (1 - s) |c_j| --------------------------------------------------

@pytest.mark.parametrize("s", CORPUS_SLOPES)
def test_one_layer_closed_form_with_slopes_hand_made(s):
    # |x| + |x - 1| - (1/2) |x + 1|, every neuron leaky with slope s: groups x, x - 1, x + 1
    net = Network.from_lists(1, [{"weight": [[1], [-1], [1], [-1], [1], [-1]], "bias": [0, 0, -1, 1, 1, -1],
                                  "slope": s},
                                 {"weight": [[1, 1, 1, 1, "-1/2", "-1/2"]]}])
    sums = sorted(one_layer_groups(net, 0).values())
    jump = 1 - fmpq(Fraction(s).numerator, Fraction(s).denominator)
    assert sums == sorted([2 * jump, 2 * jump, -jump])
    convex, w = one_layer(net, 0)
    assert convex == (jump == 0)  # only the identity (s = 1) makes every group's sum 0
    if not convex:
        assert violates(net, w)
        # the witness sits across a failing group's hyperplane: x = -1 when 1 - s > 0, else x = 0 or x = 1
        mid = [(a + b) / 2 for a, b in zip(w["x"], w["y"])]
        assert mid == [-1] if jump > 0 else mid in ([0], [1])
    assert line_truth(net, 0, [([0], [1])]) == convex


@settings(max_examples=scaled(40), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(2, 2), width_range=(1, 4), slopes=slopes()), st.integers(0, 2**32))
def test_one_layer_closed_form_agrees_with_regions_and_lines(network, seed):
    convex, w = one_layer(network, 0)
    r = check(network, method="regions")
    assert convex == r.convex
    if not convex:
        assert violates(network, w)
        # on the failing group's hyperplane: the midpoint is on a hyperplane with a negative sum
        mid = [(a + b) / 2 for a, b in zip(w["x"], w["y"])]
        d = network.input_dim
        bad = [key for key, total in one_layer_groups(network, 0).items() if total < 0]
        assert any(sum(key[i] * mid[i] for i in range(d)) + key[d] == 0 for key in bad)
    else:
        lines = oracle.random_lines(network.input_dim, random.Random(seed), n=4)
        assert line_truth(network, 0, lines)


# ----- the float search's forward pass ---------------------------------------------------------

@settings(max_examples=scaled(20), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3), slopes=slopes()))
def test_float_forward_pass_matches_exact_evaluation(network):
    import numpy as np

    from exactconvex.graph.floatsearch import float_forward, float_layers

    X = np.array([[(i * 0.37 - 1.1) * (j + 1) for j in range(network.input_dim)] for i in range(7)])
    F = float_forward(float_layers(network), X, [float(s) for s in network.slopes])
    for row, x in zip(F, X):
        exact = network.evaluate([float(v) for v in x])
        assert np.allclose(row, [float(v) for v in exact], rtol=1e-9, atol=1e-9)


def test_search_finds_a_leaky_violation_far_out():
    # -max(z, z/2) with z = x - 5000 is concave at x = 5000 (the search scales its lines)
    net = Network.from_lists(1, [{"weight": [[1]], "bias": [-5000], "slope": "1/2"},
                                 {"weight": [[1]], "slope": "1/2"}, {"weight": [[-1]]}])
    found = search_violation(net, [0], lines=200)
    assert 0 in found and violates(net, found[0])
    relu = Network.from_lists(1, [{"weight": [[1]], "bias": [-5000]}, {"weight": [[1]]}, {"weight": [[1]]}])
    assert search_violation(relu, [0], lines=200) == {}  # ReLU(ReLU(x - 5000)) is convex


# ----- verdicts against the lines --------------------------------------------------------------

@settings(max_examples=scaled(60), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), slopes=slopes()), st.integers(0, 2**32))
def test_leaky_verdicts_agree_with_exact_line_restrictions(network, seed):
    v = check(network, certificate=True)
    r = check(network, method="regions", certificate=True)
    assert v.convex == r.convex
    rng = random.Random(seed)
    d = network.input_dim
    if v.convex:
        lines = oracle.random_lines(d, rng, n=6) + oracle.certificate_lines(r.certificate, rng, per_point=1)[:20]
        assert line_truth(network, 0, lines)
    else:
        assert violates(network, v.witness) and violates(network, r.witness)
    if d == 1:  # one line is all of R: the lines decide completely
        assert line_truth(network, 0, [([0], [1])]) == v.convex
    for cert in (v.certificate, r.certificate):
        result = verify(cert, network=network)
        assert result.valid, result.reason


@settings(max_examples=scaled(25), deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 4), width_range=(1, 3), slopes=slopes()))
def test_bends_match_the_slope_changes_on_the_real_line(network):
    # d = 1 (after restricting to x_2 = 0 for d = 2): every facet bend has the sign of the slope change there
    if network.input_dim == 2:
        from exactconvex.icnn import restrict_to_line

        network = restrict_to_line(network, [0, 0], [1, 0])
    G = regions(network)
    changes = dict(oracle.slope_changes(network_to_dict(network), 0, [0], [1]))
    seen = set()
    for *_, data in G.edges(data=True):
        t = Fraction(int(data["point"][0].p), int(data["point"][0].q))
        b = data["bend"]
        assert (b > 0) == (changes.get(t, 0) > 0) and (b < 0) == (changes.get(t, 0) < 0)
        seen.add(t)
    assert set(changes) <= seen


@pytest.mark.parametrize("s", ["1", "1/2", "2"])
def test_identity_and_concave_slopes_give_exact_verdicts(s):
    # with s = 1 every neuron is the identity: the network is affine, no facet bends
    net = Network.from_lists(2, [{"weight": [[1, 2], [-1, 1], [0, 1]], "bias": [1, 0, -1], "slope": s},
                                 {"weight": [[1, -1, 2]], "bias": [1], "slope": s}, {"weight": [[-1]]}])
    G = regions(net)
    if s == "1":
        assert all(b == 0 for *_, b in G.edges(data="bend"))
        assert check(net).convex and check(net.negate()).convex
    v = check(net, certificate=True)
    assert v.convex == all(b >= 0 for *_, b in G.edges(data="bend"))
    assert verify(v.certificate, network=net).valid


# ----- the command line -----------------------------------------------------------------------

def test_cli_check_and_conditions_on_the_issue_model(tmp_path):
    import json

    from strategies import run_cli

    path = tmp_path / "leaky.json"
    path.write_text(json.dumps(ISSUE_MODEL))
    r = run_cli("check", path, "--json", "--cert", tmp_path / "cert.json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["convex"] is False
    w = {k: out["witness"][k] for k in ("output", "x", "y", "lambda")}
    assert oracle.violates(ISSUE_MODEL, w)
    assert verify(json.loads((tmp_path / "cert.json").read_text()), network=network_from_dict(ISSUE_MODEL)).valid
    r = run_cli("conditions", path, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["slopes"] == {"s_1": "1/2", "s_2": "1/2"}
