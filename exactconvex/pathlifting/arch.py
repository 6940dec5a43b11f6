"""Architectures, parameter names and path sums, shared by the exact and the symbolic side.

An architecture is the list of widths [d, n_1, ..., n_{L-1}, m] and a set of skip
connections (into layer l, from layer k), 0 <= k <= l - 2, 2 <= l <= L (layer 0 is the
input, layer L the linear output).  Every path of the network moves along *edges*: from
layer m to layer m + 1 through W_{m+1}, or from layer k to layer l through S_{l,k}.

Parameter names (stable, readable, and the names of the sympy symbols).  Layers are
numbered as in the network format (1-based, 0 = input); row and column indices in names
are 1-based, as in the paper's notation:

* ``W{l}_{i}_{j}``: weight of layer l from unit j of layer l-1 into neuron i of layer l;
* ``b{l}_{i}``: bias of neuron i of layer l;
* ``S{l}_{k}_{i}_{j}``: skip weight from unit j of layer k into neuron i of layer l
  (k = 0 is the input: ``S3_0_1_2`` reads x_2 into neuron 1 of layer 3);
* for a network with a **single output** the output row index is dropped: ``v_{j}`` is the
  output weight of neuron j of the last hidden layer, ``b{L}`` the output bias, and
  ``S{L}_{k}_{j}`` a skip from unit j of layer k into the output (``S3_0_2``: x_2 straight
  into the output of a two-hidden-layer network).

* ``s_{l}``: the LeakyReLU slope of hidden layer l (an "off" neuron of layer l passes s_l
  times its pre-activation; ReLU layers have s_l = 0 and carry no symbol).

Neurons themselves are referred to as (layer, index) with a **0-based** index, like
everywhere else in the library (``Network.hidden_neurons``, the region graph, certificates,
messages: "neuron 0 of layer 1"); their readable label ``z{l}_{i}`` is 1-based math notation
like the parameter names (``z1_1`` is neuron 0 of layer 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from ..network import Network

__all__ = ["Architecture", "ParamKey", "downstream_sum", "neuron_label", "neuron_latex", "slope_name",
           "slope_symbol", "slope_latex"]

#: ("W", l, i, j) | ("b", l, i) | ("S", l, k, i, j), with 0-based i, j
ParamKey = tuple


def neuron_label(neuron: tuple[int, int]) -> str:
    """Readable name of hidden neuron (l, j) (j 0-based) in 1-based math notation: ``z{l}_{j+1}``.

    >>> neuron_label((1, 0))
    'z1_1'
    """
    l, j = neuron
    return f"z{l}_{j + 1}"


def neuron_latex(neuron: tuple[int, int]) -> str:
    """LaTeX of ``neuron_label`` (1-based math notation)."""
    l, j = neuron
    return f"z^{{({l})}}_{{{j + 1}}}"


def slope_name(layer: int) -> str:
    """The name of the LeakyReLU slope of hidden layer ``layer`` (1-based, as layers always are).

    >>> slope_name(2)
    's_2'
    """
    return f"s_{layer}"


def slope_symbol(layer: int):
    """The sympy symbol ``s_{layer}``."""
    import sympy

    return sympy.Symbol(slope_name(layer))


def slope_latex(layer: int) -> str:
    return f"s_{{{layer}}}"


@dataclass(frozen=True)
class Architecture:
    """Widths [d, n_1, ..., n_{L-1}, m] and skips {(into l, from k)}.

    Examples
    --------
    >>> a = Architecture.build(2, [3, 3], skips=[(3, 0)])
    >>> a.depth, a.outputs, a.name(("S", 3, 0, 0, 1)), a.name(("W", 2, 0, 2))
    (3, 1, 'S3_0_2', 'W2_1_3')
    """

    widths: tuple[int, ...]
    skips: frozenset = frozenset()

    # ----- construction ---------------------------------------------------------------
    @classmethod
    def build(cls, d: int, hidden: Sequence[int], skips=None, outputs: int = 1) -> "Architecture":
        """From the input dimension, the hidden widths, the skips and the number of outputs.

        ``skips`` is None, a collection of pairs (into_layer, from_layer), or a mapping
        {(into_layer, from_layer): bool} (pairs mapped to a false value are left out).
        """
        widths = (int(d), *(int(w) for w in hidden), int(outputs))
        if any(w < 1 for w in widths):
            raise ValueError(f"every width must be a positive integer, got {list(widths)}")
        L = len(widths) - 1
        pairs = set()
        items: Iterable = ()
        if isinstance(skips, Mapping):
            items = [k for k, on in skips.items() if on]
        elif skips is not None:
            items = skips
        for pair in items:
            try:
                l, k = (int(v) for v in pair)
            except (TypeError, ValueError):
                raise ValueError(f"a skip is a pair (into_layer, from_layer), got {pair!r}") from None
            if not (2 <= l <= L and 0 <= k <= l - 2):
                raise ValueError(f"skip ({l}, {k}) is out of range: need 2 <= into_layer <= {L} and "
                                 "0 <= from_layer <= into_layer - 2")
            pairs.add((l, k))
        return cls(widths, frozenset(pairs))

    @classmethod
    def of_network(cls, net: Network) -> "Architecture":
        return cls(tuple(net.widths), frozenset((l, k) for l, layer in enumerate(net.layers, 1) for k in layer.skip))

    # ----- shape ----------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    @property
    def input_dim(self) -> int:
        return self.widths[0]

    @property
    def outputs(self) -> int:
        return self.widths[-1]

    @property
    def hidden_neurons(self) -> list[tuple[int, int]]:
        return [(l, j) for l in range(1, self.depth) for j in range(self.widths[l])]

    def successors(self, m: int) -> list[int]:
        """Layers fed by layer m: m + 1, then the skip targets of m in increasing order."""
        return [m + 1] + sorted(l for l, k in self.skips if k == m)

    def sources(self, l: int) -> list[int]:
        """Layers feeding layer l: l - 1, then its skip sources in increasing order."""
        return [l - 1] + sorted(k for ll, k in self.skips if ll == l)

    def edge_key(self, l: int, m: int, i: int, a: int) -> ParamKey:
        """The parameter on the edge from unit a of layer m into unit i of layer l."""
        return ("W", l, i, a) if m == l - 1 else ("S", l, m, i, a)

    def parameters(self) -> list[ParamKey]:
        """Every parameter, in a stable order: per layer W (row-major), b, then skips by source."""
        out: list[ParamKey] = []
        for l in range(1, self.depth + 1):
            n, p = self.widths[l], self.widths[l - 1]
            out += [("W", l, i, j) for i in range(n) for j in range(p)]
            out += [("b", l, i) for i in range(n)]
            for k in self.sources(l)[1:]:
                out += [("S", l, k, i, j) for i in range(n) for j in range(self.widths[k])]
        return out

    # ----- names ----------------------------------------------------------------------
    def _single_output_row(self, l: int) -> bool:
        return l == self.depth and self.outputs == 1

    def name(self, key: ParamKey) -> str:
        """The stable name of a parameter (module docstring)."""
        kind, l = key[0], key[1]
        drop = self._single_output_row(l)
        if kind == "W":
            _, _, i, j = key
            return f"v_{j + 1}" if drop else f"W{l}_{i + 1}_{j + 1}"
        if kind == "b":
            return f"b{l}" if drop else f"b{l}_{key[2] + 1}"
        if kind == "S":
            _, _, k, i, j = key
            return f"S{l}_{k}_{j + 1}" if drop else f"S{l}_{k}_{i + 1}_{j + 1}"
        raise ValueError(f"unknown parameter kind {kind!r}")

    def latex_name(self, key: ParamKey) -> str:
        kind, l = key[0], key[1]
        drop = self._single_output_row(l)
        if kind == "W":
            _, _, i, j = key
            return f"v_{{{j + 1}}}" if drop else f"W^{{({l})}}_{{{i + 1},{j + 1}}}"
        if kind == "b":
            return f"b^{{({l})}}" if drop else f"b^{{({l})}}_{{{key[2] + 1}}}"
        _, _, k, i, j = key
        return f"S^{{({l},{k})}}_{{{j + 1}}}" if drop else f"S^{{({l},{k})}}_{{{i + 1},{j + 1}}}"

    def symbol(self, key: ParamKey):
        import sympy

        return sympy.Symbol(self.name(key))

    def symbols(self) -> dict:
        """{name: sympy.Symbol} for every parameter, in ``parameters()`` order."""
        return {self.name(k): self.symbol(k) for k in self.parameters()}

    def latex_names(self) -> dict:
        """{sympy.Symbol: LaTeX} for ``sympy.latex(..., symbol_names=...)``."""
        return {self.symbol(k): self.latex_name(k) for k in self.parameters()}

    def describe(self) -> str:
        text = ",".join(map(str, self.widths))
        if self.skips:
            text += " with skips " + ", ".join(f"{k}->{l}" for l, k in sorted(self.skips))
        return text


def network_value(net: Network, key: ParamKey):
    """The exact value (fmpq) of a parameter of ``net``."""
    kind, l = key[0], key[1]
    layer = net.layers[l - 1]
    if kind == "W":
        return layer.weight[key[2], key[3]]
    if kind == "b":
        return layer.bias[key[2], 0]
    return layer.skip[key[2]][key[3], key[4]]


def downstream_sum(arch: Architecture, neuron: tuple[int, int], states: Mapping[int, Sequence[int]], output: int,
                   weight: Callable[[ParamKey], object], zero, one, off: Callable[[int], object] | None = None):
    """Sum over the paths from ``neuron`` to output ``output`` of their products under ``states``.

    ``states[l]`` gives the 0/1 states of hidden layer l for every layer after the neuron's
    own; ``weight(key)`` the value of a parameter (an exact number or a sympy symbol); ``off(l)``
    the factor an off neuron of layer l contributes to a path product, its LeakyReLU slope
    (None: every layer is ReLU, so only paths whose later neurons are all on count).  An on
    neuron contributes 1.  A backward pass from the output: coef[l][i] is the sum over the
    paths from unit i of layer l, so the cost is one pass over the edges, not one term per path.
    """
    l0, j0 = neuron
    L = arch.depth
    coef: dict[int, list] = {L: [one if i == output else zero for i in range(arch.widths[L])]}
    for m in range(L - 1, l0 - 1, -1):
        units = [j0] if m == l0 else range(arch.widths[m])
        vec = {a: zero for a in units}
        for l in arch.successors(m):
            for i in range(arch.widths[l]):
                c = coef[l][i]
                if l < L and not states[l][i]:
                    if off is None:
                        continue
                    c = c * off(l)  # an off neuron passes s_l times its pre-activation
                if _is_zero(c):
                    continue
                for a in units:
                    vec[a] = vec[a] + weight(arch.edge_key(l, m, i, a)) * c
        coef[m] = [vec.get(a, zero) for a in range(arch.widths[m])]
    return coef[l0][j0]


def _is_zero(c) -> bool:
    try:
        return c == 0
    except TypeError:  # pragma: no cover - sympy relationals never reach here
        return False
