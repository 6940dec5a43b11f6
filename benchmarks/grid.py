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
