"""Ways to settle convexity before (or instead of) building the region graph.

Each returns a result with an exact witness, or None when it cannot decide:

* ``icnn_structure``: nonnegative weights out of hidden layers and convex activations
  (nondecreasing too after the first layer) => convex (geometry notes, sections 7-8);
* ``one_layer``: the exact closed form for one hidden layer (geometry notes, sections 6 and 8),
  with a violation witness built on the offending hyperplane when it fails;
* ``search_violation``: float evaluation along random lines proposes concave kinks; only
  exactly confirmed triples (x, y, lambda) count.
"""

from __future__ import annotations

import random
from typing import Sequence

from flint import fmpq

from ..graph import check_witness
from ..graph.floatsearch import confirm_kinks, float_forward, float_layers
from ..network import Network
from ..polyhedra import dot, float_guess

__all__ = ["icnn_structure", "one_layer", "one_layer_groups", "hyperplane_groups", "search_violation"]


def icnn_structure(net: Network, k: int) -> bool:
    """Output k of an ICNN-structured network: every weight out of a hidden layer (into later
    hidden layers, and into output k) is >= 0, and every hidden activation is convex: slope s <= 1
    on layer 1 (it acts on affine functions), 0 <= s <= 1 on later layers (it acts on convex
    functions, so it must also be nondecreasing).  The same rule as ``Network.is_icnn``, for one
    output (geometry notes, section 8).

    Examples
    --------
    >>> leaky = lambda s: Network.from_lists(1, [{"weight": [[1]], "slope": s}, {"weight": [[1]], "slope": s},
    ...                                          {"weight": [[1]]}])
    >>> [icnn_structure(leaky(s), 0) for s in ("1/2", "-1", "2")]
    [True, False, False]
    """
    L = net.depth
    for l, s in enumerate(net.slopes, start=1):
        if s > 1 or (l >= 2 and s < 0):
            return False
    for l, layer in enumerate(net.layers, start=1):
        rows = [k] if l == L else range(layer.width)
        mats = ([layer.weight] if l >= 2 else []) + [s for src, s in layer.skip.items() if src >= 1]
        for m in mats:
            for r in rows:
                if any(m[r, c] < 0 for c in range(m.ncols())):
                    return False
    return True


def hyperplane_groups(net: Network) -> tuple[dict[tuple, list[tuple[int, fmpq]]], list[int]]:
    """First-layer neurons grouped by hyperplane: canonical (u, beta) -> [(j, c_j)] with
    (w_j, b_j) = c_j (u, beta) and u's first nonzero entry 1 (so opposite neurons share a
    group, c_j < 0); and the constant neurons (w_j = 0), which carry no kink."""
    W, b = net.layers[0].weight, net.layers[0].bias
    d = net.input_dim
    groups: dict[tuple, list[tuple[int, fmpq]]] = {}
    constants = []
    for j in range(W.nrows()):
        w = [W[j, i] for i in range(d)]
        c = next((v for v in w if v != 0), None)
        if c is None:
            constants.append(j)
            continue
        groups.setdefault(tuple(v / c for v in w) + (b[j, 0] / c,), []).append((j, c))
    return groups, constants


def one_layer_groups(net: Network, k: int) -> dict[tuple, fmpq]:
    """For one hidden layer of slope s: canonical hyperplane key -> sum_j a_j (1 - s) |c_j| over its
    neurons, the change of output k's gradient across the hyperplane, in units of its canonical
    normal (geometry notes, sections 6 and 8: s z + (1 - s) ReLU(z) kinks by (1 - s))."""
    v = net.layers[1].weight
    jump = 1 - net.layers[0].slope
    groups, _ = hyperplane_groups(net)
    return {key: jump * sum((v[k, j] * abs(c) for j, c in members), fmpq(0)) for key, members in groups.items()}


def one_layer(net: Network, k: int):
    """(convex, witness) by the closed form; witness is None when convex.

    Examples
    --------
    >>> leaky = Network.from_lists(1, [{"weight": [[1]], "slope": 2}, {"weight": [[1]]}])  # max(x, 2x): concave
    >>> convex, w = one_layer(leaky, 0)
    >>> convex, w["x"] < (0,) < w["y"]
    (False, True)
    """
    sums = one_layer_groups(net, k)
    bad = [key for key, s in sums.items() if s < 0]
    if not bad:
        return True, None
    key = bad[0]
    d = net.input_dim
    w, c0 = key[:d], key[d]
    others = [(kk[:d], kk[d]) for kk in sums if kk != key]
    p = _point_on_hyperplane_avoiding(w, c0, others)
    # step along w without reaching another hyperplane
    t = fmpq(1)
    for a, c in others:
        slope = dot(a, w)
        if slope != 0:
            t = min(t, abs(dot(a, p) + c) / abs(slope) / 2)
    x = tuple(pi - t * wi for pi, wi in zip(p, w))
    y = tuple(pi + t * wi for pi, wi in zip(p, w))
    witness = check_witness(net, k, x, y, fmpq(1, 2))
    if witness is None:  # pragma: no cover - the closed form guarantees it
        raise AssertionError("one-layer witness failed its exact check")
    return False, witness


def _point_on_hyperplane_avoiding(w, c0, others) -> tuple:
    """A rational point on {w.x + c0 = 0} off every other hyperplane."""
    d = len(w)
    ww = dot(w, w)
    base = [-c0 * wi / ww for wi in w]
    rng = random.Random(7)
    for attempt in range(1000):
        r = [fmpq(rng.randint(-50, 50), rng.randint(1, 9)) for _ in range(d)]
        proj = dot(r, w) / ww
        v = [ri - proj * wi for ri, wi in zip(r, w)]
        delta = fmpq(attempt)
        p = tuple(bi + delta * vi for bi, vi in zip(base, v))
        if all(dot(a, p) + c != 0 for a, c in others):
            return p
    raise AssertionError("no point found on the hyperplane")  # pragma: no cover


# ----- float search for a violation -----------------------------------------------------

def search_violation(net: Network, outputs: Sequence[int], *, lines: int = 64, seed: int = 0):
    """Exactly confirmed violations proposed by float evaluation on random lines: {output: witness}."""
    import numpy as np

    rng = np.random.default_rng(seed)
    layers = float_layers(net)
    slopes = [float_guess(s) for s in net.slopes]
    d = net.input_dim
    found: dict[int, dict] = {}
    ts = np.linspace(-1.0, 1.0, 129)
    for i in range(lines):
        scale = 10.0 ** rng.integers(-1, 8) if i % 2 else 10.0 ** rng.integers(0, 3)
        p = np.round(rng.normal(size=d) * 8) / 8
        u = np.round(rng.normal(size=d) * 64) / 64
        if not np.any(u):
            continue
        T = ts * scale
        X = p[None, :] + T[:, None] * u[None, :]
        with np.errstate(all="ignore"):  # overflow gives inf or nan, which propose nothing
            F = float_forward(layers, X, slopes)
        pq = [fmpq(int(round(v * 8)), 8) for v in p]  # p and u were rounded to these in floats
        uq = [fmpq(int(round(v * 64)), 64) for v in u]
        h = fmpq(int(round(scale * 1024)), 1024 * 64)
        if confirm_kinks(net, F, outputs, found, lambda j: (pq, uq, fmpq(int(round(T[j + 1] * 1024)), 1024), h)):
            break
    return found
