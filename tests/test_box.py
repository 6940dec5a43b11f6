"""Box verdicts: convexity on [A, B]^d, decided exactly, with witnesses inside the box or certificates
that cover it (``proofs/box.md``).

* networks convex in [-100, 100]^d and not on R^d (a concave kink at x = 10^6, d = 1 and d = 2, ReLU
  and LeakyReLU): verdict "convex on the box", with a "convex_on_box" certificate that verifies;
  tampering with a separation or the box is rejected;
* the reverse impossibility, over random networks and random boxes: convex on R^d implies convex on
  the box; a box witness lies in the box, violates convexity by exact evaluation, and then the
  network is not convex on R^d either; for d = 1 the box verdict equals an independent oracle (the
  kinks of the checker's own walk along the line, slopes by exact evaluation);
* a witness for a network whose only concave kink is inside the box, also where the facet point of
  the exploration lies outside the box (the exact LP finds a point inside);
* sweeps record "convex_box" and count the networks convex in the box but not on R^d; the CLI.
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex import Network
from exactconvex.checker import CertificateError, verify
from exactconvex.checker.arithmetic import kinks_along
from exactconvex.checker.reader import read_network
from exactconvex.decide import check
from exactconvex.graph import explore
from exactconvex.graph.box import BoxDecider, Separation, parse_box
from exactconvex.network import network_to_dict
from exactconvex.numbers import to_q
from exactconvex.sweep import parse_grid, read_results, sweep
from strategies import networks, scaled, slopes

BOX = (-100, 100)
FAR = 10**6

# -relu(x - 10^6): a concave kink at 10^6 only
FAR_1D = Network.from_lists(1, [{"weight": [[1]], "bias": [-FAR]}, {"weight": [[-1]]}])
# relu(x1) + 2 relu(x2 + 3) - relu(x1 + x2 - 10^6): concave along x1 + x2 = 10^6 only
FAR_2D = Network.from_lists(2, [{"weight": [[1, 0], [1, 1], [0, 1]], "bias": [0, -FAR, 3]},
                                {"weight": [[1, -1, 2]]}])
# two hidden layers: relu(x1) + relu(x2) + relu(relu(x1) - relu(x2)) - relu(x1 + x2 - 10^6), so that
# the region graph decides (no closed form for one hidden layer)
FAR_DEEP = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, -FAR]},
                                  {"weight": [[1, 1, 0], [1, -1, 0], [0, 0, 1]]},
                                  {"weight": [[1, 1, -1]]}])
# LeakyReLU of slope 2 is concave at 0: leaky_2(x - 10^6) + relu(x), d = 1
FAR_LEAKY = Network.from_lists(1, [{"weight": [[1], [1]], "bias": [-FAR, 0], "slope": 2}, {"weight": [[1, 0]]}])
# d = 2, leaky slope 3 on the far hyperplane x1 - x2 = 10^6, with a convex (slope 1/2) neuron on x1 = 1/3
FAR_LEAKY_2D = Network.from_lists(2, [{"weight": [[1, -1], [3, 0]], "bias": [-FAR, -1], "slope": 3},
                                      {"weight": [[1, 0]]}])


def exact_violation(net: Network, w: dict) -> bool:
    """f(lambda x + (1 - lambda) y) > lambda f(x) + (1 - lambda) f(y), by exact evaluation."""
    lam, k = to_q(w["lambda"]), w["output"]
    x, y = [to_q(v) for v in w["x"]], [to_q(v) for v in w["y"]]
    mid = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    return lam > 0 and lam < 1 and net.evaluate(mid)[k] > lam * net.evaluate(x)[k] + (1 - lam) * net.evaluate(y)[k]


def in_box(w: dict, box) -> bool:
    lo, hi = (to_q(v) for v in box)
    return all(lo <= to_q(v) <= hi for v in list(w["x"]) + list(w["y"]))


# ----- convex in [-100, 100]^d, not on R^d ----------------------------------------------------------------

@pytest.mark.parametrize("net", [FAR_1D, FAR_2D, FAR_DEEP, FAR_LEAKY], ids=["d1", "d2", "deep", "leaky"])
def test_a_far_concave_kink_is_convex_on_the_box_with_a_certificate(net):
    v = check(net, box=BOX, certificate=True)
    assert v.convex and v.method == "box" and not v.on_rd.convex
    assert v.box == parse_box(BOX)
    assert exact_violation(net, _json_witness(v.on_rd.witness))  # the witness on R^d is a real one...
    assert not in_box(_json_witness(v.on_rd.witness), ["-100", "100"])  # ... and lies outside the box
    cert = v.certificate
    assert cert["claim"] == "convex_on_box" and cert["box"] == ["-100", "100"]
    assert [p["method"] for p in cert["proofs"]] == ["box_regions"] and cert["separations"]
    result = verify(cert, network=net)
    assert result.valid, result.reason
    assert result.regions == v.regions
    assert verify(cert, network=net, reference=True).valid
    # the certificate of the verdict on R^d comes along, and says the opposite about R^d
    assert v.on_rd.certificate["claim"] == "not_convex" and verify(v.on_rd.certificate, network=net).valid


def test_a_far_kink_in_two_dimensions_leaky():
    v = check(FAR_LEAKY_2D, box=BOX, certificate=True)
    assert v.convex and not v.on_rd.convex
    assert verify(v.certificate, network=FAR_LEAKY_2D).valid
    wide = check(FAR_LEAKY_2D, box=(-FAR, FAR), certificate=True)
    assert not wide.convex and in_box(_json_witness(wide.witness), [-FAR, FAR])
    assert verify(wide.certificate, network=FAR_LEAKY_2D).valid


def test_a_box_that_reaches_the_kink_is_not_convex():
    for net in (FAR_1D, FAR_2D, FAR_DEEP):
        v = check(net, box=(-100, 10**7), certificate=True)
        assert not v.convex and in_box(_json_witness(v.witness), [-100, 10**7])
        assert exact_violation(net, _json_witness(v.witness))
        cert = v.certificate
        assert cert["claim"] == "not_convex" and cert["box"] == ["-100", "10000000"]
        assert verify(cert, network=net).valid


def test_touching_the_box_only_on_its_boundary_is_convex():
    # x1 + x2 = 10^6 meets [-100, 5 10^5]^2 only at its corner (5 10^5, 5 10^5): convex on the closed box
    corner = check(FAR_2D, box=(-100, FAR // 2), certificate=True)
    assert corner.convex and verify(corner.certificate, network=FAR_2D).valid
    # the separations there have the constant 0 and a positive box multiplier
    values = {Fraction(s["value"]) for s in corner.certificate["separations"]}
    assert Fraction(0) in values
    past = check(FAR_2D, box=(-100, Fraction(FAR // 2) + Fraction(1, 10**6)), certificate=True)
    assert not past.convex and verify(past.certificate, network=FAR_2D).valid


def test_convex_on_rd_keeps_its_proof():
    abs_net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    v = check(abs_net, box=(-1, 1), certificate=True)
    assert v.convex and v.on_rd.convex and v.method == "icnn"
    assert v.certificate["claim"] == "convex_on_box" and "region_graph" not in v.certificate
    assert verify(v.certificate, network=abs_net).valid
    v = check(FAR_DEEP, box=(-100, 10**7), method="regions")  # regions forced: not convex (witness on R^d)
    assert not v.convex and v.on_rd.method == "regions"


# ----- tampering ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def box_certificate():
    return check(FAR_2D, box=BOX, certificate=True).certificate


def _invalid(cert, match):
    result = verify(cert, network=FAR_2D)
    assert not result.valid and match in result.reason, result.reason
    return result.reason


def test_tampered_box_or_separations_are_rejected(box_certificate):
    assert verify(box_certificate, network=FAR_2D).valid
    wider = copy.deepcopy(box_certificate)
    wider["box"] = ["-100", "10000000"]  # the kink is now in the box: some separation must fail
    _invalid(wider, "separations[")
    flipped = copy.deepcopy(box_certificate)
    flipped["box"] = ["100", "-100"]
    _invalid(flipped, "A < B")
    three = copy.deepcopy(box_certificate)
    three["box"] = ["-100", "0", "100"]
    _invalid(three, "two numbers")
    dropped = copy.deepcopy(box_certificate)
    dropped["separations"].pop()
    _invalid(dropped, "no separation shows that the facet misses the open box")
    for key, value, match in (("facet_multiplier", "12345", "not constant"),
                              ("upper", ["-1", "2"], "negative"),
                              ("lower", ["0"], "need 2 multipliers each"),
                              ("region", 99, "not a region index"),
                              ("facet", 99, "has no facet")):
        bad = copy.deepcopy(box_certificate)
        bad["separations"][0][key] = value
        _invalid(bad, match)
    zero = copy.deepcopy(box_certificate)
    sep = zero["separations"][0]
    sep["lower"] = ["0"] * 2
    sep["upper"] = ["0"] * 2
    sep["multipliers"] = ["0"] * len(sep["multipliers"])
    sep["facet_multiplier"] = "0"  # S = 0: no contradiction without a positive box multiplier
    _invalid(zero, "no box multiplier is positive")
    human = copy.deepcopy(box_certificate)
    human["separations"][0]["value"] = "123"  # for human readers only: ignored
    assert verify(human, network=FAR_2D).valid
    regions_only = copy.deepcopy(box_certificate)
    regions_only["proofs"][0]["method"] = "regions"  # claims convexity on R^d: check 5 fails
    _invalid(regions_only, "bends by")
    no_graph = copy.deepcopy(box_certificate)
    del no_graph["region_graph"]
    with pytest.raises(CertificateError, match="region_graph"):
        verify(no_graph)


def test_tampered_box_of_a_witness_is_rejected():
    cert = check(FAR_1D, box=(-100, 10**7), certificate=True).certificate
    assert verify(cert, network=FAR_1D).valid
    small = copy.deepcopy(cert)
    small["box"] = ["-100", "100"]
    result = verify(small)
    assert not result.valid and "outside the box" in result.reason
    flipped = copy.deepcopy(cert)
    flipped["box"] = ["3", "3"]
    assert not verify(flipped).valid
    unboxed = copy.deepcopy(cert)
    del unboxed["box"]  # a witness anywhere in R^d: still a valid "not_convex"
    assert verify(unboxed).valid


# ----- the reverse impossibility, and an independent oracle in d = 1 ---------------------------------------

def _json_witness(w: dict) -> dict:
    return {"output": w["output"], "x": [str(v) for v in w["x"]], "y": [str(v) for v in w["y"]],
            "lambda": str(w["lambda"])}


def oracle_convex_on_box_1d(net: Network, k: int, lo: Fraction, hi: Fraction) -> bool:
    """Output k of a d = 1 network on [lo, hi]: slopes of the pieces meeting (lo, hi) nondecreasing.

    The kinks come from the checker's own walk along the line (not from the region graph), the
    slopes of the pieces from exact evaluation at two points of each piece."""
    doc = network_to_dict(net)
    kinks = kinks_along(read_network(json.loads(json.dumps(doc)), "net"), [fmpq(0)], [fmpq(1)], k)
    ends = [None] + kinks + [None]
    slopes_ = []
    for a, b in zip(ends, ends[1:]):
        if (a is not None and a >= hi) or (b is not None and b <= lo):
            continue  # the piece does not meet the open interval (lo, hi)
        p = (a + b) / 2 if a is not None and b is not None else (b - 1 if a is None and b is not None else
                                                                     (a + 1 if a is not None else fmpq(0)))
        h = fmpq(1, 4) if a is None or b is None else (b - a) / 4
        slopes_.append((net.evaluate([p + h])[k] - net.evaluate([p - h])[k]) / (2 * h))
    return all(s <= t for s, t in zip(slopes_, slopes_[1:]))


boxes = st.tuples(st.fractions(-6, 6, max_denominator=4),
                  st.sampled_from([Fraction(1, 4), Fraction(1), Fraction(3), Fraction(10)]))


@given(net=st.one_of(networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), outputs=(1, 2)),
                     networks(d_range=(1, 2), depth_range=(2, 3), width_range=(1, 3), slopes=slopes())),
       box=boxes)
@settings(max_examples=scaled(60))
def test_convex_on_rd_implies_convex_on_every_box_and_box_witnesses_are_real(net, box):
    lo, width = box
    hi = lo + width
    on_rd = check(net)
    v = check(net, box=(lo, hi), certificate=True)
    assert v.on_rd.convex == on_rd.convex
    if on_rd.convex:
        assert v.convex
    for o, o_rd in zip(v.outputs, v.on_rd.outputs):
        assert o_rd.convex <= o.convex  # per output: convex on R^d implies convex on the box
        if not o.convex:
            w = _json_witness(o.witness)
            assert in_box(w, [lo, hi]) and exact_violation(net, w) and not o_rd.convex
    if not v.convex:
        assert not on_rd.convex and in_box(_json_witness(v.witness), [lo, hi])
    result = verify(v.certificate, network=net)
    assert result.valid, result.reason
    if net.input_dim == 1:
        for o in v.outputs:
            assert o.convex == oracle_convex_on_box_1d(net, o.output, to_q(lo), to_q(hi))


# ----- a witness for the only concave kink inside the box ---------------------------------------------------

def test_only_concave_kink_inside_the_box_gives_a_witness():
    # relu(x1 + 10^6) + relu(x2) (convex) - relu(x1 - 50) (concave at x1 = 50, inside [-100, 100]^2)
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 0]], "bias": [FAR, 0, -50]},
                                 {"weight": [[1, 1, -1]]}])
    v = check(net, box=BOX, certificate=True)
    w = _json_witness(v.witness)
    assert not v.convex and in_box(w, ["-100", "100"]) and exact_violation(net, w)
    assert verify(v.certificate, network=net).valid
    assert check(net, box=(-FAR - 100, -100)).convex  # a box on the other side holds only the convex kink


def test_the_exact_lp_finds_a_relative_interior_point_inside_the_box():
    # concave along x1 + x2 = 2001, which crosses the box [1000, 1001]^2 on its diagonal; the
    # exploration's facet point lies far from that box, so only the exact LP finds a point inside
    net = Network.from_lists(2, [{"weight": [[1, 1], [1, 0]], "bias": [-2001, 0]}, {"weight": [[-1, 1]]}])
    arr = explore(net)
    box = parse_box((1000, 1001))
    decider = BoxDecider(net, arr, box)
    negative = decider.negative_facets(0, both_sides=True)
    assert negative and not any(box.contains_open(arr.regions[r].facets[i].point) for r, i in negative)
    out = decider.output(0)
    assert not out.convex and exact_violation(net, _json_witness(out.witness))
    assert in_box(_json_witness(out.witness), [1000, 1001])
    assert not isinstance(decider.facet(*negative[0]), Separation)
    # a box beside it, [1000, 1000 + 1/2]^2, does not reach x1 + x2 = 2001: separations
    beside = BoxDecider(net, arr, parse_box((1000, Fraction(2001, 2) - Fraction(1, 4)))).output(0, certificate=True)
    assert beside.convex and set(beside.separations) == set(negative)
    v = check(net, box=(1000, 1001), certificate=True)
    assert not v.convex and verify(v.certificate, network=net).valid


def test_two_outputs_keep_their_own_proofs():
    # output 0: relu(x1) + relu(x2) (an ICNN output); output 1: FAR_2D's function
    net = Network.from_lists(2, [{"weight": [[1, 0], [1, 1], [0, 1]], "bias": [0, -FAR, 3]},
                                 {"weight": [[1, 0, 1], [1, -1, 2]]}])
    v = check(net, box=BOX, certificate=True)
    assert v.convex and [o.convex for o in v.on_rd.outputs] == [True, False]
    assert [p["method"] for p in v.certificate["proofs"]] == ["icnn", "box_regions"]
    assert verify(v.certificate, network=net).valid


def test_huge_and_tiny_numbers():
    # a concave kink at 10^40: convex on [-10^30, 10^30]^2 (floats propose nothing there: exact work)
    net = Network.from_lists(2, [{"weight": [[1, 1], [0, 1]], "bias": [-10**40, 0]}, {"weight": [[-1, 1]]}])
    v = check(net, box=(-10**30, 10**30), certificate=True)
    assert v.convex and not v.on_rd.convex and verify(v.certificate, network=net).valid
    # a box of width 10^-40 around the kink x1 + x2 = 10^40 in R^2 (around (10^40 / 2, 10^40 / 2))
    centre = Fraction(10**40, 2)
    v = check(net, box=(centre - Fraction(1, 10**40), centre + Fraction(1, 10**40)), certificate=True)
    assert not v.convex and verify(v.certificate, network=net).valid
    v = check(net, box=(centre + Fraction(1, 10**40), centre + Fraction(2, 10**40)), certificate=True)
    assert v.convex and verify(v.certificate, network=net).valid


def test_a_bound_hit_on_the_box_still_says_the_verdict_on_rd(tmp_path):
    from exactconvex.graph import LimitReached

    # max(relu(x1), relu(x2)) = relu(relu(x1) - relu(x2)) + relu(x2): convex, no ICNN structure, so the
    # region graph decides it on R^d already, and the bound stops that: nothing is known
    deep_convex = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1], [0, 1]]},
                                         {"weight": [[1, 1]]}])
    assert check(deep_convex).convex and check(deep_convex).method == "regions"
    with pytest.raises(LimitReached) as info:
        check(deep_convex, box=BOX, max_regions=2)
    assert getattr(info.value, "on_rd", None) is None
    with pytest.raises(LimitReached) as info:
        check(FAR_2D, box=BOX, max_regions=2)  # R^d by the closed form, the box needs the region graph
    assert info.value.on_rd.convex is False and exact_violation(FAR_2D, _json_witness(info.value.on_rd.witness))
    out = tmp_path / "rows.jsonl"
    sweep({"far2": FAR_2D}, results=out, box=BOX, max_regions=2, progress=False)
    row = read_results(out)[0]
    assert row["convex"] is False and row["convex_box"] is None and row["error"].startswith("limit")


def test_bad_boxes_are_refused():
    for bad in ((1, 1), (2, 1), "1", "a,b", (1, 2, 3)):
        with pytest.raises(ValueError):
            check(FAR_1D, box=bad)


# ----- sweeps ---------------------------------------------------------------------------------------------

def test_sweep_counts_convex_in_the_box_but_not_on_rd(tmp_path):
    nets = {"far1": FAR_1D, "far2": FAR_2D, "far-deep": FAR_DEEP,
            "abs": Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]),
            "neg-abs": Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])}
    out = tmp_path / "rows.jsonl"
    summary = sweep(nets, results=out, box="-100,100", progress=False)
    rows = {r["network"]: r for r in read_results(out)}
    assert {n: (r["convex"], r["convex_box"]) for n, r in rows.items()} == {
        "far1": (False, True), "far2": (False, True), "far-deep": (False, True), "abs": (True, True),
        "neg-abs": (False, False)}
    assert all(r["box"] == ["-100", "100"] for r in rows.values())
    assert in_box(rows["neg-abs"]["witness_box"], ["-100", "100"])
    assert (summary.convex_box, summary.not_convex_box, summary.convex_box_not_rd) == (4, 1, 3)
    assert summary.convex == 1 and "convex in the box but not on R^d: 3" in str(summary)
    # a rerun skips them; a rerun with another box decides them again
    assert sweep(nets, results=out, box=(-100, 100), progress=False).computed == 0
    again = sweep(nets, results=out, box=(-100, 10**7), progress=False)
    assert again.computed == 5 and again.convex_box_not_rd == 0


def test_grid_key_box(tmp_path):
    g = parse_grid("d=2;widths=3x3;count=4;init=int;box=-100,100")
    assert g.box == ("-100", "100") and g.text.endswith(";box=-100,100") and parse_grid(g.text) == g
    out = tmp_path / "grid.jsonl"
    summary = sweep(grid=g.text, results=out, progress=False)
    rows = read_results(out)
    assert len(rows) == 4 and all(r["box"] == ["-100", "100"] and isinstance(r["convex_box"], bool) for r in rows)
    assert all(r["convex_box"] for r in rows if r["convex"])  # convex on R^d: convex in the box
    assert summary.box == ["-100", "100"]
    with pytest.raises(ValueError, match="give the box once"):
        sweep(grid=g.text, results=tmp_path / "other.jsonl", box="0,1", progress=False)


# ----- the command line -----------------------------------------------------------------------------------

def test_cli_check_box(tmp_path, cli):
    path = tmp_path / "far.json"
    path.write_text(json.dumps(network_to_dict(FAR_2D)))
    cert = tmp_path / "cert.json"
    r = cli("check", path, "--box", "-100,100", "--cert", cert)
    assert r.returncode == 0 and "convex on the box [-100, 100]^2" in r.stdout and "not convex on all of R^2" in r.stdout
    assert cli("verify", cert, "--network", path).returncode == 0
    r = cli("check", path, "--box=-100,10000000", "--json")
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["convex"] is False and report["convex_box"] is False
    assert report["box"] == ["-100", "10000000"] and in_box(report["witness"], report["box"])
    r = cli("check", path, "--box", "-1/2,1/2", "--json")
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["convex_rd"] is False and report["convex_box"] is True
    for bad in ("5,5", "1", "a,b"):
        r = cli("check", path, "--box", bad)
        assert r.returncode == 2 and "--box" in r.stderr and "Traceback" not in r.stderr
    out = tmp_path / "rows.jsonl"
    r = cli("sweep", path, "-o", out, "--box", "-100,100", "--quiet")
    assert r.returncode == 0 and "convex in the box but not on R^d: 1" in r.stdout
    assert read_results(out)[0]["convex_box"] is True
