"""Restrictions of a network to an affine subspace of its input space, as networks.

The restriction of f: R^d -> R^m to the plane {p + a u + b v} is the function
(a, b) -> f(p + a u + b v).  It is itself a (Leaky)ReLU network with input dimension 2:
the plane's affine map x = P (a, b) + p (P = [u v], a d x 2 matrix) is composed into every
layer that reads the input x, that is into the first layer's weight and bias, and into
every skip from the input (source 0) and the bias of its layer.  Everything else (hidden
weights, skips between hidden layers, slopes) is kept unchanged, so the restricted network
has the same neurons, and its activation regions are the traces of the original ones on the
plane.  All arithmetic is exact.
"""

from __future__ import annotations

from typing import Sequence

from flint import fmpq, fmpq_mat

from ..numbers import to_q
from .model import Layer, Network, NetworkError

__all__ = ["restrict_affine", "restrict_to_plane", "restrict_to_line", "parse_plane"]


def _vector(values: Sequence, d: int, name: str) -> list[fmpq]:
    values = list(values)
    if len(values) != d:
        raise NetworkError(f"{name} has {len(values)} coordinates, expected {d} (the network's input dimension)")
    return [to_q(v) for v in values]


def restrict_affine(net: Network, point: Sequence, directions: Sequence[Sequence]) -> Network:
    """The network computing t -> f(point + sum_i t_i directions[i]), with input dimension k.

    Parameters
    ----------
    net : Network
        f, with input dimension d.
    point : sequence of d exact numbers
    directions : k >= 1 sequences of d exact numbers (they need not be independent)

    Returns
    -------
    Network
        Same hidden layers and slopes as ``net``; the first layer and every skip from the
        input read the k new coordinates instead of x.

    Examples
    --------
    >>> net = Network.from_lists(2, [{"weight": [[1, -1]], "bias": [1]}, {"weight": [[2]]}])
    >>> line = restrict_affine(net, [0, 0], [[1, 1]])
    >>> line.input_dim, line.evaluate([5])
    (1, (2,))
    """
    d = net.input_dim
    p = _vector(point, d, "the point")
    if len(directions) < 1:
        raise NetworkError("an affine subspace needs at least one direction")
    dirs = [_vector(u, d, f"direction {i + 1}") for i, u in enumerate(directions)]
    k = len(dirs)
    P = fmpq_mat(d, k, [dirs[j][i] for i in range(d) for j in range(k)])  # columns are the directions
    p_col = fmpq_mat(d, 1, p)

    def reading_x(W: fmpq_mat, bias: fmpq_mat) -> tuple[fmpq_mat, fmpq_mat]:
        return W * P, bias + W * p_col  # W x + b with x = P t + p

    layers = []
    for l, layer in enumerate(net.layers, start=1):
        weight, bias = layer.weight, layer.bias
        if l == 1:
            weight, bias = reading_x(weight, bias)
        skip = dict(layer.skip)
        if 0 in skip:
            skip[0], bias = reading_x(skip[0], bias)
        layers.append(Layer(weight, bias, skip, layer.slope))
    return Network(k, layers)


def restrict_to_plane(net: Network, p: Sequence, u: Sequence, v: Sequence) -> Network:
    """The network with input dimension 2 computing (a, b) -> f(p + a u + b v) exactly.

    ``u`` and ``v`` must be linearly independent (otherwise the set is not a plane, and
    ``NetworkError`` says so).  LeakyReLU slopes and skips are kept; see ``restrict_affine``.

    Examples
    --------
    >>> net = Network.from_lists(3, [{"weight": [[1, 1, 1]], "slope": "1/2"}, {"weight": [[1]]}])
    >>> plane = restrict_to_plane(net, [0, 0, 1], [1, 0, 0], [0, 1, 0])
    >>> plane.input_dim, plane.evaluate([-3, 0]), net.evaluate([-3, 0, 1])
    (2, (-1,), (-1,))
    """
    d = net.input_dim
    uq, vq = _vector(u, d, "the direction u"), _vector(v, d, "the direction v")
    if all(uq[i] * vq[j] == uq[j] * vq[i] for i in range(d) for j in range(i + 1, d)):
        raise NetworkError("the directions u and v of the plane are linearly dependent (one is a multiple of the "
                           "other, or zero), so they do not span a plane")
    return restrict_affine(net, p, [uq, vq])


def restrict_to_line(net: Network, p: Sequence, u: Sequence) -> Network:
    """The network with input dimension 1 computing t -> f(p + t u) exactly (``u`` nonzero).

    Examples
    --------
    >>> net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]]}])
    >>> restrict_to_line(net, [1, 1], [1, -1]).evaluate([3])
    (4,)
    """
    uq = _vector(u, net.input_dim, "the direction u")
    if not any(uq):
        raise NetworkError("the direction of the line is zero")
    return restrict_affine(net, p, [uq])


def parse_plane(text: str, d: int | None = None) -> tuple[list[fmpq], list[fmpq], list[fmpq]]:
    """Read a plane written ``"P;U;V"``: three vectors separated by semicolons, each a
    comma-separated list of exact numbers (integers, p/q fractions or decimals).

    ``"0,0,1;1,0,0;0,1,0"`` is the plane through (0, 0, 1) spanned by (1, 0, 0) and (0, 1, 0).
    With ``d``, each vector must have d coordinates.  Raises ``ValueError`` with a message
    that shows the expected form.

    Examples
    --------
    >>> parse_plane("0,0,1/2;1,0,0;0,1,0")
    ([0, 0, 1/2], [1, 0, 0], [0, 1, 0])
    """
    form = 'write --plane "P;U;V": a point and two directions, each a comma-separated list of exact numbers, ' \
           'as in --plane "0,0,0;1,0,0;0,1,0"'
    parts = text.split(";")
    if len(parts) != 3:
        raise ValueError(f"--plane {text!r} does not have three parts separated by ';'; {form}")
    vectors = []
    for name, part in zip(("P", "U", "V"), parts):
        items = part.strip().split(",")
        try:
            vec = [to_q(item.strip()) for item in items]
        except ValueError as exc:
            raise ValueError(f"--plane: {name} = {part.strip()!r}: {exc}; {form}") from None
        if d is not None and len(vec) != d:
            raise ValueError(f"--plane: {name} has {len(vec)} coordinates but the network's input dimension is {d}; "
                             f"{form}")
        vectors.append(vec)
    lengths = {len(v) for v in vectors}
    if len(lengths) != 1:
        raise ValueError(f"--plane: P, U and V have different numbers of coordinates; {form}")
    return vectors[0], vectors[1], vectors[2]
