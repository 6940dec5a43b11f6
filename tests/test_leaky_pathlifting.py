"""LeakyReLU in the path-lifting: an off neuron contributes its layer's slope s to a path product,
the kink of neuron nu is (1 - s_nu) times the downstream path sum, and the symbolic conditions
carry the slope as a symbol s_l (or its value when given)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from exactconvex import Network, network_from_dict, network_to_dict
from exactconvex.decide import check
from exactconvex.pathlifting import (Architecture, conditions, conditions_for_architecture, downstream_patterns,
                                     path_lifting, path_sum, symbolic_path_sum)
from strategies import networks, points, scaled, slopes

ISSUE_MODEL = {"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [
    {"weight": [[2], [1]], "bias": [0, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-2, 0]]}]}

FAST = settings(max_examples=scaled(30), deadline=None)


def R(q) -> sympy.Rational:
    return sympy.Rational(int(q.p), int(q.q))


def paths_by_hand(net: Network, neuron, pattern, k: int) -> fmpq:
    """c_nu(D) by enumerating the paths of the network directly (no package code): every path from
    the neuron's output to output k, its weights times 1 per later on neuron and s_l per off one."""
    L = net.depth
    states = {neuron[0] + 1 + i: s for i, s in enumerate(pattern)}
    total = fmpq(0)

    def walk(layer, unit, product):
        nonlocal total
        for target in range(layer + 1, L + 1):
            T = net.layers[target - 1]
            M = T.weight if target == layer + 1 else T.skip.get(layer)
            if M is None:
                continue
            for i in range(M.nrows()):
                w = M[i, unit]
                if w == 0:
                    continue
                if target == L:
                    if i == k:
                        total += product * w
                    continue
                gate = 1 if states[target][i] else T.slope
                if gate != 0:
                    walk(target, i, product * w * gate)

    walk(neuron[0], neuron[1], fmpq(1))
    return total


# ----- the path-lifting sums to f ---------------------------------------------------------------

@FAST
@given(st.data())
def test_leaky_path_lifting_sums_to_f(data):
    net = data.draw(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2), slopes=slopes()))
    phi = path_lifting(net)
    x = data.draw(points(net.input_dim))
    for k in range(net.num_outputs):
        assert phi.evaluate(x, k) == net.evaluate(x)[k]
    subs = phi.substitution
    assert set(subs) == set(phi.symbols.values())
    leaky = {f"s_{l}" for l, s in enumerate(net.slopes, 1) if s != 0}
    assert leaky == {name for name in phi.symbols if name.startswith("s_")}
    for name in leaky:
        assert subs[sympy.Symbol(name)] == R(net.layers[int(name[2:]) - 1].slope)


def test_gate_factor_is_the_product_of_slopes_of_off_gates():
    net = network_from_dict(ISSUE_MODEL)
    phi = path_lifting(net)
    [p] = [p for p in phi.paths if p.nodes == ((0, 0), (1, 0), (2, 0), (3, 0))]
    assert p.gate_factor(net, (0, 0, 0, 0)) == fmpq(1, 4)
    assert p.gate_factor(net, (1, 0, 0, 0)) == fmpq(1, 2)
    assert p.gate_factor(net, (1, 0, 1, 0)) == 1 and p.active(net, (1, 0, 1, 0))


# ----- conditions of a network -------------------------------------------------------------------

def test_issue_model_conditions_name_the_concave_neuron():
    net = network_from_dict(ISSUE_MODEL)
    report = conditions(net)
    assert not report.all_hold
    [bad] = report.failing
    # neuron 0 of layer 2 kinks by (1 - s_2) * v_1 = (1/2) * (-2) < 0
    assert bad.neuron == (2, 0) and bad.value == -1
    assert bad.expression == sympy.sympify("v_1*(1 - s_2)")
    assert report.slopes == {"s_1": fmpq(1, 2), "s_2": fmpq(1, 2)}
    assert report.to_json()["slopes"] == {"s_1": "1/2", "s_2": "1/2"}
    assert "s_2 = 1/2" in report.to_text() and "s_{2}" in report.to_latex()


def test_relu_networks_print_exactly_as_before():
    net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[2, -3]]}])
    report = conditions(net)
    assert [str(c.expression) for c in report] == ["v_1 + v_2"]
    assert "slopes" not in report.to_json() and "s_" not in report.to_text()
    assert all(t.jump == 1 and t.jump_expression is None for c in report for t in c.terms)


@pytest.mark.parametrize("s", ["1/100", "1/2", "1", "2", "-1"])
def test_one_neuron_condition_is_one_minus_s_times_v(s):
    net = Network.from_lists(1, [{"weight": [[1]], "bias": [-1], "slope": s}, {"weight": [[3]]}])
    report = conditions(net)
    jump = 1 - fmpq(Fraction(s).numerator, Fraction(s).denominator)
    if jump == 0:  # the identity: no kink, the one facet bends by 0
        [c] = report.conditions
        assert c.value == 0 and c.holds
    else:
        [c] = report.conditions
        assert c.value == 3 * jump and c.holds == (jump > 0)
        assert c.expression == sympy.sympify("v_1*(1 - s_1)")
    assert report.all_hold == check(net, method="regions").convex


@settings(max_examples=scaled(30), deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 4), width_range=(1, 3), outputs=(1, 2), slopes=slopes()))
def test_leaky_conditions_are_the_bends_and_substitute_to_their_values(net):
    subs = path_lifting(net).substitution
    for k in range(net.num_outputs):
        report = conditions(net, k)
        assert report.all_hold == check(net.select_output(k), method="regions").convex
        for c in report:
            assert c.expression.xreplace(subs) == R(c.value)
            for f in c.facets:
                assert c.value * f.normal_sq == f.bend
            for t in c.terms:
                assert t.path_sum == paths_by_hand(net, t.neuron, t.pattern, k)
                assert t.expression.xreplace(subs) == R(t.path_sum)
                assert t.jump == 1 - net.layers[t.neuron[0] - 1].slope
                assert (1 if t.jump_expression is None else t.jump_expression.xreplace(subs)) == R(t.jump)
        if net.input_dim == 1:  # the failing conditions are the concave kinks of f on R
            concave = any(c < 0 for _, c in oracle.slope_changes(network_to_dict(net), k, [0], [1]))
            assert concave == (not report.all_hold)


# ----- the family of an architecture ----------------------------------------------------------

def test_architecture_with_symbolic_and_given_slopes():
    fam = conditions_for_architecture(1, [1, 1], slopes="symbolic")
    W, v, s1, s2 = sympy.symbols("W2_1_1 v_1 s_1 s_2")
    assert [c.expression for c in fam] == [sympy.expand((1 - s1) * W * s2 * v), sympy.expand((1 - s1) * W * v),
                                           sympy.expand((1 - s2) * v)]
    given_ = conditions_for_architecture(1, [1, 1], slopes=["1/2", None])
    assert [c.expression for c in given_] == [c.expression.subs(s1, sympy.Rational(1, 2)) for c in fam]
    relu = conditions_for_architecture(1, [1, 1])
    assert [c.expression for c in conditions_for_architecture(1, [1, 1], slopes=[0, 0])] == \
        [c.expression for c in relu] == [c.expression.subs({s1: 0, s2: 0}) for c in fam]
    assert fam.to_json()["architecture"]["slopes"] == ["s_1", "s_2"]
    assert "slopes" not in relu.to_json()["architecture"]
    with pytest.raises(ValueError, match="one entry per hidden layer"):
        conditions_for_architecture(1, [1, 1], slopes=["1/2"])


@settings(max_examples=scaled(30), deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 4), width_range=(1, 2), skips=True, slopes=slopes()))
def test_architecture_family_with_slopes_substitutes_to_the_kinks(net):
    skips = [(l, k) for l, layer in enumerate(net.layers, 1) for k in layer.skip]
    arch = Architecture.of_network(net)
    weights = {arch.symbol(key): R(v) for key, v in
               ((key, _value(net, key)) for key in arch.parameters())}
    slope_subs = {sympy.Symbol(f"s_{l}"): R(s) for l, s in enumerate(net.slopes, 1)}
    symbolic = conditions_for_architecture(net.input_dim, net.hidden_widths, skips, slopes="symbolic")
    valued = conditions_for_architecture(net.input_dim, net.hidden_widths, skips, slopes=net.slopes)
    assert len(symbolic) == len(valued) == sum(len(downstream_patterns(arch, nu)) for nu in net.hidden_neurons)
    for a, b in zip(symbolic, valued):
        jump = 1 - net.layers[a.neuron[0] - 1].slope
        expected = R(jump * path_sum(net, a.neuron, a.pattern))
        assert a.expression.xreplace({**weights, **slope_subs}) == expected
        assert b.expression.xreplace(weights) == expected
        assert sympy.expand(a.expression.xreplace(slope_subs) - b.expression) == 0
        assert symbolic_path_sum(arch, a.neuron, a.pattern, slopes=net.slopes).xreplace(weights) == \
            R(paths_by_hand(net, a.neuron, a.pattern, 0))


def _value(net, key):
    from exactconvex.pathlifting.arch import network_value

    return network_value(net, key)


def test_conditions_with_slope_values_instead_of_symbols():
    net = network_from_dict(ISSUE_MODEL)
    symbolic = conditions(net)
    valued = conditions(net, slope_symbols=False)
    subs = {sympy.Symbol("s_1"): sympy.Rational(1, 2), sympy.Symbol("s_2"): sympy.Rational(1, 2)}
    assert [c.value for c in valued] == [c.value for c in symbolic]
    for a, b in zip(symbolic, valued):
        assert sympy.expand(a.expression.xreplace(subs) - b.expression) == 0
        assert not b.expression.free_symbols & set(subs)
    assert "s_" not in str([str(c.expression) for c in valued])
