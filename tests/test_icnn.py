"""ICNNs: exact equivalence, the one-hidden-layer conversion, the kink bound and its certificates.

Hand-checked cases first, then properties (hypothesis), then the command line, then every
certificate in proofs/certificates/ re-verified with ``exactconvex verify`` (and tampered with).
"""

from __future__ import annotations

import copy
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from flint import fmpq
from hypothesis import strategies as st
from strategies import network_dicts, network_pairs, networks, points, run_cli, scaled

from exactconvex import Network, network_from_dict, network_to_dict, to_q
from exactconvex.checker import CertificateError, verify
from exactconvex.checker import arithmetic as checker_arithmetic
from exactconvex.checker.reader import read_network as checker_read
from exactconvex.icnn import (NotACounterexample, NotConvexError, deep_family, difference_network, equivalent,
                              icnn_kink_bound, is_convex_on_line, kink_changes, kinks_on_line,
                              not_representable_certificate, restrict_to_line, search_counterexample, to_icnn)
from exactconvex.icnn.search import Layout, _random_params, exact_kinks, screen
from exactconvex.network import combine

ROOT = Path(__file__).resolve().parents[1]
CERTS = sorted((ROOT / "proofs" / "certificates").glob("*.json"))


def net(d, layers):
    return network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers})


ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])


def output_weights_nonnegative(g: Network) -> bool:
    return all(v >= 0 for v in g.layers[-1].weight.entries())


# ----- equivalence ------------------------------------------------------------------------------

def test_equivalent_rewritings_of_abs():
    also = net(1, [{"weight": [[2], [-1]]}, {"weight": [["1/2", 1]]}])  # ReLU(2x)/2 + ReLU(-x)
    r = equivalent(ABS, also)
    assert r.equivalent and r.point is None
    assert verify(r.certificate).valid
    assert r.certificate["networks"]["f"] == network_to_dict(ABS)


def test_differ_only_far_away():
    far = net(1, [{"weight": [[1], [-1], [1]], "bias": [0, 0, -10 ** 6]}, {"weight": [[1, 1, "1/1000"]]}])
    r = equivalent(ABS, far)
    assert not r.equivalent and r.point[0] > 10 ** 6
    assert ABS.evaluate(r.point)[0] != far.evaluate(r.point)[0]
    assert (r.f_value, r.g_value) == (ABS.evaluate(r.point)[0], far.evaluate(r.point)[0])


def test_differ_by_two_to_the_minus_sixty():
    tiny = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]], "bias": [f"1/{2 ** 60}"]}])
    r = equivalent(ABS, tiny)
    assert not r.equivalent
    assert r.g_value - r.f_value == fmpq(1, 2 ** 60)
    # a kink moved by 2^-60: equal except on a sliver near 0
    shifted = net(1, [{"weight": [[1], [-1]], "bias": [f"-1/{2 ** 60}", f"1/{2 ** 60}"]}, {"weight": [[1, 1]]}])
    r = equivalent(ABS, shifted)
    assert not r.equivalent and ABS.evaluate(r.point) != shifted.evaluate(r.point)


def test_zero_value_at_interior_point_is_moved():
    # f - g = x: 0 at x = 0 only, but the search must never report a point where they agree
    f = net(1, [{"weight": [[1]]}, {"weight": [[1]], "skip": {"0": [[1]]}}])
    g = net(1, [{"weight": [[1]]}, {"weight": [[1]]}])
    r = equivalent(f, g)
    assert not r.equivalent and f.evaluate(r.point) != g.evaluate(r.point)


def test_equivalence_of_different_depths_and_outputs():
    spec = network_from_dict(json.loads((ROOT / "examples" / "networks" / "spec_example.json").read_text()))
    r = equivalent(spec, spec)
    assert r.equivalent and verify(r.certificate).valid
    affine = net(2, [{"weight": [[1, 0]]}])
    assert not equivalent(spec, affine).equivalent
    two = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1], [1, 0]]}])
    swapped = net(1, [{"weight": [[-1], [1]]}, {"weight": [[1, 1], [0, 1]]}])
    r = equivalent(two, swapped)
    assert r.equivalent and verify(r.certificate).valid
    r = equivalent(two, net(1, [{"weight": [[-1], [1]]}, {"weight": [[1, 1], [1, 0]]}]))
    assert not r.equivalent and r.output == 1


def test_equivalence_certificate_tampering():
    cert = equivalent(ABS, net(1, [{"weight": [[2], [-1]]}, {"weight": [["1/2", 1]]}])).certificate
    bad = copy.deepcopy(cert)
    bad["networks"]["g"]["layers"][1]["weight"][0][1] = 2  # g changed, h not rebuilt
    assert not verify(bad).valid
    bad = copy.deepcopy(cert)
    bad["network"]["layers"][1]["bias"] = [1]  # h changed, no longer f - g
    assert "not f - g" in verify(bad).reason
    # f, g and h changed together: h is f - g again but not 0, and the regions say so
    bad = copy.deepcopy(cert)
    bad["networks"]["g"]["layers"][1]["bias"] = [1]
    bad["network"]["layers"][1]["bias"] = [-1]
    assert "not 0" in verify(bad).reason
    bad = copy.deepcopy(cert)
    del bad["region_graph"]["regions"][1]
    assert not verify(bad).valid
    bad = copy.deepcopy(cert)
    del bad["networks"]
    with pytest.raises(CertificateError):
        verify(bad)


@settings(max_examples=scaled(25))
@given(network_pairs(d_range=(1, 3), depth_range=(1, 3), width_range=(1, 3), outputs=(1, 2)))
def test_checker_rebuilds_the_same_difference(pair):
    f, g = pair
    h = difference_network(f, g)
    assert h == combine([f, g], [1, -1])
    rebuilt = checker_arithmetic.combine([checker_read(network_to_dict(f), "f"), checker_read(network_to_dict(g), "g")],
                                         [fmpq(1), fmpq(-1)])
    assert rebuilt == checker_read(network_to_dict(h), "h")


@settings(max_examples=scaled(25))
@given(st.data())
def test_checker_rebuilds_the_same_difference_with_slopes(data):
    # slopes that agree layer by layer: side by side; otherwise stacked (the checker's rule too)
    from strategies import slopes

    d, m = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    f, g = (data.draw(networks(d, (1, 3), (1, 2), outputs=m, slopes=slopes())) for _ in range(2))
    h = difference_network(f, g)
    rebuilt = checker_arithmetic.combine([checker_read(network_to_dict(f), "f"), checker_read(network_to_dict(g), "g")],
                                         [fmpq(1), fmpq(-1)])
    assert rebuilt == checker_read(network_to_dict(h), "h")
    x = data.draw(points(d))
    assert [a - b for a, b in zip(f.evaluate(x), g.evaluate(x))] == list(h.evaluate(x))


@settings(max_examples=scaled(25))
@given(network_pairs(d_range=(1, 2), depth_range=(1, 3), width_range=(1, 2)))
def test_equivalent_decides_and_proves(pair):
    f, g = pair
    r = equivalent(f, g)
    if r.equivalent:
        assert verify(r.certificate).valid
    else:
        assert f.evaluate(r.point)[r.output] != g.evaluate(r.point)[r.output]
    s = equivalent(f, f)
    assert s.equivalent and verify(s.certificate).valid


@settings(max_examples=scaled(20))
@given(network_dicts(d_range=(1, 2), depth_range=(2, 3), width_range=(2, 3)), st.randoms(use_true_random=False))
def test_permuted_neurons_are_equivalent(dl, rnd):
    d, layers = dl
    f = Network.from_lists(d, layers)
    # permute the first hidden layer: its rows, and the columns that read it
    n = len(layers[0]["weight"])
    perm = list(range(n))
    rnd.shuffle(perm)
    g_layers = copy.deepcopy(layers)
    g_layers[0]["weight"] = [layers[0]["weight"][i] for i in perm]
    g_layers[0]["bias"] = [layers[0]["bias"][i] for i in perm]
    g_layers[1]["weight"] = [[row[i] for i in perm] for row in layers[1]["weight"]]
    for later in g_layers[2:]:
        if 1 in later.get("skip", {}):
            later["skip"][1] = [[row[i] for i in perm] for row in later["skip"][1]]
    r = equivalent(f, Network.from_lists(d, g_layers))
    assert r.equivalent and verify(r.certificate).valid


# ----- to_icnn -------------------------------------------------------------------------------------

CONVEX_ONE_LAYER = {
    "duplicate": net(1, [{"weight": [[1], [1], [1]], "bias": [0, 0, -1]}, {"weight": [[2, -1, 1]]}]),
    "opposite": net(1, [{"weight": [[1], [-1]]}, {"weight": [[3, -1]]}]),
    "proportional": net(2, [{"weight": [[1, 1], [2, 2], [-3, -3], [1, -1], ["-1/2", "1/2"]],
                             "bias": [0, 0, 0, 1, "-1/2"]}, {"weight": [[1, -1, 1, -1, 4]], "bias": [5]}]),
    "cancelling": net(2, [{"weight": [[1, 2], [-1, -2], [0, 0]], "bias": [1, -1, 3]},
                          {"weight": [[1, -1, -2]], "skip": {"0": [[1, 1]]}}]),  # affine in the end
}


@pytest.mark.parametrize("name", sorted(CONVEX_ONE_LAYER))
def test_to_icnn(name):
    f = CONVEX_ONE_LAYER[name]
    conv = to_icnn(f)
    g = conv.network
    assert g.is_icnn() and output_weights_nonnegative(g)
    assert g.hidden_widths == f.hidden_widths and g.layers[0] == f.layers[0]
    assert conv.equivalence.equivalent and verify(conv.certificate).valid
    assert set(g.layers[-1].skip) <= {0}


def test_to_icnn_keeps_an_icnn_as_it_is():
    assert to_icnn(ABS).network == ABS


def test_to_icnn_refuses():
    with pytest.raises(NotConvexError) as exc:
        to_icnn(net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}]))
    w = exc.value.witness
    f = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}])
    mid = [w["lambda"] * a + (1 - w["lambda"]) * b for a, b in zip(w["x"], w["y"])]
    assert f.evaluate(mid)[0] > w["lambda"] * f.evaluate(w["x"])[0] + (1 - w["lambda"]) * f.evaluate(w["y"])[0]
    with pytest.raises(ValueError, match="one hidden layer"):
        to_icnn(deep_family(2))


@st.composite
def convex_one_layer(draw):
    """A one-hidden-layer network, made convex by raising each hyperplane group's weight sum to >= 0."""
    d, layers = draw(network_dicts(d_range=(1, 2), depth_range=2, width_range=(1, 4), outputs=(1, 2)))
    W, A = layers[0]["weight"], layers[1]["weight"]
    # proportional copies of earlier rows, with either sign
    for j in range(1, len(W)):
        if draw(st.booleans()):
            i = draw(st.integers(0, j - 1))
            c = draw(st.sampled_from([Fraction(-2), Fraction(-1), Fraction(1, 2), Fraction(1), Fraction(3)]))
            W[j] = [c * v for v in W[i]]
            layers[0]["bias"][j] = c * layers[0]["bias"][i]
    f = Network.from_lists(d, layers)
    from exactconvex.decide.fastpaths import one_layer_groups

    for k in range(f.num_outputs):
        for key, total in one_layer_groups(f, k).items():
            if total < 0:  # add -total / |c| to the first member of the group
                for j, row in enumerate(W):
                    c = next((v for v in row if v != 0), None)
                    if c is not None and tuple(Fraction(v) / Fraction(c) for v in row) == tuple(
                            Fraction(str(v)) for v in key[:d]) and Fraction(layers[0]["bias"][j]) / Fraction(c) \
                            == Fraction(str(key[d])):
                        A[k][j] = Fraction(A[k][j]) - Fraction(str(total)) / abs(Fraction(c))
                        break
    return Network.from_lists(d, layers)


@settings(max_examples=scaled(30))
@given(convex_one_layer())
def test_to_icnn_on_random_convex_networks(f):
    conv = to_icnn(f)
    g = conv.network
    assert g.is_icnn() and g.hidden_widths == f.hidden_widths
    assert conv.equivalence.equivalent and verify(conv.certificate).valid


# ----- kinks along a line and the bound -----------------------------------------------------------

def test_kink_bound():
    assert icnn_kink_bound([4]) == 4 and icnn_kink_bound([3, 2]) == 7 and icnn_kink_bound([2, 1, 5]) == 14
    assert icnn_kink_bound([]) == 0


def test_kinks_of_abs_and_a_flat_neuron():
    assert kinks_on_line(ABS, [5], [-2]) == [fmpq(5, 2)]
    flat = net(2, [{"weight": [[1, -1], [0, 0]], "bias": [0, 1]}, {"weight": [[1, 1]]}])
    assert kinks_on_line(flat, [0, 0], [1, 1]) == []  # the line runs inside x = y
    assert kinks_on_line(flat, [0, 0], [1, 0]) == [0]


@settings(max_examples=scaled(40))
@given(networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), outputs=(1, 2)), st.data())
def test_kinks_agree_with_checker_and_evaluation(f, data):
    d = f.input_dim
    p = [to_q(v) for v in data.draw(points(d))]
    u = [to_q(v) for v in data.draw(points(d).filter(any))]
    k = data.draw(st.integers(0, f.num_outputs - 1))
    changes = kink_changes(f, p, u, k)
    kinks = [t for t, _ in changes]
    assert kinks == checker_arithmetic.kinks_along(checker_read(network_to_dict(f), "f"), p, u, k)
    assert kinks == kinks_on_line(restrict_to_line(f, p, u), [0], [1], k)
    # between consecutive kinks the function is affine; at each kink the slope changes as stated
    ts = [kinks[0] - 1] + kinks + [kinks[-1] + 1] if kinks else [fmpq(0), fmpq(1), fmpq(2)]

    def phi(t):
        return f.evaluate([pi + t * ui for pi, ui in zip(p, u)])[k]

    for a, b, c in zip(ts, ts[1:], ts[2:]):
        left = (phi(b) - phi(a)) / (b - a)
        right = (phi(c) - phi(b)) / (c - b)
        change = dict(changes).get(b, 0)
        assert right - left == change


@st.composite
def icnns(draw):
    """Random ICNNs: weights out of hidden layers made >= 0 (input weights and biases free)."""
    d, layers = draw(network_dicts(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3)))
    for l, layer in enumerate(layers, start=1):
        if l >= 2:
            layer["weight"] = [[abs(v) for v in row] for row in layer["weight"]]
        for k in layer.get("skip", {}):
            if k >= 1:
                layer["skip"][k] = [[abs(v) for v in row] for row in layer["skip"][k]]
    return Network.from_lists(d, layers)


@settings(max_examples=scaled(60))
@given(icnns(), st.data())
def test_the_lemma_on_random_icnns(f, data):
    p = data.draw(points(f.input_dim))
    u = data.draw(points(f.input_dim).filter(any))
    assert len(kinks_on_line(f, p, u)) <= icnn_kink_bound(f.hidden_widths)
    assert is_convex_on_line(f, p, u)


def test_screen_matches_exact_counts():
    import numpy as np

    rng = np.random.default_rng(5)
    for arch, skips in [([1, 2, 1, 1], "all"), ([1, 3, 2, 1], "none"), ([1, 2, 2, 2, 1], "input")]:
        layout = Layout(arch, skips)
        theta = _random_params(rng, layout, 200)
        kinks, concave = screen(layout, theta)
        agree = sum(exact_kinks(layout.network(theta[i])) == (kinks[i], concave[i] == 0) for i in range(60))
        assert agree >= 58  # floats only screen; exactness comes from the confirmation


# ----- not_icnn_representable certificates ----------------------------------------------------------

def test_deep_family():
    for m in range(1, 9):
        for plain in (False, True):
            F = deep_family(m, plain)
            changes = kink_changes(F, [0], [1])
            assert [t for t, _ in changes] == [fmpq(i, 2 ** m) for i in range(2 ** m + 1)]
            assert all(c > 0 for _, c in changes)
            widths = [3] + [3 if plain else 2] * (m - 1)
            assert F.hidden_widths == widths
            x = fmpq(3, 7)  # the interpolation of x^2 at the grid points
            lo = fmpq(int((x * 2 ** m).floor()), 2 ** m)
            hi = lo + fmpq(1, 2 ** m)
            assert F.evaluate([x])[0] == lo ** 2 + (x - lo) * (hi ** 2 - lo ** 2) / (hi - lo)
            assert F.evaluate([-5])[0] == 0 and F.evaluate([4])[0] == 7


def test_not_representable_certificate_and_refusals():
    cert = not_representable_certificate(deep_family(4))
    assert cert["bound"] == 15 and len(cert["kinks"]) == 17 and verify(cert).valid
    with pytest.raises(NotACounterexample):
        not_representable_certificate(deep_family(3))  # 9 kinks, bound 11
    nonconvex = net(1, [{"weight": [[1], [1], [1], [1]], "bias": [0, -1, -2, -3]},
                        {"weight": [[1, -1, 1, -1]]}, ])
    with pytest.raises(NotACounterexample):
        not_representable_certificate(nonconvex)


def test_unreadable_not_representable_certificate():
    cert = not_representable_certificate(deep_family(4))
    for key in ("line", "kinks", "widths"):
        bad = copy.deepcopy(cert)
        del bad[key]
        with pytest.raises(CertificateError):
            verify(bad)
    bad = copy.deepcopy(cert)
    bad["line"]["point"] = ["abc"]
    with pytest.raises(CertificateError):
        verify(bad)


def test_a_line_in_two_dimensions():
    # F(x, y) = deep_family(4) at (x + y) / 2: still convex, same kinks on the line y = x
    F = deep_family(4)
    first = F.layers[0]
    layers = [{"weight": [[first.weight[i, 0] / 2, first.weight[i, 0] / 2] for i in range(3)],
               "bias": [first.bias[i, 0] for i in range(3)]}]
    for L in F.layers[1:]:
        entry = {"weight": [[L.weight[i, j] for j in range(L.weight.ncols())] for i in range(L.width)],
                 "bias": [L.bias[i, 0] for i in range(L.width)]}
        if L.skip:
            entry["skip"] = {k: [[S[i, j] for j in range(S.ncols())] for i in range(S.nrows())]
                             for k, S in L.skip.items()}
        layers.append(entry)
    G = Network.from_lists(2, layers)
    cert = not_representable_certificate(G, [0, 0], [1, 1])
    assert verify(cert).valid and len(cert["kinks"]) == 17
    bad = copy.deepcopy(cert)
    bad["line"]["direction"] = ["1", "-1"]  # G is constant along it: no kinks
    assert not verify(bad).valid
    bad["line"]["direction"] = ["0", "0"]
    assert "direction" in verify(bad).reason


def test_search_finds_the_smallest_counterexample_quickly():
    res = search_counterexample([1, 2, 1, 1], seed=0, budget=30, skips="all")
    assert res.found and res.kinks == 5 and res.bound == 4
    assert res.grid_exhausted and res.phase != "grid"  # the {-1, 0, 1} grid has none
    n, convex = exact_kinks(res.network)
    assert convex and n == 5
    assert verify(not_representable_certificate(res.network)).valid


def test_grid_covers_every_network_up_to_neuron_order():
    import numpy as np

    from exactconvex.icnn.search import _grid_parts, grid_batch, grid_size

    layout = Layout([1, 2, 1, 1], "none")  # theta = [w1 b1 w2 b2 | v1 v2 c | a]
    size = grid_size(layout)
    grid = grid_batch(_grid_parts(layout), 0, size)
    assert len(grid) == size == 3645 and set(np.unique(grid)) <= {-1.0, 0.0, 1.0}
    rows = {tuple(r) for r in grid}
    assert len(rows) == size
    rng = np.random.default_rng(3)
    for theta in rng.integers(-1, 2, size=(300, layout.size)).astype(float):
        first = [tuple(theta[0:2]), tuple(theta[2:4])]
        order = sorted(range(2), key=lambda i: first[i])  # sort layer 1, permute the columns reading it
        canon = [*first[order[0]], *first[order[1]], theta[4 + order[0]], theta[4 + order[1]], theta[6], theta[7]]
        assert tuple(canon) in rows


def test_search_reports_what_it_exhausted():
    res = search_counterexample([1, 2, 1, 1], seed=0, budget=1, skips="none")  # impossible, see the proofs
    assert not res.found and res.grid_exhausted and res.grid_size == 3645
    assert "exhausted" in res.note and "proves nothing" in res.note
    one = search_counterexample([1, 5, 1], budget=1)
    assert not one.found and "one hidden layer" in one.note


# ----- the checker side ----------------------------------------------------------------------------

def test_extra_claims_import_only_the_checkers_own_files():
    src = (ROOT / "exactconvex" / "checker" / "extra_claims.py").read_text()
    imports = re.findall(r"^\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", src, flags=re.M)
    internal = {a or b for a, b in imports if (a or b).startswith(".") or (a or b).startswith("exactconvex")}
    assert internal and all(name.startswith(".") and not name.startswith("..") for name in internal), internal


def test_equivalent_and_not_representable_claims_through_verify():
    good = equivalent(ABS, ABS).certificate
    assert verify(good).valid
    cert = not_representable_certificate(deep_family(4))
    assert verify(cert).valid
    cert["kinks"] = cert["kinks"][1:]
    result = verify(cert)
    assert not result.valid and "kinks" in result.reason


# ----- the command line ------------------------------------------------------------------------------

def write_net(path: Path, f: Network) -> Path:
    path.write_text(json.dumps(network_to_dict(f)))
    return path


@pytest.mark.parametrize("name", ["duplicate", "opposite", "proportional"])
def test_cli_to_icnn_then_equiv(tmp_path, name):
    f = write_net(tmp_path / "f.json", CONVEX_ONE_LAYER[name])
    out, cert = tmp_path / "icnn.json", tmp_path / "cert.json"
    r = run_cli("to-icnn", f, "-o", out, "--cert", cert, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["icnn"] and report["equivalent"]
    g = network_from_dict(json.loads(out.read_text()))
    assert g.is_icnn() and output_weights_nonnegative(g) and g.hidden_widths == CONVEX_ONE_LAYER[name].hidden_widths
    assert run_cli("equiv", f, out).returncode == 0
    assert run_cli("verify", cert).returncode == 0


def test_cli_equiv_exit_codes(tmp_path):
    a = write_net(tmp_path / "a.json", ABS)
    far = write_net(tmp_path / "far.json", net(1, [{"weight": [[1], [-1], [1]], "bias": [0, 0, -10 ** 6]},
                                                  {"weight": [[1, 1, "1/1000"]]}]))
    r = run_cli("equiv", a, far, "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    x = [Fraction(v) for v in report["point"]]
    assert x[0] > 10 ** 6 and Fraction(report["f"]) != Fraction(report["g"])
    r = run_cli("equiv", a, a, "--cert", tmp_path / "eq.json")
    assert r.returncode == 0 and run_cli("verify", tmp_path / "eq.json").returncode == 0
    two_d = ROOT / "examples" / "networks" / "spec_example.json"
    r = run_cli("equiv", a, two_d)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert run_cli("equiv", a, tmp_path / "missing.json").returncode == 2
    r = run_cli("equiv", a, far, "--max-regions", "1")
    assert r.returncode == 2 and "no verdict" in r.stderr


def test_cli_to_icnn_exit_codes(tmp_path):
    bad = write_net(tmp_path / "bad.json", net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}]))
    r = run_cli("to-icnn", bad, "-o", tmp_path / "out.json")
    assert r.returncode == 1 and "witness" in r.stdout and not (tmp_path / "out.json").exists()
    deep = write_net(tmp_path / "deep.json", deep_family(2))
    r = run_cli("to-icnn", deep, "-o", tmp_path / "out.json")
    assert r.returncode == 2 and "one hidden layer" in r.stderr


def test_cli_counterexample(tmp_path):
    cert = tmp_path / "ce.json"
    r = run_cli("counterexample", "--arch", "1,2,1,1", "--skips", "all", "--budget", "20", "-o", cert, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["found"] and report["kinks"] > report["bound"] == 4
    assert run_cli("verify", cert).returncode == 0
    r = run_cli("counterexample", "--arch", "1,2,1,1", "--budget", "1", "-o", tmp_path / "none.json")
    assert r.returncode == 1 and "exhausted" in r.stdout and not (tmp_path / "none.json").exists()
    assert run_cli("counterexample", "--arch", "1,x,1", "-o", cert).returncode == 2
    assert run_cli("counterexample", "--arch", "2,3,2,1", "-o", cert).returncode == 2


# ----- every certificate in proofs/ -------------------------------------------------------------------

def test_proofs_are_present():
    names = {p.name for p in CERTS}
    assert {"counterexample-1-2-1-1-all.json", "counterexample-1-3-2-1-plain.json",
            "to-icnn-duplicate.json", "to-icnn-opposite.json", "to-icnn-proportional.json"} <= names
    assert {f"deep-family-m{m}.json" for m in range(1, 9)} <= names


@pytest.mark.parametrize("path", CERTS, ids=lambda p: p.name)
def test_proof_certificate_verifies(path):
    r = run_cli("verify", path)
    assert r.returncode == 0, r.stderr


def _not_representable():
    return [p for p in CERTS if json.loads(p.read_text())["claim"] == "not_icnn_representable"]


@pytest.mark.parametrize("path", _not_representable(), ids=lambda p: p.name)
def test_tampered_line_or_network_fails(path):
    cert = json.loads(path.read_text())
    assert verify(cert).valid
    for tamper in ("point", "direction", "bias", "sign", "kinks", "bound"):
        bad = copy.deepcopy(cert)
        if tamper == "point":
            bad["line"]["point"] = [str(Fraction(v) + Fraction(1, 3)) for v in bad["line"]["point"]]
        elif tamper == "direction":
            bad["line"]["direction"] = [str(Fraction(v) * 2) for v in bad["line"]["direction"]]
        elif tamper == "bias":  # moves the kinks of a first-layer neuron
            bias = bad["network"]["layers"][0]["bias"]
            bias[0] = str(Fraction(bias[0]) + Fraction(1, 3))
        elif tamper == "sign":  # the output layer negated: -f (plus a constant) is not convex
            out = bad["network"]["layers"][-1]
            out["weight"] = [[str(-Fraction(v)) for v in row] for row in out["weight"]]
            for k, S in out.get("skip", {}).items():
                out["skip"][k] = [[str(-Fraction(v)) for v in row] for row in S]
        elif tamper == "kinks":
            bad["kinks"] = bad["kinks"][:-1]
        else:
            bad["bound"] = len(bad["kinks"])
        assert not verify(bad).valid, tamper


@pytest.mark.parametrize("path", [p for p in CERTS if p.name.startswith("to-icnn-")], ids=lambda p: p.name)
def test_tampered_conversion_fails(path):
    cert = json.loads(path.read_text())
    assert verify(cert).valid
    g = network_from_dict(cert["networks"]["g"])
    assert g.is_icnn() and output_weights_nonnegative(g)
    bad = copy.deepcopy(cert)
    bad["networks"]["g"]["layers"][-1]["bias"][0] = str(Fraction(bad["networks"]["g"]["layers"][-1]["bias"][0]) + 1)
    assert not verify(bad).valid
