"""Certificates of ``check`` on hundreds of random networks verify, and every verdict agrees
with the line-restriction oracle (tests/oracle.py, which shares no code with the package).

For each network, both ``check(net, certificate=True)`` and
``check(net, method="regions", certificate=True)`` must give a certificate that
``exactconvex.verify`` accepts against the network given, with the verdict's claim.  The
verdict is then judged independently:

* "not convex": each failing output's witness violates convexity by the oracle's own exact
  evaluation, and the oracle finds a bend down on the line through the witness points;
* "convex": the oracle finds no bend down on random lines, the axes, and lines through
  every facet point and interior point of the region-graph certificate (for d = 1 one line
  is all of R, so there the oracle decides, and must agree).

The networks are degenerate on purpose: integer weights in {-2..2} (zero rows, dead
neurons, repeated and opposite rows), planted proportional/opposite/dead/constant rows,
lineality spaces (d > rank of every map out of the input), d = 1, several outputs, skips.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from exactconvex import network_from_dict
from exactconvex.checker import verify
from exactconvex.decide import check
from strategies import document, network_dicts, network_documents, scaled, small_integers

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _claim(v) -> str:
    return "convex" if v.convex else "not_convex"


def certified_verdicts(doc: dict) -> tuple:
    """``check`` of the document's network, both ways, with certificates: (net, auto, regions)."""
    net = network_from_dict(doc)
    return net, check(net, certificate=True), check(net, method="regions", certificate=True)


def assert_certificates_verify(doc: dict, net, verdicts) -> None:
    """Every certificate is valid for the network given, states the verdict's claim, and embeds
    the network of the document (as the oracle reads both)."""
    for v in verdicts:
        result = verify(v.certificate, network=net)
        assert result.valid, f"{v.method}: {result.reason}"
        assert result.claim == _claim(v)
        assert oracle.parse_network(v.certificate["network"]) == oracle.parse_network(doc)


def _witness_text(w: dict) -> dict:
    return {"output": w["output"], "x": [str(c) for c in w["x"]], "y": [str(c) for c in w["y"]],
            "lambda": str(w["lambda"])}


def assert_verdicts_true(doc: dict, verdicts, rng: random.Random, lines: int = 12) -> None:
    """Each output's verdict, judged by the oracle: a "not convex" witness violates convexity
    by the oracle's exact evaluation and the oracle finds the bend down on its line; "convex"
    shows no bend down on random lines, the axes and lines through every facet and interior
    point of the region-graph certificate; for d = 1 the oracle decides and must agree."""
    auto, full = verdicts
    assert [o.convex for o in auto.outputs] == [o.convex for o in full.outputs], "auto and regions disagree"
    parsed = oracle.parse_network(doc)
    d = parsed.input_dim
    look = oracle.random_lines(d, rng, lines)
    if full.certificate is not None:
        look += oracle.certificate_lines(full.certificate, rng, per_point=1)
    for v in verdicts:
        for o in v.outputs:
            if o.convex:
                assert oracle.oracle_verdict(parsed, o.output, look) == oracle.NO_VIOLATION, \
                    f"check ({v.method}) says output {o.output} is convex, the oracle finds a bend down"
            else:
                w = _witness_text(o.witness)
                assert oracle.violates(parsed, w), f"check ({v.method}): the witness of output {o.output} fails"
                x = [oracle.to_fraction(c) for c in w["x"]]
                y = [oracle.to_fraction(c) for c in w["y"]]
                assert not oracle.convex_on_line(parsed, o.output, x, [b - a for a, b in zip(x, y)])
    if d == 1:  # the oracle is complete: it must decide every output the same way
        (line,) = oracle.random_lines(1, rng)
        for o in full.outputs:
            assert oracle.convex_on_line(parsed, o.output, *line) == o.convex, \
                f"check says output {o.output} is {'' if o.convex else 'not '}convex, the exact restriction to R " \
                f"says otherwise"


def assert_certified_and_true(doc: dict, rng: random.Random, lines: int = 12) -> None:
    """Both ways of deciding give certificates that verify, and their verdicts are true by the oracle."""
    net, auto, full = certified_verdicts(doc)
    assert_certificates_verify(doc, net, (auto, full))
    assert_verdicts_true(doc, (auto, full), rng, lines)


# ----- hypothesis: random families ---------------------------------------------------------

@settings(max_examples=scaled(100), **SETTINGS)
@given(network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 4), outputs=(1, 2),
                         values=small_integers(), omit_bias=True), st.integers(0, 2**32))
def test_integer_weight_networks(doc, seed):
    assert_certified_and_true(doc, random.Random(seed))


@settings(max_examples=scaled(50), **SETTINGS)
@given(network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 3)),
       st.integers(0, 2**32))
def test_rational_weight_networks(doc, seed):
    assert_certified_and_true(doc, random.Random(seed))


@st.composite
def planted_documents(draw):
    """Networks whose hidden layers have repeated, proportional, opposite, dead and constant rows."""
    d, layers = draw(network_dicts(d_range=(1, 3), depth_range=(2, 4), width_range=(2, 4), outputs=(1, 2),
                                   values=small_integers()))
    for layer in layers[:-1]:
        n = len(layer["weight"])
        bias = layer.setdefault("bias", [F(0)] * n)
        for _ in range(draw(st.integers(1, 3))):
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            kind = draw(st.sampled_from(["copy", "scaled", "opposite", "dead", "constant"]))
            if kind in ("copy", "scaled", "opposite"):
                c = {"copy": F(1), "scaled": draw(st.sampled_from([F(2), F(1, 3)])), "opposite": F(-1)}[kind]
                layer["weight"][j] = [c * v for v in layer["weight"][i]]
                bias[j] = c * bias[i]
                for rows in layer.get("skip", {}).values():
                    rows[j] = [c * v for v in rows[i]]
            else:  # no dependence on anything: a dead neuron (bias < 0) or one that is always on
                layer["weight"][j] = [F(0)] * len(layer["weight"][j])
                for rows in layer.get("skip", {}).values():
                    rows[j] = [F(0)] * len(rows[j])
                bias[j] = F(-1) if kind == "dead" else F(2)
    return document(d, layers)


@settings(max_examples=scaled(60), **SETTINGS)
@given(planted_documents(), st.integers(0, 2**32))
def test_planted_degenerate_rows(doc, seed):
    assert_certified_and_true(doc, random.Random(seed))


@st.composite
def lineality_documents(draw):
    """d in 2..4 and every map out of the input (first layer, skips from 0) through r < d
    directions: the function is constant along a (d - r)-dimensional subspace."""
    d = draw(st.integers(2, 4))
    r = draw(st.integers(1, d - 1))
    basis = [[draw(small_integers()) for _ in range(d)] for _ in range(r)]
    _, layers = draw(network_dicts(d_range=r, depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2),
                                   values=small_integers()))

    def lift(rows):  # rows over R^r -> rows over R^d through the basis
        return [[sum((c * basis[i][t] for i, c in enumerate(row)), F(0)) for t in range(d)] for row in rows]

    layers[0]["weight"] = lift(layers[0]["weight"])
    for layer in layers[1:]:
        if 0 in layer.get("skip", {}):
            layer["skip"][0] = lift(layer["skip"][0])
    return document(d, layers)


@settings(max_examples=scaled(50), **SETTINGS)
@given(lineality_documents(), st.integers(0, 2**32))
def test_lineality_spaces(doc, seed):
    assert_certified_and_true(doc, random.Random(seed))


@settings(max_examples=scaled(60), **SETTINGS)
@given(network_documents(d_range=1, depth_range=(1, 5), width_range=(1, 4), outputs=(1, 2),
                         values=st.one_of(small_integers(), st.sampled_from([F(1, 2), F(-1, 3)]))),
       st.integers(0, 2**32))
def test_d1_verdicts_equal_the_oracle(doc, seed):
    assert_certified_and_true(doc, random.Random(seed))


# ----- a seeded loop: the same 150 networks every run ----------------------------------------

def _seeded_document(rng: random.Random) -> dict:
    d = rng.randint(1, 3)
    depth = rng.randint(2, 4)
    widths = [d] + [rng.randint(1, 6) for _ in range(depth - 1)] + [rng.randint(1, 2)]
    layers = []
    for l in range(1, depth + 1):
        layer = {"weight": [[F(rng.randint(-2, 2)) for _ in range(widths[l - 1])] for _ in range(widths[l])],
                 "bias": [F(rng.randint(-2, 2)) for _ in range(widths[l])]}
        sources = [k for k in range(l - 1) if rng.random() < 0.3]
        if sources:
            layer["skip"] = {k: [[F(rng.randint(-2, 2)) for _ in range(widths[k])] for _ in range(widths[l])]
                             for k in sources}
        layers.append(layer)
    return document(d, layers)


def test_seeded_integer_networks():
    rng = random.Random(20250611)
    for _ in range(scaled(150)):
        assert_certified_and_true(_seeded_document(rng), rng, lines=8)
