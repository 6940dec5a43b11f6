"""Random networks as in the paper's experiments: PyTorch default init, float32, read exactly.

nn.Linear(fan_in, fan_out) draws weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in));
we reproduce that with NumPy (fixed seed) and round to float32, then read every float32
exactly.  ``icnn_version`` replaces every weight out of a hidden layer by its absolute value.
The generators live in ``exactconvex.sweep.generate`` (sweeps use them too); this module keeps
the names the benchmarks have always used.
"""

from __future__ import annotations

from exactconvex.sweep.generate import icnn_structured as icnn_version
from exactconvex.sweep.generate import random_network

__all__ = ["random_network", "icnn_version", "architectures"]


def architectures(quick: bool = False):
    """(name, d, hidden widths) of the authors' grid."""
    grid = [(f"d3 {w}x{w}", 3, [w, w]) for w in (2, 4, 6, 8, 10)]
    grid += [(f"d{d} 4x4", d, [4, 4]) for d in (2, 4, 5, 6)]
    grid += [(f"d3 4^{L}", 3, [4] * L) for L in (3, 4, 5, 6)]
    if quick:
        grid = [g for g in grid if g[0] in ("d3 2x2", "d3 4x4", "d3 6x6", "d3 4^3")]
    return grid


def icnn_with_input_skips(rng, d: int, hidden):
    """An ICNN-structured network with the input passed into every layer after the first (issue 13's
    higher-dimensional rows): PyTorch's default init for each layer as one ``nn.Linear`` over the
    concatenation [previous layer, input] (bound 1/sqrt(fan_in + d)), float32, read exactly; then
    every weight out of a hidden layer made nonnegative (``icnn_version``)."""
    import numpy as np
    from exactconvex.network import Layer, Network
    from exactconvex.sweep.generate import _float32_matrix

    widths = [int(d)] + [int(w) for w in hidden] + [1]
    layers = []
    for l in range(1, len(widths)):
        fan_in = widths[l - 1] + (d if l > 1 else 0)
        bound = 1.0 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, size=(widths[l], widths[l - 1])).astype(np.float32)
        skip = rng.uniform(-bound, bound, size=(widths[l], d)).astype(np.float32) if l > 1 else None
        bias = rng.uniform(-bound, bound, size=widths[l]).astype(np.float32)
        layers.append(Layer(_float32_matrix(weight), _float32_matrix(bias),
                            {0: _float32_matrix(skip)} if skip is not None else {}))
    return icnn_version(Network(widths[0], layers))
