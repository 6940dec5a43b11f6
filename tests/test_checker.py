"""The independent certificate checker (``exactconvex.checker``), on hand-built certificates.

Format: docs/certificate-format.md.  Valid certificates must pass; every tampering must be
rejected with a reason (valid=False) and every unreadable input must raise CertificateError.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from exactconvex.checker import CLAIMS, CertificateError, CheckResult, verify
from exactconvex.checker import _evaluate, _local_affine  # cross-checked against the model below
from exactconvex.checker import cli_verify
from exactconvex.network import network_from_dict, save_json
from strategies import networks, patterns


def net(d, layers):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers}


def cert(network, claim, **keys):
    return {"format": "exactconvex.certificate", "version": 1, "claim": claim, "network": network, **keys}


def region(pattern, interior, facets=(), redundant=()):
    return {"pattern": pattern, "interior_point": interior,
            "facets": [{"neuron": n, "point": p, "neighbor": nb} for n, p, nb in facets],
            "redundant": [{"neuron": n, "multipliers": m, "constant": c} for n, m, c in redundant]}


def regions_cert(network, regions, methods=("regions",)):
    return cert(network, "convex", proofs=[{"output": k, "method": m} for k, m in enumerate(methods)],
                region_graph={"regions": regions})


def invalid(c, pattern, **kw):
    r = verify(c, **kw)
    assert isinstance(r, CheckResult) and not r.valid, r
    assert re.search(pattern, r.reason), r.reason
    assert "\n" not in r.reason
    return r


def valid(c, **kw):
    r = verify(c, **kw)
    assert r.valid, r.reason
    return r


# ----- fixtures: small networks and their certificates -------------------------------------

ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])  # |x| = ReLU(x) + ReLU(-x)
ABS_REGIONS = [region(["10"], ["1"], [([1, 0], ["0"], 1)]),
               region(["01"], ["-1"], [([1, 1], ["0"], 0)])]

# max(x1, x2, 0) = u + ReLU(x2 - u), u = ReLU(x1): depth 3, a skip from the input and one from layer 1
MAX = net(2, [{"weight": [[1, 0]]}, {"weight": [[-1]], "skip": {"0": [[0, 1]]}}, {"weight": [[1]], "skip": {"1": [[1]]}}])
A, B, C, D = 0, 1, 2, 3
MAX_REGIONS = [
    region(["1", "1"], ["1", "2"], [([1, 0], ["0", "1"], C), ([2, 0], ["1", "1"], B)]),  # A: x1 >= 0, x2 >= x1
    region(["1", "0"], ["2", "1"], [([1, 0], ["0", "-1"], D), ([2, 0], ["1", "1"], A)]),  # B: x1 >= 0, x2 <= x1
    region(["0", "1"], ["-1", "1"], [([1, 0], ["0", "1"], A), ([2, 0], ["-1", "0"], D)]),  # C: x1 <= 0, x2 >= 0
    region(["0", "0"], ["-1", "-1"], [([1, 0], ["0", "-1"], B), ([2, 0], ["-1", "0"], C)]),  # D: x1, x2 <= 0
]

# ReLU(x) + ReLU(x - 1): three regions, the outer two with a redundant constraint (Farkas identity)
RAMP = net(1, [{"weight": [[1], [1]], "bias": [0, -1]}, {"weight": [[1, 1]]}])
RAMP_REGIONS = [
    region(["00"], ["-1"], [([1, 0], ["0"], 1)], [([1, 1], ["1"], "1")]),  # 1 - x = 1 * (-x) + 1
    region(["10"], ["1/2"], [([1, 0], ["0"], 0), ([1, 1], ["1"], 2)]),
    region(["11"], ["2"], [([1, 1], ["1"], 1)], [([1, 0], ["1"], "1")]),  # x = 1 * (x - 1) + 1
]

# one hidden layer with a duplicate (x2), an opposite and a constant neuron: |x1 + x2| + ReLU(x2 + 1) - 15
ONE = net(2, [{"weight": [[1, 1], [2, 2], [-1, -1], [0, 0], [0, 1]], "bias": [0, 0, 0, 5, 1]},
              {"weight": [[-1, 1, 1, -3, 1]]}])

# an ICNN of depth 3 with free input skips and a nonnegative skip from layer 1 into the output
ICNN = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]], "bias": [-1], "skip": {"0": [[-3]]}},
               {"weight": [[2]], "bias": [7], "skip": {"0": [[-5]], "1": [[1, 0]]}}])

NEG_ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])
WITNESS = {"output": 0, "x": ["1"], "y": ["-1"], "lambda": "1/2"}


def test_abs_regions_valid():
    r = valid(regions_cert(ABS, ABS_REGIONS))
    assert r.claim == "convex" and "2 regions" in r.reason


def test_max_network_regions_valid():
    valid(regions_cert(MAX, MAX_REGIONS))


def test_ramp_with_farkas_identities_valid():
    valid(regions_cert(RAMP, RAMP_REGIONS))
    # the same network is also an ICNN and has one hidden layer
    valid(cert(RAMP, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    valid(cert(RAMP, "convex", proofs=[{"output": 0, "method": "one_layer"}]))


def test_one_layer_duplicate_and_opposite_neurons():
    valid(cert(ONE, "convex", proofs=[{"output": 0, "method": "one_layer"}]))
    invalid(cert(ONE, "convex", proofs=[{"output": 0, "method": "icnn"}]), "icnn.* < 0")
    bad = copy.deepcopy(ONE)
    bad["layers"][1]["weight"] = [[-1, -1, 1, -3, 1]]  # the duplicate's output weight flipped: group sum -2
    invalid(cert(bad, "convex", proofs=[{"output": 0, "method": "one_layer"}]), "one_layer.*bend by -2 < 0")
    invalid(cert(MAX, "convex", proofs=[{"output": 0, "method": "one_layer"}]), "exactly one hidden layer")


def test_icnn():
    valid(cert(ICNN, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    for where in (("layers", 1, "weight"), ("layers", 2, "skip", "1")):
        bad = copy.deepcopy(ICNN)
        m = bad
        for k in where:
            m = m[k]
        m[0][0] = -1
        invalid(cert(bad, "convex", proofs=[{"output": 0, "method": "icnn"}]), "method icnn.*-1 < 0")
    affine = net(2, [{"weight": [[-1, 3]], "bias": [4]}])
    valid(cert(affine, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    valid(regions_cert(affine, [region([], ["0", "0"])]))


def test_not_convex_witness():
    r = valid(cert(NEG_ABS, "not_convex", witness=WITNESS))
    assert r.claim == "not_convex"
    invalid(cert(ABS, "not_convex", witness=WITNESS), "does not exceed")
    for lam in ("0", "1", 0, 1, "3/2", "-1/2"):
        invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": lam}), "not strictly between 0 and 1")
    invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "x": ["1", "2"]}), "coordinates")
    invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": 1}), "output 1 does not exist")
    valid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": 0.25}))  # a JSON decimal is exact


def test_negative_abs_regions_invalid():
    invalid(regions_cert(NEG_ABS, ABS_REGIONS), "output 0 bends by -2 < 0")


def test_region_graph_checked_whenever_present():
    c = cert(RAMP, "convex", proofs=[{"output": 0, "method": "icnn"}], region_graph={"regions": RAMP_REGIONS})
    valid(c)
    c["region_graph"]["regions"] = RAMP_REGIONS[:2]
    invalid(c, "neighbor 2 is not a region index")


def test_several_outputs_each_needs_a_proof():
    two = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [2, 1]]}])
    valid(regions_cert(two, ABS_REGIONS, methods=("regions", "one_layer")))
    invalid(regions_cert(two, ABS_REGIONS), "1 proofs for 2 outputs")
    c = regions_cert(two, ABS_REGIONS, methods=("regions", "one_layer"))
    c["proofs"][1]["output"] = 0
    invalid(c, "expected output 1")
    invalid(regions_cert(two, ABS_REGIONS, methods=("regions", "magic")), "unknown method 'magic'")


# ----- tampering -----------------------------------------------------------------------------

def test_change_the_claim():
    c = regions_cert(ABS, ABS_REGIONS)
    c["witness"] = WITNESS
    valid(c)
    invalid({**c, "claim": "not_convex"}, "does not exceed")
    invalid({**c, "claim": "convexx"}, "claim 'convexx' is not supported")
    for other in ("equivalent", "not_icnn_representable"):
        assert other in CLAIMS
        with pytest.raises(CertificateError):  # their own keys ("networks", "line") are missing
            verify({**c, "claim": other})


def test_flip_output_weight():
    bad = copy.deepcopy(MAX)
    bad["layers"][2]["weight"] = [[-1]]
    invalid(regions_cert(bad, MAX_REGIONS), "bends by .* < 0")


def test_delete_a_region():
    invalid(regions_cert(ABS, ABS_REGIONS[:1]), "neighbor 1 is not a region index")
    regions = copy.deepcopy(MAX_REGIONS[:3])  # D deleted, its facets redirected to A
    for R in regions:
        for F in R["facets"]:
            F["neighbor"] = A if F["neighbor"] == D else F["neighbor"]
    invalid(regions_cert(MAX, regions), "does not contain the other side|no constraint on the facet")
    invalid(regions_cert(ABS, []), "no regions")


def test_drop_a_facet():
    for r in range(4):
        regions = copy.deepcopy(MAX_REGIONS)
        del regions[r]["facets"][0]
        invalid(regions_cert(MAX, regions), f"region {r}: the constraint of neuron \\[1, 0\\] is neither a listed facet")


def test_corrupt_farkas_identity():
    for bad in (["2"], ["1/2"]):
        regions = copy.deepcopy(RAMP_REGIONS)
        regions[0]["redundant"][0]["multipliers"] = bad
        invalid(regions_cert(RAMP, regions), "region 0, redundant 0: the Farkas identity .* fails at coefficient 0")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[2]["redundant"][0]["constant"] = "2"
    invalid(regions_cert(RAMP, regions), "fails at the constant term")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["multipliers"] = ["-1"]
    invalid(regions_cert(RAMP, regions), "negative")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["multipliers"] = ["1", "0"]
    invalid(regions_cert(RAMP, regions), "2 multipliers for 1 facets")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"] = []
    invalid(regions_cert(RAMP, regions), "neuron \\[1, 1\\] is neither a listed facet nor proved redundant")


def test_sparse_farkas_support():
    # a "support" names the facets whose multipliers are listed; the others are 0
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["support"] = [0]
    regions[2]["redundant"][0]["support"] = [0]
    valid(regions_cert(RAMP, regions))
    for support, mult, pattern in (([1], ["1"], "support \\[1\\] does not name distinct facets"),
                                   ([0, 0], ["1", "0"], "does not name distinct facets"),
                                   ([-1], ["1"], "does not name distinct facets"),
                                   ([0], ["1", "0"], "2 multipliers for 1 support facets"),
                                   ([], [], "the Farkas identity .* fails at coefficient 0")):
        regions = copy.deepcopy(RAMP_REGIONS)
        regions[0]["redundant"][0].update(support=support, multipliers=mult)
        invalid(regions_cert(RAMP, regions), pattern)
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0].update(support=["0"])
    with pytest.raises(CertificateError, match="support"):
        verify(regions_cert(RAMP, regions))


def test_implied_groups_are_solved_by_the_checker():
    # "implied": the checker finds the multipliers itself (unique: support + constant independent)
    regions = copy.deepcopy(RAMP_REGIONS)
    for r in (0, 2):
        e = regions[r].pop("redundant")[0]
        regions[r]["implied"] = [{"facets": [0], "neurons": [e["neuron"]]}]
    valid(regions_cert(RAMP, regions))
    bad = copy.deepcopy(regions)
    bad[1]["implied"] = [{"facets": [0], "neurons": [[1, 1]]}]  # 1 - x = -1 * x + 1: negative
    invalid(regions_cert(RAMP, bad), "region 1, implied 0: the constraint of neuron \\[1, 1\\] needs a negative")
    bad[1]["implied"] = [{"facets": [0, 1], "neurons": [[1, 1]]}]  # x, 1 - x and 1: dependent in R^2
    invalid(regions_cert(RAMP, bad), "not linearly independent")
    for facets in ([0, 0], [1], [-1]):
        bad = copy.deepcopy(regions)
        bad[0]["implied"][0]["facets"] = facets
        invalid(regions_cert(RAMP, bad), "are not distinct facets of the region")
    bad = copy.deepcopy(regions)
    bad[0]["implied"][0]["neurons"] = [[1, 5]]
    invalid(regions_cert(RAMP, bad), "there is no hidden neuron \\[1, 5\\]")
    bad = copy.deepcopy(regions)
    bad[0]["implied"][0]["neurons"] = []
    invalid(regions_cert(RAMP, bad), "neuron \\[1, 1\\] is neither a listed facet nor proved redundant")
    bad[0]["implied"][0]["neurons"] = "x"
    with pytest.raises(CertificateError, match="implied"):
        verify(regions_cert(RAMP, bad))


def test_interior_point_outside_or_on_boundary():
    for p in (["-1"], ["0"]):
        regions = copy.deepcopy(ABS_REGIONS)
        regions[0]["interior_point"] = p
        invalid(regions_cert(ABS, regions), "region 0: the constraint of neuron .* at the interior point")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["interior_point"] = ["1", "1"]  # on the facet x2 = x1
    invalid(regions_cert(MAX, regions), "region 0:.*interior point")


def test_facet_point_not_in_relative_interior():
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["point"] = ["0", "0"]  # the vertex, on both facets
    invalid(regions_cert(MAX, regions), "region 0, facet 0: the point is not in the relative interior")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["point"] = ["1", "2"]
    invalid(regions_cert(MAX, regions), "not on the hyperplane")


def test_wrong_neighbour():
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = D
    invalid(regions_cert(MAX, regions), "region 0, facet 0: region 3 does not contain the other side")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = A
    invalid(regions_cert(MAX, regions), "region 0, facet 0: region 0")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = 7
    invalid(regions_cert(MAX, regions), "neighbor 7 is not a region index")


def test_bad_values_are_invalid_not_errors():
    def with_(r, key, value, i=None):
        regions = copy.deepcopy(MAX_REGIONS)
        if i is None:
            regions[r][key] = value
        else:
            regions[r]["facets"][i][key] = value
        return regions_cert(MAX, regions)
    invalid(with_(0, "pattern", ["1"]), "pattern")
    invalid(with_(0, "pattern", ["11", "1"]), "pattern")
    invalid(with_(0, "pattern", ["x", "1"]), "pattern")
    invalid(with_(0, "interior_point", ["1"]), "1 coordinates, expected 2")
    invalid(with_(0, "point", ["0", "1", "2"], i=0), "3 coordinates, expected 2")
    invalid(with_(0, "neuron", [3, 0], i=0), "no hidden neuron \\[3, 0\\]")
    invalid(with_(0, "neuron", [1, -1], i=0), "no hidden neuron")
    invalid(with_(0, "neighbor", -1, i=0), "not a region index")


def test_constant_neurons():
    # |x| with a dead neuron (always off: constant constraint 1) and an always-on one (constant 2)
    network = net(1, [{"weight": [[1], [-1], [0], [0]], "bias": [0, 0, -1, 2]}, {"weight": [[1, 1, 5, 1]]}])
    regions = [region(["1001"], ["1"], [([1, 0], ["0"], 1)]), region(["0101"], ["-1"], [([1, 1], ["0"], 0)])]
    valid(regions_cert(network, regions))
    bad = copy.deepcopy(regions)
    bad[0]["pattern"] = ["1011"]  # the dead neuron "on": constant constraint -1 < 0, empty region
    invalid(regions_cert(network, bad), "region 0: the constraint of neuron \\[1, 2\\] is -1")
    bad = copy.deepcopy(regions)
    bad[0]["facets"][0]["neuron"] = [1, 3]
    invalid(regions_cert(network, bad), "constant")


def test_network_option(tmp_path):
    c = regions_cert(ABS, ABS_REGIONS)
    valid(c, network=network_from_dict(ABS))
    valid(c, network=ABS)
    path = tmp_path / "abs.json"
    save_json(network_from_dict(ABS), path)
    valid(c, network=path)
    other = copy.deepcopy(ABS)
    other["layers"][0]["bias"] = [0, "1/1000"]
    invalid(c, "differs from the given network", network=network_from_dict(other))
    invalid(c, "differs", network=NEG_ABS)
    invalid(c, "differs", network=MAX)
    with pytest.raises(CertificateError, match="--network"):
        verify(c, network=tmp_path / "missing.json")


def test_file_input_and_ignored_keys(tmp_path):
    c = regions_cert(ABS, ABS_REGIONS)
    c["summary"] = "anything"
    c["region_graph"]["regions"][0]["facets"][0]["bend"] = ["-999"]  # human-readable: ignored
    path = tmp_path / "c.json"
    path.write_text(json.dumps(c))
    valid(str(path))
    valid(path)


# ----- unreadable input -----------------------------------------------------------------------

def test_garbage_raises_certificate_error(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    bad_inputs = [str(p), tmp_path / "missing.json", tmp_path, 42, [], {}]
    good = regions_cert(ABS, ABS_REGIONS)
    bad_inputs += [{**good, "format": "exactconvex.network"}, {**good, "version": 2}, {**good, "version": True},
                   {**good, "claim": 1}, {k: v for k, v in good.items() if k != "network"},
                   {k: v for k, v in good.items() if k != "claim"},
                   {k: v for k, v in good.items() if k != "proofs"},
                   {k: v for k, v in good.items() if k != "region_graph"},
                   {**good, "network": {**ABS, "input_dim": 0}}, {**good, "network": "abs.json"},
                   {**good, "proofs": {"output": 0}}, {**good, "proofs": [{"output": "0", "method": "regions"}]},
                   {**good, "proofs": [{"output": 0}]}, {**good, "region_graph": []},
                   {**good, "region_graph": {"regions": {}}}, cert(NEG_ABS, "not_convex"),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": "abc"}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": None}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "x": "1"}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "y": [True]}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": False})]
    for key, value in [("pattern", "10"), ("pattern", [1, 0]), ("interior_point", ["1/0"]),
                       ("interior_point", None), ("facets", {}), ("facets", ["x"]), ("redundant", [[]])]:
        c = copy.deepcopy(good)
        c["region_graph"]["regions"][0][key] = value
        bad_inputs.append(c)
    for key, value in [("neuron", [1]), ("neuron", ["1", 0]), ("neighbor", "1"), ("neighbor", 1.0),
                       ("point", ["NaN"]), ("point", [[0]])]:
        c = copy.deepcopy(good)
        c["region_graph"]["regions"][0]["facets"][0][key] = value
        bad_inputs.append(c)
    c = copy.deepcopy(good)
    c["region_graph"]["regions"][0] = "region"
    bad_inputs.append(c)
    for bad in bad_inputs:
        with pytest.raises(CertificateError) as info:
            verify(bad)
        assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_nan_in_file_is_an_error(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(cert(NEG_ABS, "not_convex", witness=WITNESS)).replace('"1/2"', "NaN"))
    with pytest.raises(CertificateError, match="witness.lambda"):
        verify(p)


def test_structure_is_read_before_anything_is_checked():
    c = regions_cert(ABS, copy.deepcopy(ABS_REGIONS))
    c["region_graph"]["regions"][0]["interior_point"] = ["-1"]  # invalid ...
    c["region_graph"]["regions"][1]["facets"][0]["neighbor"] = "0"  # ... and unreadable: unreadable wins
    with pytest.raises(CertificateError):
        verify(c)


def test_random_mutations_never_crash():
    rng = random.Random(1)
    garbage = [None, True, 0, -1, 5, "0", "1/2", "-3", "x", [], [0], ["1", "0"], [[1]], {}, {"a": 1}, 0.5]
    base = [regions_cert(MAX, MAX_REGIONS), regions_cert(RAMP, RAMP_REGIONS), cert(NEG_ABS, "not_convex", witness=WITNESS)]

    def leaves(obj, path=()):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        yield path
        for k, v in items:
            yield from leaves(v, path + (k,))

    for _ in range(400):
        c = copy.deepcopy(rng.choice(base))
        paths = [p for p in leaves(c) if p and p[0] != "network"]
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            target = c
            try:
                for k in path[:-1]:
                    target = target[k]
                target[path[-1]] = copy.deepcopy(rng.choice(garbage))
            except (KeyError, IndexError, TypeError):
                pass
        try:
            assert isinstance(verify(c), CheckResult)
        except CertificateError:
            pass


# ----- the checker's own arithmetic agrees with the model (the search side) ------------------------

@given(st.data())
def test_own_arithmetic_matches_model(data):
    network = data.draw(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=2))
    x = data.draw(st.lists(st.fractions(-5, 5, max_denominator=4), min_size=network.input_dim,
                           max_size=network.input_dim))
    from exactconvex.numbers import to_q
    xq = [to_q(v) for v in x]
    assert tuple(_evaluate(network, xq)) == network.evaluate(xq)
    pattern = data.draw(patterns(network))
    on = [list(map(bool, p)) for p in network.split_pattern(pattern)]
    mine = _local_affine(network, on)
    theirs = network.local_affine(pattern).pre
    for l in range(1, network.depth + 1):
        G, g = theirs[l]
        for i, row in enumerate(mine[l - 1]):
            assert list(row) == [G[i, j] for j in range(network.input_dim)] + [g[i, 0]]


def test_checker_imports_only_numbers_and_formats():
    for name in ("__init__.py", "extra_claims.py"):
        src = (Path(__file__).parents[1] / "exactconvex" / "checker" / name).read_text()
        imports = re.findall(r"^\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", src, flags=re.M)
        internal = {a or b for a, b in imports if (a or b).startswith(".")}
        assert internal <= {"..numbers", "..network.formats", ".extra_claims"}, (name, internal)
        assert not re.search(r"\.(evaluate|local_affine|pattern)\(", src), name


# ----- the command line -------------------------------------------------------------------

def _parser():
    p = argparse.ArgumentParser(prog="exactconvex")
    cli_verify.add_parser(p.add_subparsers(dest="command"))
    return p


def test_cli_verify(tmp_path, capsys):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(regions_cert(MAX, MAX_REGIONS)))
    bad.write_text(json.dumps(regions_cert(NEG_ABS, ABS_REGIONS)))
    netfile = tmp_path / "max.json"
    netfile.write_text(json.dumps(MAX))
    p = _parser()

    args = p.parse_args(["verify", str(good)])
    assert args.run(args) == 0
    out, err = capsys.readouterr()
    assert "convex" in out and err == ""

    args = p.parse_args(["verify", str(good), "--network", str(netfile)])
    assert args.run(args) == 0
    capsys.readouterr()

    args = p.parse_args(["verify", str(bad)])
    assert args.run(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("invalid certificate: ") and "bends by -2" in err

    args = p.parse_args(["verify", str(bad), "--json"])
    assert cli_verify.run(args) == 1
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"valid": False, "claim": "convex", "reason": verify(bad).reason}

    args = p.parse_args(["verify", str(good), "--json", "--network", str(tmp_path / "nope.json")])
    with pytest.raises(CertificateError):
        cli_verify.run(args)
    args = p.parse_args(["verify", str(tmp_path / "nope.json")])
    with pytest.raises(CertificateError):
        cli_verify.run(args)


# ----- honest certificates of random one-dimensional networks ------------------------------------

def _honest_1d_certificate(network):
    """Brute force over all patterns (d = 1): each full-dimensional P_s is an interval [lo, hi]."""
    from itertools import product
    from flint import fmpq
    n, regions = network.num_hidden, []
    for bits in product((0, 1), repeat=n):
        pre = network.local_affine(bits).pre
        cons = [((1 if bits[i] else -1) * G[j, 0], (1 if bits[i] else -1) * g[j, 0])
                for i, (l, j) in enumerate(network.hidden_neurons) for G, g in [pre[l]]]
        lo, hi, empty = None, None, False
        for a, c in cons:
            if a == 0:
                empty |= c < 0
            elif a > 0:
                lo = -c / a if lo is None else max(lo, -c / a)
            else:
                hi = -c / a if hi is None else min(hi, -c / a)
        if empty or (lo is not None and hi is not None and lo >= hi):
            continue
        regions.append((bits, cons, lo, hi))
    out = []
    for bits, cons, lo, hi in regions:
        mid = (lo + hi) / 2 if lo is not None and hi is not None else (lo + 1 if lo is not None else
                                                                       hi - 1 if hi is not None else fmpq(0))
        facets, tight = [], {}
        for end, sign in ((lo, 1), (hi, -1)):
            if end is None:
                continue
            i = next(i for i, (a, c) in enumerate(cons) if a * sign > 0 and a * end + c == 0)
            nb = next(k for k, R in enumerate(regions) if R[2 if sign < 0 else 3] == end)
            tight[sign] = i
            facets.append((list(network.hidden_neurons[i]), [str(end)], nb))
        redundant = []
        for i, (a, c) in enumerate(cons):
            if a != 0 and i not in tight.values():
                sign = 1 if a > 0 else -1
                ends = [s for s in tight if s == sign]
                assert ends, "a non-constant constraint on an unbounded side"
                k = list(tight).index(sign)
                fa = cons[tight[sign]][0]
                end = lo if sign > 0 else hi
                mult = ["0"] * len(tight)
                mult[k] = str(a / fa)
                redundant.append((list(network.hidden_neurons[i]), mult, str(a * end + c)))
        pattern = ["".join(map(str, p)) for p in network.split_pattern(bits)]
        out.append(region(pattern, [str(mid)], facets, redundant))
    return out, sorted({e for _, _, lo, hi in regions for e in (lo, hi) if e is not None})


@given(networks(d_range=1, depth_range=(1, 4), width_range=(1, 2), outputs=2))
def test_honest_certificates_of_random_1d_networks(network):
    from exactconvex.network import network_to_dict
    regions, breaks = _honest_1d_certificate(network)
    xs = [breaks[0] - 1] + breaks + [breaks[-1] + 1] if breaks else [0, 1]
    convex = []
    for k in range(network.num_outputs):
        ys = [network.evaluate([x])[k] for x in xs]
        slopes = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
        convex.append(all(s <= t for s, t in zip(slopes, slopes[1:])))
    c = regions_cert(network_to_dict(network), regions, methods=("regions",) * network.num_outputs)
    r = verify(json.loads(json.dumps(c)))
    assert r.valid == all(convex), r.reason
    if not r.valid:
        assert "bends by" in r.reason


@given(networks(d_range=1, depth_range=(2, 4), width_range=(1, 2)), st.randoms(use_true_random=False))
def test_mutated_certificates_never_prove_a_nonconvex_network_convex(network, rnd):
    from exactconvex.network import network_to_dict
    regions, breaks = _honest_1d_certificate(network)
    xs = [breaks[0] - 1] + breaks + [breaks[-1] + 1] if breaks else [0, 1]
    ys = [network.evaluate([x])[0] for x in xs]
    slopes = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    if all(s <= t for s, t in zip(slopes, slopes[1:])):
        return
    numbers = ["0", "1", "-1", "1/2", "3", str(breaks[0]) if breaks else "2"]
    for _ in range(10):
        rs = copy.deepcopy(regions)
        for _ in range(rnd.randint(1, 3)):
            R = rnd.choice(rs)
            kind = rnd.randrange(5)
            if kind == 0 and R["facets"]:
                i = rnd.randrange(len(R["facets"]))
                del R["facets"][i]
                for E in R["redundant"]:
                    del E["multipliers"][i]
            elif kind == 1 and R["facets"]:
                rnd.choice(R["facets"])["neighbor"] = rnd.randrange(len(rs))
            elif kind == 2 and len(rs) > 1:
                gone = rnd.randrange(len(rs))
                del rs[gone]
                for S in rs:
                    for F in S["facets"]:
                        F["neighbor"] = (F["neighbor"] - (F["neighbor"] > gone) if F["neighbor"] != gone
                                         else rnd.randrange(len(rs)))
            elif kind == 3 and R["facets"]:
                rnd.choice(R["facets"])["point"] = [rnd.choice(numbers)]
            else:
                R["interior_point"] = [rnd.choice(numbers)]
        assert not verify(regions_cert(network_to_dict(network), rs)).valid
