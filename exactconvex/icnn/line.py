"""A network along a line: its exact breakpoints and kinks, and the ICNN kink bound.

Restricted to the line x(t) = p + t u, every pre-activation is a continuous piecewise affine
function of t.  ``line_pieces`` finds the pieces exactly by walking the neurons in
topological order: on each current interval every neuron of the next layer is affine, so it
splits the interval where it crosses zero (an identically zero neuron splits nothing), and
its activation is then fixed on each sub-interval (z where z > 0, s z where z <= 0, s the
layer's LeakyReLU slope, 0 for ReLU).  After the last hidden layer the output is affine on
every interval; a *kink* is an interval end where its slope changes.

``icnn_kink_bound``: an ICNN of hidden widths (n1, ..., nk) has at most
n1 + 2 (n2 + ... + nk) kinks on any line (``proofs/icnn-kink-bound.md``); the same holds for
LeakyReLU ICNNs with slopes 0 <= s <= 1, whose neurons kink exactly where ReLU neurons would
(geometry notes, sections 7-8).
"""

from __future__ import annotations

from typing import Sequence

from flint import fmpq

from ..network import Network
from ..numbers import to_q

__all__ = ["line_pieces", "kinks_on_line", "kink_changes", "icnn_kink_bound", "restrict_to_line",
           "is_convex_on_line"]

Affine1 = tuple  # (slope, intercept) of t -> slope * t + intercept


def _rows(m) -> list[list[fmpq]]:
    return [[m[i, j] for j in range(m.ncols())] for i in range(m.nrows())]


def _combine(rows: list[list[fmpq]], values: list[Affine1]) -> list[list[fmpq]]:
    """Accumulate sum_j rows[i][j] * values[j] into [slope, intercept] per row."""
    out = []
    for row in rows:
        s, c = fmpq(0), fmpq(0)
        for w, (vs, vc) in zip(row, values):
            if w != 0:
                s += w * vs
                c += w * vc
        out.append([s, c])
    return out


def _sample(lo, hi) -> fmpq:
    if lo is None and hi is None:
        return fmpq(0)
    if lo is None:
        return hi - 1
    if hi is None:
        return lo + 1
    return (lo + hi) / 2


def line_pieces(net: Network, point: Sequence, direction: Sequence) -> list[tuple]:
    """The pieces (lo, hi, outputs) of the network along p + t u, in order of t.

    ``lo``/``hi`` are the ends of the open interval (None for -inf/+inf) and ``outputs`` the
    list of (slope, intercept) of every output on it.  Consecutive pieces share an end.
    """
    d = net.input_dim
    p, u = [to_q(v) for v in point], [to_q(v) for v in direction]
    if len(p) != d or len(u) != d:
        raise ValueError(f"the line needs {d} coordinates for its point and its direction")
    params = [(_rows(L.weight), [L.bias[i, 0] for i in range(L.width)],
               {k: _rows(S) for k, S in L.skip.items()}) for L in net.layers]

    def pre(l: int, hs: list) -> list[list[fmpq]]:
        W, b, skips = params[l - 1]
        z = _combine(W, hs[l - 1])
        for k, S in skips.items():
            for acc, extra in zip(z, _combine(S, hs[k])):
                acc[0] += extra[0]
                acc[1] += extra[1]
        for acc, bi in zip(z, b):
            acc[1] += bi
        return z

    pieces = [(None, None, [[(ui, pi) for ui, pi in zip(u, p)]])]  # h_0 = p + t u
    for l in range(1, net.depth):
        slope = net.layers[l - 1].slope
        new = []
        for lo, hi, hs in pieces:
            z = pre(l, hs)
            cuts = sorted({-c / s for s, c in z if s != 0
                           and (lo is None or -c / s > lo) and (hi is None or -c / s < hi)})
            ends = [lo, *cuts, hi]
            for a, b in zip(ends, ends[1:]):
                m = _sample(a, b)
                h = [(s, c) if s * m + c > 0 else (slope * s, slope * c) for s, c in z]
                new.append((a, b, hs + [h]))
        pieces = new
    return [(lo, hi, [tuple(v) for v in pre(net.depth, hs)]) for lo, hi, hs in pieces]


def kink_changes(net: Network, point: Sequence, direction: Sequence, output: int = 0) -> list[tuple]:
    """[(t, slope change)] at every kink of output ``output`` along p + t u, in order of t."""
    if not 0 <= output < net.num_outputs:
        raise ValueError(f"output {output} does not exist (the network has {net.num_outputs})")
    pieces = line_pieces(net, point, direction)
    out = []
    for (_, t, left), (_, _, right) in zip(pieces, pieces[1:]):
        change = right[output][0] - left[output][0]
        if change != 0:
            out.append((t, change))
    return out


def kinks_on_line(net: Network, point: Sequence, direction: Sequence, output: int = 0) -> list[fmpq]:
    """The exact parameters t where output ``output`` restricted to p + t u changes slope.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]], "bias": [0, -1]}, {"weight": [[1, 1]]}]})
    >>> [str(t) for t in kinks_on_line(net, [0], [1])]
    ['-1', '0']
    """
    return [t for t, _ in kink_changes(net, point, direction, output)]


def is_convex_on_line(net: Network, point: Sequence, direction: Sequence, output: int = 0) -> bool:
    """Whether output ``output`` is convex along the line (every slope change is >= 0)."""
    return all(c > 0 for _, c in kink_changes(net, point, direction, output))


def icnn_kink_bound(widths: Sequence[int]) -> int:
    """n1 + 2 (n2 + ... + nk): the most kinks an ICNN of hidden widths (n1, ..., nk) has on a line."""
    widths = [int(n) for n in widths]
    if not widths:
        return 0
    return widths[0] + 2 * sum(widths[1:])


def restrict_to_line(net: Network, point: Sequence, direction: Sequence) -> Network:
    """The 1-D network t -> net(p + t u): same hidden widths, connections and activations."""
    from flint import fmpq_mat

    from ..network import Layer

    d = net.input_dim
    p = fmpq_mat(d, 1, [to_q(v) for v in point])
    u = fmpq_mat(d, 1, [to_q(v) for v in direction])
    layers = []
    for l, L in enumerate(net.layers, start=1):
        if l == 1:
            layers.append(Layer(L.weight * u, L.weight * p + L.bias, {}, L.slope))
            continue
        bias, skip = L.bias, dict(L.skip)
        if 0 in skip:
            bias = bias + skip[0] * p
            skip[0] = skip[0] * u
        layers.append(Layer(L.weight, bias, skip, L.slope))
    return Network(1, layers)
