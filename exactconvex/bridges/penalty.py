"""A differentiable convexity penalty for PyTorch training: ``convexity_penalty(model, ...)``.

The exact region graph of the model's current weights says which pairs of activation patterns
meet across a facet and which neuron switches there.  With those patterns held fixed, the bend
across the facet is a polynomial in ALL the weights (geometry notes, sections 2 and 8): from
region R into its neighbour N, with n the gradient of the switching neuron's pre-activation
(the same on both sides) oriented from R into N,

    bend = (grad f^N - grad f^R) . n,      grad f^P = W_L D_{L-1}^P W_{L-1} ... D_1^P W_1,

D_l^P the diagonal of activation factors of pattern P (1 for an "on" neuron, the slope s for an
"off" one).  The penalty is the sum over facets and outputs of the negative part of the
normalised bend, max(0, -bend / ||n||_2) (the drop of the directional derivative across the
facet along its unit normal), so it is 0 exactly when every bend is >= 0, i.e. when the
network is convex on R^d (restricted to the facets meeting ``box`` when one is given).

The patterns come from ``exactconvex.graph.explore`` on the exact network of the weights (every
float32/float64 weight read as the exact binary rational it is).  Between refreshes, every
``refresh_every`` calls, the patterns are kept and only the weights move: the penalty is then
that of the last complex, a good approximation for small steps.  Gradients flow into every
Linear weight; the biases only move the facets (they enter at the next refresh) and get no
gradient from the penalty.

``box`` (lo, hi) restricts the penalty to the facets that meet the box [lo, hi]^d, where the
data lives: a facet whose exact relative-interior point lies in the box is kept at once, the
others after a float linear program (HiGHS) says whether the facet's polyhedron meets the box.
That choice steers training only; it decides nothing: convexity is decided afterwards, exactly
(``exactconvex.check``, or ``exactconvex.convexify.convexify`` and its certificate).

Supported models: ``torch.nn.Sequential`` chains ``Linear, act, Linear, act, ..., Linear``
with ``act`` an ``nn.ReLU`` or ``nn.LeakyReLU`` (any depth, any widths, several outputs,
float32 or float64).  Anything else is refused with a ``TypeError`` naming the module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..network import Layer, Network
from ..numbers import q_from_float

__all__ = ["ConvexityPenalty", "convexity_penalty", "sequential_layers", "exact_network"]


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the torch extra is installed in the test environment
        raise ImportError("convexity_penalty needs PyTorch: pip install 'exactconvex[torch]'") from exc
    return torch


def sequential_layers(model) -> list[tuple]:
    """The (Linear, slope) pairs of a supported ``nn.Sequential`` (slope None after the last Linear).

    Raises TypeError for any other model, naming the first module that does not fit.
    """
    torch = _torch()
    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"convexity_penalty supports nn.Sequential chains of Linear and ReLU/LeakyReLU, "
                        f"got {type(model).__name__}")
    modules = list(model.named_children())
    out: list[list] = []
    expect_linear = True
    for name, module in modules:
        if expect_linear:
            if not isinstance(module, nn.Linear):
                raise TypeError(f"module {name!r} ({type(module).__name__}): expected a Linear layer here "
                                f"(supported: Linear, ReLU/LeakyReLU, Linear, ...)")
            out.append([module, None])
        else:
            if isinstance(module, nn.ReLU):
                out[-1][1] = 0.0
            elif isinstance(module, nn.LeakyReLU):
                out[-1][1] = float(module.negative_slope)
            else:
                raise TypeError(f"module {name!r} ({type(module).__name__}): expected ReLU or LeakyReLU after a "
                                f"Linear layer")
        expect_linear = not expect_linear
    if not out or expect_linear:
        raise TypeError("the model must start and end with a Linear layer")
    return [tuple(pair) for pair in out]


def exact_network(model) -> Network:
    """The exact network of a supported ``nn.Sequential``: every weight its exact binary value.

    Examples
    --------
    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.LeakyReLU(0.5), torch.nn.Linear(2, 1))
    >>> exact_network(m).widths, exact_network(m).slopes
    ([1, 2, 1], [1/2])
    """
    layers = []
    for linear, slope in sequential_layers(model):
        W = linear.weight.detach().double().tolist()
        b = linear.bias.detach().double().tolist() if linear.bias is not None else [0.0] * len(W)
        layers.append(Layer.from_lists([[q_from_float(v) for v in row] for row in W], [q_from_float(v) for v in b],
                                       slope=q_from_float(slope) if slope is not None else None))
    return Network(layers[0].weight.ncols(), layers)


@dataclass
class _Facets:
    """The facets of one refresh, as index tensors: region patterns as activation factors per
    hidden layer (regions x width), and per facet its two regions, the layer and index of its
    switching neuron and the sign that orients that neuron's gradient from R into N."""

    factors: list
    source: object
    target: object
    layer: list
    neuron: list
    sign: list
    regions: int


class ConvexityPenalty:
    """``penalty()`` -> a scalar tensor, differentiable in the model's weights (see the module text).

    Parameters
    ----------
    model : torch.nn.Sequential
        Linear, ReLU/LeakyReLU, ..., Linear.
    refresh_every : int
        Recompute the exact region graph every this many calls (1: every call).
    box : (lo, hi), optional
        Only facets meeting [lo, hi]^d count.
    normalise : bool
        Divide each bend by the length of its facet normal (default True).
    max_regions, timeout : optional bounds on each exploration (``LimitReached`` when hit).

    Attributes
    ----------
    facets, regions : int
        The number of facets counted and of regions in the last refresh.
    refreshes : int
    """

    def __init__(self, model, *, refresh_every: int = 10, box: Sequence | None = None, normalise: bool = True,
                 max_regions: int | None = None, timeout: float | None = None):
        if refresh_every < 1:
            raise ValueError("refresh_every must be a positive integer")
        if box is not None and not (len(box) == 2 and float(box[0]) < float(box[1])):
            raise ValueError("box must be (lo, hi) with lo < hi")
        self.model = model
        self.layers = sequential_layers(model)
        self.refresh_every = refresh_every
        self.box = None if box is None else (float(box[0]), float(box[1]))
        self.normalise = normalise
        self.max_regions, self.timeout = max_regions, timeout
        self.calls = 0
        self.refreshes = 0
        self._facets: _Facets | None = None

    @property
    def facets(self) -> int:
        return 0 if self._facets is None else len(self._facets.layer)

    @property
    def regions(self) -> int:
        return 0 if self._facets is None else self._facets.regions

    def refresh(self) -> None:
        """Recompute the exact region graph of the current weights and the facets that count."""
        from ..graph import explore

        torch = _torch()
        net = exact_network(self.model)
        arrangement = explore(net, max_regions=self.max_regions, timeout=self.timeout)
        regions = arrangement.regions
        slopes = [layer.slope for layer in net.layers[:-1]]
        source, target, layer, neuron, sign, used = [], [], [], [], [], {}
        for r in regions:
            for f in r.facets:
                if f.neighbor <= r.id:
                    continue
                if self.box is not None and not _meets_box(net, r, f, self.box):
                    continue
                l, j = net.hidden_neurons[f.neuron]
                for t in (r.id, f.neighbor):
                    used.setdefault(t, len(used))
                source.append(used[r.id])
                target.append(used[f.neighbor])
                layer.append(l)
                neuron.append(j)
                sign.append(-1.0 if r.pattern[f.neuron] else 1.0)  # outward from R: -grad z if on, +grad z if off
        order = sorted(used, key=used.get)
        dtype = self.layers[0][0].weight.dtype
        factors = []
        for l, s in enumerate(slopes, start=1):
            rows = []
            for t in order:
                states = net.split_pattern(regions[t].pattern)[l - 1]
                rows.append([1.0 if on else float(s) for on in states])
            factors.append(torch.tensor(rows, dtype=dtype).reshape(len(order), net.layers[l - 1].width))
        self._facets = _Facets(factors, torch.tensor(source, dtype=torch.long), torch.tensor(target, dtype=torch.long),
                               layer, neuron, torch.tensor(sign, dtype=dtype), len(regions))
        self.refreshes += 1

    def __call__(self):
        """The penalty at the current weights (the region graph refreshed every ``refresh_every`` calls)."""
        torch = _torch()
        if self._facets is None or self.calls % self.refresh_every == 0:
            self.refresh()
        self.calls += 1
        F = self._facets
        weight = self.layers[0][0].weight
        if not F.layer:
            return weight.sum() * 0.0  # no facet: a zero that still belongs to the graph
        # pre[l]: gradients of layer l's pre-activations in each region (regions x n_l x d)
        pre = {1: weight.unsqueeze(0).expand(F.factors[0].shape[0] if F.factors else 1, -1, -1)}
        for l, (linear, _) in enumerate(self.layers[1:], start=2):
            post = F.factors[l - 2].unsqueeze(-1) * pre[l - 1]
            pre[l] = torch.einsum("ij,rjd->rid", linear.weight, post)
        out = pre[len(self.layers)]  # regions x outputs x d
        layers = torch.tensor(F.layer)
        neurons = torch.tensor(F.neuron)
        normal = torch.zeros(len(F.layer), weight.shape[1], dtype=weight.dtype)
        for l in sorted(set(F.layer)):
            at = (layers == l).nonzero(as_tuple=True)[0]
            normal = normal.index_copy(0, at, pre[l][F.source[at], neurons[at]])
        normal = normal * F.sign.unsqueeze(-1)
        bend = ((out[F.target] - out[F.source]) * normal.unsqueeze(1)).sum(-1)  # facets x outputs
        if self.normalise:
            bend = bend / normal.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(weight.dtype).tiny)
        return torch.relu(-bend).sum()


def convexity_penalty(model, **options) -> ConvexityPenalty:
    """A differentiable convexity penalty for ``model`` (see ``ConvexityPenalty`` for the options).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), model[0].bias.zero_()
    ...     _ = model[2].weight.copy_(torch.tensor([[1.0, -2.0]]))
    >>> penalty = convexity_penalty(model, refresh_every=5)
    >>> value = penalty()  # relu(x) - 2 relu(-x) bends by -1 across x = 0
    >>> value.item()
    1.0
    >>> value.backward(); model[2].weight.grad.tolist()
    [[-1.0, -1.0]]
    """
    return ConvexityPenalty(model, **options)


def _meets_box(net: Network, region, facet, box: tuple[float, float]) -> bool:
    """Whether the facet (region's polyhedron on its neuron's hyperplane) meets [lo, hi]^d: exactly
    when its relative-interior point is in the box, else by a float LP (a guess that only steers
    training)."""
    lo, hi = box
    qlo, qhi = q_from_float(lo), q_from_float(hi)
    if all(qlo <= v <= qhi for v in facet.point):
        return True
    import numpy as np
    from scipy.optimize import linprog

    from ..polyhedra import float_guess

    d = net.input_dim
    A_ub, b_ub, A_eq, b_eq = [], [], [], []
    for neuron, a, c in region.constraints:  # a . x + c >= 0
        row = [float_guess(v) for v in a]
        if neuron == facet.neuron:
            A_eq.append(row)
            b_eq.append(-float_guess(c))
        else:
            A_ub.append([-v for v in row])
            b_ub.append(float_guess(c))
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    with np.errstate(all="ignore"):
        try:
            res = linprog(np.zeros(d), A_ub=np.array(A_ub) if A_ub else None, b_ub=np.array(b_ub) if b_ub else None,
                          A_eq=np.array(A_eq) if A_eq else None, b_eq=np.array(b_eq) if b_eq else None,
                          bounds=[(lo - slack, hi + slack)] * d, method="highs")
        except (ValueError, OverflowError):
            return True  # no guess: keep the facet (the penalty only grows)
    return res.status != 2  # 2: infeasible; anything else keeps the facet

