"""Far-out regions (interior points with coordinates of 10^10 and more): the float guesses that
serve them are checked exactly, and each fallback below the guesses still gives exact answers."""

from __future__ import annotations

import numpy as np
import pytest
from flint import fmpq

from exactconvex.polyhedra import polyhedron
from exactconvex.polyhedra.polar import propose_facets, span_basis
from exactconvex.polyhedra.polyhedron import facet_witness, values_at


def q(v) -> fmpq:
    return fmpq(v)


def _strip(width):
    """0 <= y <= width, x >= 0: a half-strip along x (its facet x = 0 is the target)."""
    target = ((q(1), q(0)), q(0))
    others = [((q(0), q(1)), q(0)), ((q(0), q(-1)), q(width))]
    return target, others


@pytest.mark.parametrize("far", [10**6, 10**11, 10**15])
def test_facet_witness_from_the_exact_vertex_when_no_rounding_is_inside(monkeypatch, far):
    # the hint lies far out along the strip; with every rounding of the float point refused, the
    # witness must come from the exact vertex of the float LP's tight rows (never the simplex)
    target, others = _strip(fmpq(1, 1000))
    monkeypatch.setattr(polyhedron, "_candidates", lambda xs: iter(()))
    monkeypatch.setattr(polyhedron, "lp_free", lambda *a, **k: pytest.fail("fell to the exact simplex"))
    hint = (q(far), fmpq(1, 3000))
    p = facet_witness(target, others, hint=(hint[0], hint[1] + 1))  # projection of the hint: outside
    assert p is not None
    assert values_at([target], p) == [0]
    assert all(v > 0 for v in values_at(others, p))


def test_facet_witness_is_none_exactly_when_the_facet_is_empty():
    # x = 0 meets the strip 0 <= y <= w, x >= 1 nowhere: the guesses fail and the exact LP says so
    target = ((q(1), q(0)), q(0))
    others = [((q(0), q(1)), q(0)), ((q(0), q(-1)), q(1)), ((q(1), q(0)), q(-1))]
    assert facet_witness(target, others, hint=(q(5), fmpq(1, 2))) is None


def test_unbounded_facets_are_pushed_by_their_own_size_not_by_the_distance_from_x0():
    # the cone x >= 0, y >= 0 seen from x0 = (R, R): each facet's proposed point lies within a
    # bounded distance of the apex's scale, whatever R (a push growing with R compounds along a search)
    basis = span_basis(np.eye(2))
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # x >= 0, y >= 0, x + y + 1 >= 0 (redundant)
    for R in (1.0, 1e3, 1e6):
        g0 = A @ np.array([R, R]) + np.array([0.0, 0.0, 1.0])
        proposals = propose_facets(A, g0, basis)
        assert sorted(proposals) == [0, 1]
        for y in proposals.values():  # the apex (0, 0) plus one unit along the facet's ray
            point = np.array([R, R]) + y
            assert np.all(np.abs(point) <= 1.5), (R, point)


def test_interior_points_stay_near_the_regions_along_the_search():
    # the search takes each new region's interior point near the facet point it crossed; facet
    # points pushed by their distance from x0 compounded along the search (this network: interior
    # points up to 6.7e9, median 4.3e4, where float LPs lose the near facets); with the push
    # by the facet's own size they stay at the scale of the arrangement
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from grid import icnn_with_input_skips

    from exactconvex.checker import verify
    from exactconvex.decide import check
    from exactconvex.graph import explore

    net = icnn_with_input_skips(np.random.default_rng(0), 6, [5, 5])
    regions = explore(net).regions
    sizes = sorted(max(abs(float(v)) for v in r.interior_point) for r in regions)
    assert len(regions) == 793
    assert sizes[-1] < 1e5 and sizes[len(sizes) // 2] < 1e3
    v = check(net, method="regions", certificate=True)
    assert v.convex is True and v.regions == 793 and verify(v.certificate, net).valid


def test_the_search_leaves_a_callers_frozen_objects_frozen_and_unfreezes_its_own():
    # explore keeps its graph out of the cyclic collector (gc.freeze) and hands it back at the end;
    # objects a caller froze itself (a forking server, say) must stay in the permanent generation
    import gc

    from exactconvex import Network
    from exactconvex.graph import explore

    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, -1, 2]}, {"weight": [[1, -2, 1]]}])
    gc.unfreeze()
    explore(net)
    assert gc.get_freeze_count() == 0
    keep = [[object()] for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert len(explore(net).regions) > 1
        # still frozen (objects freed by reference counting meanwhile leave the count, so not ==)
        assert gc.get_freeze_count() > frozen // 2 and keep
    finally:
        gc.unfreeze()


def test_the_search_freezes_what_is_alive_before_its_first_region():
    # a full collection early in the search scanned every object of the loaded modules (a 13-16 ms
    # pause in the fifth region at d8 8x8): they go to the permanent generation when the search starts
    import gc

    from exactconvex import Network
    from exactconvex.graph import explore

    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, -1, 2]}, {"weight": [[1, -2, 1]]}])
    gc.unfreeze()
    seen = []
    explore(net, progress=lambda done, found: seen.append(gc.get_freeze_count()))
    assert seen[0] > 1000 and gc.get_freeze_count() == 0


def test_the_verdict_and_certificate_pause_the_collector_and_restore_it():
    # bends and certificate writing run with the cyclic collector off (they make no cycles);
    # afterwards the collector is as the caller left it, on or off, also when the work fails
    import gc

    import pytest

    from exactconvex import Network
    from exactconvex.decide import check
    from exactconvex.graph.explore import collector_paused

    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, -1, 2]}, {"weight": [[1, 2, 1]]}])
    seen = []
    assert gc.isenabled()
    v = check(net, method="regions", certificate=True,
              progress=lambda done, found: seen.append(gc.isenabled()))
    assert v.convex and v.certificate["claim"] == "convex" and gc.isenabled()
    assert seen and all(seen)  # the search itself keeps the collector on
    gc.disable()
    try:
        check(net, method="regions", certificate=True)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        with collector_paused():
            assert not gc.isenabled()
            1 / 0
    assert gc.isenabled()
