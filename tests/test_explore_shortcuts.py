"""The region search's shortcuts give exactly what the plain computation gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex.graph.explore import constraint_rows, rows_after_flip
from strategies import networks, patterns, scaled


@settings(max_examples=scaled(200), deadline=None)
@given(st.data())
def test_a_flipped_neighbours_rows_reuse_the_layers_up_to_the_flip(data):
    # rows_after_flip keeps the rows of the flipped neuron's layer and the layers before it (one
    # negated) and recomputes the later ones (none for a last-layer neuron: Rows.with_row_negated
    # alone): the same neurons, rows, floats and constant-zero flag as the plain computation from
    # the flipped maps, for a neuron of any layer
    net = data.draw(networks(d_range=(1, 3), depth_range=(2, 4), width_range=(1, 3),
                             slopes=st.sampled_from([0, 0, "1/4", -2])))
    pattern = data.draw(patterns(net))
    local = net.local_affine(pattern)
    neurons, rows, _, zero = constraint_rows(net, local)
    # the search flips only in regions with no constant-zero neuron; with one, a last-layer
    # neuron's row alone is negated (Rows.with_row_negated), the zero flag unchanged
    allowed = [n for n in neurons if not zero or net.hidden_neurons[n][0] == net.depth - 1]
    if not allowed:
        return
    neuron = data.draw(st.sampled_from(allowed))
    if data.draw(st.booleans()):
        _ = rows.floats  # computed floats are carried over; otherwise they come on demand
        if data.draw(st.booleans()):  # a region processed by a --jobs worker, its neighbours made after
            _ = rows.integer, rows.trusted
            rows.release()  # the exact matrices go, the floats stay (and are carried over)
            assert rows._matrix is None and rows._integer is None and rows._floats is not None
    flipped = net.flip_local(local, neuron)
    if zero:
        got_neurons, got, got_zero = neurons, rows.with_row_negated(neurons.index(neuron)), zero
    else:
        got_neurons, got, got_zero = rows_after_flip(net, neurons, rows, neuron, flipped)
    plain_neurons, plain, _, plain_zero = constraint_rows(net, flipped)
    assert (got_neurons, got.flat, got_zero) == (plain_neurons, plain.flat, plain_zero)
    assert np.array_equal(got.floats, plain.floats) and got.trusted == plain.trusted
    assert rows.flat == constraint_rows(net, local)[1].flat  # the region's own rows are untouched


@settings(max_examples=scaled(200), deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(min_value=-1e13, max_value=1e13),
                          st.floats(min_value=-1e-6, max_value=1e-6)), max_size=24))
def test_rounding_float_offsets_at_once_equals_rounding_each(values):
    # the proposals' offsets become rationals in one numpy pass; the rationals must be exactly the
    # ones the plain per-float rule gives (None where the float is not finite)
    from exactconvex.polyhedra import q_from_float_nice, q_from_floats_nice

    assert q_from_floats_nice(np.array(values, float)) == [q_from_float_nice(v) for v in values]


@settings(max_examples=scaled(60), deadline=None)
@given(networks(d_range=(1, 3), depth_range=(2, 3), width_range=(1, 3), slopes=st.sampled_from([0, 0, "1/4"])))
def test_explored_regions_hold_no_rows_and_rebuild_the_plain_ones_when_asked(net):
    # the serial search drops each processed region's rows (memory); asked for afterwards, they
    # are the plain computation's, for the region's own pattern
    from exactconvex.graph.explore import explore

    for r in explore(net).regions:
        assert r.__dict__["_rows"] is None
        neurons, rows, _, zero = constraint_rows(net, net.local_affine(r.pattern))
        assert (r.neurons, r.rows.flat) == (neurons, rows.flat)
        assert r.constraints == [(n,) + rows.row(i) for i, n in enumerate(neurons)]


def _plain_constraint_rows(net, local):
    """``constraint_rows`` neuron by neuron from the local maps: g = z (on) or -z (off)."""
    neurons, flat, feasible, zero = [], [], True, False
    for l in range(1, net.depth):
        G, g = local.pre[l]
        for j in range(G.nrows()):
            n = net.neuron_index(l, j)
            s = 1 if local.pattern[n] else -1
            a, c = [G[j, t] for t in range(net.input_dim)], g[j, 0]
            if any(v != 0 for v in a):
                neurons.append(n)
                flat += [s * v for v in a] + [s * c]
            elif c == 0:
                zero = True
            elif s * c < 0:
                feasible = False
    return neurons, flat, feasible, zero


@settings(max_examples=scaled(60), deadline=None)
@given(st.data())
def test_the_rows_of_wide_layers_are_the_plain_ones(data):
    # layers of 16 neurons or more are converted in one pass when none of their rows is constant
    # (integers from -1 to 1 make constant and zero neurons likely, so both ways are taken)
    from fractions import Fraction

    values = st.one_of(st.integers(-1, 1), st.fractions(Fraction(-3), Fraction(3), max_denominator=7))
    net = data.draw(networks(d_range=(1, 3), depth_range=(2, 3), width_range=(14, 18), values=values,
                             slopes=st.sampled_from([0, "1/4"])))
    local = net.local_affine(data.draw(patterns(net)))
    neurons, rows, feasible, zero = constraint_rows(net, local)
    assert (neurons, rows.flat, feasible, zero) == _plain_constraint_rows(net, local)
