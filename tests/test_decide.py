"""Convexity verdicts: hand-built cases (degenerate ones included) and property tests."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactconvex import Network
from exactconvex.decide import Undecided, check
from exactconvex.graph import regions
from strategies import networks, scaled

ALL_METHODS = ["auto", "regions"]


def net(d, layers):
    return Network.from_lists(d, layers)


def violates(network, w) -> bool:
    """The witness contract, re-checked here by exact evaluation."""
    lam, x, y, k = w["lambda"], w["x"], w["y"], w["output"]
    assert 0 < lam < 1
    mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    return network.evaluate(mid)[k] > lam * network.evaluate(x)[k] + (1 - lam) * network.evaluate(y)[k]


ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
MAX_X1_X2_0 = net(2, [  # max(x1, x2, 0) = ReLU(x1) + ReLU(x2 - ReLU(x1)): a negative hidden weight
    {"weight": [[1, 0]]},
    {"weight": [[-1]], "skip": {"0": [[0, 1]]}},
    {"weight": [[1]], "skip": {"1": [[1]]}},
])
ICNN_WITH_SKIPS = net(2, [
    {"weight": [[1, -2], [-1, 3], [2, 1]], "bias": [1, 0, -1]},
    {"weight": [[1, 0, 2], [0, "1/2", 1]], "bias": [-1, 2], "skip": {"0": [[-3, 1], [1, -1]]}},
    {"weight": [[1, 2]], "skip": {"0": [[-5, 7]], "1": [[0, 1, "1/3"]]}},
])
# convex, two hidden layers, not an ICNN: ReLU(ReLU(x) - ReLU(-x)) = ReLU(x), plus a convex 2-D part
CONVEX_NOT_ICNN = net(2, [
    {"weight": [[1, 0], [-1, 0], [0, 1]]},
    {"weight": [[1, -1, 0], [0, 0, 1]], "bias": [0, -1]},
    {"weight": [[1, 2]]},
])


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("network", [ABS, MAX_X1_X2_0, ICNN_WITH_SKIPS, CONVEX_NOT_ICNN],
                         ids=["abs", "max", "icnn-skips", "convex-not-icnn"])
def test_convex_cases(network, method):
    v = check(network, method=method)
    assert v.convex and v.witness is None
    assert not CONVEX_NOT_ICNN.is_icnn() and not MAX_X1_X2_0.is_icnn() and ICNN_WITH_SKIPS.is_icnn()


def test_max_has_the_expected_regions():
    G = regions(MAX_X1_X2_0)
    assert G.number_of_nodes() == 4 and min(b for *_, b in G.edges(data="bend")) >= 0


NEG_ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])
# the only concave kink is at x = 10^6, far outside any box a float tool would search
FAR_KINK = net(1, [{"weight": [[1], [1], [-1]], "bias": [0, -10**6, 5]},
                   {"weight": [[1, 0, 1], [0, 1, 0]]}, {"weight": [[3, -1]]}])
# the only negative bend is 2^-60 times the others
TINY = Fraction(1, 2**60)
TINY_BEND_1L = net(1, [{"weight": [[1], [1], [1]], "bias": [0, -1, -2]}, {"weight": [[1, 1, -TINY]]}])
TINY_BEND_2L = net(1, [{"weight": [[1], [1], [1]], "bias": [0, -1, -2]}, {"weight": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
                       {"weight": [[1, 1, -TINY]]}])


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("network", [NEG_ABS, FAR_KINK, TINY_BEND_1L, TINY_BEND_2L],
                         ids=["-abs", "kink-at-1e6", "tiny-bend-1l", "tiny-bend-2l"])
def test_not_convex_cases_come_with_exact_witnesses(network, method):
    v = check(network, method=method)
    assert not v.convex
    assert violates(network, v.witness)


def test_far_kink_is_the_only_one():
    G = regions(FAR_KINK)
    bad = [d for *_, d in G.edges(data=True) if d["bend"] < 0]
    assert len(bad) == 1 and bad[0]["point"] == (10**6,)


def test_tiny_bend_is_exactly_minus_two_to_the_sixty():
    G = regions(TINY_BEND_2L)
    assert sorted(b for *_, b in G.edges(data="bend"))[0] == -fmpq(1, 2**60)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_exact_cancellation_versus_near_cancellation(method):
    row = {"weight": [[1, 2], [1, 2]], "bias": [1, 1]}
    exact = net(2, [row, {"weight": [[1, -1]]}])
    near = net(2, [row, {"weight": [[1, -(1 + Fraction(1, 2**50))]]}])
    v = check(exact, method=method)
    assert v.convex
    w = check(near, method=method)
    assert not w.convex and violates(near, w.witness)
    # deeper versions force the search or the region graph
    exact2 = net(2, [row, {"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])
    near2 = net(2, [row, {"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -(1 + Fraction(1, 2**50))]]}])
    assert check(exact2, method=method).convex
    assert not check(near2, method=method).convex


def test_multi_output_verdict_lists_each_output():
    two = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [-1, -1]]}])
    v = check(two)
    assert not v.convex and [o.convex for o in v.outputs] == [True, False]
    assert v.witness["output"] == 1 and violates(two, v.witness)


def test_forced_methods_that_cannot_decide_raise():
    with pytest.raises(Undecided):
        check(NEG_ABS, method="icnn")
    with pytest.raises(Undecided):
        check(CONVEX_NOT_ICNN, method="one-layer")
    with pytest.raises(Undecided):
        check(ABS, method="search")
    with pytest.raises(ValueError):
        check(ABS, method="magic")


def test_d1_and_no_hidden_neurons():
    assert check(net(1, [{"weight": [[5]], "bias": [1]}])).convex
    assert check(net(1, [{"weight": [[5]], "bias": [1]}]), method="regions").regions == 1


# ----- properties -----------------------------------------------------------------------------

def _line_violation(network, rng, lines=6, samples=9):
    """A convexity violation among exact samples on random rational lines, or None."""
    d = network.input_dim
    for _ in range(lines):
        p = [fmpq(rng.randint(-20, 20), rng.randint(1, 4)) for _ in range(d)]
        u = [fmpq(rng.randint(-9, 9), rng.randint(1, 3)) for _ in range(d)]
        ts = sorted({fmpq(rng.randint(-60, 60), rng.randint(1, 6)) for _ in range(samples)})
        pts = [[pi + t * ui for pi, ui in zip(p, u)] for t in ts]
        vals = [network.evaluate(x)[0] for x in pts]
        for i in range(1, len(ts) - 1):
            a, b, c = ts[i - 1], ts[i], ts[i + 1]
            lam = (c - b) / (c - a)  # b = lam a + (1 - lam) c
            if vals[i] > lam * vals[i - 1] + (1 - lam) * vals[i + 1]:
                return pts[i - 1], pts[i + 1], lam
    return None


@settings(max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3)), st.integers(0, 2**32))
def test_verdict_agrees_with_exact_line_restrictions(network, seed):
    v = check(network)
    r = check(network, method="regions")
    assert v.convex == r.convex
    if v.convex:
        assert _line_violation(network, random.Random(seed)) is None
    else:
        assert violates(network, v.witness) and violates(network, r.witness)


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3)))
def test_f_and_minus_f_both_convex_only_if_affine(network):
    both = check(network, method="regions").convex and check(network.negate(), method="regions").convex
    G = regions(network)
    affine = len({(d["gradient"], d["offset"]) for _, d in G.nodes(data=True)}) == 1
    assert both == affine


@settings(max_examples=scaled(30), deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 2), width_range=(1, 4)))
def test_one_layer_closed_form_agrees_with_regions(network):
    assert check(network, method="one-layer").convex == check(network, method="regions").convex


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3)))
def test_icnn_structure_is_always_convex(network):
    icnn = _abs_hidden_weights(network)
    assert icnn.is_icnn()
    assert check(icnn, method="regions").convex


def _abs_hidden_weights(network):
    from exactconvex.network import Layer

    layers = []
    for l, layer in enumerate(network.layers, start=1):
        W = layer.weight if l == 1 else _abs(layer.weight)
        layers.append(Layer(W, layer.bias, {k: (s if k == 0 else _abs(s)) for k, s in layer.skip.items()}))
    return Network(network.input_dim, layers)


def _abs(m):
    from flint import fmpq_mat

    return fmpq_mat(m.nrows(), m.ncols(), [abs(v) for v in m.entries()])


# ----- the CLI contract -----------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "exactconvex", *args], capture_output=True, text=True, timeout=120)


def test_cli_check_json_and_exit_codes(tmp_path):
    from exactconvex import save_json

    save_json(ABS, tmp_path / "abs.json")
    save_json(NEG_ABS, tmp_path / "neg.json")
    r = _cli("check", str(tmp_path / "abs.json"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["convex"] is True and isinstance(out["method"], str) and isinstance(out["seconds"], float)
    assert "regions" in out
    r = _cli("check", str(tmp_path / "neg.json"), "--json", "--method", "regions")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["convex"] is False and out["regions"] == 2
    r = _cli("check", str(tmp_path / "neg.json"))
    assert r.returncode == 1 and "NOT convex" in r.stdout
    r = _cli("regions", str(tmp_path / "neg.json"), "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {**json.loads(r.stdout), "regions": 2, "facets": 1,
                                                          "min_bend": "-2"}


def test_cli_bounds_give_no_verdict(tmp_path):
    from exactconvex import save_json

    save_json(CONVEX_NOT_ICNN, tmp_path / "n.json")
    r = _cli("check", str(tmp_path / "n.json"), "--method", "regions", "--max-regions", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no verdict" in r.stderr
    r = _cli("check", str(tmp_path / "n.json"), "--method", "icnn")
    assert r.returncode == 2 and "ICNN" in r.stderr
    r = _cli("check", str(tmp_path / "n.json"), "--max-regions", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("method", ALL_METHODS)
def test_negative_output_weights_on_neurons_that_never_switch_are_fine(method):
    # the float checker of the paper demands nonnegative output weights for every last-layer neuron;
    # here the neuron with weight -3 is dead (its input is <= -1), the one with weight -2 is active
    # everywhere (its input is the constant 5: an affine function > 0 on all of R^d is constant)
    network = net(2, [
        {"weight": [[1, 0], [-1, 0], [0, 1]], "bias": [0, 0, -1]},
        {"weight": [[1, 1, 0], [-1, -1, -2], [0, 0, 0]], "bias": [0, -1, 5], "skip": {"0": [[0, 0], [0, 0], [0, 0]]}},
        {"weight": [[1, -3, -2]]},
    ])
    assert not network.is_icnn()
    v = check(network, method=method)
    assert v.convex
    # and the region graph agrees that the dead neuron carries no kink
    G = regions(network)
    assert all((2, 1) not in data["switching"] for *_, data in G.edges(data=True))
