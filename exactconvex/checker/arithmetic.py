"""The checker's own exact arithmetic of a network (no code shared with the search).

* ``evaluate``: the outputs at a point;
* ``local_affine``: the affine maps of every neuron with the activations fixed by a pattern
  (``proofs/completeness.md``, Lemma 1); ``integer_layers``: the network over the integers, one
  positive denominator per layer, for the same maps over the integers (a speed trick:
  ``region_graph.IntegerMaps``; ``local_affine`` is its reference);
* ``combine``: one network computing sum_i c_i f_i (the rule of ``docs/certificate-format.md``,
  claim "equivalent");
* ``kinks_along``: where an output restricted to a line changes slope (claim
  "not_icnn_representable").

Activation of a hidden layer with slope s: h = z where z > 0 and h = s z where z <= 0
(s = 0 is ReLU).  A neuron is "on" iff z > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq, fmpq_mat, fmpz, fmpz_mat

from .reader import Layer, Network

__all__ = ["activate", "evaluate", "local_affine", "IntegerLayer", "integer_layers", "combine", "slopes_agree",
           "kinks_along", "LinePiece"]

Row = tuple  # (a_1, ..., a_d, c): the affine map x -> a . x + c


def activate(z: fmpq, slope: fmpq) -> fmpq:
    """The activation of a hidden neuron: z where z > 0, slope * z where z <= 0."""
    return z if z > 0 else slope * z


def evaluate(net: Network, x: list[fmpq]) -> list[fmpq]:
    """The outputs at x: h_0 = x, z_l = W_l h_{l-1} + sum_k S_{l,k} h_k + b_l, h_l = activation(z_l)."""
    h = [fmpq_mat(len(x), 1, list(x))]
    for layer in net.layers:
        z = layer.weight * h[-1] + layer.bias
        for k, S in layer.skip:
            z = z + S * h[k]
        h.append(fmpq_mat(layer.width, 1, [activate(v, layer.slope) for v in z.entries()]))
    return z.entries()


def local_affine(net: Network, on: list[list[bool]]) -> list[list[Row]]:
    """For every layer 1..L, the rows (a_1, ..., a_d, c) of z = a . x + c of its neurons, with
    every hidden neuron's activation fixed by ``on`` (on: h = z; off: h = slope * z)."""
    d = net.input_dim
    h = [fmpq_mat(d, d + 1, [int(i == j) for i in range(d) for j in range(d + 1)])]  # h_0 = x = [I | 0] (x, 1)
    out = []
    for l, layer in enumerate(net.layers, start=1):
        n = layer.width
        z = layer.weight * h[l - 1] + fmpq_mat(n, d + 1, [layer.bias[i, 0] if j == d else 0
                                                         for i in range(n) for j in range(d + 1)])
        for k, S in layer.skip:
            z = z + S * h[k]
        e = z.entries()
        rows = [tuple(e[i * (d + 1):(i + 1) * (d + 1)]) for i in range(n)]
        out.append(rows)
        if l < net.depth:
            s = layer.slope
            h.append(fmpq_mat(n, d + 1, [v if on[l - 1][i] else s * v for i, row in enumerate(rows) for v in row]))
    return out


# ----- the same maps over the integers -------------------------------------------------------------

@dataclass(frozen=True)
class IntegerLayer:
    """Layer l over the integers (``integer_layers``): Zn_l = sum_k sources_k Hn_k + bias u."""

    sources: tuple[tuple[int, fmpz_mat], ...]  # (source layer k, integer matrix)
    bias: fmpz_mat  # a column
    denominator: fmpz  # c_l > 0
    factors: tuple[int, int]  # (on, off) = (q, p) for the slope s = p / q: Hn_l = diag(q or p) Zn_l


def integer_layers(net: Network) -> tuple[IntegerLayer, ...]:
    """The network over the integers, for ``region_graph.IntegerMaps``.

    With Z_l the affine maps of layer l (rows (a, c): z = a . x + c) and H_k those of the
    activations (H_0 = [I | 0]), let Zn_l = c_l Z_l and Hn_k = e_k H_k (integers; e_0 = 1,
    e_k = c_k q_k for the slope p_k / q_k of layer k, so Hn_k = diag(q_k if on else p_k) Zn_k).
    Layer l: z = W h_{l-1} + sum S_k h_k + b; with q the least common denominator of W, its skips
    S_k and b, and m = lcm(e_k) over its sources k:  Z_l = [sum_k (q S_k) (m / e_k) Hn_k + (q b) m u]
    / (q m), u = (0, ..., 0, 1) the row of the constant 1, so c_l = q m and the integer matrices
    are (q S_k)(m / e_k) and (q b) m.
    """
    e, out = [fmpz(1)], []
    for l, layer in enumerate(net.layers, start=1):
        split = [(k, *S.numer_denom()) for k, S in ((l - 1, layer.weight), *layer.skip)]
        bias, b = layer.bias.numer_denom()
        q, m = b, fmpz(1)
        for k, _, den in split:
            q, m = q.lcm(den), m.lcm(e[k])
        sources = tuple((k, S * (q // den * (m // e[k]))) for k, S, den in split)
        out.append(IntegerLayer(sources, bias * (q // b * m), q * m, (int(layer.slope.q), int(layer.slope.p))))
        e.append(q * m * layer.slope.q)
    return tuple(out)


# ----- sum_i c_i f_i as one network ----------------------------------------------------------------

def slopes_agree(nets: list[Network]) -> bool:
    """For every hidden layer index l, all nets with a hidden layer l have the same slope there."""
    deepest = max(n.depth for n in nets)
    return all(len({n.layers[l - 1].slope for n in nets if l < n.depth}) <= 1 for l in range(1, deepest))


def _placement(nets: list[Network], side_by_side: bool) -> tuple[int, dict[tuple[int, int], tuple[int, int]]]:
    """The combined depth, and for every (net i, own layer l) the (combined layer, first row).

    Side by side: own hidden layer l is combined layer l, after the earlier nets' neurons there.
    Stacked: net i's hidden layers follow net i-1's.  The input is shared, every output layer
    is the combined output layer.
    """
    depth = max(n.depth for n in nets) if side_by_side else sum(n.depth - 1 for n in nets) + 1
    where: dict[tuple[int, int], tuple[int, int]] = {}
    filled = [0] * depth  # rows used so far in each combined hidden layer
    base = 0
    for i, n in enumerate(nets):
        where[i, 0] = (0, 0)
        for l in range(1, n.depth):
            target = l if side_by_side else base + l
            where[i, l] = (target, filled[target])
            filled[target] += n.layers[l - 1].width
        where[i, n.depth] = (depth, 0)
        base += n.depth - 1
    return depth, where


def combine(nets: list[Network], coefficients: list[fmpq]) -> Network:
    """One network computing sum_i c_i f_i (same input dimension and number of outputs).

    If the slopes agree (``slopes_agree``), the nets' hidden layers are side by side: layer l
    holds net 0's neurons, then net 1's, ...; otherwise they are stacked: net 0's hidden layers,
    then net 1's, ... (a stacked net reads x through skip "0").  Each net's output layer, times
    c_i, enters the common output layer (from the last hidden layer by the main weight, from
    the others by skips).  Sources keep their places, all-zero skips are dropped.
    """
    depth, where = _placement(nets, slopes_agree(nets))
    widths = [nets[0].input_dim] + [0] * (depth - 1) + [nets[0].outputs]
    slopes = [fmpq(0)] * (depth + 1)
    for (i, l), (target, row0) in where.items():
        if 1 <= l < nets[i].depth:
            widths[target] = max(widths[target], row0 + nets[i].layers[l - 1].width)
            slopes[target] = nets[i].layers[l - 1].slope
    blocks = {(t, s): [[fmpq(0)] * widths[s] for _ in range(widths[t])] for t in range(1, depth + 1) for s in range(t)}
    bias = [[fmpq(0)] * widths[t] for t in range(depth + 1)]
    for i, n in enumerate(nets):
        for l, layer in enumerate(n.layers, start=1):
            target, row0 = where[i, l]
            scale = coefficients[i] if l == n.depth else fmpq(1)
            for k, S in ((l - 1, layer.weight), *layer.skip):
                source, col0 = where[i, k]
                block = blocks[target, source]
                for r in range(S.nrows()):
                    for c in range(S.ncols()):
                        block[row0 + r][col0 + c] += scale * S[r, c]
            for r in range(layer.width):
                bias[target][row0 + r] += scale * layer.bias[r, 0]
    layers = []
    for t in range(1, depth + 1):
        skip = tuple((s, _mat(blocks[t, s])) for s in range(t - 1) if any(v != 0 for row in blocks[t, s] for v in row))
        layers.append(Layer(_mat(blocks[t, t - 1]), fmpq_mat(widths[t], 1, bias[t]), skip, slopes[t]))
    return Network(nets[0].input_dim, tuple(layers))


def _mat(rows: list[list[fmpq]]) -> fmpq_mat:
    return fmpq_mat(len(rows), len(rows[0]), [v for row in rows for v in row])


# ----- an output along a line ----------------------------------------------------------------------

@dataclass(frozen=True)
class LinePiece:
    """An open interval (lo, hi) of t (None: unbounded) on which every neuron so far is affine
    in t; ``maps[k][j]`` = (slope, offset) of h_{k,j} on it (k = 0: the input coordinates)."""

    lo: fmpq | None
    hi: fmpq | None
    maps: tuple[tuple[tuple[fmpq, fmpq], ...], ...]


def _inside(lo: fmpq | None, hi: fmpq | None) -> fmpq:
    """A point of the open interval (lo, hi)."""
    if lo is None:
        return fmpq(0) if hi is None else hi - 1
    return lo + 1 if hi is None else (lo + hi) / 2


def _along(layer: Layer, maps: tuple) -> list[tuple[fmpq, fmpq]]:
    """(slope, offset) in t of every pre-activation of ``layer`` on a piece."""
    z = []
    for i in range(layer.width):
        slope, offset = fmpq(0), layer.bias[i, 0]
        for source, S in ((len(maps) - 1, layer.weight), *layer.skip):
            for j, (a, b) in enumerate(maps[source]):
                slope, offset = slope + S[i, j] * a, offset + S[i, j] * b
        z.append((slope, offset))
    return z


def _split(piece: LinePiece, layer: Layer) -> list[LinePiece]:
    """Cut a piece where a neuron of ``layer`` changes sign; on each part fix its activation."""
    z = _along(layer, piece.maps)
    cuts = sorted({-c / a for a, c in z if a != 0 and (piece.lo is None or -c / a > piece.lo)
                   and (piece.hi is None or -c / a < piece.hi)})
    ends = [piece.lo, *cuts, piece.hi]
    parts = []
    for lo, hi in zip(ends, ends[1:]):
        t = _inside(lo, hi)
        h = tuple((a, c) if a * t + c > 0 else (layer.slope * a, layer.slope * c) for a, c in z)
        parts.append(LinePiece(lo, hi, piece.maps + (h,)))
    return parts


def kinks_along(net: Network, p: list[fmpq], u: list[fmpq], k: int) -> list[fmpq]:
    """The t (increasing) at which output k restricted to p + t u changes slope, exactly."""
    pieces = [LinePiece(None, None, (tuple(zip(u, p)),))]
    for layer in net.layers[:-1]:
        pieces = [part for piece in pieces for part in _split(piece, layer)]
    slopes = [(piece.hi, _along(net.layers[-1], piece.maps)[k][0]) for piece in pieces]
    return [t for (t, s), (_, s2) in zip(slopes, slopes[1:]) if s != s2]
