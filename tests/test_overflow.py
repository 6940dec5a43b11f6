"""Floats may only guess: numbers beyond the float range (10^400, 10^-400) or far from 1 (10^30)
never end a run (no OverflowError, inf, nan or "internal error"); every command gives the right
verdict and a certificate that verifies.  Issue 11, "Crashes on valid input"."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from exactconvex import Network, network_from_dict, network_to_dict
from exactconvex.checker import verify
from exactconvex.decide import check
from exactconvex.graph import regions
from exactconvex.icnn import equivalent, to_icnn
from exactconvex.network import Layer
from exactconvex.pathlifting import conditions
from exactconvex.polyhedra import facet_witness, farkas_certificate, farkas_guess, float_guess, q_from_float_nice
from strategies import networks, run_cli, scaled, slopes

BIG, TINY = fmpq(10) ** 400, fmpq(1, 10) ** 400


def doc(d, layers):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers}


# the reproducers of issue 11
TINY_SECOND_LAYER = doc(1, [{"weight": [[1], [-1]]}, {"weight": [["1e-400", "-1e-400"]], "bias": [-1]},
                            {"weight": [[1]]}])
CHAIN = doc(1, [{"weight": [["1e-30"], ["1e-30"]], "bias": [-1, -1]},
                {"weight": [["1e-30", "1e-30"]], "bias": [-1]}]
            + [{"weight": [["1e-30"]], "bias": [-1]} for _ in range(10)] + [{"weight": [["1e-30"]]}])
HUGE_WEIGHT = doc(1, [{"weight": [["1e400"]]}, {"weight": [[1]]}])


def violates(net: Network, w) -> bool:
    lam, x, y, k = w["lambda"], w["x"], w["y"], w["output"]
    mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    return 0 < lam < 1 and net.evaluate(mid)[k] > lam * net.evaluate(x)[k] + (1 - lam) * net.evaluate(y)[k]


# ----- the guesses themselves ---------------------------------------------------------------

def test_float_guess_saturates_instead_of_raising():
    assert float_guess(BIG) == math.inf and float_guess(-BIG) == -math.inf
    assert float_guess(TINY) == 0.0 and float_guess(fmpq(3, 4)) == 0.75
    assert q_from_float_nice(math.inf) is None and q_from_float_nice(math.nan) is None
    # small offsets keep 20 significant bits instead of rounding to 0
    assert q_from_float_nice(1e-30) != 0 and abs(float(q_from_float_nice(1e-30)) / 1e-30 - 1) < 2 ** -19
    assert q_from_float_nice(0.75) == fmpq(3, 4) and q_from_float_nice(1e13) == fmpq(10 ** 13)


@pytest.mark.parametrize("scale", [BIG, TINY, fmpq(10) ** 30, fmpq(1, 10) ** 30])
def test_facet_witness_and_farkas_with_rows_beyond_the_float_range(scale):
    # the square [0, 1]^2 with every row scaled: x >= 0, y >= 0, 1 - x >= 0, 1 - y >= 0, and 2 - x - y >= 0
    rows = [((scale, 0), fmpq(0)), ((0, scale), fmpq(0)), ((-scale, 0), scale), ((0, -scale), scale)]
    redundant = ((-scale, -scale), 2 * scale)
    p = facet_witness(rows[0], rows[1:] + [redundant])  # no hint: the float LP, then the exact LP
    assert p is not None and p[0] == 0 and 0 < p[1] < 1
    assert facet_witness(redundant, rows) is None
    assert is_farkas(farkas_certificate(redundant, rows), redundant, rows)
    guess = farkas_guess(redundant, rows, at=(fmpq(1, 2), fmpq(1, 3)))
    assert guess is not None and is_farkas(guess, redundant, rows)


def is_farkas(cert, target, rows) -> bool:
    """target = sum lam_i rows_i + mu identically, lam, mu >= 0."""
    lam, mu = cert
    a = [sum(l * r[0][i] for l, r in zip(lam, rows)) for i in range(len(target[0]))]
    return (all(v >= 0 for v in lam) and mu >= 0 and a == list(target[0])
            and sum(l * r[1] for l, r in zip(lam, rows)) + mu == target[1])


def test_polar_proposals_never_raise_on_non_finite_input():
    from exactconvex.polyhedra.polar import propose_facets

    A = np.array([[1.0, 0.0], [np.inf, 1.0], [0.0, -1.0]])
    assert propose_facets(A, np.array([1.0, 1.0, 1.0]), np.eye(2)) is None
    assert propose_facets(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([1.0, np.nan, 1.0]),
                          np.eye(2)) is None


# ----- the reproducers ------------------------------------------------------------------------

@pytest.mark.parametrize("name,network,convex", [("tiny-second-layer", TINY_SECOND_LAYER, True),
                                                 ("chain-1e-30", CHAIN, True), ("huge-weight", HUGE_WEIGHT, True)])
@pytest.mark.parametrize("method", ["auto", "regions"])
def test_reproducers_get_verdicts_and_certificates(name, network, convex, method):
    net = network_from_dict(network)
    v = check(net, method=method, certificate=True)
    assert v.convex == convex
    assert oracle.convex_on_line(network, 0, [0], [1]) == convex  # d = 1: the line is all of R
    result = verify(v.certificate, network=net)
    assert result.valid, result.reason


def test_reproducers_through_regions_conditions_equiv_and_to_icnn():
    for network in (TINY_SECOND_LAYER, CHAIN, HUGE_WEIGHT):
        net = network_from_dict(network)
        G = regions(net)
        assert all(b >= 0 for *_, b in G.edges(data="bend"))
        report = conditions(net)
        assert report.all_hold
        r = equivalent(net, net)
        assert r.equivalent and verify(r.certificate).valid
    conv = to_icnn(network_from_dict(HUGE_WEIGHT))
    assert conv.network.is_icnn() and conv.equivalence.equivalent and verify(conv.certificate).valid


@pytest.mark.parametrize("command", ["check", "regions", "conditions", "equiv", "to-icnn"])
@pytest.mark.parametrize("name,network", [("tiny-second-layer", TINY_SECOND_LAYER), ("chain-1e-30", CHAIN),
                                          ("huge-weight", HUGE_WEIGHT)])
def test_cli_on_the_reproducers(tmp_path, command, name, network):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(network))
    extra = {"check": ["--cert", tmp_path / "cert.json"], "regions": [], "conditions": [],
             "equiv": [path, "--cert", tmp_path / "cert.json"],
             "to-icnn": ["-o", tmp_path / "icnn.json", "--cert", tmp_path / "cert.json"]}[command]
    if command == "to-icnn" and name != "huge-weight":
        return  # to-icnn needs one hidden layer; the others have more (exit 2, tested elsewhere)
    r = run_cli(command, path, *extra, "--json")
    assert r.returncode == 0, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    json.loads(r.stdout)
    if "--cert" in map(str, extra):
        assert verify(json.loads((tmp_path / "cert.json").read_text())).valid


def test_weights_of_ten_to_the_thirty():
    # slow but exact: |x| and -|x| and a two-layer bend, every weight times 10^30 or 10^-30
    for e in (30, -30):
        c = Fraction(10) ** e
        absx = Network.from_lists(2, [{"weight": [[c, 0], [-c, 0], [0, c]], "bias": [0, c, -c]},
                                      {"weight": [[1, 1, 0], [0, 1, 1]], "bias": [-c, 0]},
                                      {"weight": [[1, -1]]}])
        lines = oracle.random_lines(2, random.Random(e), n=8)
        for net in (absx, absx.negate()):
            for method in ("auto", "regions"):
                v = check(net, method=method, certificate=True)
                assert verify(v.certificate, network=net).valid
                if v.convex:
                    assert oracle.oracle_verdict(network_to_dict(net), 0, lines) == oracle.NO_VIOLATION
                else:
                    assert violates(net, v.witness)


# ----- scaling by 10^+-400 where scaling keeps the verdict --------------------------------------

def _scale_input(net: Network, c: fmpq) -> Network:
    """x -> f(c x): every weight applied to x (first layer, input skips) times c."""
    layers = []
    for l, L in enumerate(net.layers, start=1):
        W = L.weight * c if l == 1 else L.weight
        layers.append(Layer(W, L.bias, {k: (S * c if k == 0 else S) for k, S in L.skip.items()}, L.slope))
    return Network(net.input_dim, layers)


def _rescale_hidden(net: Network, l: int, c: fmpq) -> Network:
    """The same function: hidden layer l (its weights, skips and bias) times c > 0, every weight
    out of it times 1/c ((Leaky)ReLU is positively homogeneous)."""
    layers = []
    for m, L in enumerate(net.layers, start=1):
        W, b, skip = L.weight, L.bias, dict(L.skip)
        if m == l:
            W, b, skip = W * c, b * c, {k: S * c for k, S in skip.items()}
        if m == l + 1:
            W = W / c
        if l in skip and m > l + 1:
            skip[l] = skip[l] / c
        layers.append(Layer(W, b, skip, L.slope))
    return Network(net.input_dim, layers)


@settings(max_examples=scaled(25), deadline=None)
@given(networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), slopes=slopes()),
       st.sampled_from([BIG, TINY]), st.data())
def test_verdicts_survive_scaling_by_ten_to_the_400(net, c, data):
    base = check(net)
    l = data.draw(st.integers(1, net.depth - 1))
    same_function = _rescale_hidden(net, l, c)
    for x in ([fmpq(1, 3)] * net.input_dim, [fmpq(-2)] * net.input_dim):
        assert same_function.evaluate(x) == net.evaluate(x)
    for scaled_net, witness_scale in ((_scale_input(net, c), 1 / c), (same_function, fmpq(1)),
                                      (net.scale_outputs(c), fmpq(1))):
        for method in ("auto", "regions"):
            v = check(scaled_net, method=method, certificate=True)
            assert v.convex == base.convex
            if not v.convex:
                assert violates(scaled_net, v.witness)
                # the unscaled witness, moved by the scaling, violates too
                w = base.witness
                moved = dict(w, x=[xi * witness_scale for xi in w["x"]], y=[yi * witness_scale for yi in w["y"]])
                assert violates(scaled_net, moved)
            result = verify(v.certificate, network=scaled_net)
            assert result.valid, result.reason


def test_scaling_the_first_layer_with_its_biases_can_change_the_verdict():
    # why the property above scales x (or rescales a layer with its consumers): c * ReLU(clamp) moves
    # the second layer's kink; f = -ReLU(u - 1/2), u = ReLU(x) - ReLU(x - 1) in [0, 1], is not convex,
    # but with the first layer (weights and biases) times 1/4, u <= 1/4 < 1/2 and f = 0
    f = Network.from_lists(1, [{"weight": [[1], [1]], "bias": [0, -1]}, {"weight": [[1, -1]], "bias": ["-1/2"]},
                               {"weight": [[-1]]}])
    g = Network.from_lists(1, [{"weight": [["1/4"], ["1/4"]], "bias": [0, "-1/4"]},
                               {"weight": [[1, -1]], "bias": ["-1/2"]}, {"weight": [[-1]]}])
    assert not check(f).convex and check(g).convex
