"""An explicit deep family: convex networks whose kinks grow like 2^m while the ICNN bound grows like m.

The hat map g(y) = 2 ReLU(y) - 4 ReLU(y - 1/2) + 2 ReLU(y - 1) maps [0, 1] onto [0, 1] and is 0
outside [0, 1]; its s-fold composition g_s is a sawtooth with 2^(s-1) teeth, and

    x - sum_{s=1..m} g_s(x) / 4^s

is the piecewise linear interpolation of x^2 on [0, 1] at the 2^m + 1 points k / 2^m
(Yarotsky, 2017).  Outside [0, 1] every g_s is 0, so adding ReLU(-x) + ReLU(x - 1) gives

    F_m(x) = 0 for x <= 0,   the interpolation of x^2 on [0, 1],   2x - 1 for x >= 1,

a convex function with exactly 2^m + 1 kinks (at k / 2^m, k = 0..2^m: the slope goes
0, 1/2^m, 3/2^m, ..., 2 - 1/2^m, 2).

Layer 1 holds a = ReLU(x), b = ReLU(x - 1/2), c = ReLU(x - 1), so y_1 = g(x) = 2a - 4b + 2c; layer
s >= 2 holds u_s = ReLU(y_{s-1}) and v_s = ReLU(y_{s-1} - 1/2), so y_s = 2u_s - 4v_s (y_{s-1}
lies in [0, 1]).  F_m = a + c - sum_s y_s / 4^s.

* default: the output reads every hidden layer (skips from hidden layers into the output);
  hidden widths (3, 2, ..., 2), ICNN bound 4m - 1: more kinks than the bound from m = 4;
* ``plain=True``: a plain feed-forward network (no skips) that carries the partial sum
  F_s >= 0 through a third neuron per layer; hidden widths (3, 3, ..., 3), bound 6m - 3:
  more kinks than the bound from m = 5.
"""

from __future__ import annotations

from fractions import Fraction as Fr

from ..network import Network

__all__ = ["deep_family", "deep_family_kinks"]


def deep_family_kinks(m: int) -> int:
    return 2 ** m + 1


def deep_family(m: int, plain: bool = False) -> Network:
    """The network F_m above (input dimension 1, m hidden layers)."""
    if m < 1:
        raise ValueError("m must be a positive integer")
    half = Fr(1, 2)
    layers = [{"weight": [[1], [1], [1]], "bias": [0, -half, -1]}]  # a, b, c
    out_l1 = [half, 1, half]  # a + c - y_1 / 4
    if m == 1:
        return Network.from_lists(1, layers + [{"weight": [out_l1]}])
    if not plain:
        layers.append({"weight": [[2, -4, 2], [2, -4, 2]], "bias": [0, -half]})  # u_2, v_2 from y_1
        for _ in range(3, m + 1):
            layers.append({"weight": [[2, -4], [2, -4]], "bias": [0, -half]})  # u_s, v_s from y_{s-1}
        # output: a + c - y_1/4 from layer 1, -y_s/4^s = (-2 u_s + 4 v_s)/4^s from layer s
        coef = {s: [Fr(-2, 4 ** s), Fr(4, 4 ** s)] for s in range(2, m + 1)}
        skip = {"1": [out_l1], **{str(s): [coef[s]] for s in range(2, m)}}
        return Network.from_lists(1, layers + [{"weight": [coef[m]], "skip": skip}])
    # plain: layer s >= 2 holds u_s, v_s and p_s = ReLU(F_{s-1}) = F_{s-1} (F_{s-1} >= 0 everywhere)
    layers.append({"weight": [[2, -4, 2], [2, -4, 2], out_l1], "bias": [0, -half, 0]})
    for s in range(3, m + 1):
        q = Fr(1, 4 ** (s - 1))  # F_{s-1} = p_{s-1} - (2 u_{s-1} - 4 v_{s-1}) / 4^(s-1)
        layers.append({"weight": [[2, -4, 0], [2, -4, 0], [-2 * q, 4 * q, 1]], "bias": [0, -half, 0]})
    q = Fr(1, 4 ** m)
    return Network.from_lists(1, layers + [{"weight": [[-2 * q, 4 * q, 1]]}])
