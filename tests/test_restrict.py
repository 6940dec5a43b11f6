"""The restriction of a network to a plane (or line, or any affine subspace) is a network.

``restrict_to_plane(net, p, u, v)`` must compute f(p + a u + b v) exactly, with the same
neurons (so the same activation pattern at corresponding points), for ReLU and LeakyReLU
networks with skips from the input and between hidden layers.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import networks, points, rationals, scaled, slopes

from exactconvex import Network, to_q
from exactconvex.network import NetworkError
from exactconvex.network.restrict import parse_plane, restrict_affine, restrict_to_line, restrict_to_plane


def _on_plane(p, u, v, a, b):
    return [Fraction(pi) + a * Fraction(ui) + b * Fraction(vi) for pi, ui, vi in zip(p, u, v)]


def _independent(u, v) -> bool:
    return any(u[i] * v[j] != u[j] * v[i] for i in range(len(u)) for j in range(i + 1, len(u)))


@st.composite
def network_and_plane(draw, extreme=False, leaky=True):
    net = draw(networks(d_range=(2, 4), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=(1, 2),
                        extreme=extreme, slopes=slopes() if leaky else None))
    d = net.input_dim
    p, u, v = draw(points(d, extreme=extreme)), draw(points(d)), draw(points(d))
    assume(_independent(u, v))
    return net, p, u, v


@settings(max_examples=scaled(60))
@given(network_and_plane(), st.lists(st.tuples(rationals(), rationals()), min_size=1, max_size=4))
def test_plane_restriction_equals_the_network_on_the_plane(case, ab_list):
    net, p, u, v = case
    plane = restrict_to_plane(net, p, u, v)
    assert plane.input_dim == 2
    assert plane.num_outputs == net.num_outputs
    for a, b in ab_list:
        x = _on_plane(p, u, v, a, b)
        assert plane.evaluate([a, b]) == net.evaluate(x)
        # the same neurons: the plane's regions are the traces of the network's regions
        assert plane.pattern([a, b]) == net.pattern(x)


@settings(max_examples=scaled(25))
@given(network_and_plane(extreme=True), st.tuples(rationals(extreme=True), rationals(extreme=True)))
def test_plane_restriction_with_huge_and_tiny_numbers(case, ab):
    net, p, u, v = case
    a, b = ab
    assert restrict_to_plane(net, p, u, v).evaluate([a, b]) == net.evaluate(_on_plane(p, u, v, a, b))


@settings(max_examples=scaled(30))
@given(network_and_plane())
def test_restriction_keeps_slopes_hidden_layers_and_skip_sources(case):
    net, p, u, v = case
    plane = restrict_to_plane(net, p, u, v)
    assert plane.slopes == net.slopes
    assert plane.hidden_widths == net.hidden_widths
    for a, b in zip(net.layers, plane.layers):
        assert set(a.skip) == set(b.skip)
        for k in a.skip:
            if k >= 1:  # connections between hidden layers do not see the input: unchanged
                assert a.skip[k] == b.skip[k]
    for l in range(1, net.depth):  # hidden-to-hidden weights unchanged
        assert net.layers[l].weight == plane.layers[l].weight


@settings(max_examples=scaled(30))
@given(st.data())
def test_affine_subspaces_of_any_dimension(data):
    net = data.draw(networks(d_range=(1, 3), depth_range=(1, 3), slopes=slopes()))
    d = net.input_dim
    k = data.draw(st.integers(1, 3))
    point = data.draw(points(d))
    directions = [data.draw(points(d)) for _ in range(k)]
    t = data.draw(points(k))
    sub = restrict_affine(net, point, directions)
    x = [Fraction(pi) + sum(Fraction(ti) * Fraction(di[j]) for ti, di in zip(t, directions))
         for j, pi in enumerate(point)]
    assert sub.input_dim == k
    assert sub.evaluate(t) == net.evaluate(x)


def test_leaky_relu_and_input_skips_by_hand():
    # f(x) = LeakyReLU_{1/2}(x1 - x2 + x3) + ReLU-free skip 3 x1 into the output
    net = Network.from_lists(3, [{"weight": [[1, -1, 1]], "bias": [0], "slope": "1/2"},
                                 {"weight": [[2]], "bias": [1], "skip": {0: [[3, 0, 0]]}}])
    plane = restrict_to_plane(net, ["1/2", 0, 0], [1, 0, 0], [0, 1, 0])
    # on the plane x = (1/2 + a, b, 0): z = 1/2 + a - b
    assert plane.evaluate([0, 1]) == (to_q(2 * Fraction(-1, 4) + 1 + Fraction(3, 2)),)
    assert plane.evaluate([1, 0]) == (to_q(2 * Fraction(3, 2) + 1 + Fraction(9, 2)),)
    assert plane.slopes == net.slopes
    assert 0 in plane.layers[1].skip


def test_line_restriction():
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])
    line = restrict_to_line(net, [0, 0], [1, 2])
    assert [line.evaluate([t])[0] for t in (-1, 0, 3)] == [net.evaluate([t, 2 * t])[0] for t in (-1, 0, 3)]
    with pytest.raises(NetworkError, match="zero"):
        restrict_to_line(net, [0, 0], [0, 0])


@pytest.mark.parametrize("u, v", [([1, 2, 3], [2, 4, 6]), ([0, 0, 0], [1, 0, 0]), ([1, 0, 0], [-3, 0, 0])])
def test_dependent_directions_are_refused(u, v):
    net = Network.from_lists(3, [{"weight": [[1, 1, 1]]}, {"weight": [[1]]}])
    with pytest.raises(NetworkError, match="linearly dependent"):
        restrict_to_plane(net, [0, 0, 0], u, v)


def test_wrong_lengths_are_refused():
    net = Network.from_lists(3, [{"weight": [[1, 1, 1]]}, {"weight": [[1]]}])
    with pytest.raises(NetworkError, match="expected 3"):
        restrict_to_plane(net, [0, 0], [1, 0, 0], [0, 1, 0])
    with pytest.raises(NetworkError, match="expected 3"):
        restrict_to_plane(net, [0, 0, 0], [1, 0, 0, 0], [0, 1, 0])


def test_parse_plane():
    def exact(*vectors):
        return tuple([to_q(v) for v in vec] for vec in vectors)

    assert parse_plane("0,0,1/2;1,0,0;0,-1,2.5") == exact([0, 0, "1/2"], [1, 0, 0], [0, -1, "5/2"])
    assert parse_plane(" 1, 2 ; 3,4 ;5,6", d=2) == exact([1, 2], [3, 4], [5, 6])
    for bad, what in [("0,0;1,0", "three parts"), ("0,0;1,0;0,1;1,1", "three parts"), ("0,x;1,0;0,1", "P"),
                      ("0,0;1,0;0,1,2", "different numbers"), ("0,0;1,;0,1", "U"), ("1/0,0;1,0;0,1", "P")]:
        with pytest.raises(ValueError, match=what):
            parse_plane(bad)
    with pytest.raises(ValueError, match="input dimension is 3"):
        parse_plane("0,0;1,0;0,1", d=3)
