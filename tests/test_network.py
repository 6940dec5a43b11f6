"""The exact network model: evaluation checked against hand computations and against an
independent reference evaluator, local affine maps, and derived networks (negate,
select_output, scale_outputs, difference/combine)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from flint import fmpq, fmpq_mat
from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex import Network, load
from exactconvex.network import Layer, NetworkError, combine
from exactconvex.numbers import to_fraction
from strategies import network_dicts, network_pairs, networks, patterns, points, rationals, scaled

REPO = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = REPO / "examples" / "networks" / "spec_example.json"


def ev(net: Network, x) -> tuple:
    """Outputs as Fractions (fmpq does not compare equal to Fraction)."""
    return tuple(to_fraction(v) for v in net.evaluate(x))


def reference_evaluate(layers, x) -> tuple:
    """The semantics of network-format.md, written out with Fractions and loops, independently of the model."""
    h = [[Fraction(v) for v in x]]
    z = []
    for l, layer in enumerate(layers, start=1):
        W = layer["weight"]
        b = layer.get("bias") or [0] * len(W)
        z = [sum((Fraction(W[i][j]) * h[l - 1][j] for j in range(len(h[l - 1]))), Fraction(0)) + Fraction(b[i])
             for i in range(len(W))]
        for k, S in (layer.get("skip") or {}).items():
            k = int(k)
            z = [z[i] + sum((Fraction(S[i][j]) * h[k][j] for j in range(len(h[k]))), Fraction(0)) for i in range(len(W))]
        if l < len(layers):
            h.append([max(v, Fraction(0)) for v in z])
    return tuple(z)


def apply(affine: tuple[fmpq_mat, fmpq_mat], x) -> tuple[Fraction, ...]:
    G, g = affine
    col = fmpq_mat(len(x), 1, [fmpq(v.numerator, v.denominator) for v in x])
    return tuple(to_fraction(v) for v in (G * col + g).entries())


# ----- hand computations --------------------------------------------------------------------------

def test_spec_example_by_hand():
    net = load(SPEC_EXAMPLE)
    # x = (0, 0): z1 = (0 - 0 + 0, 0 - 3/4, 0 + 2) = (0, -3/4, 2), h1 = (0, 0, 2)
    #   z2 = W2 h1 + S x + b2 = (0 + 2*0 + 0, -0 + 2) + (0, 0) + (0, 1) = (0, 3), h2 = (0, 3)
    #   f = 1*0 + 5/2 * 3 = 15/2
    assert ev(net, [0, 0]) == (Fraction(15, 2),)
    # x = (1, 2): z1 = (1 - 2, 1/2 - 3/4, 6 + 2) = (-1, -1/4, 8), h1 = (0, 0, 8)
    #   z2 = (0 + 0 + 0, -0 + 8) + (x2, x1) + (0, 1) = (0 + 2, 8 + 1 + 1) = (2, 10)
    #   f = 2 + 5/2 * 10 = 27
    assert ev(net, [1, 2]) == (Fraction(27),)
    # x = (-2, 1): z1 = (-3, -1 - 3/4, 3 + 2) = (-3, -7/4, 5), h1 = (0, 0, 5)
    #   z2 = (0, 5) + (1, -2) + (0, 1) = (1, 4), f = 1 + 5/2 * 4 = 11
    assert ev(net, [-2, 1]) == (Fraction(11),)
    # x = (1/2, -1/3): z1 = (5/6, 1/4 - 3/4, -1 + 2) = (5/6, -1/2, 1), h1 = (5/6, 0, 1)
    #   z2 = (5/6 + 0 + 0, -0 + 1) + (-1/3, 1/2) + (0, 1) = (1/2, 5/2), f = 1/2 + 25/4 = 27/4
    assert ev(net, ["1/2", "-1/3"]) == (Fraction(27, 4),)
    # patterns use "on iff z > 0": at (0, 0), z1 = (0, -3/4, 2), z2 = (0, 3)
    assert net.pattern([0, 0]) == (0, 0, 1, 0, 1)
    assert net.pattern([1, 2]) == (0, 0, 1, 1, 1)
    assert net.split_pattern((0, 0, 1, 0, 1)) == [(0, 0, 1), (0, 1)]
    assert [to_fraction(v) for v in net.preactivations([0, 0])] == [0, Fraction(-3, 4), 2, 0, 3]


def test_spec_example_local_affine_by_hand():
    net = load(SPEC_EXAMPLE)
    # pattern (0,0,1 | 0,1): h1 = (0, 0, 3 x2 + 2); z2_2 = 3 x2 + 2 + x1 + 1; f = 5/2 z2_2
    la = net.local_affine((0, 0, 1, 0, 1))
    G, g = la.output
    assert [to_fraction(v) for v in G.entries()] == [Fraction(5, 2), Fraction(15, 2)]
    assert [to_fraction(v) for v in g.entries()] == [Fraction(15, 2)]
    assert la.pattern == (0, 0, 1, 0, 1) and la.pre[0] is None and len(la.pre) == net.depth + 1


def test_skip_from_input():
    # f(x) = 2 ReLU(x) - x + 1, the passthrough connection of ICNNs
    net = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[2]], "bias": [1], "skip": {0: [[-1]]}}])
    assert ev(net, [3]) == (4,)       # 6 - 3 + 1
    assert ev(net, [-2]) == (3,)      # 0 + 2 + 1
    assert ev(net, [0]) == (1,)
    assert net.is_icnn()              # input weights are free


def hidden_skip_net() -> Network:
    # h1 = (ReLU(x1), ReLU(x2 - 1)); h2 = ReLU(h1_1 - h1_2)
    # f1 = 3 h2 + h1_1 + h1_2 (skip from layer 1), f2 = -2 h1_2 + x1 + 5 (skips from layers 1 and 0)
    return Network.from_lists(2, [
        {"weight": [[1, 0], [0, 1]], "bias": [0, -1]},
        {"weight": [[1, -1]]},
        {"weight": [[3], [0]], "bias": [0, 5], "skip": {"1": [[1, 1], [0, -2]], "0": [[0, 0], [1, 0]]}},
    ])


def test_skip_from_hidden_layer_and_multiple_outputs():
    net = hidden_skip_net()
    assert net.num_outputs == 2 and net.widths == [2, 2, 1, 2] and sorted(net.layers[2].skip) == [0, 1]
    assert ev(net, [2, 4]) == (5, 1)     # h1 = (2, 3), h2 = 0: f1 = 0 + 2 + 3, f2 = -6 + 2 + 5
    assert ev(net, [5, 2]) == (18, 8)    # h1 = (5, 1), h2 = 4: f1 = 12 + 5 + 1, f2 = -2 + 5 + 5
    assert ev(net, [-1, 0]) == (0, 4)    # h1 = (0, 0), h2 = 0: f1 = 0, f2 = -1 + 5
    assert not net.is_icnn()             # -2 on a skip from hidden layer 1


def test_skip_from_hidden_layer_one_into_layer_three_fractional():
    net = hidden_skip_net()
    # x = (1/2, 3/2): h1 = (1/2, 1/2), h2 = 0, f = (1, 9/2)
    assert ev(net, ["1/2", "3/2"]) == (Fraction(1), Fraction(9, 2))


def test_multi_output():
    # outputs |x|, x, 7
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [1, -1], [0, 0]], "bias": [0, 0, 7]}])
    assert ev(net, [-3]) == (3, -3, 7)
    assert ev(net, ["5/2"]) == (Fraction(5, 2), Fraction(5, 2), 7)
    assert [ev(net.select_output(k), [-3]) for k in range(3)] == [(3,), (-3,), (7,)]
    assert ev(net.negate(), [-3]) == (-3, 3, -7)
    assert ev(net.scale_outputs("1/2"), [-3]) == (Fraction(3, 2), Fraction(-3, 2), Fraction(7, 2))
    with pytest.raises(NetworkError, match="output 3"):
        net.select_output(3)
    with pytest.raises(NetworkError):
        net.select_output(-1)


def test_affine_network():
    net = Network.from_lists(3, [{"weight": [[1, 2, 3]], "bias": ["-1/2"]}])
    assert net.num_hidden == 0 and net.hidden_widths == [] and net.pattern([1, 1, 1]) == ()
    assert ev(net, [1, 1, 1]) == (Fraction(11, 2),)
    assert apply(net.local_affine(()).output, [Fraction(1)] * 3) == (Fraction(11, 2),)


def test_inputs_of_every_exact_kind():
    net = Network.from_lists(2, [{"weight": [[1, 1]]}])
    assert ev(net, ["1/3", Fraction(1, 6)]) == (Fraction(1, 2),)
    assert ev(net, [fmpq(1, 3), "0.1"]) == (Fraction(13, 30),)
    assert ev(net, [0.1, 0]) == (Fraction(0.1),)  # a float is its exact binary value
    assert net(["1e-9", 0]) == (fmpq(1, 10**9),)


def test_shape_and_counts():
    net = load(SPEC_EXAMPLE)
    assert net.input_dim == 2 and net.depth == 3 and net.widths == [2, 3, 2, 1]
    assert net.hidden_widths == [3, 2] and net.num_hidden == 5 and net.num_outputs == 1
    assert net.hidden_neurons == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]
    assert [net.neuron_index(l, j) for l, j in net.hidden_neurons] == list(range(5))
    assert net.parameter_count() == (6 + 3) + (6 + 2 + 4) + (2 + 1)
    assert not net.is_icnn()
    assert load(REPO / "examples" / "networks" / "abs.json").is_icnn()
    assert "widths=[2, 3, 2, 1]" in repr(net)


def test_equality():
    a = load(SPEC_EXAMPLE)
    b = load(SPEC_EXAMPLE)
    assert a == b and hash(a) == hash(b)
    assert a != a.negate()
    assert a.negate().negate() == a
    assert a != "not a network"


def test_malformed_networks_and_points():
    with pytest.raises(NetworkError, match="columns"):
        Network.from_lists(2, [{"weight": [[1]]}])
    with pytest.raises(NetworkError, match="bias"):
        Network.from_lists(1, [{"weight": [[1]], "bias": [1, 2]}])
    with pytest.raises(NetworkError, match="skip source"):
        Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]], "skip": {1: [[1]]}}])
    with pytest.raises(NetworkError, match="skip from 0"):
        Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]], "skip": {0: [[1, 1]]}}])
    with pytest.raises(NetworkError, match="input_dim"):
        Network.from_lists(0, [{"weight": [[]]}])
    with pytest.raises(NetworkError, match="at least one layer"):
        Network(1, [])
    net = load(SPEC_EXAMPLE)
    with pytest.raises(NetworkError, match="coordinates"):
        net.evaluate([1])
    with pytest.raises(NetworkError, match="pattern"):
        net.local_affine((1, 1))


def test_difference_by_hand_different_depths():
    f = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])             # |x|
    g = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]]}, {"weight": [[2]], "bias": [1]}])  # 2 ReLU(x) + 1
    h = Network.from_lists(1, [{"weight": [[3]], "bias": [-1]}])                            # 3x - 1 (affine)
    diff = f.difference(g)
    assert ev(diff, [-2]) == (1,)      # 2 - 1
    assert ev(diff, [5]) == (-6,)      # 5 - 11
    mixed = combine([f, g, h], [2, "-1/2", 1])
    assert ev(mixed, [-2]) == (Fraction(4 - Fraction(1, 2) - 7),)
    assert ev(mixed, [3]) == (Fraction(6 - Fraction(7, 2) + 8),)
    with pytest.raises(NetworkError):
        combine([f, Network.from_lists(2, [{"weight": [[1, 1]]}])], [1, 1])
    with pytest.raises(NetworkError):
        combine([], [])


# ----- properties over random networks -------------------------------------------------------------

@settings(max_examples=scaled(80))
@given(st.data())
def test_evaluate_matches_reference_semantics(data):
    d, layers = data.draw(network_dicts(outputs=(1, 3), extreme=data.draw(st.booleans()), omit_bias=True))
    net = Network.from_lists(d, layers)
    x = data.draw(points(d))
    assert ev(net, x) == reference_evaluate(layers, x)


@settings(max_examples=scaled(80))
@given(st.data())
def test_local_affine_agrees_with_evaluation(data):
    net = data.draw(networks(outputs=(1, 2)))
    xs = data.draw(st.lists(points(net.input_dim), min_size=1, max_size=4))
    for x in xs:
        pattern = net.pattern(x)
        la = net.local_affine(pattern)
        zs, _ = net.forward(x)
        assert apply(la.output, x) == ev(net, x)
        for l in range(1, net.depth + 1):
            assert apply(la.pre[l], x) == tuple(to_fraction(v) for v in zs[l - 1].entries())
        # every drawn point with the same pattern is on the same affine piece
        for y in xs:
            if net.pattern(y) == pattern:
                assert apply(la.output, y) == ev(net, y)


@settings(max_examples=scaled(60))
@given(st.data())
def test_negate_select_scale(data):
    net = data.draw(networks(outputs=(1, 3), extreme=True))
    x = data.draw(points(net.input_dim, extreme=True))
    c = data.draw(rationals())
    fx = ev(net, x)
    assert ev(net.negate(), x) == tuple(-v for v in fx)
    assert ev(net.scale_outputs(c), x) == tuple(c * v for v in fx)
    for k in range(net.num_outputs):
        assert ev(net.select_output(k), x) == (fx[k],)


@settings(max_examples=scaled(80))
@given(st.data())
def test_difference_is_f_minus_g(data):
    f, g = data.draw(network_pairs(outputs=(1, 2), extreme=data.draw(st.booleans())))
    diff = f.difference(g)
    assert diff.input_dim == f.input_dim and diff.num_outputs == f.num_outputs
    assert diff.depth == max(f.depth, g.depth)
    for x in data.draw(st.lists(points(f.input_dim), min_size=1, max_size=3)):
        assert ev(diff, x) == tuple(a - b for a, b in zip(ev(f, x), ev(g, x)))
    assert ev(f.difference(f), x) == (0,) * f.num_outputs


@settings(max_examples=scaled(40))
@given(st.data())
def test_combine_is_the_linear_combination(data):
    d = data.draw(st.integers(1, 2))
    nets = data.draw(st.lists(networks(d_range=d, outputs=2), min_size=1, max_size=3))
    cs = data.draw(st.lists(rationals(), min_size=len(nets), max_size=len(nets)))
    net = combine(nets, cs)
    x = data.draw(points(d))
    expected = [sum((c * ev(n, x)[k] for c, n in zip(cs, nets)), Fraction(0)) for k in range(2)]
    assert ev(net, x) == tuple(expected)


@settings(max_examples=scaled(40))
@given(networks(outputs=(1, 2)))
def test_layers_are_immutable_values(net):
    assert isinstance(net.layers[0], Layer)
    with pytest.raises(AttributeError):
        net.layers[0].weight = None  # frozen dataclass


@settings(max_examples=scaled(100), deadline=None)
@given(st.data())
def test_flip_local_equals_recomputing_the_local_maps(data):
    # the rank-one update used by the region search must agree exactly with a fresh walk
    net = data.draw(networks(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3)))
    pattern = data.draw(patterns(net))
    neuron = data.draw(st.integers(0, net.num_hidden - 1))
    flipped = list(pattern)
    flipped[neuron] = 1 - flipped[neuron]
    updated, fresh = net.flip_local(net.local_affine(pattern), neuron), net.local_affine(flipped)
    assert updated.pattern == fresh.pattern
    for (G1, g1), (G2, g2) in zip(updated.pre[1:], fresh.pre[1:]):
        assert G1 == G2 and g1 == g2
    # flip_local caches columns of the weights on the network: it must still pickle exactly (the
    # parallel search sends networks to worker processes), and the copy must flip the same way
    import pickle

    copy = pickle.loads(pickle.dumps(net))
    assert copy == net
    again = copy.flip_local(copy.local_affine(pattern), neuron)
    assert all(G1 == G2 and g1 == g2 for (G1, g1), (G2, g2) in zip(again.pre[1:], fresh.pre[1:]))
