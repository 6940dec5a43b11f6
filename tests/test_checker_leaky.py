"""LeakyReLU in the checker (issue 12), its own arithmetic, f - g, and kinks along a line.

Truth comes from the exact line-restriction oracle of ``tests/oracle.py`` (no package code)
and from hand computation; the package is used only to make certificates and to compare
the checker's arithmetic with the search side's.
"""

from __future__ import annotations

import copy
import json
import random
import re
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import HealthCheck, given, settings, strategies as st

import oracle
from exactconvex import check, equivalent, network_from_dict
from exactconvex.checker import verify
from exactconvex.checker.arithmetic import combine, evaluate, kinks_along, local_affine, slopes_agree
from exactconvex.checker.reader import read_network
from strategies import document, network_dicts, scaled, small_integers, small_rationals

SLOPES = st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(-1)])
SETTINGS = settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def docs(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=1, values=None):
    return network_dicts(d_range, depth_range, width_range, skips=True, outputs=outputs,
                         values=values if values is not None else small_rationals(4, 3), slopes=SLOPES
                         ).map(lambda dl: document(*dl))


def Q(v) -> fmpq:
    v = Fraction(v)
    return fmpq(v.numerator, v.denominator)


def F(v) -> Fraction:
    return Fraction(int(v.p), int(v.q))


def net(d, layers):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers}


def cert(network, claim, **keys):
    return {"format": "exactconvex.certificate", "version": 1, "claim": claim, "network": network, **keys}


def convex_claim(network, method):
    return cert(network, "convex", proofs=[{"output": 0, "method": method}])


# ----- the checker's own arithmetic ---------------------------------------------------------------------

@SETTINGS
@given(docs(outputs=2), st.data())
def test_evaluation_agrees_with_the_oracle(doc, data):
    x = data.draw(st.lists(small_rationals(5, 4), min_size=doc["input_dim"], max_size=doc["input_dim"]))
    assert [F(v) for v in evaluate(read_network(doc, "n"), [Q(v) for v in x])] == list(oracle.evaluate(doc, x))


@SETTINGS
@given(docs(), st.data())
def test_local_affine_maps_agree_with_evaluation_and_the_model(doc, data):
    """At a point x, with the activations fixed by x's own pattern, the local maps give the network."""
    n, model = read_network(doc, "n"), network_from_dict(doc)
    x = [Q(v) for v in data.draw(st.lists(small_rationals(5, 4), min_size=n.input_dim, max_size=n.input_dim))]
    pattern = model.pattern(x)
    on = [list(map(bool, p)) for p in model.split_pattern(pattern)]
    rows = local_affine(n, on)
    assert [sum((a * v for a, v in zip(row, x)), fmpq(0)) + row[-1] for row in rows[-1]] == evaluate(n, x)


@SETTINGS
@given(docs(), st.data())
def test_local_affine_maps_agree_with_the_model_for_any_pattern(doc, data):
    n, model = read_network(doc, "n"), network_from_dict(doc)
    pattern = data.draw(st.tuples(*[st.integers(0, 1)] * model.num_hidden))
    mine = local_affine(n, [list(map(bool, p)) for p in model.split_pattern(pattern)])
    theirs = model.local_affine(pattern).pre
    for l in range(1, model.depth + 1):
        G, g = theirs[l]
        for i, row in enumerate(mine[l - 1]):
            assert list(row) == [G[i, j] for j in range(model.input_dim)] + [g[i, 0]]


@SETTINGS
@given(docs(d_range=(1, 2), depth_range=(1, 4), outputs=(1, 2)), docs(d_range=(1, 2), depth_range=(1, 4), outputs=(1, 2)),
       st.data())
def test_combine_computes_f_minus_g_and_matches_the_package(f_doc, g_doc, data):
    g_doc = {**g_doc, "input_dim": f_doc["input_dim"]} if g_doc["input_dim"] == f_doc["input_dim"] else None
    if g_doc is None or len(g_doc["layers"][-1]["weight"]) != len(f_doc["layers"][-1]["weight"]):
        return
    f, g = read_network(f_doc, "f"), read_network(g_doc, "g")
    h = combine([f, g], [fmpq(1), fmpq(-1)])
    x = data.draw(st.lists(small_rationals(5, 4), min_size=f.input_dim, max_size=f.input_dim))
    assert [F(v) for v in evaluate(h, [Q(v) for v in x])] == [a - b for a, b in zip(oracle.evaluate(f_doc, x),
                                                                                  oracle.evaluate(g_doc, x))]
    stacked = not slopes_agree([f, g])
    assert h.depth == (f.depth + g.depth - 1 if stacked else max(f.depth, g.depth))
    from exactconvex.checker.reader import network_document
    from exactconvex.network import combine as package_combine

    package = package_combine([network_from_dict(f_doc), network_from_dict(g_doc)], [1, -1])
    assert read_network(network_document(package, "p"), "p") == h


def test_combine_side_by_side_and_stacked_by_hand():
    f = read_network(net(1, [{"weight": [[1]], "activation": {"leaky_relu": "1/2"}}, {"weight": [[1]]}]), "f")
    relu = read_network(net(1, [{"weight": [[1]]}, {"weight": [["1/2"]], "skip": {"0": [["1/2"]]}}]), "g")
    same = read_network(net(1, [{"weight": [[2]], "activation": {"leaky_relu": "1/2"}}, {"weight": [[3]]}]), "s")
    assert slopes_agree([f, same]) and not slopes_agree([f, relu])
    side = combine([f, same], [fmpq(1), fmpq(-1)])
    assert side == read_network(net(1, [{"weight": [[1], [2]], "activation": {"leaky_relu": "1/2"}},
                                        {"weight": [[1, -3]]}]), "h")
    stacked = combine([f, relu], [fmpq(1), fmpq(-1)])
    assert stacked == read_network(net(1, [{"weight": [[1]], "activation": {"leaky_relu": "1/2"}},
                                           {"weight": [[0]], "skip": {"0": [[1]]}},
                                           {"weight": [["-1/2"]], "skip": {"0": [["-1/2"]], "1": [[1]]}}]), "h")
    affine = read_network(net(1, [{"weight": [[5]], "bias": [1]}]), "a")
    assert combine([affine, affine], [fmpq(1), fmpq(1)]) == read_network(net(1, [{"weight": [[10]], "bias": [2]}]), "a")


@SETTINGS
@given(docs(d_range=(1, 3), depth_range=(1, 4), outputs=(1, 2)), st.data())
def test_kinks_along_a_line_agree_with_the_oracle(doc, data):
    d = doc["input_dim"]
    p = data.draw(st.lists(small_rationals(5, 3), min_size=d, max_size=d))
    u = data.draw(st.lists(small_rationals(3, 2), min_size=d, max_size=d))
    k = data.draw(st.integers(0, len(doc["layers"][-1]["weight"]) - 1))
    mine = kinks_along(read_network(doc, "n"), [Q(v) for v in p], [Q(v) for v in u], k)
    assert [F(t) for t in mine] == [t for t, _ in oracle.slope_changes(doc, k, p, u)]


# ----- methods "icnn" and "one_layer" with slopes -------------------------------------------------------

DEEP = [{"weight": [[1], [-1]], "bias": [0, -1]}, {"weight": [[1, 2]], "bias": [-1], "skip": {"0": [[-3]]}},
        {"weight": [[2]], "skip": {"1": [[1, 0]]}}]


@pytest.mark.parametrize("s1, s2, ok", [
    (0, 0, True), ("1/2", "1/2", True), (1, 1, True), (-1, 0, True), (-5, "1/3", True), ("-1/100", 1, True),
    (2, 0, False), ("101/100", "1/2", False), (0, -1, False), (0, "-1/100", False), (0, 2, False), (0, "3/2", False)])
def test_icnn_slopes(s1, s2, ok):
    layers = copy.deepcopy(DEEP)
    layers[0]["activation"] = {"leaky_relu": s1}
    layers[1]["activation"] = {"leaky_relu": s2}
    r = verify(convex_claim(net(1, layers), "icnn"))
    assert r.valid == ok, r.reason
    if not ok:
        assert re.search(r"output 0, method icnn: hidden layer [12] has slope -?[0-9/]+ [<>] [01] \(", r.reason)
    assert not ok or oracle.convex_on_line(net(1, layers), 0, [0], [1])  # what is accepted is convex


@SETTINGS
@given(st.integers(1, 4), st.data())
def test_one_layer_with_slopes_is_sound(width, data):
    """Method "one_layer" accepts exactly the convex one-hidden-layer networks (d = 1: the oracle is complete)."""
    s = data.draw(SLOPES)
    weights = [[data.draw(small_integers(-2, 2))] for _ in range(width)]
    layers = [{"weight": [[int(w[0])] for w in weights], "bias": [int(data.draw(small_integers(-2, 2)))
                                                                   for _ in range(width)],
               "activation": {"leaky_relu": str(s)}},
              {"weight": [[int(data.draw(small_integers(-2, 2))) for _ in range(width)]]}]
    doc = net(1, layers)
    r = verify(convex_claim(doc, "one_layer"))
    # d = 1 and the closed form is exact for every slope: accepted iff convex
    assert r.valid == oracle.convex_on_line(doc, 0, [0], [1]), r.reason


def test_one_layer_slopes_by_hand():
    # a LeakyReLU(s)(x) with output weight a: bends by a (1 - s)
    for s, a, ok in ((0, 1, True), ("1/2", 1, True), (1, -5, True), (2, 1, False), (2, -1, True), (-1, 1, True),
                     ("1/2", -1, False)):
        doc = net(1, [{"weight": [[1]], "activation": {"leaky_relu": s}}, {"weight": [[a]]}])
        r = verify(convex_claim(doc, "one_layer"))
        assert r.valid == ok == oracle.convex_on_line(doc, 0, [0], [1]), (s, a, r.reason)
    r = verify(convex_claim(net(1, [{"weight": [[2], [-4]], "bias": [2, -4], "activation": {"leaky_relu": 2}},
                                    {"weight": [[1, 1]]}]), "one_layer"))
    # 2x + 2 and -4x - 4 lie on one hyperplane (x = -1): a_j (1 - s) |c_j| = -2 - 4 = -6
    assert not r.valid and "hyperplane (w, b) = (1, 1) bend by -6 < 0" in r.reason


# ----- region graphs with slopes, and tampering with a slope ----------------------------------------------

LEAKY = net(1, [{"weight": [[1]], "activation": {"leaky_relu": "1/2"}}, {"weight": [[1]]}])
LEAKY_REGIONS = [{"pattern": ["1"], "interior_point": ["1"], "facets": [{"neuron": [1, 0], "point": ["0"], "neighbor": 1}]},
                 {"pattern": ["0"], "interior_point": ["-1"], "facets": [{"neuron": [1, 0], "point": ["0"], "neighbor": 0}]}]


def regions_cert(network, regions):
    return cert(network, "convex", proofs=[{"output": 0, "method": "regions"}], region_graph={"regions": regions})


def test_leaky_region_graph_by_hand():
    r = verify(regions_cert(LEAKY, LEAKY_REGIONS))
    assert r.valid and (r.regions, r.facets) == (2, 1)
    for s, ok in (("1/3", True), (1, True), (0, True), (2, False), ("3/2", False)):
        bad = copy.deepcopy(LEAKY)
        bad["layers"][0]["activation"]["leaky_relu"] = s
        r = verify(regions_cert(bad, LEAKY_REGIONS))
        assert r.valid == ok, r.reason  # the claim is about the embedded network: still true for s <= 1
        if not ok:
            assert "output 0 bends by" in r.reason
        # bound to the network the user gave, any change of slope is caught
        bound = verify(regions_cert(bad, LEAKY_REGIONS), network=LEAKY)
        assert not bound.valid and "differs from the given network (layer 1, slope)" in bound.reason
    dropped = copy.deepcopy(LEAKY)
    del dropped["layers"][0]["activation"]  # ReLU: still convex, but not the given network
    assert "layer 1, slope" in verify(regions_cert(dropped, LEAKY_REGIONS), network=LEAKY).reason


@pytest.mark.parametrize("s", ["1/100", "1/2", "1", "0"])
def test_tampering_with_a_slope_in_a_real_certificate(s):
    doc = net(2, [{"weight": [[1, 0], [0, 1], [1, 1], [1, -2]], "bias": [0, 0, -1, 1], "activation": {"leaky_relu": s}},
                  {"weight": [[1, 2, 0, 1], [1, 0, 1, 0]], "bias": [0, 1], "skip": {"0": [[-1, 1], [0, 0]]},
                   "activation": {"leaky_relu": s}}, {"weight": [[1, 3]], "skip": {"1": [[1, 0, 1, 0]]}}])
    v = check(network_from_dict(doc), method="regions", certificate=True)
    assert v.convex and verify(v.certificate, network=doc).valid
    false_claims = 0
    for layer in (0, 1):
        for new in ("2", "-1", "1/3"):
            if new == s:
                continue
            bad = copy.deepcopy(v.certificate)
            bad["network"]["layers"][layer]["activation"] = {"leaky_relu": new}
            r = verify(bad, network=doc)  # bound to the given network: always caught
            assert not r.valid and f"(layer {layer + 1}, slope)" in r.reason
            lines = oracle.certificate_lines(bad, random.Random(1)) + oracle.random_lines(2, random.Random(2), n=50)
            truth = oracle.oracle_verdict(bad["network"], None, lines)
            if truth == "not convex":  # the tampered claim is false: caught without binding too
                false_claims += 1
                assert not verify(bad).valid
            elif verify(bad).valid:  # accepted about the tampered network: a true claim, as far as lines tell
                assert truth == "no violation found"
    assert false_claims >= 1


def test_equivalence_of_a_leaky_relu_and_its_relu_form():
    """LeakyReLU_s(z) = s z + (1 - s) ReLU(z): different slopes, so h = f - g is stacked."""
    f = net(1, [{"weight": [[1]], "activation": {"leaky_relu": "1/2"}}, {"weight": [[1]]}])
    g = net(1, [{"weight": [[1]]}, {"weight": [["1/2"]], "skip": {"0": [["1/2"]]}}])
    r = equivalent(network_from_dict(f), network_from_dict(g))
    assert r.equivalent
    c = r.certificate
    assert len(c["network"]["layers"]) == 3  # stacked: f's hidden layer, then g's
    assert verify(c, network=(f, g)).valid
    swapped = verify(c, network=(g, f))
    assert not swapped.valid and "networks.f differs from the first given network" in swapped.reason
    assert "networks.g differs from the second given network" in verify(c, network=(f, f)).reason
    assert not verify(c, network=f).valid  # one network binds the embedded h = f - g
    bad = copy.deepcopy(c)
    bad["networks"]["f"]["layers"][0]["activation"] = {"leaky_relu": "1/3"}
    assert "the embedded network is not f - g" in verify(bad).reason
    bad["network"] = json.loads(json.dumps(bad["network"]))
    bad["network"]["layers"][0]["activation"] = {"leaky_relu": "1/3"}  # h rebuilt by hand: no longer 0
    r = verify(bad)
    assert not r.valid and "output 0 of f - g is not 0" in r.reason


def test_equivalent_claim_checks():
    f = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    r = equivalent(network_from_dict(f), network_from_dict(f))
    c = r.certificate
    assert verify(c, network=(f, f)).valid and verify(c, network=(f, f), reference=True).valid
    two = copy.deepcopy(c)
    two["networks"]["g"] = net(2, [{"weight": [[1, 0]]}])
    assert "differ in input dimension or number of outputs" in verify(two).reason
    two["networks"]["g"] = net(1, [{"weight": [[1], [2]]}])
    assert "differ in input dimension or number of outputs" in verify(two).reason
