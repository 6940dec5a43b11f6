"""Float guesses for violations of convexity along lines, shared by the search on R^d
(``decide.fastpaths.search_violation``) and the search inside a box (``graph.box.search_in_box``).

Floats only propose: a concave kink seen in float values along a line gives a rational segment
around it, and only a segment whose exact evaluation violates convexity (``check_witness``)
counts.  Overflow gives inf or nan, which proposes nothing.
"""

from __future__ import annotations

from typing import Callable, Sequence

from flint import fmpq

from ..network import Network
from ..polyhedra.rows import floats_of
from .explore import check_witness

__all__ = ["float_layers", "float_forward", "concave_kinks", "segment_witness", "confirm_kinks"]


def float_layers(net: Network) -> list:
    """The weights as floats, for guesses only (+-inf beyond the float range: the forward pass
    then gives inf or nan, which proposes nothing): one (W, b, skips) per layer.

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    >>> [W.tolist() for W, b, S in float_layers(net)]
    [[[1.0], [-1.0]], [[1.0, 1.0]]]
    """
    out = []
    for layer in net.layers:
        W = floats_of(layer.weight.entries()).reshape(layer.width, layer.weight.ncols())
        b = floats_of(layer.bias.entries())
        S = {k: floats_of(s.entries()).reshape(s.nrows(), s.ncols()) for k, s in layer.skip.items()}
        out.append((W, b, S))
    return out


def float_forward(layers: list, X, slopes: Sequence[float]):
    """The outputs at the rows of X from ``float_layers``, in floats (call it under
    ``np.errstate(all="ignore")``: overflow gives inf or nan).

    Examples
    --------
    >>> import numpy as np
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    >>> float_forward(float_layers(net), np.array([[-2.0], [3.0]]), [0.0]).ravel().tolist()
    [2.0, 3.0]
    """
    import numpy as np

    h = [X]
    z = None
    for l, (W, b, S) in enumerate(layers, start=1):
        z = h[l - 1] @ W.T + b
        for k, s in S.items():
            z = z + h[k] @ s.T
        if l < len(layers):
            h.append(np.where(z > 0, z, slopes[l - 1] * z) if slopes[l - 1] else np.maximum(z, 0.0))
    return z


def concave_kinks(f, most: int = 4) -> list[int]:
    """Indices j (at most ``most``) where f[j + 1] lies above the average of its neighbours by more
    than rounding explains: a concave kink between samples j and j + 2 of equally spaced values.

    Examples
    --------
    >>> import numpy as np
    >>> concave_kinks(np.array([0.0, 1.0, 0.0, 0.0, 0.0])), concave_kinks(np.array([1.0, 0.0, 1.0]))
    ([0], [])
    """
    import numpy as np

    with np.errstate(all="ignore"):
        second = f[:-2] - 2 * f[1:-1] + f[2:]
        tol = 1e-9 * (np.abs(f[:-2]) + 2 * np.abs(f[1:-1]) + np.abs(f[2:]) + 1e-300)
        return [int(j) for j in np.nonzero(second < -tol)[0][:most]]


def segment_witness(net: Network, k: int, p: Sequence, u: Sequence, mid: fmpq, h: fmpq,
                    admissible: Callable[[tuple, tuple], bool] | None = None) -> dict | None:
    """The exact witness of output k on the segment x = p + (mid - h) u, y = p + (mid + h) u
    (lambda = 1/2), or None when it does not violate convexity or ``admissible(x, y)`` is false.

    Examples
    --------
    >>> minus_abs = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])
    >>> segment_witness(minus_abs, 0, [fmpq(0)], [fmpq(1)], fmpq(0), fmpq(1))["x"]
    (-1,)
    """
    x = tuple(a + (mid - h) * b for a, b in zip(p, u))
    y = tuple(a + (mid + h) * b for a, b in zip(p, u))
    if admissible is not None and not admissible(x, y):
        return None
    return check_witness(net, k, x, y, fmpq(1, 2))


def confirm_kinks(net: Network, F, outputs: Sequence[int], found: dict, segment: Callable[[int], tuple],
                  admissible: Callable[[tuple, tuple], bool] | None = None) -> bool:
    """For each output k of ``outputs`` not yet in ``found``: the first concave kink j of the
    column F[:, k] of float values along one line whose rational segment ``segment(j)`` =
    (p, u, mid, h) gives an exact witness (``segment_witness``) goes into ``found[k]``.  Returns
    whether every output has a witness.

    Examples
    --------
    >>> import numpy as np
    >>> minus_abs = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])
    >>> F = float_forward(float_layers(minus_abs), np.linspace(-1.0, 1.0, 5)[:, None], [0.0])
    >>> found = {}
    >>> confirm_kinks(minus_abs, F, [0], found, lambda j: ([fmpq(-1)], [fmpq(1)], fmpq(j + 1, 2), fmpq(1, 4)))
    True
    >>> found[0]["x"], found[0]["y"]
    ((-1/4,), (1/4,))
    """
    for k in outputs:
        if k in found:
            continue
        for j in concave_kinks(F[:, k]):
            w = segment_witness(net, k, *segment(j), admissible)
            if w is not None:
                found[k] = w
                break
    return len(found) == len(outputs)
