"""Regions with at most d constraint groups (wide inputs, narrow layers): every group with linearly
independent gradients is a facet, witnessed without an LP (``explore._independent_facets``).

The certificates are checked by the independent checker (which recomputes every facet point and
every Farkas identity), on generic networks and on integer ones whose gradients are dependent
(where the general path must decide).
"""

from __future__ import annotations

import numpy as np
import pytest
from flint import fmpq

from exactconvex.checker import verify
from exactconvex.decide import check
from exactconvex.graph import explore
from exactconvex.graph.explore import _independent_facets, constraint_rows
from exactconvex.polyhedra.rows import hyperplane_groups
from exactconvex.sweep.generate import icnn_structured, int_network, torch_network


@pytest.mark.parametrize("d, hidden, seed", [(10, [4, 4], 0), (8, [3, 3], 1), (6, [2, 3, 2], 2)])
def test_low_rank_regions_certify(d, hidden, seed):
    net = icnn_structured(torch_network(np.random.default_rng(seed), d, hidden))
    v = check(net, method="regions", certificate=True)
    assert v.convex and verify(v.certificate).valid
    assert v.regions == len(explore(net).regions)


@pytest.mark.parametrize("seed", range(6))
def test_dependent_gradients_fall_back_and_still_certify(seed):
    net = int_network(np.random.default_rng(seed), 4, [3, 3], bound=1)  # repeated and dependent rows
    v = check(net, method="regions", certificate=True)
    if v.convex:
        assert verify(v.certificate).valid
    arr = explore(net)
    for region in arr.regions[:20]:
        neurons, rows, _, _ = constraint_rows(net, region.local)
        groups = hyperplane_groups(rows)
        if not 0 < len(groups) <= net.input_dim:
            continue
        reps = [rows.row(g[0]) for g in groups]
        group_of = {r: i for i, g in enumerate(groups) for r in g}
        found = _independent_facets(rows, reps, [g[0] for g in groups], [group_of[r] for r in range(len(rows))],
                                    region.interior_point)
        if found is None:
            continue
        for i, p in found.items():  # each witness: on its own hyperplane, strictly inside all the others
            values = rows.values([p])[0]
            assert all((v == 0) if group_of[r] == i else (v > 0) for r, v in enumerate(values))


@pytest.mark.parametrize("seed", range(4))
def test_scaled_values_at_reads_the_exact_values_asked_for(seed):
    """``Rows.scaled_values_at`` (the values the facet points are projected with) equals each row's
    exact value at its point, up to one positive factor."""
    from exactconvex.polyhedra import dot

    rng = np.random.default_rng(seed)
    net = torch_network(rng, 3, [5, 5])
    _, rows, _, _ = constraint_rows(net, net.local_affine(net.pattern((fmpq(1, 3), fmpq(-2, 7), fmpq(5, 11)))))
    points = [tuple(fmpq(int(v), int(q)) for v, q in zip(rng.integers(-50, 50, 3), rng.integers(1, 9, 3)))
              for _ in range(6)]
    targets = [int(t) for t in rng.integers(0, len(rows), 6)]
    values, scale = rows.scaled_values_at(targets, points)
    assert scale > 0
    for t, p, v in zip(targets, points, values):
        a, c = rows.row(t)
        assert fmpq(v, scale) == dot(a, p) + c
