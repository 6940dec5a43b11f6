"""The structure behind ``check`` (issue 11, item 6): a registry of named rules, one certificate
writer for every claim, and the path-lifting printers apart from the mathematics."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import oracle
from exactconvex import Network, network_from_dict
from exactconvex.checker import verify
from exactconvex.decide import METHODS, RULE, RULES, Undecided, check
from exactconvex.decide.fastpaths import icnn_structure

ROOT = Path(__file__).resolve().parents[1]

ABS = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
NEG_ABS = ABS.negate()
DEEP_CONVEX = Network.from_lists(2, [{"weight": [[1, 0], [-1, 0], [0, 1]]},
                                     {"weight": [[1, -1, 0], [0, 0, 1]], "bias": [0, -1]}, {"weight": [[1, 2]]}])
DEEP_NOT_CONVEX = DEEP_CONVEX.negate()
TWO_OUTPUTS = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [-1, -1]]}])
ISSUE_MODEL = {"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [
    {"weight": [[2], [1]], "bias": [0, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-2, 0]]}]}


# ----- the registry ------------------------------------------------------------------------------

def test_registry_names_theorems_and_proof_links():
    assert [r.name for r in RULES] == ["icnn", "one-layer", "search", "regions"]
    assert METHODS == ("auto", *RULE) and set(RULE) == {r.name for r in RULES}
    for rule in RULES:
        # one sentence, ending with a full stop
        assert rule.theorem.endswith(".") and rule.theorem.count(". ") == 0, rule.name
        # every file the proof link names exists in the repository (shared/design is the design notes)
        files = re.findall(r"(?:proofs|docs)/[\w./-]+\.md", rule.proof)
        assert files or "geometry-notes" in rule.proof or "definition" in rule.proof, rule.name
        for f in files:
            assert (ROOT / f).is_file(), f"{rule.name}: {f} does not exist"
        if "geometry-notes" in rule.proof:
            assert re.search(r"sections? \d", rule.proof), rule.name
    assert {r.certificate_method for r in RULES} - {None} == {"icnn", "one_layer", "regions"}


def test_cli_method_choices_come_from_the_registry():
    r = subprocess.run([sys.executable, "-m", "exactconvex", "check", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    choices = re.search(r"--method \{([^}]*)\}", r.stdout).group(1).split(",")
    assert tuple(choices) == METHODS


def test_importing_the_registry_is_light():
    code = ("import sys, exactconvex.decide, exactconvex.decide.rules; "
            "print(sorted(m for m in ('numpy', 'flint', 'scipy', 'networkx') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.replace("'", '"')) == []


@pytest.mark.parametrize("net", [ABS, NEG_ABS, DEEP_CONVEX, DEEP_NOT_CONVEX, TWO_OUTPUTS,
                                 network_from_dict(ISSUE_MODEL)], ids=["abs", "-abs", "deep", "-deep", "two", "leaky"])
def test_each_rule_settles_what_it_applies_to_or_says_why_not(net):
    truth = None
    for rule in RULES:
        applies = [rule.applies(net, k) for k in range(net.num_outputs)]
        if rule.name == "icnn":
            assert applies == [icnn_structure(net, k) for k in range(net.num_outputs)]
        if rule.name == "one-layer":
            assert applies == [net.depth == 2] * net.num_outputs
        try:
            v = check(net, method=rule.name, certificate=True)
        except Undecided as exc:
            assert str(exc) == rule.cannot(net)
            assert rule.name != "regions"
            continue
        assert {o.method for o in v.outputs} == {rule.name}
        assert all(o.proof == (rule.certificate_method if o.convex else None) for o in v.outputs)
        if v.convex:
            assert [p["method"] for p in v.certificate["proofs"]] == [rule.certificate_method] * net.num_outputs
        else:
            assert v.witness is not None and oracle.violates(
                json.loads(json.dumps(v.certificate["network"])), v.certificate["witness"])
        assert verify(v.certificate, network=net).valid
        truth = v.convex if truth is None else truth
        assert v.convex == truth  # every rule that decides agrees


def test_auto_takes_the_rules_in_registry_order():
    assert check(ABS).method == "icnn"  # ICNN structure first
    assert check(NEG_ABS).method == "one-layer"  # not an ICNN, one hidden layer
    assert check(DEEP_CONVEX).method == "regions"  # nothing cheaper decides it
    v = check(TWO_OUTPUTS)
    assert [o.method for o in v.outputs] == ["icnn", "one-layer"] and v.method == "one-layer"
    with pytest.raises(ValueError, match="choose one of auto, icnn, one-layer, search, regions"):
        check(ABS, method="magic")


# ----- one writer for every claim ---------------------------------------------------------------------

def test_every_certificate_is_built_by_the_writer():
    # a claim with its literal name, or the certificate format's name, is written only in the package
    # exactconvex/certificates (the checker reads them; reports that pass a claim on do not count)
    writers = []
    for path in sorted((ROOT / "exactconvex").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("exactconvex/checker/"):
            continue
        text = path.read_text()
        if re.search(r"[\"']claim[\"']\s*:\s*[\"']", text) or '"exactconvex.certificate"' in text:
            writers.append(rel)
    assert "exactconvex/certificates/writer.py" in writers
    assert all(w.startswith("exactconvex/certificates/") for w in writers), writers


def test_the_old_names_still_work_and_are_the_writer():
    import exactconvex.certificates as certificates
    import exactconvex.decide as decide
    import exactconvex.icnn as icnn

    assert decide.witness_json is certificates.witness_json
    assert decide.region_graph_json is certificates.region_graph_json
    assert icnn.equivalence_certificate is certificates.equivalence_certificate
    v = check(NEG_ABS, method="regions")
    assert decide.build_certificate(NEG_ABS, v) == certificates.certificate_of_verdict(NEG_ABS, v)


# ----- printers apart from the mathematics -------------------------------------------------------------

def test_path_lifting_printers_live_apart():
    from exactconvex.pathlifting import conditions, conditions_for_architecture
    from exactconvex.pathlifting import printers

    source = (ROOT / "exactconvex" / "pathlifting" / "conditions.py").read_text()
    assert "\\begin{array}" not in source and "sympy.latex" not in source and "q_str" not in source
    report = conditions(network_from_dict(ISSUE_MODEL))
    assert report.to_json() == printers.report_json(report)
    assert report.to_text() == printers.report_text(report)
    assert report.to_latex() == printers.report_latex(report)
    family = conditions_for_architecture(2, [2, 1], slopes="symbolic", distinct=True)
    assert family.to_json() == printers.family_json(family)
    assert family.to_text() == printers.family_text(family) and "s_1" in family.to_text()
    assert family.to_latex() == printers.family_latex(family) and "s_{1}" in family.to_latex()
