"""Random networks as in the paper's experiments: PyTorch default init, float32, read exactly.

nn.Linear(fan_in, fan_out) draws weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in));
we reproduce that with NumPy (fixed seed) and round to float32, then read every float32
exactly.  ``icnn_version`` replaces every weight out of a hidden layer by its absolute value.
"""

from __future__ import annotations

import numpy as np

from exactconvex import Network
from exactconvex.network import Layer


def random_network(rng: np.random.Generator, d: int, hidden: list[int]) -> Network:
    widths = [d] + list(hidden) + [1]
    layers = []
    for l in range(1, len(widths)):
        bound = 1.0 / np.sqrt(widths[l - 1])
        W = rng.uniform(-bound, bound, size=(widths[l], widths[l - 1])).astype(np.float32)
        b = rng.uniform(-bound, bound, size=widths[l]).astype(np.float32)
        layers.append(Layer.from_lists([[float(v) for v in row] for row in W], [float(v) for v in b]))
    return Network(d, layers)


def icnn_version(net: Network) -> Network:
    from flint import fmpq_mat

    def absm(m):
        return fmpq_mat(m.nrows(), m.ncols(), [abs(v) for v in m.entries()])

    layers = [Layer(layer.weight if l == 0 else absm(layer.weight), layer.bias,
                    {k: (s if k == 0 else absm(s)) for k, s in layer.skip.items()})
              for l, layer in enumerate(net.layers)]
    return Network(net.input_dim, layers)


def architectures(quick: bool = False):
    """(name, d, hidden widths) of the authors' grid."""
    grid = [(f"d3 {w}x{w}", 3, [w, w]) for w in (2, 4, 6, 8, 10)]
    grid += [(f"d{d} 4x4", d, [4, 4]) for d in (2, 4, 5, 6)]
    grid += [(f"d3 4^{L}", 3, [4] * L) for L in (3, 4, 5, 6)]
    if quick:
        grid = [g for g in grid if g[0] in ("d3 2x2", "d3 4x4", "d3 6x6", "d3 4^3")]
    return grid
