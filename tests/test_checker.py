"""The independent certificate checker (``exactconvex.checker``) on hand-built certificates.

Format: docs/certificate-format.md.  Valid certificates must pass; every tampering must be
rejected with a reason (valid=False) and every unreadable input must raise CertificateError.
Messages follow one convention: layers 1-based (0 is the input), a neuron's index within its
layer 0-based ("neuron 0 of layer 1"), outputs, regions and facets 0-based.

Other checker tests: test_checker_reader.py (the strict reader), test_checker_trust.py (the
import closure), test_checker_kernels.py (speed tricks against their references, random
certificates), test_checker_leaky.py (LeakyReLU, equivalence, kinks), test_checker_cli.py.
"""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest
from flint import fmpq

from exactconvex.checker import CLAIMS, CertificateError, CheckResult, verify
from exactconvex.network import network_from_dict, save_json


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
    assert not verify(c, reference=True, **kw).valid  # the plain references reject it too
    return r


def valid(c, **kw):
    r = verify(c, **kw)
    assert r.valid, r.reason
    assert verify(c, reference=True, **kw) == r
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
    assert (r.regions, r.facets) == (2, 1)  # one facet shared by two regions counts once


def test_max_network_regions_valid():
    r = valid(regions_cert(MAX, MAX_REGIONS))
    assert (r.regions, r.facets) == (4, 4) and "4 regions, 4 facets" in r.reason


def test_ramp_with_farkas_identities_valid():
    valid(regions_cert(RAMP, RAMP_REGIONS))
    # the same network is also an ICNN and has one hidden layer
    r = valid(cert(RAMP, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    assert r.regions is None and r.facets is None
    valid(cert(RAMP, "convex", proofs=[{"output": 0, "method": "one_layer"}]))


def test_one_layer_duplicate_and_opposite_neurons():
    valid(cert(ONE, "convex", proofs=[{"output": 0, "method": "one_layer"}]))
    invalid(cert(ONE, "convex", proofs=[{"output": 0, "method": "icnn"}]),
            "output 0, method icnn: the weight of neuron 0 of layer 1 into output 0 is -1 < 0")
    bad = copy.deepcopy(ONE)
    bad["layers"][1]["weight"] = [[-1, -1, 1, -3, 1]]  # the duplicate's output weight flipped: group sum -2
    invalid(cert(bad, "convex", proofs=[{"output": 0, "method": "one_layer"}]),
            r"one_layer: the neurons on the hyperplane \(w, b\) = \(1, 1, 0\) bend by -2 < 0")
    invalid(cert(MAX, "convex", proofs=[{"output": 0, "method": "one_layer"}]), "exactly one hidden layer")


def test_icnn():
    valid(cert(ICNN, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    for where, message in ((("layers", 1, "weight"), "neuron 0 of layer 1 into neuron 0 of layer 2"),
                           (("layers", 2, "skip", "1"), "neuron 0 of layer 1 into output 0")):
        bad = copy.deepcopy(ICNN)
        m = bad
        for k in where:
            m = m[k]
        m[0][0] = -1
        invalid(cert(bad, "convex", proofs=[{"output": 0, "method": "icnn"}]), f"method icnn: the weight of {message} "
                                                                                "is -1 < 0")
    affine = net(2, [{"weight": [[-1, 3]], "bias": [4]}])
    valid(cert(affine, "convex", proofs=[{"output": 0, "method": "icnn"}]))
    valid(regions_cert(affine, [region([], ["0", "0"])]))
    empty_group = regions_cert(affine, [{**region([], ["0", "0"]), "implied": [{"facets": [], "neurons": []}]}])
    valid(empty_group)  # no hidden neuron at all: an empty group proves nothing and needs nothing


def test_not_convex_witness():
    r = valid(cert(NEG_ABS, "not_convex", witness=WITNESS))
    assert r.claim == "not_convex" and "lies 1 above the chord" in r.reason
    invalid(cert(ABS, "not_convex", witness=WITNESS), "output 0 at lambda x .* is 0, which does not exceed .* = 1")
    for lam in ("0", "1", 0, 1, "3/2", "-1/2"):
        invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": lam}), "not strictly between 0 and 1")
    invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "x": ["1", "2"]}), "coordinates")
    invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": 1}), "output 1 does not exist")
    invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": -1}), "output -1 does not exist")
    valid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": 0.25}))  # a JSON decimal is exact


def test_negative_abs_regions_invalid():
    invalid(regions_cert(NEG_ABS, ABS_REGIONS), "region 0, facet 0: output 0 bends by -2 < 0 across the facet into "
                                                "region 1")


def test_region_graph_checked_whenever_present():
    c = cert(RAMP, "convex", proofs=[{"output": 0, "method": "icnn"}], region_graph={"regions": RAMP_REGIONS})
    assert valid(c).facets == 2
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
    # output 1 bends negatively, but only output 0 uses the region graph's bends
    bent = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [-1, -1]]}])
    invalid(regions_cert(bent, ABS_REGIONS, methods=("regions", "regions")), "output 1 bends by -2")
    invalid(regions_cert(bent, ABS_REGIONS, methods=("regions", "icnn")), "output 1, method icnn")


# ----- tampering -----------------------------------------------------------------------------

def test_change_the_claim():
    c = regions_cert(ABS, ABS_REGIONS)
    c["witness"] = WITNESS
    valid(c)
    invalid({**c, "claim": "not_convex"}, "does not exceed")
    invalid({**c, "claim": "convexx"}, "claim 'convexx' is not supported")
    invalid({**c, "claim": "x" * 10_000}, "claim 'xxxx.*\\.\\.\\. is not supported")
    assert len(verify({**c, "claim": "x" * 10_000}).reason) < 200
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
        # check 4 on region r, or check 3 of the facet of the region across (which reads r's listed facets)
        invalid(regions_cert(MAX, regions), f"region {r}: the constraint of neuron 0 of layer 1 is neither a listed "
                                            f"facet nor proved redundant|region {r} has no constraint on the facet's "
                                            f"hyperplane")


def test_corrupt_farkas_identity():
    for bad in (["2"], ["1/2"]):
        regions = copy.deepcopy(RAMP_REGIONS)
        regions[0]["redundant"][0]["multipliers"] = bad
        invalid(regions_cert(RAMP, regions), "region 0, redundant 0: the Farkas identity for neuron 1 of layer 1 "
                                             "fails at coefficient 0")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[2]["redundant"][0]["constant"] = "2"
    invalid(regions_cert(RAMP, regions), "region 2, redundant 0: .* fails at the constant term")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["multipliers"] = ["-1"]
    invalid(regions_cert(RAMP, regions), "a multiplier or the constant is negative")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["constant"] = "-1"
    invalid(regions_cert(RAMP, regions), "a multiplier or the constant is negative")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["multipliers"] = ["1", "0"]
    invalid(regions_cert(RAMP, regions), "2 multipliers for 1 facets")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"][0]["neuron"] = [1, 2]
    invalid(regions_cert(RAMP, regions), "region 0, redundant 0: the network has no neuron 2 of layer 1")
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"] = []
    invalid(regions_cert(RAMP, regions), "neuron 1 of layer 1 is neither a listed facet nor proved redundant")


def test_second_identity_wrong_is_named():
    # two entries in one region: the first right, the second wrong; the message names the second
    regions = copy.deepcopy(RAMP_REGIONS)
    regions[0]["redundant"].append({"neuron": [1, 1], "multipliers": ["1"], "constant": "2"})
    invalid(regions_cert(RAMP, regions), "region 0, redundant 1: .* fails at the constant term")


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
    invalid(regions_cert(RAMP, bad), "region 1, implied 0: the constraint of neuron 1 of layer 1 needs a negative")
    bad[1]["implied"] = [{"facets": [0, 1], "neurons": [[1, 1]]}]  # x, 1 - x and 1: dependent in R^2
    invalid(regions_cert(RAMP, bad), "not linearly independent")
    for facets in ([0, 0], [1], [-1]):
        bad = copy.deepcopy(regions)
        bad[0]["implied"][0]["facets"] = facets
        invalid(regions_cert(RAMP, bad), "are not distinct facets of the region")
    bad = copy.deepcopy(regions)
    bad[0]["implied"][0]["neurons"] = [[1, 5]]
    invalid(regions_cert(RAMP, bad), "the network has no neuron 5 of layer 1")
    bad = copy.deepcopy(regions)
    bad[0]["implied"][0]["neurons"] = []
    invalid(regions_cert(RAMP, bad), "neuron 1 of layer 1 is neither a listed facet nor proved redundant")
    bad[0]["implied"][0]["neurons"] = "x"
    with pytest.raises(CertificateError, match="implied"):
        verify(regions_cert(RAMP, bad))


def test_interior_point_outside_or_on_boundary():
    for p, value in ((["-1"], "-1"), (["0"], "0")):
        regions = copy.deepcopy(ABS_REGIONS)
        regions[0]["interior_point"] = p
        invalid(regions_cert(ABS, regions), f"region 0: the constraint of neuron 0 of layer 1 is {value} at the "
                                            f"interior point")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["interior_point"] = ["1", "1"]  # on the facet x2 = x1
    invalid(regions_cert(MAX, regions), "region 0: the constraint of neuron 0 of layer 2 is 0 at the interior point")


def test_facet_point_not_in_relative_interior():
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["point"] = ["0", "0"]  # the vertex, on both facets
    invalid(regions_cert(MAX, regions), "region 0, facet 0: the point is not in the relative interior of the facet "
                                        r"\(the constraint of neuron 0 of layer 2 is 0 there\)")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["point"] = ["1", "2"]
    invalid(regions_cert(MAX, regions), "region 0, facet 0: the point is not on the hyperplane of neuron 0 of layer 1")


def test_wrong_neighbour():
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = D
    invalid(regions_cert(MAX, regions), "region 0, facet 0: region 3 does not contain the other side of the facet "
                                        r"near the point \(the constraint of neuron 0 of layer 2\)")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = A
    invalid(regions_cert(MAX, regions), "region 0, facet 0: region 0")
    regions = copy.deepcopy(MAX_REGIONS)
    regions[A]["facets"][0]["neighbor"] = 7
    invalid(regions_cert(MAX, regions), "neighbor 7 is not a region index")
    # a neighbour with no constraint through the point at all: ABS region 0 named as its own neighbour
    regions = copy.deepcopy(ABS_REGIONS)
    regions[1]["facets"][0]["neighbor"] = 1
    invalid(regions_cert(ABS, regions), "region 1, facet 0: region 1 does not contain the other side")
    two = net(1, [{"weight": [[1], [-1], [1]], "bias": [0, 0, 5]}, {"weight": [[1, 1, 0]]}])
    regions = [region(["101"], ["1"], [([1, 0], ["0"], 2)]), region(["011"], ["-1"], [([1, 1], ["0"], 0)]),
               region(["001"], ["-1/2"], [])]  # region 2 claims the pattern "both off": empty, and not across
    r = verify(regions_cert(two, regions))
    assert not r.valid and "region 2" in r.reason or "neither a listed facet nor proved redundant" in r.reason


def test_neighbour_across_needs_a_tight_constraint():
    # Check 3 on its own: a neighbour whose constraints are all > 0 at the point contains the
    # point but is not across the facet.  (Inside verify, checks 1 and 2 passing imply a tight
    # constraint in any neighbour that contains the point, so this is reached by a direct call.)
    from exactconvex.checker.reader import read_network
    from exactconvex.checker.region_graph import (FAST, Facet, Layout, Neuron, check_neighbour_across, every_row,
                                                  region_maps)
    from exactconvex.checker.results import Invalid

    network = read_network(ABS, "abs")
    layout, maps = Layout.of(network), region_maps(network, ("10",))
    g = maps.constraints[0]  # x >= 0
    facet = Facet(Neuron(1, 0), (fmpq(5),), 0)  # a point where nothing of region 0 is tight
    values = FAST.signs_at(every_row(maps, []).block, [facet.point])[0]
    with pytest.raises(Invalid, match="region 0, facet 0: region 0 has no constraint on the facet's hyperplane"):
        check_neighbour_across(0, 0, facet, g, every_row(maps, []), values, layout)
    across = region_maps(network, ("01",))  # -x >= 0 and the constant 0 from the second neuron
    at_zero = FAST.signs_at(every_row(across, []).block, [(fmpq(0),)])[0]
    check_neighbour_across(0, 0, Facet(Neuron(1, 0), (fmpq(0),), 1), g, every_row(across, []), at_zero, layout)


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
    invalid(with_(0, "neuron", [3, 0], i=0), "the network has no neuron 0 of layer 3")
    invalid(with_(0, "neuron", [0, 0], i=0), "the network has no neuron 0 of layer 0")
    invalid(with_(0, "neuron", [1, -1], i=0), "the network has no neuron -1 of layer 1")
    invalid(with_(0, "neuron", [1, 1], i=0), "the network has no neuron 1 of layer 1")
    invalid(with_(0, "neighbor", -1, i=0), "not a region index")


def test_constant_neurons():
    # |x| with a dead neuron (always off: constant constraint 1) and an always-on one (constant 2)
    network = net(1, [{"weight": [[1], [-1], [0], [0]], "bias": [0, 0, -1, 2]}, {"weight": [[1, 1, 5, 1]]}])
    regions = [region(["1001"], ["1"], [([1, 0], ["0"], 1)]), region(["0101"], ["-1"], [([1, 1], ["0"], 0)])]
    valid(regions_cert(network, regions))
    bad = copy.deepcopy(regions)
    bad[0]["pattern"] = ["1011"]  # the dead neuron "on": constant constraint -1 < 0, empty region
    invalid(regions_cert(network, bad), "region 0: the constraint of neuron 2 of layer 1 is -1 at the interior point")
    bad = copy.deepcopy(regions)
    bad[0]["facets"][0]["neuron"] = [1, 3]
    invalid(regions_cert(network, bad), "region 0, facet 0: the constraint of neuron 3 of layer 1 is constant")


def test_huge_numbers_are_shortened_in_messages():
    huge = "1" + "0" * 5000
    r = invalid(cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": huge}), "5001 digits")
    assert len(r.reason) < 200
    regions = copy.deepcopy(ABS_REGIONS)
    regions[0]["interior_point"] = ["-" + huge]
    r = invalid(regions_cert(ABS, regions), r"is -10{13}\.\.\.\(5001 digits\) at the interior point")
    assert len(r.reason) < 200
    big = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, "-" + huge]]}])
    r = invalid(regions_cert(big, ABS_REGIONS), r"bends by -9{14}\.\.\.\(5000 digits\) < 0")
    assert len(r.reason) < 200


# ----- binding to the given network -------------------------------------------------------------

def test_network_option(tmp_path):
    c = regions_cert(ABS, ABS_REGIONS)
    valid(c, network=network_from_dict(ABS))
    valid(c, network=ABS)
    path = tmp_path / "abs.json"
    save_json(network_from_dict(ABS), path)
    valid(c, network=path)
    valid(c, network=str(path))
    other = copy.deepcopy(ABS)
    other["layers"][0]["bias"] = [0, "1/1000"]
    invalid(c, r"differs from the given network \(layer 1, bias\)", network=network_from_dict(other))
    invalid(c, r"differs .*\(layer 2, weight\)", network=NEG_ABS)
    invalid(c, r"differs .*\(input dimension and depth 1, 2 against 2, 3\)", network=MAX)
    skipped = copy.deepcopy(ABS)
    skipped["layers"] = [ABS["layers"][0], {"weight": [[0, 0]]}, {"weight": [[1]], "skip": {"1": [[1, 1]]}}]
    with_skip = copy.deepcopy(skipped)
    with_skip["layers"][1]["skip"] = {"0": [[0]]}  # an all-zero skip is still a different document
    assert not verify(cert(skipped, "convex", proofs=[{"output": 0, "method": "icnn"}]), network=with_skip).valid
    leaky = copy.deepcopy(ABS)
    leaky["layers"][0]["activation"] = {"leaky_relu": "1/2"}
    invalid(c, r"\(layer 1, slope\)", network=leaky)
    with pytest.raises(CertificateError, match="given network .* cannot be read"):
        verify(c, network=tmp_path / "missing.json")
    with pytest.raises(CertificateError, match="expected a network"):
        verify(c, network=42)
    with pytest.raises(CertificateError, match="one network or a pair"):
        verify(c, network=(ABS, ABS, ABS))
    invalid(c, "two networks were given, but the certificate claims 'convex'", network=(ABS, ABS))


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
    bad_inputs = [str(p), tmp_path / "missing.json", tmp_path, 42, [], {}, None]
    good = regions_cert(ABS, ABS_REGIONS)
    bad_inputs += [{**good, "format": "exactconvex.network"}, {**good, "version": 2}, {**good, "version": True},
                   {**good, "version": "1"}, {**good, "claim": 1}, {k: v for k, v in good.items() if k != "network"},
                   {k: v for k, v in good.items() if k != "claim"},
                   {k: v for k, v in good.items() if k != "proofs"},
                   {k: v for k, v in good.items() if k != "region_graph"},
                   {**good, "network": {**ABS, "input_dim": 0}}, {**good, "network": "abs.json"},
                   {**good, "proofs": {"output": 0}}, {**good, "proofs": [{"output": "0", "method": "regions"}]},
                   {**good, "proofs": [{"output": 0}]}, {**good, "proofs": ["x"]}, {**good, "region_graph": []},
                   {**good, "region_graph": {"regions": {}}}, {**good, "region_graph": {}},
                   cert(NEG_ABS, "not_convex"),
                   cert(NEG_ABS, "not_convex", witness=[]),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": "abc"}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": None}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "x": "1"}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "y": [True]}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": False}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "output": 1.0}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": float("nan")}),
                   cert(NEG_ABS, "not_convex", witness={**WITNESS, "lambda": object()})]
    for key, value in [("pattern", "10"), ("pattern", [1, 0]), ("interior_point", ["1/0"]),
                       ("interior_point", None), ("facets", {}), ("facets", ["x"]), ("redundant", [[]]),
                       ("redundant", [{"neuron": [1, 0], "multipliers": []}]), ("implied", [{"facets": [0]}]),
                       ("implied", [{"facets": "0", "neurons": []}]), ("implied", [{"facets": ["0"], "neurons": []}])]:
        c = copy.deepcopy(good)
        c["region_graph"]["regions"][0][key] = value
        bad_inputs.append(c)
    for key, value in [("neuron", [1]), ("neuron", ["1", 0]), ("neuron", [1, "0"]), ("neuron", "1"),
                       ("neighbor", "1"), ("neighbor", 1.0), ("point", ["NaN"]), ("point", [[0]])]:
        c = copy.deepcopy(good)
        c["region_graph"]["regions"][0]["facets"][0][key] = value
        bad_inputs.append(c)
    c = copy.deepcopy(good)
    del c["region_graph"]["regions"][0]["facets"][0]["point"]
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
    with pytest.raises(CertificateError, match="NaN is not a JSON value"):
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

    outcomes = set()
    for _ in range(400):
        c = copy.deepcopy(rng.choice(base))
        paths = [p for p in leaves(c) if p]
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
            r = verify(c)
            assert isinstance(r, CheckResult) and "\n" not in r.reason
            outcomes.add(r.valid)
        except CertificateError as exc:
            assert "\n" not in str(exc)
            outcomes.add(None)
    assert outcomes == {True, False, None}


# ----- every certificate in proofs/, and the claim "not_icnn_representable" ------------------------

PROOFS = sorted((Path(__file__).resolve().parents[1] / "proofs" / "certificates").glob("*.json"))


@pytest.mark.parametrize("path", PROOFS, ids=lambda p: p.name)
def test_every_proof_certificate_verifies(path):
    r = verify(path)
    assert r.valid, r.reason
    data = json.loads(path.read_text())
    if data["claim"] == "equivalent":  # bound to the two networks it speaks about
        assert verify(path, network=(data["networks"]["f"], data["networks"]["g"])).valid
    else:
        assert verify(path, network=data["network"]).valid


def _kink_certificate():
    path = next(p for p in PROOFS if p.name == "deep-family-m4.json")
    return json.loads(path.read_text())


def test_not_icnn_representable():
    c = _kink_certificate()
    r = valid(c)
    assert r.claim == "not_icnn_representable" and "17 kinks on the line, more than the 15" in r.reason
    assert r.regions is not None and r.facets is not None  # its convexity proof uses the region graph
    d = c["network"]["input_dim"]
    for change, pattern in (
            (lambda b: b.update(output=1), "output 1 does not exist"),
            (lambda b: b.update(output=-1), "output -1 does not exist"),
            (lambda b: b["line"].update(point=["0"] * (d + 1)), f"needs {d} coordinates"),
            (lambda b: b["line"].update(direction=["0"] * d), "the direction of the line is 0"),
            (lambda b: b.update(widths=b["widths"][:-1]), "are not the hidden widths"),
            (lambda b: b.update(bound=b["bound"] + 1), "is not n1 \\+ 2 \\(n2 \\+ ... \\+ nk\\) = 15"),
            (lambda b: b.update(kinks=b["kinks"][:-1]), "the kinks along the line are \\[.*, \\.\\.\\.\\] "
                                                        "\\(17 kinks\\), not the listed .*\\(16 kinks\\)"),
            (lambda b: b["proofs"][0].update(method="icnn"), "method icnn"),
    ):
        bad = copy.deepcopy(c)
        change(bad)
        invalid(bad, pattern)
    # a true list of kinks, but too few: an output that is 0 has none (its region graph still holds)
    few = copy.deepcopy(c)
    out = few["network"]["layers"][-1]
    out["weight"] = [[0] * len(out["weight"][0])]
    out["skip"] = {k: [[0] * len(rows[0])] for k, rows in out["skip"].items()}
    few["kinks"] = []
    invalid(few, "0 kinks along the line do not exceed the ICNN bound 15")
    for key in ("line", "widths", "bound", "kinks"):
        bad = copy.deepcopy(c)
        del bad[key]
        with pytest.raises(CertificateError, match=key):
            verify(bad)
    bad = copy.deepcopy(c)
    del bad["output"]  # the output defaults to 0
    valid(bad)
