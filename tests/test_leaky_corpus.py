"""The LeakyReLU corpus (issue 12): every hand-made convexity test network of the suite,
rewritten with LeakyReLU slopes, gets from ``check`` the verdict its exact line
restrictions give, and its certificate verifies.

The corpus holds the hand-made networks of tests/test_decide.py, tests/test_regions.py,
tests/test_checker.py and examples/networks/*.json (copied here as JSON documents, so that
this file depends on no other test file's internals).  Each is rewritten with every hidden
layer's slope in {0, 1/100, 1/2, 1, 2, -1} and, for networks with several hidden layers,
with mixed per-layer slopes.  The truth comes from the line-restriction oracle of
tests/oracle.py, which shares no code with the package (complete for d = 1; for d >= 2 it
looks along random lines, the axes and lines through every facet and interior point of
the certificate and through the witness).

Tampering with a slope in a certificate's network is caught: whenever the oracle shows
that the tampered claim is false, ``verify`` rejects it, and it never accepts a false one.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from exactconvex import network_from_dict
from exactconvex.checker import CertificateError, verify
from exactconvex.decide import check
from strategies import CORPUS_SLOPES, network_documents, scaled, slopes, small_integers
from test_certificates import assert_claim_is_true
from test_random_certificates import (SETTINGS, assert_certificates_verify, assert_verdicts_true,
                                      certified_verdicts)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def doc(d, layers):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers}


def one_layer(rows, biases, out):
    return doc(len(rows[0]), [{"weight": rows, "bias": biases}, {"weight": [out]}])


def _breakpoints(ts):
    ts = [F(t) for t in ts]
    rows = [[1] for _ in ts] + [[2] for _ in ts]
    return one_layer(rows, [str(-t) for t in ts] + [str(-2 * t) for t in ts], [1] * len(rows))


_ROW = {"weight": [[1, 2], [1, 2]], "bias": [1, 1]}
_NEAR = f"-{2**50 + 1}/{2**50}"

CORPUS = {
    # tests/test_decide.py
    "abs": doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]),
    "max": doc(2, [{"weight": [[1, 0]]}, {"weight": [[-1]], "skip": {"0": [[0, 1]]}},
                   {"weight": [[1]], "skip": {"1": [[1]]}}]),
    "icnn-skips": doc(2, [{"weight": [[1, -2], [-1, 3], [2, 1]], "bias": [1, 0, -1]},
                          {"weight": [[1, 0, 2], [0, "1/2", 1]], "bias": [-1, 2], "skip": {"0": [[-3, 1], [1, -1]]}},
                          {"weight": [[1, 2]], "skip": {"0": [[-5, 7]], "1": [[0, 1, "1/3"]]}}]),
    "convex-not-icnn": doc(2, [{"weight": [[1, 0], [-1, 0], [0, 1]]}, {"weight": [[1, -1, 0], [0, 0, 1]], "bias": [0, -1]},
                               {"weight": [[1, 2]]}]),
    "-abs": doc(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}]),
    "far-kink": doc(1, [{"weight": [[1], [1], [-1]], "bias": [0, -10**6, 5]}, {"weight": [[1, 0, 1], [0, 1, 0]]},
                        {"weight": [[3, -1]]}]),
    "tiny-bend-1l": doc(1, [{"weight": [[1], [1], [1]], "bias": [0, -1, -2]}, {"weight": [[1, 1, f"-1/{2**60}"]]}]),
    "tiny-bend-2l": doc(1, [{"weight": [[1], [1], [1]], "bias": [0, -1, -2]},
                            {"weight": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, {"weight": [[1, 1, f"-1/{2**60}"]]}]),
    "cancel-exact": doc(2, [_ROW, {"weight": [[1, -1]]}]),
    "cancel-near": doc(2, [_ROW, {"weight": [[1, _NEAR]]}]),
    "cancel-exact-deep": doc(2, [_ROW, {"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}]),
    "cancel-near-deep": doc(2, [_ROW, {"weight": [[1, 0], [0, 1]]}, {"weight": [[1, _NEAR]]}]),
    "two-outputs": doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [-1, -1]]}]),
    "affine-d1": doc(1, [{"weight": [[5]], "bias": [1]}]),
    "never-switching": doc(2, [{"weight": [[1, 0], [-1, 0], [0, 1]], "bias": [0, 0, -1]},
                               {"weight": [[1, 1, 0], [-1, -1, -2], [0, 0, 0]], "bias": [0, -1, 5],
                                "skip": {"0": [[0, 0], [0, 0], [0, 0]]}},
                               {"weight": [[1, -3, -2]]}]),
    # tests/test_regions.py
    "generic-r2": one_layer([[1, 0], [0, 1], [1, 1], [1, -2], [3, 1]], [0, 1, 3, "1/2", -7], [1] * 5),
    "generic-r3": one_layer([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -2, 3]], [0, 1, 2, 5, "-1/3"], [1] * 5),
    "degenerate-arrangement": one_layer([[1, 0], [2, 0], [-1, 0], [0, 1], [1, 1], [1, 0], [0, 0], [0, 0]],
                                        [0, 0, 0, 0, 0, -1, -1, 1], [1, 1, 1, 1, -1, 2, 5, -3]),
    "bent-hyperplane": doc(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]], "bias": [-1]}, {"weight": [[1]]}]),
    "breakpoints-0": _breakpoints([0]),
    "breakpoints-123": _breakpoints([1, 2, 3]),
    "breakpoints-far": _breakpoints([-5, F(1, 3), 10**6]),
    "affine-d3": doc(3, [{"weight": [[1, 2, 3]], "bias": [4]}]),
    "lineality": doc(3, [{"weight": [[1, 0, 0], [-1, 0, 0]]}, {"weight": [[1, 1]]}]),
    "bend-12": one_layer([[2]], [-1], [3]),
    "far-away-region": doc(1, [{"weight": [[1]], "bias": [-10**6]}, {"weight": [[1]]}, {"weight": [[-1]]}]),
    "graphml": one_layer([[3], [1]], ["-1/3", 7], [1, "-1/7"]),
    # tests/test_checker.py
    "ramp": doc(1, [{"weight": [[1], [1]], "bias": [0, -1]}, {"weight": [[1, 1]]}]),
    "one-layer-duplicates": doc(2, [{"weight": [[1, 1], [2, 2], [-1, -1], [0, 0], [0, 1]], "bias": [0, 0, 0, 5, 1]},
                                    {"weight": [[-1, 1, 1, -3, 1]]}]),
    "icnn-depth3": doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]], "bias": [-1], "skip": {"0": [[-3]]}},
                           {"weight": [[2]], "bias": [7], "skip": {"0": [[-5]], "1": [[1, 0]]}}]),
    "constant-neurons": doc(1, [{"weight": [[1], [-1], [0], [0]], "bias": [0, 0, -1, 2]}, {"weight": [[1, 1, 5, 1]]}]),
    "two-outputs-convex": doc(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [2, 1]]}]),
}
for _path in sorted(glob.glob(os.path.join(ROOT, "examples", "networks", "*.json"))):
    with open(_path, encoding="utf-8") as _fh:
        CORPUS[os.path.basename(_path)] = json.loads(_fh.read(), parse_float=str)  # decimals stay exact text


def _json_slope(s: F):
    return int(s) if s.denominator == 1 else str(s)


def with_slopes(network: dict, layer_slopes) -> dict:
    """The document with hidden layer l's activation set to slope layer_slopes[l] (0 written as "relu")."""
    out = copy.deepcopy(network)
    for layer, s in zip(out["layers"][:-1], layer_slopes):
        layer["activation"] = "relu" if s == 0 else {"leaky_relu": _json_slope(s)}
    return out


def _hidden(network: dict) -> int:
    return len(network["layers"]) - 1


def _variants():
    """(corpus name, slopes per hidden layer): every uniform slope, and mixed ones for deep networks."""
    cases = []
    for name, network in CORPUS.items():
        h = _hidden(network)
        if h == 0:
            cases.append((name, ()))
            continue
        for s in CORPUS_SLOPES:
            cases.append((name, (s,) * h))
        if h >= 2:
            for shift in range(len(CORPUS_SLOPES)):
                cases.append((name, tuple(CORPUS_SLOPES[(shift + 2 * l) % len(CORPUS_SLOPES)] for l in range(h))))
    return cases


VARIANTS = _variants()


def _id(case):
    name, ss = case
    return f"{name}[{','.join(map(str, ss)) or 'affine'}]"


def _param(case):
    return pytest.param(case, id=_id(case))


def test_the_corpus_is_complete():
    assert len(CORPUS) >= 30 and "spec_example.json" in CORPUS and "abs.json" in CORPUS
    slopes_used = {s for _, ss in VARIANTS for s in ss}
    assert slopes_used == set(CORPUS_SLOPES)
    # the rewritten documents carry exactly the slopes asked for, read the same by the package and the oracle
    for name, ss in VARIANTS:
        d = with_slopes(CORPUS[name], ss)
        assert [l.slope for l in oracle.parse_network(d).layers[:-1]] == list(ss)
        assert [F(str(s)) for s in network_from_dict(d).slopes] == list(ss)


@pytest.mark.parametrize("case", [_param(c) for c in VARIANTS])
def test_leaky_corpus_verdicts_agree_with_the_oracle(case):
    name, ss = case
    network = with_slopes(CORPUS[name], ss)
    _, auto, full = certified_verdicts(network)
    assert_verdicts_true(network, (auto, full), random.Random(_id(case)), lines=24)


@pytest.mark.parametrize("case", [_param(c) for c in VARIANTS])
def test_leaky_corpus_certificates_verify(case):
    name, ss = case
    network = with_slopes(CORPUS[name], ss)
    net, auto, full = certified_verdicts(network)
    assert_certificates_verify(network, net, (auto, full))


# ----- tampering with a slope -------------------------------------------------------------

TAMPER_BASES = [("icnn-skips", F(1, 2)), ("convex-not-icnn", F(1, 100)), ("abs", F(-1)), ("-abs", F(2)),
                ("max", F(1, 2)), ("ramp", F(1)), ("tiny-bend-2l", F(1, 2)), ("spec_example.json", F(1, 2))]


@pytest.mark.parametrize("name, s", [pytest.param(n, s, id=f"{n}[{s}]") for n, s in TAMPER_BASES])
def test_tampering_with_a_slope_is_caught(name, s):
    network = with_slopes(CORPUS[name], (s,) * _hidden(CORPUS[name]))
    net = network_from_dict(network)
    cert = check(net, method="regions", certificate=True).certificate
    assert verify(cert, network=net).valid
    rng = random.Random(name)
    rejected_false = 0
    for l in range(_hidden(network)):
        for other in CORPUS_SLOPES + (F(3, 7),):
            if other == s:
                continue
            for form in ("leaky", "relu", "absent"):
                if form != "leaky" and other != 0:
                    continue
                bad = copy.deepcopy(cert)
                layer = bad["network"]["layers"][l]
                if form == "absent":
                    layer.pop("activation", None)
                else:
                    layer["activation"] = "relu" if form == "relu" else {"leaky_relu": _json_slope(other)}
                truth = _claim_holds(bad, rng)
                try:
                    result = verify(bad)
                except CertificateError:
                    result = None
                if result is not None and result.valid:
                    assert_claim_is_true(bad, rng, f" after setting layer {l + 1}'s slope to {other} ({form})")
                elif truth is False:
                    rejected_false += 1
                # the tampered certificate is never valid for the network the user gave
                assert not verify(bad, network=net).valid
    assert rejected_false > 0  # some tampering made the claim false, and it was caught


def _claim_holds(cert: dict, rng: random.Random):
    """False if the oracle shows the claim false, None if it finds nothing against it."""
    parsed = oracle.parse_network(cert["network"])
    if cert["claim"] == "not_convex":
        return oracle.violates(parsed, cert["witness"]) or False
    lines = oracle.random_lines(parsed.input_dim, rng, 24) + oracle.certificate_lines(cert, rng)
    return None if oracle.oracle_verdict(parsed, None, lines) == oracle.NO_VIOLATION else False


# ----- random LeakyReLU networks ----------------------------------------------------------

@settings(max_examples=scaled(60), **SETTINGS)
@given(network_documents(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3), outputs=(1, 2),
                         values=st.one_of(small_integers(), st.sampled_from([F(1, 2), F(-1, 3)])), slopes=slopes()),
       st.integers(0, 2**32))
def test_random_leaky_networks(network, seed):
    net, auto, full = certified_verdicts(network)
    assert_verdicts_true(network, (auto, full), random.Random(seed))
    assert_certificates_verify(network, net, (auto, full))
