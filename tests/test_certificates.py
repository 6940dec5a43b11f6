"""Certificates produced by ``check`` and judged by the independent checker.

Every network of the corpus gets a certificate the checker accepts, with the claim the
line-restriction oracle (tests/oracle.py, no package code) agrees with; tampering with a
real certificate is caught; and a random single-value mutation never makes the checker
accept a certificate whose claim the oracle finds false for its (possibly mutated)
embedded network.  The truth of a claim never comes from the code under test.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import random
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactconvex import load, network_from_dict
from exactconvex.checker import CertificateError, verify
from exactconvex.decide import check
from strategies import network_documents, scaled, slopes

import oracle
import test_decide as cases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = {
    "abs": cases.ABS, "max": cases.MAX_X1_X2_0, "icnn-skips": cases.ICNN_WITH_SKIPS,
    "convex-not-icnn": cases.CONVEX_NOT_ICNN, "-abs": cases.NEG_ABS, "far-kink": cases.FAR_KINK,
    "tiny-bend": cases.TINY_BEND_2L,
    **{os.path.basename(p): load(p) for p in sorted(glob.glob(os.path.join(ROOT, "examples", "networks", "*.json")))},
}


@pytest.mark.parametrize("method", ["auto", "regions"])
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_network_gets_a_certificate_that_verifies(name, method):
    net = CORPUS[name]
    v = check(net, method=method, certificate=True)
    result = verify(v.certificate, network=net)
    assert result.valid, result.reason
    assert result.claim == ("convex" if v.convex else "not_convex")
    assert_claim_is_true(v.certificate, random.Random(name))


def oracle_lines(cert: dict, rng: random.Random) -> list:
    """Lines on which the oracle looks for a bend down: random lines, the axes, and lines
    through every facet point, interior point and witness point of the certificate."""
    d = oracle.parse_network(cert["network"]).input_dim
    return oracle.random_lines(d, rng, 24) + oracle.certificate_lines(cert, rng)


def assert_claim_is_true(cert: dict, rng: random.Random, where: str = "") -> None:
    """The claim of an accepted certificate, judged by the oracle on the embedded network:
    a "not_convex" witness must violate convexity by the oracle's exact evaluation; a
    "convex" claim must show no bend down on any of the oracle's lines (complete for d = 1)."""
    net = oracle.parse_network(cert["network"])
    if cert["claim"] == "not_convex":
        assert oracle.violates(net, cert["witness"]), f"accepted a false witness{where}"
    else:
        assert cert["claim"] == "convex"
        verdict = oracle.oracle_verdict(net, None, oracle_lines(cert, rng))
        assert verdict == oracle.NO_VIOLATION, f"accepted a false convexity claim{where}"


def _convex_regions_cert(net):
    v = check(net, method="regions", certificate=True)
    assert v.convex
    return v.certificate


def test_flipping_a_kink_weight_makes_the_certificate_invalid():
    cert = _convex_regions_cert(cases.CONVEX_NOT_ICNN)
    bad = copy.deepcopy(cert)
    bad["network"]["layers"][-1]["weight"][0][1] = "-2"  # the kink of the second neuron turns concave
    truth = oracle.oracle_verdict(bad["network"], 0, oracle.random_lines(2, random.Random(0)))
    assert truth == oracle.NOT_CONVEX
    r = verify(bad)
    assert not r.valid and "bend" in r.reason


@pytest.mark.parametrize("tamper", ["delete_region", "drop_facet", "farkas", "implied", "interior", "claim",
                                    "neighbor"])
def test_tampering_with_a_real_certificate_is_caught(tamper):
    cert = _convex_regions_cert(cases.ICNN_WITH_SKIPS)
    regs = cert["region_graph"]["regions"]
    assert len(regs) > 3
    bad = copy.deepcopy(cert)
    R = bad["region_graph"]["regions"]
    if tamper == "delete_region":
        victim = len(R) - 1
        del R[victim]
        for reg in R:  # keep indices readable: facets to the deleted region now point nowhere valid
            for f in reg.get("facets", []):
                if f["neighbor"] == victim:
                    f["neighbor"] = 0
    elif tamper == "drop_facet":
        reg = next(r for r in R if r["facets"])
        reg["facets"].pop()
        for e in reg.get("redundant", []):
            e["multipliers"] = e["multipliers"][:len(reg["facets"])]
    elif tamper == "farkas":  # written out explicitly, as the fallbacks do
        reg = next(r for r in R if r.get("implied"))
        group = reg.pop("implied")[0]
        reg.setdefault("redundant", []).append({"neuron": group["neurons"][0], "support": group["facets"],
                                                "multipliers": ["0"] * len(group["facets"]), "constant": "0"})
    elif tamper == "implied":
        reg = next(r for r in R if r.get("implied"))
        reg["implied"][0]["neurons"].pop()
    elif tamper == "interior":
        reg = R[0]
        reg["interior_point"] = R[1]["interior_point"]
    elif tamper == "claim":
        bad["claim"] = "not_convex"
    elif tamper == "neighbor":
        reg = next(r for r in R if len(r["facets"]) >= 2)
        reg["facets"][0]["neighbor"], reg["facets"][1]["neighbor"] = (reg["facets"][1]["neighbor"],
                                                                      reg["facets"][0]["neighbor"])
    try:
        r = verify(bad)
    except CertificateError:
        return  # the claim "not_convex" without a witness is unreadable: also a rejection
    assert not r.valid and r.reason


def test_network_option_rejects_another_network():
    cert = _convex_regions_cert(cases.ABS)
    assert verify(cert, network=cases.ABS).valid
    other = cases.ABS.negate()
    assert not verify(cert, network=other).valid


# ----- mutations: the checker never accepts a false claim ---------------------------------------

def _values(node, path=()):
    """Paths to every leaf value (numbers, strings, ints) of a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _values(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _values(v, path + (i,))
    else:
        yield path


def _set(tree, path, value):
    for p in path[:-1]:
        tree = tree[p]
    tree[path[-1]] = value


def _mutant(value, rnd: random.Random):
    choices = ["0", "1", "-1", "1/2", "-1/3", "7", "1/1000"]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rnd.choice([-1, 1])
    if isinstance(value, str) and set(value) <= {"0", "1"} and value:
        i = rnd.randrange(len(value))
        return value[:i] + ("1" if value[i] == "0" else "0") + value[i + 1:]
    return rnd.choice(choices)


MUTANTS_PER_CERTIFICATE = 6


@settings(max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_documents(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), outputs=(1, 2)),
       st.integers(0, 2**32), st.booleans())
def test_mutated_certificates_are_never_accepted_for_a_false_claim(doc, seed, force_regions):
    _mutation_round(doc, seed, force_regions)


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_documents(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), outputs=(1, 2), slopes=slopes()),
       st.integers(0, 2**32), st.booleans())
def test_mutated_leaky_certificates_are_never_accepted_for_a_false_claim(doc, seed, force_regions):
    # the slopes are values of the embedded network ("activation": {"leaky_relu": s}), so they get mutated too
    _mutation_round(doc, seed, force_regions)


def _mutation_round(doc, seed, force_regions):
    net = network_from_dict(doc)
    v = check(net, method="regions" if force_regions else "auto", certificate=True)
    cert = v.certificate
    rnd = random.Random(seed)
    # the unmutated certificate: valid, about the network given, and its claim true by the oracle
    result = verify(cert, network=net)
    assert result.valid, result.reason
    assert oracle.parse_network(cert["network"]) == oracle.parse_network(doc)
    assert_claim_is_true(cert, rnd)
    paths = [p for p in _values(cert) if p[0] not in ("format", "version")]
    network_paths = [p for p in paths if p[0] == "network"]
    for _ in range(MUTANTS_PER_CERTIFICATE):
        # half of the mutants change the network itself: those are the ones that can make a claim false
        path = rnd.choice(network_paths if rnd.random() < 0.5 else paths)
        bad = copy.deepcopy(cert)
        value = bad
        for p in path:
            value = value[p]
        _set(bad, path, _mutant(value, rnd))
        try:
            r = verify(bad)
        except CertificateError:
            continue
        if r.valid:  # accepted: its claim must be true of its embedded network, decided by the oracle
            assert_claim_is_true(bad, rnd, f" after mutating {path}")


# ----- CLI ------------------------------------------------------------------------------------

def test_cli_check_cert_then_verify(tmp_path):
    from exactconvex import save_json

    save_json(cases.CONVEX_NOT_ICNN, tmp_path / "n.json")
    out = tmp_path / "c.json"
    r = subprocess.run([sys.executable, "-m", "exactconvex", "check", str(tmp_path / "n.json"), "--json",
                        "--method", "regions", "--cert", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["certificate"]["bytes"] == os.path.getsize(out) and report["certificate"]["valid"]
    assert report["certificate"]["verify_seconds"] >= 0
    r = subprocess.run([sys.executable, "-m", "exactconvex", "verify", str(out), "--network",
                        str(tmp_path / "n.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    # the package's layout: each region of the region graph on one line of its own
    regions = data["region_graph"]["regions"]
    lines = [line for line in out.read_text().splitlines() if line.startswith('   {"pattern"')]
    assert [json.loads(line.rstrip(",")) for line in lines] == regions and len(regions) > 1
    data["network"]["layers"][-1]["weight"][0][1] = -2
    out.write_text(json.dumps(data))
    r = subprocess.run([sys.executable, "-m", "exactconvex", "verify", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.integers(0, 5))
def test_certificate_text_reads_back_as_the_document_and_indents_only_the_outer_levels(doc, depth):
    from exactconvex.certificates import certificate_text

    text = certificate_text(doc, depth)
    assert text.endswith("\n") and json.loads(text) == doc
    # no line is indented deeper than ``depth`` levels: deeper values stay on their parent's line
    assert all(len(line) - len(line.lstrip(" ")) <= depth for line in text.splitlines())
    if depth == 0:
        assert text == json.dumps(doc, separators=(",", ":")) + "\n"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
                       st.integers(), max_size=6))
def test_certificate_text_names_members_as_json_does(doc):
    from exactconvex.certificates import certificate_text

    assert certificate_text(doc) == json.dumps(doc, indent=1, separators=(",", ":")) + "\n"
    assert json.loads(certificate_text({"outer": doc})) == json.loads(json.dumps({"outer": doc}))
    with pytest.raises(TypeError, match="keys must be"):
        certificate_text({(1, 2): 0})


def _wide_certificate():
    import numpy as np
    from exactconvex.sweep.generate import icnn_structured, torch_network

    net = icnn_structured(torch_network(np.random.default_rng(0), 2, [8, 8]))
    cert = check(net, method="regions", certificate=True).certificate
    groups = [g for R in cert["region_graph"]["regions"] for g in R.get("implied", [])]
    assert any(isinstance(g["neurons"][0], str) for g in groups) and any(isinstance(g["neurons"][0], list) for g in groups)
    return cert, groups


def test_implied_neurons_as_marks_or_as_a_list_read_the_same():
    cert, groups = _wide_certificate()
    assert verify(cert).valid
    for g in groups:  # every group written the other way round
        if isinstance(g["neurons"][0], str):
            g["neurons"] = [[l, j] for l, s in enumerate(g["neurons"], 1) for j, c in enumerate(s) if c == "1"]
        else:
            marks = [["0"] * 8, ["0"] * 8]
            for l, j in g["neurons"]:
                marks[l - 1][j] = "1"
            g["neurons"] = ["".join(m) for m in marks]
    r = verify(cert)
    assert r.valid, r.reason


@pytest.mark.parametrize("change, outcome", [
    (lambda m: [m[0].replace("1", "2", 1), m[1]], "unreadable"),  # not a mark
    (lambda m: [m[0], m[1] + "1"], "has no neuron 8 of layer 2"),  # beyond the layer's width
    (lambda m: m + ["1"], "has no neuron 0 of layer 3"),  # beyond the hidden layers
    (lambda m: [m[0].replace("1", "0", 1), m[1]], "neither a listed facet nor proved redundant"),  # one mark dropped
    (lambda m: [m[0], [1, 0]], "unreadable"),  # marks and a neuron mixed
])
def test_broken_marks_are_caught(change, outcome):
    cert, groups = _wide_certificate()
    group = next(g for g in groups if isinstance(g["neurons"][0], str) and "1" in g["neurons"][0])
    group["neurons"] = change(group["neurons"])
    try:
        r = verify(cert)
    except CertificateError as exc:
        assert outcome == "unreadable", exc
        return
    assert not r.valid and outcome in r.reason, r.reason
