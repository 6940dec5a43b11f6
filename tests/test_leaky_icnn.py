"""LeakyReLU in the ICNN tools: equivalence (f - g stacked when slopes conflict), to-icnn of a
one-hidden-layer LeakyReLU network (a ReLU ICNN of the same width), line restrictions and the
counterexample search with slopes."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from flint import fmpq, fmpq_mat
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
import exactconvex
from exactconvex import Network, network_from_dict, network_to_dict
from exactconvex.checker import verify
from exactconvex.icnn import (NotConvexError, equivalent, kink_changes, restrict_to_line, search_counterexample,
                              to_icnn)
from exactconvex.icnn.search import Layout, _random_params, exact_kinks, screen
from exactconvex.network import Layer
from strategies import networks, points, scaled, slopes

ISSUE_MODEL = {"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [
    {"weight": [[2], [1]], "bias": [0, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-2, 0]]}]}


def relu_with_skips(net: Network) -> Network:
    """The ReLU network computing the same function: every leaky layer l (slope s) becomes a ReLU
    layer r_l = ReLU(z_l), and its consumers get (1 - s) times its weights on r_l plus s times its
    pre-activation z_l, written through skips from z_l's own sources (recursively rewritten) and a
    bias.  Built here, independently of the package's conversions."""
    d, L = net.input_dim, net.depth
    eye = fmpq_mat(d, d)
    for i in range(d):
        eye[i, i] = 1
    # rep[k] = ({j: M_j}, c): the original h_k = sum_j M_j r_j + c, r_0 = x, r_j the new ReLU outputs
    rep = {0: ({0: eye}, fmpq_mat(d, 1))}
    layers = []
    for l, layer in enumerate(net.layers, start=1):
        n = layer.width
        coef, const = {}, fmpq_mat(layer.bias)
        for src, M in [(l - 1, layer.weight)] + list(layer.skip.items()):
            terms, c = rep[src]
            for j, A in terms.items():
                coef[j] = coef[j] + M * A if j in coef else M * A
            const += M * c
        W = coef.pop(l - 1, fmpq_mat(n, net.widths[l - 1]))
        skips = {j: A for j, A in sorted(coef.items()) if any(v != 0 for v in A.entries())}
        layers.append(Layer(W, const, skips))
        if l < L:
            s = layer.slope
            ident = fmpq_mat(n, n)
            for i in range(n):
                ident[i, i] = 1 - s
            terms = {j: A * s for j, A in coef.items()}
            terms[l - 1] = W * s
            terms[l] = ident
            rep[l] = ({j: A for j, A in terms.items() if any(v != 0 for v in A.entries())}, const * s)
    return Network(d, layers)


@settings(max_examples=scaled(40), deadline=None)
@given(st.data())
def test_leaky_network_equals_its_relu_rewriting(data):
    net = data.draw(networks(d_range=(1, 2), depth_range=(2, 4), width_range=(1, 3), outputs=(1, 2),
                             slopes=slopes()))
    relu = relu_with_skips(net)
    assert relu.is_relu and relu.hidden_widths == net.hidden_widths
    x = data.draw(points(net.input_dim))
    assert relu.evaluate(x) == net.evaluate(x)  # the construction itself, at one point
    r = exactconvex.equivalent(net, relu)
    assert r.equivalent and r.point is None
    result = verify(r.certificate)
    assert result.valid, result.reason
    # change one slope: now they differ, at an exact point
    if any(s != 0 for s in net.slopes):
        l = next(l for l, s in enumerate(net.slopes, 1) if s != 0)
        other = Network(net.input_dim, [Layer(L.weight, L.bias, L.skip, L.slope + 1 if i == l else L.slope)
                                        for i, L in enumerate(net.layers, 1)])
        r = equivalent(other, relu)
        if not r.equivalent:
            assert other.evaluate(r.point)[r.output] == r.f_value != r.g_value == relu.evaluate(r.point)[r.output]


def test_equivalence_when_slopes_conflict_stacks_the_networks():
    f = network_from_dict(ISSUE_MODEL)
    g = relu_with_skips(f)
    r = equivalent(f, g)
    assert r.equivalent
    h = network_from_dict(r.certificate["network"])
    assert h.depth == 5 and h.slopes == [fmpq(1, 2), fmpq(1, 2), 0, 0]  # f's hidden layers, then g's
    assert verify(r.certificate).valid
    # a network with different slopes is a different function: a rational point shows it
    half = dict(ISSUE_MODEL, layers=[dict(ISSUE_MODEL["layers"][0], activation={"leaky_relu": "1/3"})]
                + ISSUE_MODEL["layers"][1:])
    r = equivalent(network_from_dict(half), f)
    assert not r.equivalent and r.f_value != r.g_value
    assert oracle.evaluate(half, r.point)[r.output] == Fraction(int(r.f_value.p), int(r.f_value.q))


# ----- to-icnn -------------------------------------------------------------------------------

@pytest.mark.parametrize("s", ["0", "1/100", "1/2", "1", "2", "-1"])
def test_to_icnn_of_a_leaky_layer_is_a_relu_icnn_of_the_same_width(s):
    # sigma(x) + sigma(-x) + (sigma(x - 1) + sigma(1 - x))/4 + 2 (sigma(x + 1) + sigma(-x - 1)), sigma leaky:
    # (1 - s) (|x| + |x - 1|/4 + 2|x + 1|), convex iff s <= 1
    net = Network.from_lists(1, [{"weight": [[1], [-1], [1], [-1], [1], [-1]], "bias": [0, 0, -1, 1, 1, -1],
                                  "slope": s},
                                 {"weight": [[1, 1, "1/4", "1/4", 2, 2]], "bias": [3]}])
    convex = exactconvex.check(net).convex
    assert convex == (Fraction(s) <= 1) == oracle.convex_on_line(network_to_dict(net), 0, [0], [1])
    if not convex:
        with pytest.raises(NotConvexError) as info:
            to_icnn(net)
        w = info.value.witness
        assert oracle.violates(network_to_dict(net), {"output": w["output"], "x": [str(v) for v in w["x"]],
                                                      "y": [str(v) for v in w["y"]], "lambda": str(w["lambda"])})
        return
    conv = to_icnn(net)
    icnn = conv.network
    assert icnn.is_relu and icnn.is_icnn() and icnn.hidden_widths == net.hidden_widths
    assert conv.equivalence.equivalent
    assert verify(conv.certificate).valid
    for x in (-3, "-1/2", 0, "1/3", 1, 7):
        assert icnn.evaluate([x]) == net.evaluate([x])


@settings(max_examples=scaled(30), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(2, 2), width_range=(1, 4), outputs=(1, 2), slopes=slopes()))
def test_to_icnn_on_random_leaky_layers(net):
    convex = exactconvex.check(net).convex
    try:
        conv = to_icnn(net)
    except NotConvexError as exc:
        assert not convex
        w = exc.witness
        mid = [w["lambda"] * a + (1 - w["lambda"]) * b for a, b in zip(w["x"], w["y"])]
        k = w["output"]
        assert net.evaluate(mid)[k] > w["lambda"] * net.evaluate(w["x"])[k] + (1 - w["lambda"]) * net.evaluate(w["y"])[k]
        return
    assert convex
    assert conv.network.is_relu and conv.network.is_icnn() and conv.network.hidden_widths == net.hidden_widths
    assert verify(conv.certificate).valid


# ----- lines -------------------------------------------------------------------------------------

@settings(max_examples=scaled(40), deadline=None)
@given(st.data())
def test_line_restriction_with_slopes_matches_the_oracle(data):
    net = data.draw(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2),
                             slopes=slopes()))
    p = data.draw(points(net.input_dim))
    u = data.draw(points(net.input_dim).filter(any))
    doc = network_to_dict(net)
    for k in range(net.num_outputs):
        mine = [(Fraction(int(t.p), int(t.q)), Fraction(int(c.p), int(c.q))) for t, c in kink_changes(net, p, u, k)]
        assert mine == oracle.slope_changes(doc, k, [Fraction(v) for v in p], [Fraction(v) for v in u])
    line = restrict_to_line(net, p, u)
    assert line.slopes == net.slopes
    for t in (-2, 0, Fraction(1, 3), 5):
        assert line.evaluate([t]) == net.evaluate([Fraction(a) + t * Fraction(b) for a, b in zip(p, u)])


def test_search_screen_and_networks_carry_the_slopes():
    import numpy as np

    rng = np.random.default_rng(3)
    for arch, skips, sl in [([1, 2, 1, 1], "all", ["1/2", "1/4"]), ([1, 3, 2, 1], "none", ["1/100", "1"]),
                            ([1, 2, 2, 1], "input", ["2", "-1"])]:
        layout = Layout(arch, skips, sl)
        theta = _random_params(rng, layout, 200)
        kinks, concave = screen(layout, theta)
        assert layout.network(theta[0]).slopes == [fmpq(Fraction(s).numerator, Fraction(s).denominator) for s in sl]
        agree = sum(exact_kinks(layout.network(theta[i])) == (kinks[i], concave[i] == 0) for i in range(60))
        assert agree >= 56  # floats only screen; exactness comes from the confirmation


def test_search_with_slopes_confirms_exactly():
    res = search_counterexample([1, 2, 2, 1], seed=1, budget=3.0, slopes=["1/2", "1/2"])
    assert res.summary()["slopes"] == ["1/2", "1/2"]
    if res.found:  # whatever it found is convex with more kinks than the bound, by the oracle
        doc = network_to_dict(res.network)
        changes = oracle.slope_changes(doc, 0, [0], [1])
        assert all(c > 0 for _, c in changes) and len(changes) > res.bound
        assert res.network.slopes == [fmpq(1, 2), fmpq(1, 2)]


# ----- the kink bound for LeakyReLU ICNNs --------------------------------------------------------

@st.composite
def leaky_icnns(draw):
    """ICNN structure with LeakyReLU: weights out of hidden layers >= 0, slope <= 1 on layer 1 and in
    [0, 1] after it (convex, and nondecreasing where the input is convex)."""
    from strategies import network_dicts

    d, layers = draw(network_dicts(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3)))
    for l, layer in enumerate(layers, start=1):
        if l < len(layers):
            layer["slope"] = draw(slopes().filter(lambda s: s <= 1 if l == 1 else 0 <= s <= 1))
        if l >= 2:
            layer["weight"] = [[abs(v) for v in row] for row in layer["weight"]]
        for k in layer.get("skip", {}):
            if int(k) >= 1:
                layer["skip"][k] = [[abs(v) for v in row] for row in layer["skip"][k]]
    return Network.from_lists(d, layers)


@settings(max_examples=scaled(60), deadline=None)
@given(leaky_icnns(), st.data())
def test_the_kink_bound_holds_for_leaky_icnns(f, data):
    from exactconvex.icnn import icnn_kink_bound

    assert f.is_icnn()
    p = data.draw(points(f.input_dim))
    u = data.draw(points(f.input_dim).filter(any))
    changes = oracle.slope_changes(network_to_dict(f), 0, [Fraction(v) for v in p], [Fraction(v) for v in u])
    assert len(changes) <= icnn_kink_bound(f.hidden_widths)
    assert all(c > 0 for _, c in changes)
