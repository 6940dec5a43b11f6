"""The checker's speed tricks against their plain-rational references, and random certificates.

Each speed trick of ``exactconvex/checker/region_graph.py`` (a region's maps over the integers,
one integer product for the signs of all constraints at many points, one product for all
Farkas identities of a region, adjugate signs for square implied groups) has a reference beside it that computes the same
thing one value at a time with fmpq.  Here they are compared on hand-made inputs, on random
ones, and through ``verify(..., reference=True)`` on certificates that ``check`` and
``equivalent`` make for random small networks (degenerate ones: weights in {-2..2}; ones with
a lineality space, whose implied groups have fewer than d + 1 columns), valid and mutated:
fast and reference must give the same answer, with the same reason.
"""

from __future__ import annotations

import copy
import random
from fractions import Fraction

import pytest
from flint import fmpq, fmpq_mat
from hypothesis import HealthCheck, given, settings, strategies as st

from exactconvex import check, equivalent, network_from_dict, network_to_dict
from exactconvex.checker import CertificateError, verify
from exactconvex.checker.reader import read_network
from exactconvex.checker.region_graph import (ImpliedOutcome, IntegerMaps, Layout, RationalMaps, every_row,
                                              first_wrong_identity, first_wrong_identity_reference,
                                              implied_multipliers, implied_multipliers_reference, signs_at,
                                              signs_at_reference)
from strategies import document, network_dicts, rationals, scaled, slopes, small_integers, small_rationals

SETTINGS = settings(max_examples=scaled(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mat(rows) -> fmpq_mat:
    return fmpq_mat(len(rows), len(rows[0]), [fmpq(v.numerator, v.denominator) if hasattr(v, "denominator") else
                                             fmpq(v) for r in rows for v in r])


# ----- IntegerMaps -----------------------------------------------------------------------------------

@SETTINGS
@given(st.data())
def test_integer_maps_are_the_rational_maps_times_their_layers_denominators(data):
    """Any network (skips, LeakyReLU slopes 0, 1, 2, -1, 1/100, ..., extreme values), any sequence
    of patterns (one IntegerMaps for all of them: each is updated from the previous one, with
    single activations changed, many, none, or a pattern seen before): every row of
    ``IntegerMaps`` is its layer's positive denominator times the row of ``region_maps``
    (``RationalMaps``, from scratch), and their values at a point have the signs of the exact
    values g(x)."""
    d, layers = data.draw(network_dicts(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 7),
                                        values=rationals(extreme=data.draw(st.booleans())), slopes=slopes()))
    net = read_network(document(d, layers), "network")  # (widths up to 7: more than 4 activations may change)
    fast, exact = IntegerMaps(net), RationalMaps(net)
    pattern = ["".join(data.draw(st.sampled_from("01")) for _ in range(n)) for n in net.hidden_widths]
    seen = [tuple(pattern)]
    for _ in range(6):
        step = data.draw(st.sampled_from(["one", "any", "same", "seen"]))
        if step == "one" and pattern:  # one activation changes (as across a facet)
            l = data.draw(st.integers(0, len(pattern) - 1))
            j = data.draw(st.integers(0, len(pattern[l]) - 1))
            pattern[l] = pattern[l][:j] + "10"[int(pattern[l][j])] + pattern[l][j + 1:]
        elif step == "any":
            pattern = ["".join(data.draw(st.sampled_from("01")) for _ in range(n)) for n in net.hidden_widths]
        elif step == "seen":
            pattern = list(data.draw(st.sampled_from(seen)))
        seen.append(tuple(pattern))
        F, E = fast(tuple(pattern)), exact(tuple(pattern))
        _scaled_copies(net, F, E)
        x = tuple(fmpq(v.numerator, v.denominator) for v in data.draw(st.lists(rationals(), min_size=d, max_size=d)))
        reference = signs_at_reference(every_row(E, []).block, [x])[0]
        assert [(v > 0) - (v < 0) for v in signs_at(every_row(F, []).block, [x])[0]] == \
            [(e > 0) - (e < 0) for e in reference]


def _scaled_copies(net, F, E):
    """Every row of the maps F is its layer's positive denominator times the row of E (denominators 1)."""
    layout = Layout.of(net)
    assert len(F.constraints) == len(E.constraints) == sum(net.hidden_widths)
    assert all(D > 0 for D in F.denominators) and E.denominators == (1,) * net.depth
    for t, (f, e) in enumerate(zip(F.constraints, E.constraints)):
        D = F.denominators[layout.neuron(t).layer - 1]
        assert tuple(fmpq(v) for v in f) == tuple(D * v for v in e)
    assert [tuple(fmpq(v) for v in f) for f in F.outputs] == [tuple(F.denominators[-1] * v for v in e)
                                                              for e in E.outputs]


@pytest.mark.parametrize("slope", ["0", "1/3", "-1", "2", "1"])
def test_integer_maps_with_many_or_few_changed_activations(slope):
    """Wide layers (a skip from the input, one from layer 1 into the output), patterns far apart
    (more than four activations of a layer change: the update is one product), one or two
    activations apart (rank-one terms), repeated, with layer 1 unchanged: IntegerMaps is
    RationalMaps scaled."""
    rnd = random.Random(7)
    row = lambda n: [str(rnd.randint(-9, 9)) + "/" + str(rnd.randint(1, 5)) for _ in range(n)]
    hidden = {"activation": {"leaky_relu": slope}}
    doc = {"format": "exactconvex.network", "version": 1, "input_dim": 2,
           "layers": [{"weight": [row(2) for _ in range(9)], "bias": row(9), **hidden},
                      {"weight": [row(9) for _ in range(8)], "bias": row(8), "skip": {"0": [row(2) for _ in range(8)]},
                       **hidden},
                      {"weight": [row(8)], "skip": {"1": [row(9)]}}]}
    net = read_network(doc, "network")
    fast, exact = IntegerMaps(net), RationalMaps(net)
    pattern = ["".join(rnd.choice("01") for _ in range(n)) for n in (9, 8)]
    for step in range(40):
        if step % 4 == 0:  # far: every activation drawn anew
            pattern = ["".join(rnd.choice("01") for _ in range(n)) for n in (9, 8)]
        elif step % 4 != 3:  # near: one or two activations change, in either layer
            for _ in range(rnd.randint(1, 2)):
                l = rnd.randrange(2)
                j = rnd.randrange(len(pattern[l]))
                pattern[l] = pattern[l][:j] + "10"[int(pattern[l][j])] + pattern[l][j + 1:]
        else:  # only layer 2 changes
            pattern[1] = "".join(rnd.choice("01") for _ in range(8))
        _scaled_copies(net, fast(tuple(pattern)), exact(tuple(pattern)))


# ----- signs_at ------------------------------------------------------------------------------------

def _same_signs_common_factor(fast, exact):
    """fast = c * exact for one c > 0 (over all points and rows)."""
    pairs = [(f, e) for fp, ep in zip(fast, exact) for f, e in zip(fp, ep)]
    assert all((f > 0) == (e > 0) and (f < 0) == (e < 0) for f, e in pairs)
    scale = next((f / e for f, e in pairs if e != 0), None)
    assert scale is None or (scale > 0 and all(f == scale * e for f, e in pairs))


@given(st.data())
def test_signs_at_agrees_with_one_value_at_a_time(data):
    d = data.draw(st.integers(1, 4))
    rows = data.draw(st.lists(st.lists(small_rationals(4, 6), min_size=d + 1, max_size=d + 1), min_size=1, max_size=6))
    points = data.draw(st.lists(st.tuples(*[small_rationals(5, 7)] * d), min_size=1, max_size=5))
    C = mat(rows)
    P = [tuple(fmpq(v.numerator, v.denominator) for v in p) for p in points]
    _same_signs_common_factor(signs_at(C, P), signs_at_reference(C, P))


def test_signs_at_on_hand_made_values():
    C = mat([[1, 0, 0], [0, 1, -1], [fmpq(1, 3), fmpq(-2, 7), fmpq(1, 10**30)], [0, 0, -2]])
    P = [(fmpq(0), fmpq(1)), (fmpq(-1, 3), fmpq(7, 2)), (fmpq(10**40), fmpq(-1, 10**40))]
    exact = signs_at_reference(C, P)
    assert exact[0] == [0, 0, fmpq(-2, 7) + fmpq(1, 10**30), -2] and exact[1][1] == fmpq(5, 2)
    _same_signs_common_factor(signs_at(C, P), exact)


# ----- first_wrong_identity -----------------------------------------------------------------------

@given(st.data())
def test_farkas_identities_agree(data):
    d = data.draw(st.integers(1, 3))
    m = data.draw(st.integers(0, 4))
    facets = [tuple(fmpq(v.numerator, v.denominator) for v in data.draw(st.lists(small_rationals(3, 3), min_size=d + 1,
                                                                                  max_size=d + 1))) for _ in range(m)]
    entries, targets = [], []
    for _ in range(data.draw(st.integers(1, 4))):
        row = tuple(fmpq(v.numerator, v.denominator) for v in data.draw(st.lists(small_rationals(3, 2), min_size=m + 1,
                                                                                   max_size=m + 1)))
        target = [sum((row[f] * facets[f][t] for f in range(m)), fmpq(0)) + (row[-1] if t == d else 0)
                  for t in range(d + 1)]
        if data.draw(st.booleans()):  # plant an error
            t = data.draw(st.integers(0, d))
            target[t] += fmpq(data.draw(st.sampled_from([1, -1])), data.draw(st.integers(1, 10**12)))
        entries.append(row)
        targets.append(tuple(target))
    assert first_wrong_identity(facets, entries, targets) == first_wrong_identity_reference(facets, entries, targets)


def test_farkas_identities_hand_made():
    facets = [(fmpq(1), fmpq(0)), (fmpq(-1), fmpq(2))]  # x >= 0 and 2 - x >= 0
    entries = [(fmpq(1), fmpq(1), fmpq(0)), (fmpq(0), fmpq(1), fmpq(3))]
    right = [(fmpq(0), fmpq(2)), (fmpq(-1), fmpq(5))]
    for f in (first_wrong_identity, first_wrong_identity_reference):
        assert f(facets, entries, right) is None
        assert f(facets, entries, [right[0], (fmpq(-1), fmpq(4))]) == (1, 1)
        assert f(facets, entries, [(fmpq(1), fmpq(2)), (fmpq(0), fmpq(0))]) == (0, 0)
        assert f([], [(fmpq(5),)], [(fmpq(0), fmpq(5))]) is None


# ----- implied_multipliers --------------------------------------------------------------------------

@given(st.data())
def test_implied_multipliers_agree(data):
    d1 = data.draw(st.integers(2, 4))
    cols = data.draw(st.integers(1, d1 + 1))
    columns = [data.draw(st.lists(small_integers(-2, 2), min_size=d1, max_size=d1)) for _ in range(cols - 1)]
    columns.append([0] * (d1 - 1) + [1])  # the constant
    M = fmpq_mat(d1, cols, [fmpq(int(columns[j][i])) for i in range(d1) for j in range(cols)])
    n = data.draw(st.integers(1, 3))
    if data.draw(st.booleans()):  # targets in the span: a solution exists
        X = [[fmpq(int(data.draw(small_integers(-2, 2)))) for _ in range(n)] for _ in range(cols)]
        T = M * fmpq_mat(cols, n, [v for row in X for v in row])
    else:
        T = fmpq_mat(d1, n, [fmpq(int(data.draw(small_integers(-3, 3))), data.draw(st.integers(1, 3)))
                             for _ in range(d1 * n)])
    assert implied_multipliers(M, T) == implied_multipliers_reference(M, T)


def _M(columns):
    d1 = len(columns[0])
    return fmpq_mat(d1, len(columns), [fmpq(columns[j][i]) for i in range(d1) for j in range(len(columns))])


@pytest.mark.parametrize("kernel", [implied_multipliers, implied_multipliers_reference])
def test_implied_multipliers_hand_made(kernel):
    one = (0, 0, 1)
    # square (d + 1 = 3 columns): x >= 0, y >= 0 and the constant
    M = _M([(1, 0, 0), (0, 1, 0), one])
    assert kernel(M, _M([(2, 3, 1)])) == ImpliedOutcome(True, True, None)  # 2x + 3y + 1
    assert kernel(M, _M([(2, 3, 1), (1, -1, 0)])) == ImpliedOutcome(True, True, 1)  # x - y: negative
    assert kernel(M, _M([(2, -3, 1), (1, 1, 0)])) == ImpliedOutcome(True, True, 0)
    negative_det = _M([(0, 1, 0), (1, 0, 0), one])  # swapped columns: det < 0, signs must still be right
    assert kernel(negative_det, _M([(2, 3, 1)])) == ImpliedOutcome(True, True, None)
    assert kernel(negative_det, _M([(2, 3, -1)])) == ImpliedOutcome(True, True, 0)
    assert kernel(_M([(1, 0, 0), (2, 0, 0), one]), _M([(1, 0, 0)])) == ImpliedOutcome(False)
    # non-square (a lineality space along y: every row has a zero y coefficient)
    M = _M([(1, 0, 0), one])
    assert kernel(M, _M([(3, 0, 2)])) == ImpliedOutcome(True, True, None)  # 3x + 2
    assert kernel(M, _M([(3, 0, -2)])) == ImpliedOutcome(True, True, 0)  # needs mu = -2
    assert kernel(M, _M([(3, 1, 2)])) == ImpliedOutcome(True, False)  # no combination of x and 1
    assert kernel(_M([(1, 0, 0), (-2, 0, 0), one]), _M([(1, 0, 0)])) == ImpliedOutcome(False)
    # more columns than rows: never independent
    assert kernel(_M([(1, 0), (0, 1), (1, 1)]), _M([(1, 1)])) == ImpliedOutcome(False)


# ----- whole certificates: fast == reference -----------------------------------------------------------

def _same_answer(cert, **kw):
    """verify with the fast kernels and with the references: the same verdict (or both unreadable);
    with the references except ``facet_rows`` (checks 1-3 on the listed facets' rows only, as the
    fast kernels do), the same CheckResult, reason included.  (With every row, a certificate
    with a defect may be rejected by another check first: ``proofs/facet-checks.md``.)"""
    import exactconvex.checker as checker
    from dataclasses import replace
    from exactconvex.checker import region_graph

    try:
        fast = verify(cert, **kw)
    except CertificateError as exc:
        with pytest.raises(CertificateError) as info:
            verify(cert, reference=True, **kw)
        assert str(info.value) == str(exc)
        return None
    full = verify(cert, reference=True, **kw)
    assert (full.valid, full.regions, full.facets) == (fast.valid, fast.regions, fast.facets)
    assert full == fast or not fast.valid
    plain = checker.REFERENCE
    checker.REFERENCE = replace(region_graph.REFERENCE, checked=region_graph.facet_rows)
    try:
        assert verify(cert, reference=True, **kw) == fast
    finally:
        checker.REFERENCE = plain
    return fast


def _mutants(cert, rnd, n=6):
    """Copies of ``cert`` with one number, index, point or pattern changed."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))
        elif path and path[0] not in ("format", "version", "claim"):
            paths.append(path)

    walk(cert, ())
    for _ in range(n):
        bad = copy.deepcopy(cert)
        path = rnd.choice(paths)
        target = bad
        for p in path[:-1]:
            target = target[p]
        value = target[path[-1]]
        if isinstance(value, str) and value and set(value) <= {"0", "1"} and path[-2] == "pattern":
            i = rnd.randrange(len(value))
            target[path[-1]] = value[:i] + ("1" if value[i] == "0" else "0") + value[i + 1:]
        elif isinstance(value, int) and not isinstance(value, bool):
            target[path[-1]] = value + rnd.choice([-1, 1])
        else:
            target[path[-1]] = rnd.choice(["0", "1", "-1", "1/2", "-1/3", "7"])
        yield bad


def convex_documents(d_range=(1, 3), width_range=(1, 3), values=None):
    """Random convex networks (ICNN structure: weights out of hidden layers >= 0, slopes in [0, 1]),
    so that ``check(..., "regions")`` builds the whole region graph."""
    values = values if values is not None else small_rationals(3, 2)
    slopes = st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(1, 2), Fraction(1)])

    def convex(dl):
        d, layers = dl
        for l, layer in enumerate(layers[1:], start=2):
            layer["weight"] = [[abs(v) for v in row] for row in layer["weight"]]
            layer["skip"] = {k: ([[abs(v) for v in row] for row in S] if k >= 1 else S)
                             for k, S in layer.get("skip", {}).items()}
        return document(d, layers)

    return network_dicts(d_range, (2, 3), width_range, skips=True, values=values, slopes=slopes).map(convex)


def lineality_document(rnd: random.Random, d: int = 3) -> dict:
    """A convex network of A x, A a random 2 x d integer matrix: constant along the kernel of A,
    so every implied group has at most 2 facets plus the constant: fewer than d + 1 columns."""
    A = [[rnd.randint(-2, 2) for _ in range(d)] for _ in range(2)]
    coefficients = [[rnd.randint(-2, 2) for _ in range(2)] for _ in range(3)]
    W1 = [[sum(c[r] * A[r][j] for r in range(2)) for j in range(d)] for c in coefficients]
    return {"format": "exactconvex.network", "version": 1, "input_dim": d,
            "layers": [{"weight": W1, "bias": [rnd.randint(-2, 2) for _ in range(3)]},
                       {"weight": [[rnd.randint(0, 2) for _ in range(3)] for _ in range(2)],
                        "bias": [rnd.randint(-2, 2) for _ in range(2)]},
                       {"weight": [[rnd.randint(0, 2) for _ in range(2)]]}]}


@SETTINGS
@given(convex_documents(values=small_integers(-2, 2)), st.integers(0, 2**32))
def test_random_convex_certificates_fast_equals_reference(doc, seed):
    v = check(network_from_dict(doc), method="regions", certificate=True)
    r = _same_answer(v.certificate, network=doc)
    assert r.valid, r.reason
    assert (r.regions, r.facets) == (v.regions, v.facets)  # facets counted as check counts them
    for bad in _mutants(v.certificate, random.Random(seed)):
        _same_answer(bad)


@SETTINGS
@given(network_dicts(d_range=(1, 3), depth_range=(1, 3), width_range=(1, 3), values=small_integers(-2, 2)),
       st.integers(0, 2**32))
def test_random_equivalence_certificates_fast_equals_reference(dl, seed):
    doc = document(*dl)
    r = equivalent(network_from_dict(doc), network_from_dict(doc))
    assert r.equivalent
    result = _same_answer(r.certificate, network=(doc, doc))
    assert result.valid, result.reason
    for bad in _mutants(r.certificate, random.Random(seed), n=4):
        _same_answer(bad)


def test_lineality_spaces_reach_the_non_square_branch():
    rnd = random.Random(3)
    non_square = 0
    for _ in range(10):
        doc = lineality_document(rnd)
        v = check(network_from_dict(doc), method="regions", certificate=True)
        d = doc["input_dim"]
        groups = [g for R in v.certificate["region_graph"]["regions"] for g in R.get("implied", [])]
        non_square += sum(1 for g in groups if len(g["facets"]) + 1 < d + 1)
        r = _same_answer(v.certificate, network=doc)
        assert r.valid and (r.regions, r.facets) == (v.regions, v.facets)
        for bad in _mutants(v.certificate, rnd, n=8):
            _same_answer(bad)
    assert non_square > 20


# |x1| + ReLU(x1 - 1) in R^3: a lineality space (x2, x3), so every implied group is non-square
LINE_NET = {"format": "exactconvex.network", "version": 1, "input_dim": 3,
            "layers": [{"weight": [[1, 0, 0], [-1, 0, 0], [1, 0, 0]], "bias": [0, 0, -1]}, {"weight": [[1, 1, 1]]}]}


def line_regions():
    return [  # R0: 0 <= x1 <= 1, R1: x1 >= 1, R2: x1 <= 0
        {"pattern": ["100"], "interior_point": ["1/2", "0", "0"],
         "facets": [{"neuron": [1, 0], "point": ["0", "5", "1"], "neighbor": 2},
                    {"neuron": [1, 2], "point": ["1", "-3", "0"], "neighbor": 1}]},
        {"pattern": ["101"], "interior_point": ["2", "0", "0"],
         "facets": [{"neuron": [1, 2], "point": ["1", "0", "7"], "neighbor": 0}],
         "implied": [{"facets": [0], "neurons": [[1, 0], [1, 1]]}]},  # x1 = (x1 - 1) + 1, twice
        {"pattern": ["010"], "interior_point": ["-1", "0", "0"],
         "facets": [{"neuron": [1, 0], "point": ["0", "0", "0"], "neighbor": 0}],
         "implied": [{"facets": [0], "neurons": [[1, 2]]}]},  # 1 - x1 = (-x1) + 1
    ]


def line_cert(regions):
    return {"format": "exactconvex.certificate", "version": 1, "claim": "convex", "network": LINE_NET,
            "proofs": [{"output": 0, "method": "regions"}], "region_graph": {"regions": regions}}


def test_non_square_groups_accept_and_reject():
    r = _same_answer(line_cert(line_regions()))
    assert r.valid and (r.regions, r.facets) == (3, 2)
    bad = line_regions()  # 1 - x1 = -1 * x1 + 1 on R0: a negative multiplier
    bad[0]["implied"] = [{"facets": [0], "neurons": [[1, 2]]}]
    r = _same_answer(line_cert(bad))
    assert "region 0, implied 0: the constraint of neuron 2 of layer 1 needs a negative multiplier" in r.reason
    bad = line_regions()  # x1 is no multiple of the constant alone
    bad[1]["implied"] = [{"facets": [], "neurons": [[1, 0]]}]
    r = _same_answer(line_cert(bad))
    assert "region 1, implied 0: some listed constraint is not a combination of the facets [] and a constant" in r.reason
    bad = line_regions()  # R0 lists x1 >= 0 twice (neurons 0 and 1 of layer 1): dependent columns
    bad[0]["facets"].append({"neuron": [1, 1], "point": ["0", "1", "1"], "neighbor": 2})
    bad[0]["implied"] = [{"facets": [0, 2], "neurons": [[1, 2]]}]
    r = _same_answer(line_cert(bad))
    assert "region 0, implied 0: the facets [0, 2] and the constant are not linearly independent" in r.reason
    bad[0]["implied"] = []  # without the group the doubled facet is fine
    assert _same_answer(line_cert(bad)).valid
