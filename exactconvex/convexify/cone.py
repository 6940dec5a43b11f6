"""The cone of convex output layers of a network whose hidden layers are fixed.

Geometry notes, section 9.  The hidden layers fix the activation regions and their facets;
output k is f_k(x) = theta . h(x) + (an affine function of x), where theta are output k's weights
on hidden units (the output layer's main weight from the last hidden layer and its skips from
hidden layers 1, 2, ...; its bias and its skip from the input x add the same affine function
everywhere, so they never bend).  Across the facet e from region R into region N, with n the
facet normal pointing into N (never normalised),

    bend_e(theta) = sum_p theta_p (grad h_p^N - grad h_p^R) . n = g_e . theta,

h_p the hidden unit of parameter p and grad h_p^R its gradient where R's pattern holds (an "on"
unit passes its pre-activation, an "off" one s times it).  Output k is convex on R^d iff every
bend is >= 0 (section 2), so the convex output rows form the polyhedral cone
C = {theta : g_e . theta >= 0 for every facet e}, the same cone for every output.

Everything here is exact; the region graph comes from ``exactconvex.graph.explore``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from flint import fmpq, fmpq_mat

from ..graph import Arrangement, explore
from ..network import Layer, Network
from ..numbers import to_q

__all__ = ["Parameter", "FacetRow", "Cone", "cone_of", "output_parameters"]


@dataclass(frozen=True)
class Parameter:
    """One free weight of an output row: from hidden neuron ``index`` of hidden layer ``layer``
    (1-based layer, 0-based index, as every message names them); ``neuron`` is its position in
    topological order."""

    layer: int
    index: int
    neuron: int

    def __str__(self) -> str:
        return f"the weight from neuron {self.index} of layer {self.layer}"


@dataclass(frozen=True)
class FacetRow:
    """A facet of the region complex and its bend row g_e (bend = g_e . theta).

    ``region`` and ``facet`` index the region graph (``Arrangement.regions[region].facets[facet]``,
    the same indices as the certificate's ``"region_graph"``); the facet is listed from the side of
    the smaller region id, its normal pointing into ``neighbor``.  ``neuron`` is the hidden neuron
    (layer, index) whose constraint defines it, ``point`` an exact point in its relative interior.
    """

    region: int
    facet: int
    neighbor: int
    neuron: tuple[int, int]
    point: tuple
    row: tuple

    @property
    def is_zero(self) -> bool:
        """g_e = 0: the facet bends by 0 whatever the output layer (it imposes nothing)."""
        return not any(self.row)


def output_parameters(net: Network) -> list[Parameter]:
    """The free weights of an output row, in topological order of their hidden neurons: the output
    layer's skips from hidden layers 1, 2, ... (in increasing source order) and then its main weight
    from the last hidden layer.

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -1]]},
    ...                              {"weight": [[1]], "skip": {0: [[1]], 1: [[1, 1]]}}])
    >>> [(p.layer, p.index) for p in output_parameters(net)]
    [(1, 0), (1, 1), (2, 0)]
    """
    L = net.depth
    if L < 2:
        return []
    sources = sorted(k for k in net.layers[-1].skip if k >= 1) + [L - 1]
    return [Parameter(l, j, net.neuron_index(l, j)) for l in sources for j in range(net.layers[l - 1].width)]


def _post_gradients(net: Network, params: list[Parameter], region) -> fmpq_mat:
    """Gradients of the parameters' hidden units where the region's pattern holds (rows)."""
    d = net.input_dim
    entries = []
    for p in params:
        G, _ = region.local.pre[p.layer]
        row = [G[p.index, c] for c in range(d)]
        if not region.pattern[p.neuron]:
            s = net.layers[p.layer - 1].slope
            row = [s * v for v in row]
        entries.extend(row)
    return fmpq_mat(len(params), d, entries)


@dataclass
class Cone:
    """C = {theta : g_e . theta >= 0 for every facet e} for a network's hidden layers.

    ``facets`` lists every facet of the region complex once (from the side of its smaller region
    id, in region order), including those with g_e = 0.  ``theta(k)`` is output k's row of the
    network, ``with_rows`` the network with other rows.
    """

    network: Network
    arrangement: Arrangement
    parameters: list[Parameter]
    facets: list[FacetRow]
    _distinct: list | None = field(default=None, repr=False)

    @property
    def dimension(self) -> int:
        """The number of free weights per output row."""
        return len(self.parameters)

    def theta(self, k: int, net: Network | None = None) -> tuple:
        """Output k's weights on the parameters, in the order of ``parameters``."""
        net = net or self.network
        last = net.layers[-1]
        out = []
        for p in self.parameters:
            M = last.weight if p.layer == net.depth - 1 else last.skip[p.layer]
            out.append(M[k, p.index])
        return tuple(out)

    def bends(self, theta: Sequence) -> list:
        """g_e . theta for every facet e, in the order of ``facets``."""
        theta = [to_q(v) for v in theta]
        return [_dot(f.row, theta) for f in self.facets]

    def contains(self, theta: Sequence) -> bool:
        """True iff the output row theta makes the output convex on R^d (every bend >= 0), exactly."""
        return all(b >= 0 for b in self.bends(theta))

    def distinct_rows(self) -> list[tuple[tuple, fmpq, int]]:
        """The nonzero rows up to positive multiples: (row / scale, scale, index of its first facet),
        scale > 0 the absolute value of the row's first nonzero entry.  Positive multiples give the
        same constraint, so the linear programs take each once."""
        if self._distinct is None:
            seen: dict[tuple, int] = {}
            out = []
            for i, f in enumerate(self.facets):
                if f.is_zero:
                    continue
                scale = abs(next(v for v in f.row if v != 0))
                key = tuple(v / scale for v in f.row)
                if key not in seen:
                    seen[key] = len(out)
                    out.append((key, scale, i))
            self._distinct = out
        return self._distinct

    def with_rows(self, rows: dict[int, Sequence]) -> Network:
        """The network with output k's free weights replaced by ``rows[k]`` (outputs not in ``rows``,
        the output bias, the skip from the input and every hidden layer unchanged)."""
        net = self.network
        last = net.layers[-1]
        weight = fmpq_mat(last.weight)
        skip = {k: fmpq_mat(S) for k, S in last.skip.items()}
        for k, theta in rows.items():
            for p, v in zip(self.parameters, theta):
                M = weight if p.layer == net.depth - 1 else skip[p.layer]
                M[k, p.index] = to_q(v)
        return Network(net.input_dim, net.layers[:-1] + [Layer(weight, fmpq_mat(last.bias), skip, last.slope)])


def _dot(u: Sequence, v: Sequence) -> fmpq:
    s = fmpq(0)
    for a, b in zip(u, v):
        if a != 0 and b != 0:
            s += a * b
    return s


def cone_of(net: Network, arrangement: Arrangement | None = None, *, max_regions: int | None = None,
            timeout: float | None = None, progress=None) -> Cone:
    """The cone of convex output rows of ``net``'s hidden layers, with every facet's bend row.

    Parameters
    ----------
    net : Network
    arrangement : Arrangement, optional
        ``explore(net)`` when already computed (only its hidden layers matter).
    max_regions, timeout, progress
        Bounds on the exploration (``LimitReached`` when one is hit), as for ``explore``.

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}])  # relu(x) - 2 relu(-x)
    >>> C = cone_of(net)
    >>> [p.index for p in C.parameters], [f.row for f in C.facets]
    ([0, 1], [(1, 1)])
    >>> C.contains(C.theta(0)), C.contains((1, -1)), C.contains((3, -2))
    (False, True, True)
    """
    arrangement = arrangement if arrangement is not None else explore(net, max_regions=max_regions, timeout=timeout,
                                                                      progress=progress)
    params = output_parameters(net)
    regions = arrangement.regions
    post = [_post_gradients(net, params, r) for r in regions] if params else []
    facets = []
    for r in regions:
        for i, f in enumerate(r.facets):
            if f.neighbor <= r.id:  # each facet once, from its smaller region id
                continue
            if params:
                diff = post[f.neighbor] - post[r.id]
                row = tuple((diff * fmpq_mat(net.input_dim, 1, list(f.outward))).entries())
            else:
                row = ()
            facets.append(FacetRow(r.id, i, f.neighbor, net.hidden_neurons[f.neuron], tuple(f.point), row))
    return Cone(net, arrangement, params, facets)
