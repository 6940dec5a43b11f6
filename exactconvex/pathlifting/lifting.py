"""The path-lifting of a (Leaky)ReLU network, exact and symbolic.

A *path* runs from a start unit to an output along the edges of the architecture (layer
to next layer through W, or along a skip through S).  It starts at an input coordinate
(layer 0), at a hidden neuron (it then carries that neuron's bias) or, for the output
bias alone, at the output itself.  Its *product* is the product of the weights on its
edges; its *coordinate* in the path-lifting Phi is the product for an input path and
bias times product for a bias path.  With h_0 = x,

    f_k(x) = sum over the paths p ending at output k that are active at x of
             Phi_p * (x_i if p starts at input i, else 1),

where p is active when every hidden neuron on it (its start too, for a bias path) is on.
With LeakyReLU layers every path counts at every x, times its *gate factor*: the product,
over the hidden neurons on it (its start too, for a bias path), of 1 for an on neuron and
the slope s_l of its layer for an off one (geometry notes, section 8; a ReLU layer has
s_l = 0, so only active paths count).

Node indices are 0-based (``(1, 0)`` is neuron 0 of layer 1); parameter names and symbols
(``W2_1_3``, ``v_1``, ``s_2``) are 1-based math notation (``exactconvex.pathlifting.arch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from flint import fmpq

from ..network import Network
from ..numbers import to_q
from .arch import Architecture, network_value, slope_name, slope_symbol

__all__ = ["Path", "PathLifting", "path_lifting"]


@dataclass(frozen=True)
class Path:
    """One path of the path-lifting.

    Attributes
    ----------
    nodes : tuple of (layer, index)
        From the start unit to the output, indices 0-based; layer 0 is the input, the last
        node is (L, k) for output k.
    kind : "input" or "bias"
        Whether the path starts at an input coordinate or carries the bias of its start.
    keys : tuple
        The parameters on its edges (then, for a bias path, the start's bias last).
    product : fmpq
        Product of the weights on its edges (1 for the output bias alone).
    coordinate : fmpq
        Its coordinate in Phi: ``product`` for an input path, bias * ``product`` otherwise.
    symbolic_product, symbolic_coordinate : sympy.Expr
        The same with one symbol per parameter (names in ``exactconvex.pathlifting.arch``).
    """

    nodes: tuple
    kind: str
    keys: tuple
    product: fmpq
    coordinate: fmpq
    symbolic_product: object = field(compare=False)
    symbolic_coordinate: object = field(compare=False)

    @property
    def output(self) -> int:
        return self.nodes[-1][1]

    @property
    def start(self) -> tuple[int, int]:
        return self.nodes[0]

    @property
    def gates(self) -> tuple:
        """The hidden neurons that must be on for the path to be active."""
        inner = self.nodes[:-1] if self.kind == "bias" else self.nodes[1:-1]
        return tuple(n for n in inner if n[0] >= 1)

    def active(self, net: Network, pattern: Sequence[int]) -> bool:
        """Is the path active under an activation pattern (tuple over ``net.hidden_neurons``)?"""
        return all(pattern[net.neuron_index(*n)] for n in self.gates)

    def gate_factor(self, net: Network, pattern: Sequence[int]) -> fmpq:
        """The product over its gates of 1 (on) or the layer's LeakyReLU slope (off) under ``pattern``:
        1 for an active path, and for a ReLU network 0 for every other."""
        factor = fmpq(1)
        for n in self.gates:
            if not pattern[net.neuron_index(*n)]:
                factor *= net.layers[n[0] - 1].slope
                if factor == 0:
                    break
        return factor


@dataclass
class PathLifting:
    """All the paths of a network, with exact and symbolic values.

    Attributes
    ----------
    network : Network
    architecture : Architecture
    paths : list of Path
        In a stable order: by start unit (inputs, then hidden neurons in topological
        order, then output biases), then depth-first along increasing successors.
    """

    network: Network
    architecture: Architecture
    paths: list

    @property
    def symbols(self) -> dict:
        """{name: sympy.Symbol} for every parameter of the architecture, then ``s_l`` for every
        LeakyReLU layer l (a ReLU layer has no slope symbol)."""
        out = self.architecture.symbols()
        out.update({slope_name(l): slope_symbol(l) for l in self._leaky_layers()})
        return out

    @property
    def substitution(self) -> dict:
        """{sympy.Symbol: sympy.Rational}: the network's exact parameter values (and slopes)."""
        arch = self.architecture
        out = {arch.symbol(k): _rational(network_value(self.network, k)) for k in arch.parameters()}
        out.update({slope_symbol(l): _rational(self.network.layers[l - 1].slope) for l in self._leaky_layers()})
        return out

    def _leaky_layers(self) -> list[int]:
        return [l for l, s in enumerate(self.network.slopes, start=1) if s != 0]

    def from_neuron(self, neuron: tuple[int, int], output: int = 0) -> list:
        """The bias paths starting at hidden neuron (l, j) and ending at output ``output``."""
        return [p for p in self.paths if p.kind == "bias" and p.start == tuple(neuron) and p.output == output]

    def evaluate(self, x, output: int = 0) -> fmpq:
        """f_output(x) as the sum of the paths, each times its gate factor at x (exact; equals
        ``network.evaluate(x)[output]``)."""
        net = self.network
        xs = [to_q(v) for v in x]
        pattern = net.pattern(xs)
        total = fmpq(0)
        for p in self.paths:
            if p.output != output:
                continue
            factor = p.gate_factor(net, pattern)
            if factor != 0:
                total += factor * p.coordinate * (xs[p.start[1]] if p.kind == "input" else 1)
        return total

    def vector(self) -> list:
        """Phi, the exact path-lifting vector, in the order of ``paths``."""
        return [p.coordinate for p in self.paths]

    def symbolic_vector(self) -> list:
        return [p.symbolic_coordinate for p in self.paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self):
        return iter(self.paths)


def _rational(q: fmpq):
    import sympy

    return sympy.Rational(int(q.p), int(q.q))


def path_lifting(net: Network) -> PathLifting:
    """The exact and symbolic path-lifting of ``net``.

    Parameters
    ----------
    net : Network

    Returns
    -------
    PathLifting
        ``.paths`` lists every path (tuple of (layer, index) nodes) with its exact weight
        product and coordinate, and the same as sympy expressions in the parameters.

    Examples
    --------
    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]], "bias": [0, 2]}, {"weight": [[3, 5]]}])
    >>> phi = path_lifting(net)
    >>> [(p.nodes, p.kind, str(p.symbolic_coordinate), p.coordinate) for p in phi.from_neuron((1, 1))]
    [(((1, 1), (2, 0)), 'bias', 'b1_2*v_2', 10)]
    >>> phi.evaluate([-1]) == net.evaluate([-1])[0]
    True
    """
    import sympy

    arch = Architecture.of_network(net)
    L = arch.depth
    paths: list[Path] = []

    def walk(nodes: list, keys: list, product: fmpq, start_kind: str, bias_key):
        m, a = nodes[-1]
        if m == L:
            sym_product = sympy.Mul(*[arch.symbol(k) for k in keys])
            if start_kind == "input":
                coord, sym_coord, all_keys = product, sym_product, tuple(keys)
            else:
                bias = network_value(net, bias_key)
                coord, sym_coord, all_keys = bias * product, arch.symbol(bias_key) * sym_product, (*keys, bias_key)
            paths.append(Path(tuple(nodes), start_kind, all_keys, product, coord, sym_product, sym_coord))
            return
        for l in arch.successors(m):
            for i in range(arch.widths[l]):
                key = arch.edge_key(l, m, i, a)
                walk(nodes + [(l, i)], keys + [key], product * network_value(net, key), start_kind, bias_key)

    for i in range(arch.input_dim):
        walk([(0, i)], [], fmpq(1), "input", None)
    for l, j in arch.hidden_neurons:
        walk([(l, j)], [], fmpq(1), "bias", ("b", l, j))
    for k in range(arch.outputs):
        walk([(L, k)], [], fmpq(1), "bias", ("b", L, k))
    return PathLifting(net, arch, paths)
