"""The line-restriction oracle of tests/oracle.py, tested on its own.

The oracle is the independent truth of the certificate and verdict tests, so it is checked
here against hand-computed restrictions (|x|, -|x|, LeakyReLU, skip connections, d = 1 and
d = 2), against itself (the piecewise restriction and the forward pass are two separate
computations) and, as a differential test, against the package's evaluation.
"""

from __future__ import annotations

import ast
import json
import os
import random
import subprocess
import sys
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from oracle import (NO_VIOLATION, NOT_CONVEX, convex_on_line, evaluate, line_violation, oracle_verdict,
                    parse_network, parse_network_text, restriction, slope_changes, violates)
from strategies import network_documents, scaled, slopes, small_integers

HERE = os.path.dirname(os.path.abspath(__file__))


def doc(d, layers):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers}


ABS = doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
NEG_ABS = doc(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])
# issue 12's LeakyReLU(1/2) model: f = 2x + 2 (x < -1), x + 1 (-1 < x < 0), 2x + 1 (x > 0)
HALF = {"leaky_relu": "1/2"}
LEAKY = doc(1, [{"weight": [[2], [1]], "bias": [0, -1], "activation": HALF},
                {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": HALF},
                {"weight": [[-2, 0]]}])
# max(x1, x2, 0) = u + ReLU(x2 - u), u = ReLU(x1): skips from the input and from hidden layer 1
MAX = doc(2, [{"weight": [[1, 0]]}, {"weight": [[-1]], "skip": {"0": [[0, 1]]}}, {"weight": [[1]], "skip": {"1": [[1]]}}])


# ----- hand-computed restrictions -----------------------------------------------------------

def test_abs_and_minus_abs():
    f = restriction(ABS, 0, [0], [1])
    assert f.breaks == (0,) and f.pieces == ((-1, 0), (1, 0))
    assert slope_changes(ABS, 0, [0], [1]) == [(0, 2)]
    assert convex_on_line(ABS, 0, [0], [1])
    # the line 3 - 2t crosses 0 at t = 3/2, with slope -2 then 2: change +4
    assert slope_changes(ABS, 0, [3], [-2]) == [(F(3, 2), 4)]
    assert slope_changes(NEG_ABS, 0, [0], [1]) == [(0, -2)]
    assert not convex_on_line(NEG_ABS, 0, [0], [1])
    w = line_violation(NEG_ABS, 0, [0], [1])
    assert w == {"output": 0, "x": [-1], "y": [1], "lambda": F(1, 2)}  # no other breakpoint: delta = 1
    assert violates(NEG_ABS, w) and not violates(ABS, w)
    assert line_violation(ABS, 0, [0], [1]) is None
    assert oracle_verdict(NEG_ABS, 0, [([0], [1])]) == NOT_CONVEX
    assert oracle_verdict(ABS, 0, [([0], [1])]) == NO_VIOLATION


def test_leaky_relu_model_of_issue_12():
    assert [evaluate(LEAKY, [x])[0] for x in (-2, -1, 0)] == [-2, 0, 1]  # PyTorch's own values
    f = restriction(LEAKY, 0, [0], [1])
    assert f.breaks == (-1, 0) and f.pieces == ((2, 2), (1, 1), (2, 1))
    assert slope_changes(LEAKY, 0, [0], [1]) == [(-1, -1), (0, 1)]
    w = line_violation(LEAKY, 0, [0], [1])
    assert w["x"] == [F(-3, 2)] and w["y"] == [F(-1, 2)] and violates(LEAKY, w)
    relu = json.loads(json.dumps(LEAKY).replace('{"leaky_relu": "1/2"}', '"relu"'))
    assert parse_network(relu).layers[0].slope == 0
    # with ReLU: -ReLU(2x) - 1 <= -1, so f = -2 ReLU(-ReLU(2x) - 1) = 0 everywhere
    assert restriction(relu, 0, [0], [1]).pieces == ((0, 0),) and evaluate(relu, [-2]) == (0,)


@pytest.mark.parametrize("s, changes", [(F(0), [(0, 1)]), (F(1, 2), [(0, F(1, 2))]), (F(1), []),
                                        (F(2), [(0, -1)]), (F(-1), [(0, 2)]), (F(1, 100), [(0, F(99, 100))])])
def test_one_leaky_neuron_bends_by_one_minus_the_slope(s, changes):
    net = doc(1, [{"weight": [[1]], "activation": {"leaky_relu": str(s)}}, {"weight": [[1]]}])
    assert slope_changes(net, 0, [0], [1]) == changes
    assert convex_on_line(net, 0, [0], [1]) == (s <= 1)
    assert evaluate(net, [-3]) == (-3 * s,) and evaluate(net, [3]) == (3,)


def test_skip_connections_in_two_dimensions():
    assert evaluate(MAX, [3, -1]) == (3,) and evaluate(MAX, [-2, 5]) == (5,) and evaluate(MAX, [-1, -1]) == (0,)
    assert slope_changes(MAX, 0, [0, 0], [1, -1]) == [(0, 2)]  # max(t, -t, 0) = |t|
    assert slope_changes(MAX, 0, [0, 1], [1, 0]) == [(1, 1)]  # max(t, 1, 0)
    assert slope_changes(MAX, 0, [-1, -1], [1, 1]) == [(1, 1)]  # max(t - 1, 0): both neurons switch at once
    assert slope_changes(MAX, 0, [5, 5], [0, 0]) == []  # a point is a constant "line"
    # min(x1, x2, 0) = -max(-x1, -x2, 0): the same network with the output negated is concave on every line
    neg = json.loads(json.dumps(MAX))
    neg["layers"][2] = {"weight": [[-1]], "skip": {"1": [[-1]]}}
    assert slope_changes(neg, 0, [0, 1], [1, 0]) == [(1, -1)]
    assert oracle_verdict(neg, 0, oracle.random_lines(2, random.Random(0), 3)) == NOT_CONVEX


def test_skip_from_a_hidden_layer_into_a_hidden_layer():
    # h1 = ReLU(x), h2 = ReLU(-h1 + 1), h3 = ReLU(h2 - 2 h1 + x); output h3
    net = doc(1, [{"weight": [[1]]}, {"weight": [[-1]], "bias": [1]},
                  {"weight": [[1]], "skip": {"1": [[-2]], "0": [[1]]}}, {"weight": [[1]]}])
    # x < 0: h1 = 0, h2 = 1, h3 = ReLU(1 + x): 0 below -1, 1 + x on (-1, 0)
    # 0 < x < 1: h1 = x, h2 = 1 - x, h3 = ReLU(1 - x - 2x + x) = ReLU(1 - 2x): 1 - 2x up to 1/2, then 0
    # x > 1: h2 = 0, h3 = ReLU(-x) = 0
    f = restriction(net, 0, [0], [1])
    assert f.breaks == (-1, 0, F(1, 2)) and f.pieces == ((0, 0), (1, 1), (-2, 1), (0, 0))
    assert [c for _, c in slope_changes(net, 0, [0], [1])] == [1, -3, 2]


def test_d2_generic_one_layer_and_lines_through_a_vertex():
    # f = ReLU(x1) + ReLU(x2) - ReLU(x1 + x2 - 1): on the diagonal t(1, 1): 2t for t in (0, 1/2), then 1
    net = doc(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, -1]}, {"weight": [[1, 1, -1]]}])
    assert slope_changes(net, 0, [0, 0], [1, 1]) == [(0, 2), (F(1, 2), -2)]
    assert slope_changes(net, 0, [0, 0], [1, -1]) == [(0, 2)]  # |t| through the origin, x1 + x2 = 0 < 1
    assert oracle_verdict(net, 0, [([0, 0], [1, -1])]) == NO_VIOLATION
    assert oracle_verdict(net, 0, [([0, 0], [1, -1]), ([0, 0], [1, 1])]) == NOT_CONVEX


def test_multi_output_and_all_outputs():
    two = doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [-1, -1]], "bias": [0, 7]}])
    line = [([0], [1])]
    assert oracle_verdict(two, 0, line) == NO_VIOLATION
    assert oracle_verdict(two, 1, line) == NOT_CONVEX
    assert oracle_verdict(two, None, line) == NOT_CONVEX
    assert line_violation(two, 1, [0], [1])["output"] == 1
    assert evaluate(two, [-2]) == (2, 5)


def test_lineality_space_dead_and_constant_neurons():
    # d = 3, only x1 matters; a dead neuron (-1), an always-on constant (2) and a zero row
    net = doc(3, [{"weight": [[1, 0, 0], [-1, 0, 0], [0, 0, 0], [0, 0, 0]], "bias": [0, 0, -1, 2]},
                  {"weight": [[1, 1, 9, -3]]}])
    assert slope_changes(net, 0, [0, 4, 4], [0, 1, -1]) == []  # along the lineality space: constant
    assert restriction(net, 0, [0, 4, 4], [0, 1, -1]).pieces == ((0, -6),)
    assert slope_changes(net, 0, [-1, 0, 0], [1, 5, 7]) == [(1, 2)]


def test_far_and_tiny_kinks():
    far = doc(1, [{"weight": [[1], [1], [-1]], "bias": [0, -10**6, 5]},
                  {"weight": [[1, 0, 1], [0, 1, 0]]}, {"weight": [[3, -1]]}])
    changes = slope_changes(far, 0, [0], [1])
    assert [(t, c) for t, c in changes if c < 0] == [(10**6, -1)]
    tiny = doc(1, [{"weight": [[1], [1], [1]], "bias": [0, -1, -2]}, {"weight": [[1, 1, f"-1/{2**60}"]]}])
    assert slope_changes(tiny, 0, [0], [1]) == [(0, 1), (1, 1), (2, -F(1, 2**60))]
    w = line_violation(tiny, 0, [0], [1])
    assert w["x"] == [F(3, 2)] and w["y"] == [F(5, 2)] and violates(tiny, w)


def test_numbers_are_read_exactly():
    text = ('{"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": ['
            '{"weight": [[0.1], ["-3/4"], ["1e-9"], ["2.5"]], "bias": [1, "0", 0.30000000000000004, "-7"]},'
            '{"weight": [[1, 1, 1, 1]], "bias": [-1]}]}')
    net = parse_network_text(text)
    assert [r[0] for r in net.layers[0].weight] == [F(1, 10), F(-3, 4), F(1, 10**9), F(5, 2)]
    assert net.layers[0].bias[2] == F(30000000000000004, 10**17)  # the decimal spelled, not the float
    assert parse_network(json.loads(text)).layers[0].weight[0][0] == F(1, 10)  # a parsed float: shortest repr
    # at x = 10: z = (2, -15/2, 1e-8 + 0.30000000000000004, 18), the second neuron off
    assert evaluate(text, [10]) == (2 + F(1, 10**8) + F(30000000000000004, 10**17) + 18 - 1,)
    for bad in (True, None, float("nan"), float("inf"), "abc", "1/0"):
        with pytest.raises((ValueError, ZeroDivisionError, TypeError)):
            oracle.to_fraction(bad)


def test_the_oracle_never_imports_the_package():
    tree = ast.parse(open(os.path.join(HERE, "oracle.py"), encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "bisect", "json", "random", "dataclasses", "fractions", "typing"}, imported
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import oracle; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('exactconvex', 'flint', 'numpy', 'sympy')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code, HERE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# ----- properties: the oracle against itself and against the package's evaluation ----------

def _lines(d, rng, n=3):
    return [([F(rng.randint(-12, 12), rng.randint(1, 3)) for _ in range(d)],
             [F(rng.randint(-4, 4), rng.randint(1, 2)) for _ in range(d)]) for _ in range(n)]


def _check_restriction_against_evaluation(net, p, u):
    """Restriction and forward pass agree at the breakpoints and inside every piece; the
    slopes are the difference quotients; convexity equals the chord test at every breakpoint."""
    fs = oracle.restrict(net, p, u)
    parsed = parse_network(net)
    at = lambda t: evaluate(parsed, [a + t * b for a, b in zip(p, u)])  # noqa: E731
    for k, f in enumerate(fs):
        g = f.simplified()
        assert all(c != 0 for _, c in g.slope_changes())
        bounds = [None, *g.breaks, None]
        for (lo, hi), (a, b) in zip(zip(bounds[:-1], bounds[1:]), g.pieces):
            if lo is None:
                t1 = F(0) if hi is None else hi - 2
            else:
                t1 = lo + (F(1, 3) if hi is None else (hi - lo) / 3)
            t2 = t1 + F(1, 7) if hi is None else (t1 + hi) / 2
            assert lo is None or lo < t1 < t2
            assert hi is None or t1 < t2 < hi
            v1, v2 = at(t1)[k], at(t2)[k]
            assert v1 == a * t1 + b and v2 == a * t2 + b
            assert (v2 - v1) / (t2 - t1) == a
        for t in g.breaks:
            assert at(t)[k] == f(t)
        chords_ok = True
        for i, t in enumerate(g.breaks):
            lo = g.breaks[i - 1] if i > 0 else t - 1
            hi = g.breaks[i + 1] if i + 1 < len(g.breaks) else t + 1
            x, y = (lo + t) / 2, (t + hi) / 2
            lam = (y - t) / (y - x)
            chords_ok &= at(t)[k] < lam * at(x)[k] + (1 - lam) * at(y)[k]
        assert chords_ok == g.is_convex() == convex_on_line(parsed, k, p, u)
        w = line_violation(parsed, k, p, u)
        assert (w is None) == g.is_convex()
        if w is not None:
            assert violates(net, w)


@settings(max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2)),
       st.integers(0, 2**32))
def test_restriction_agrees_with_the_forward_pass(net, seed):
    rng = random.Random(seed)
    for p, u in _lines(net["input_dim"], rng):
        _check_restriction_against_evaluation(net, p, u)


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_documents(d_range=(1, 2), depth_range=(2, 4), width_range=(1, 3), values=small_integers(),
                         slopes=slopes()), st.integers(0, 2**32))
def test_leaky_restriction_agrees_with_the_forward_pass(net, seed):
    rng = random.Random(seed)
    for p, u in _lines(net["input_dim"], rng):
        _check_restriction_against_evaluation(net, p, u)


@settings(max_examples=scaled(40), deadline=None)
@given(network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3)), st.integers(0, 2**32),
       st.integers(1, 5), st.integers(-5, 5))
def test_reparametrised_lines_give_the_same_kinks(net, seed, c, s):
    # p + t u = (p + s u) + t' (c u) with t = s + c t': breakpoints move, slope changes scale by c
    rng = random.Random(seed)
    for p, u in _lines(net["input_dim"], rng, 2):
        q = [a + s * b for a, b in zip(p, u)]
        v = [c * b for b in u]
        assert slope_changes(net, 0, q, v) == [((t - s) / c, ch * c) for t, ch in slope_changes(net, 0, p, u)]


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2), extreme=True),
       st.lists(st.tuples(small_integers(-9, 9), small_integers(1, 4)), min_size=3, max_size=3))
def test_oracle_evaluation_agrees_with_the_package(net, coords):
    # a differential test: two independent implementations of the format's semantics
    from exactconvex import network_from_dict

    x = [a / b for a, b in coords][: net["input_dim"]]
    mine = evaluate(net, x)
    theirs = network_from_dict(net).evaluate([str(v) for v in x])
    assert [F(str(v)) for v in theirs] == list(mine)


def test_lines_to_look_along():
    rng = random.Random(1)
    assert oracle.random_lines(1, rng) == [([0], [1])]  # all of R
    lines = oracle.random_lines(3, rng, 5)
    assert len(lines) == 3 + 5 and all(len(p) == len(u) == 3 and any(u) for p, u in lines)
    assert lines[:3] == [([0, 0, 0], [1, 0, 0]), ([0, 0, 0], [0, 1, 0]), ([0, 0, 0], [0, 0, 1])]
    cert = {"network": ABS, "claim": "convex", "region_graph": {"regions": [
        {"pattern": ["10"], "interior_point": ["1"], "facets": [{"neuron": [1, 0], "point": ["0"], "neighbor": 1}]},
        {"pattern": ["01"], "interior_point": ["-1"], "facets": [{"neuron": [1, 1], "point": ["0"], "neighbor": 0}]}]}}
    lines = oracle.certificate_lines(cert, rng, per_point=1)
    points = [p for p, _ in lines]
    assert points.count([0]) == 2 and [1] in points and [-1] in points
    assert ([1], [-2]) in lines  # from one interior point to the next
    witness = {"network": NEG_ABS, "claim": "not_convex", "witness": {"output": 0, "x": ["1"], "y": ["-1"],
                                                                       "lambda": "1/2"}}
    assert oracle.certificate_lines(witness, rng) == [([1], [-2])]
