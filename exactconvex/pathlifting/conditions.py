"""Convexity conditions from the path-lifting: realized on a network, or for a whole architecture.

Crossing the zero set of hidden neuron nu (from off to on) changes the gradient of output k
by (1 - s_nu) c_nu(D) * grad z_nu, where s_nu is the LeakyReLU slope of nu's layer (0 for
ReLU) and c_nu(D) is the sum of the products of the paths from nu to output k under the
downstream pattern D: a path's product picks up its weights, a factor 1 for every later
hidden neuron that is on in D and s_l for every one that is off (so for ReLU only paths
through on neurons count; geometry notes, section 8).  So on a facet where nu alone
switches, with n the facet normal pointing to nu's "on" side (n = grad z_nu),

    bend = (grad_on - grad_off) . n = (1 - s_nu) c_nu(D) * |grad z_nu|^2,

and the facet is convex iff (1 - s_nu) c_nu(D) >= 0 (geometry notes, section 2).

Several neurons on one facet (the multi-switch convention).  Let nu_1 < ... < nu_m be the
switching neurons in topological order, A the side where nu_1 is off, B the other side,
n = grad z_{nu_1} (the same on both sides: nothing upstream of nu_1 switches).  Flip the
neurons from their A state to their B state one at a time in topological order.  Flipping
nu_i changes the output gradient by sigma_i * (1 - s_{nu_i}) c_{nu_i}(D_i) * g_i, where

* sigma_i = +1 if nu_i is on in B, -1 if it is on in A;
* D_i is the downstream pattern of nu_i **on side A** (the later switching neurons have
  not been flipped yet; the others agree on both sides);
* g_i is the gradient of z_{nu_i} **on side B** (its upstream neurons are flipped already).

Each g_i is parallel to n: by induction along the flips, every intermediate affine map
of z_{nu_i} vanishes on the facet's affine hull (geometry notes, section 3).  Writing
g_i = (g_i . n / n . n) n, the combined condition is

    sum_i kappa_i * (1 - s_{nu_i}) c_{nu_i}(D_i) >= 0,   kappa_i = sigma_i * (g_i . n) / (n . n),

with kappa_1 = 1, and its value times n . n is the bend of the facet.  The kappa_i are exact
numbers of this network and facet (they express that the g_i happen to be parallel, which
no symbolic identity says), while the c_{nu_i}(D_i) stay symbolic.

Symbols: the parameters are named as in ``exactconvex.pathlifting.arch`` (``W2_1_3``, ``v_1``,
``s_2``; 1-based math notation), neurons are (layer, index) pairs with a 0-based index and
their labels ``z1_1`` are 1-based math notation.  In the conditions of a network, a LeakyReLU
layer l carries its slope as the symbol ``s_l`` (its value enters ``value``); a ReLU layer has
s_l = 0, so the conditions of a ReLU network read exactly as without slopes.

Writing the conditions down (text, LaTeX, JSON) is ``printers.py``'s job; the ``to_text``,
``to_latex`` and ``to_json`` methods here call it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

from flint import fmpq

from ..network import Network
from ..polyhedra import dot
from .arch import Architecture, downstream_sum, network_value, slope_name, slope_symbol
from .pathsums import SYMBOL, PathSum

__all__ = ["Term", "FacetRef", "Condition", "NoCondition", "ConditionReport", "ArchitectureCondition",
           "ArchitectureConditions", "conditions", "conditions_for_architecture", "path_sum",
           "symbolic_path_sum", "downstream_patterns"]

Pattern = tuple  # per downstream hidden layer (l+1, ..., L-1) a tuple of 0/1


# ----- path sums -------------------------------------------------------------------------------

def _states(neuron: tuple[int, int], pattern: Pattern) -> dict[int, tuple]:
    l = neuron[0]
    return {l + 1 + i: tuple(s) for i, s in enumerate(pattern)}


def path_sum(net: Network, neuron: tuple[int, int], pattern: Pattern, output: int = 0) -> fmpq:
    """c_nu(D): the exact sum of the products of the paths from ``neuron`` to ``output`` under
    ``pattern`` (one 0/1 tuple per later hidden layer): a later neuron contributes 1 when on in
    ``pattern`` and its layer's LeakyReLU slope when off (0 for ReLU: the path does not count).

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[2], [3]]}, {"weight": [[5, -7]]}])
    >>> path_sum(net, (1, 0), ((1, 0),)), path_sum(net, (1, 0), ((1, 1),))
    (10, -11)
    >>> leaky = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[2], [3]], "slope": "1/2"},
    ...                                {"weight": [[5, -7]]}])
    >>> path_sum(leaky, (1, 0), ((1, 0),))  # 2 * 5 + 3 * (1/2) * (-7)
    -1/2
    """
    arch = Architecture.of_network(net)
    _check_pattern(arch, neuron, pattern)
    off = None if net.is_relu else (lambda l: net.layers[l - 1].slope)
    return downstream_sum(arch, tuple(neuron), _states(neuron, pattern), output,
                          lambda k: network_value(net, k), fmpq(0), fmpq(1), off)


class _PathSums:
    """c_nu(D) of many (neuron, pattern) pairs of one network and output, exactly and fast.

    A backward pass of matrix-vector products: the sums over the paths from every unit of layer
    m are c_m = sum over the layers l fed by m of M_{l,m}^T (g_l * c_l), with c_L the output's
    unit vector and g_l the gates of layer l under the pattern (1 on, the slope off); c_m depends
    on the states of the layers after m only, so it is computed once per (m, their states) and
    shared by every neuron of layer m (``path_sum`` computes the same numbers one path at a time).
    """

    def __init__(self, net: Network, output: int):
        from flint import fmpq_mat

        self.net = net
        self.depth = net.depth
        self.arch = Architecture.of_network(net)
        top = fmpq_mat(net.num_outputs, 1)
        top[output, 0] = 1
        self.top = top
        self.cache: dict = {}
        self.transposed: dict = {}  # (into l, from m) -> M_{l,m}^T

    def _matrix(self, l: int, m: int):
        key = (l, m)
        if key not in self.transposed:
            layer = self.net.layers[l - 1]
            self.transposed[key] = (layer.weight if m == l - 1 else layer.skip[m]).transpose()
        return self.transposed[key]

    def vector(self, m: int, states: tuple):
        """c_m (a column), ``states`` the 0/1 tuples of layers m + 1, ..., L - 1."""
        key = (m, states)
        found = self.cache.get(key)
        if found is not None:
            return found
        total = None
        for l in self.arch.successors(m):
            if l == self.depth:
                h = self.top
            else:
                c = self.vector(l, states[l - m:])
                gates = states[l - m - 1]
                slope = self.net.layers[l - 1].slope
                h = c.__class__(c.nrows(), 1, [v if on else v * slope for v, on in zip(c.entries(), gates)])
            part = self._matrix(l, m) * h
            total = part if total is None else total + part
        self.cache[key] = total
        return total

    def __call__(self, neuron: tuple, pattern: Pattern) -> fmpq:
        l, j = neuron
        return self.vector(l, tuple(tuple(s) for s in pattern))[j, 0]


def slope_values(arch: Architecture, slopes=None) -> dict | None:
    """{hidden layer: sympy value of its slope} from a ``slopes`` argument, None for all-ReLU.

    ``slopes``: None (every layer ReLU), ``"symbolic"`` (every hidden layer l carries the symbol
    ``s_l``), or one entry per hidden layer: an exact number (0 = ReLU) or None for the symbol.
    """
    import sympy

    from ..numbers import to_q

    hidden = list(range(1, arch.depth))
    if slopes is None:
        return None
    if isinstance(slopes, str):
        if slopes != "symbolic":
            raise ValueError(f"slopes must be None, 'symbolic' or one entry per hidden layer, got {slopes!r}")
        return {l: slope_symbol(l) for l in hidden}
    slopes = list(slopes)
    if len(slopes) != len(hidden):
        raise ValueError(f"slopes needs one entry per hidden layer ({len(hidden)}), got {len(slopes)}")
    out = {}
    for l, v in zip(hidden, slopes):
        if v is None:
            out[l] = slope_symbol(l)
        else:
            q = to_q(v)
            out[l] = sympy.Rational(int(q.p), int(q.q))
    return None if all(v == 0 for v in out.values()) else out


def network_slope_symbols(net: Network) -> list:
    """The ``slopes`` argument that gives a network's LeakyReLU layers their symbols (ReLU layers 0)."""
    return [0 if s == 0 else None for s in net.slopes]


def symbolic_path_sum(arch: Architecture, neuron: tuple[int, int], pattern: Pattern, output: int = 0,
                      slopes=None):
    """c_nu(D) as an expanded sympy polynomial (a sum of path products) in the parameter symbols.

    ``slopes`` (see ``slope_values``): None for ReLU everywhere, ``"symbolic"`` for a symbol
    ``s_l`` per hidden layer, or one entry per hidden layer (a number, or None for its symbol).

    Examples
    --------
    >>> arch = Architecture.build(2, [2, 2])
    >>> symbolic_path_sum(arch, (1, 0), ((1, 1),))
    W2_1_1*v_1 + W2_2_1*v_2
    >>> symbolic_path_sum(arch, (1, 0), ((1, 0),), slopes="symbolic")
    W2_1_1*v_1 + W2_2_1*s_2*v_2
    """
    import sympy

    _check_pattern(arch, neuron, pattern)
    values = slope_values(arch, slopes)
    off = None if values is None else values.__getitem__
    expr = downstream_sum(arch, tuple(neuron), _states(neuron, pattern), output, arch.symbol, sympy.Integer(0),
                          sympy.Integer(1), off)
    return sympy.expand(expr)


def jump_expression(arch: Architecture, neuron: tuple[int, int], slopes=None):
    """1 - s_l for a neuron of layer l (sympy; 1 for ReLU): the factor of its kink."""
    import sympy

    values = slope_values(arch, slopes)
    return sympy.Integer(1) if values is None else 1 - values[neuron[0]]


def _check_pattern(arch: Architecture, neuron, pattern) -> None:
    l = neuron[0]
    want = [arch.widths[m] for m in range(l + 1, arch.depth)]
    if [len(s) for s in pattern] != want:
        raise ValueError(f"the downstream pattern of neuron {neuron[1]} of layer {l} needs one 0/1 tuple per later "
                         f"hidden layer, of lengths {want}")


def downstream_patterns(arch: Architecture, neuron: tuple[int, int]) -> list[Pattern]:
    """Every downstream pattern of ``neuron`` (all 0/1 states of the later hidden layers), all-off first."""
    widths = [arch.widths[m] for m in range(neuron[0] + 1, arch.depth)]
    out = []
    for bits in itertools.product((0, 1), repeat=sum(widths)):
        pattern, pos = [], 0
        for w in widths:
            pattern.append(tuple(bits[pos:pos + w]))
            pos += w
        out.append(tuple(pattern))
    return out


# ----- conditions realized on a network --------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """One switching neuron's share of a facet condition: coefficient * (1 - s_nu) * c_nu(D).

    ``paths`` is c_nu(D) symbolically (``PathSum``: its terms are written on demand);
    ``expression`` and ``jump_expression`` are sympy forms, built the first time they are read.
    """

    neuron: tuple
    pattern: Pattern
    coefficient: fmpq  # kappa = sigma * (g . n) / (n . n); 1 when the neuron switches alone
    path_sum: fmpq  # c_nu(D), exact
    paths: PathSum = field(compare=False, repr=False)  # c_nu(D), symbolic
    jump: fmpq = fmpq(1)  # 1 - s_nu, exact (1 for ReLU)
    slope: object = field(default=None, compare=False, repr=False)  # s_nu as written: None (every layer
    #   ReLU: no jump factor), SYMBOL (the symbol s_l) or its exact value (0 for a ReLU layer)

    @property
    def value(self) -> fmpq:
        """This term's share of the condition's value: coefficient * (1 - s_nu) * c_nu(D)."""
        return self.coefficient * self.jump * self.path_sum

    @cached_property
    def expression(self):
        """c_nu(D) as an expanded sympy polynomial (built on first use)."""
        return self.paths.sympy()

    @property
    def jump_expression(self):
        """1 - s_l as sympy (None when every layer is ReLU)."""
        if self.slope is None:
            return None
        return 1 - (slope_symbol(self.neuron[0]) if isinstance(self.slope, str) else _sym_q(self.slope))


@dataclass(frozen=True)
class FacetRef:
    """A facet of the region graph where a condition applies."""

    regions: tuple  # (source, target) region ids, as on the graph's edge
    point: tuple  # exact point in the facet's relative interior
    bend: fmpq  # the edge's bend, computed geometrically by the region graph
    normal_sq: fmpq  # n . n, with n = grad z of the earliest switching neuron


@dataclass
class Condition:
    """``expression >= 0``: one neuron and downstream pattern, or a combination on a multi-switch facet.

    ``value`` is the expression at the network's weights; on every facet in ``facets``,
    ``value * normal_sq == bend``.  For a combined condition, ``neuron`` and ``pattern`` are
    those of the earliest switching neuron and ``terms`` lists every switching neuron.
    """

    output: int
    terms: tuple
    value: fmpq
    facets: list = field(default_factory=list)

    @property
    def combined(self) -> bool:
        return len(self.terms) > 1

    @property
    def neuron(self) -> tuple:
        return self.terms[0].neuron

    @property
    def pattern(self) -> Pattern:
        return self.terms[0].pattern

    @property
    def neurons(self) -> tuple:
        return tuple(t.neuron for t in self.terms)

    @property
    def holds(self) -> bool:
        return self.value >= 0

    @property
    def expression(self):
        import sympy

        return sympy.Add(*[_sym_q(t.coefficient) * (1 if t.jump_expression is None else t.jump_expression)
                           * t.expression for t in self.terms])

    @property
    def inequality(self):
        """The sympy relation ``expression >= 0`` (sympy's ``true`` when the expression is 0)."""
        return self.expression >= 0

    def to_json(self, arch: Architecture) -> dict:
        from .printers import condition_json

        return condition_json(self, arch)


@dataclass(frozen=True)
class NoCondition:
    """A hidden neuron that switches on no facet, hence carries no condition."""

    neuron: tuple
    reason: str  # "constant", "dead", "always_on" or "no_facet"
    detail: str


@dataclass
class ConditionReport:
    """What ``conditions(net)`` returns; iterate over it for the conditions."""

    network: Network
    architecture: Architecture
    output: int
    conditions: list
    no_condition: list
    regions: int
    facets: int

    @property
    def all_hold(self) -> bool:
        """True iff every condition holds, i.e. iff output ``output`` is convex."""
        return all(c.holds for c in self.conditions)

    @property
    def failing(self) -> list:
        return [c for c in self.conditions if not c.holds]

    def __iter__(self):
        return iter(self.conditions)

    def __len__(self) -> int:
        return len(self.conditions)

    @property
    def slopes(self) -> dict:
        """{symbol name: exact slope} of the network's LeakyReLU layers (empty for ReLU)."""
        return {slope_name(l): s for l, s in enumerate(self.network.slopes, start=1) if s != 0}

    def to_json(self) -> dict:
        from .printers import report_json

        return report_json(self)

    def to_text(self, full: bool = False) -> str:
        """Text for people: grouped by neuron, long sums summarised (``full=True``: everything)."""
        from .printers import report_text

        return report_text(self, full=full)

    def to_latex(self, full: bool = False) -> str:
        """A LaTeX array, summarised as ``to_text`` (``full=True``: every condition in full)."""
        from .printers import report_latex

        return report_latex(self, full=full)

    def __repr__(self) -> str:
        from .printers import report_repr

        return report_repr(self)

    def _repr_html_(self) -> str:
        from .printers import report_html

        return report_html(self)

    def _repr_latex_(self) -> str:
        from .printers import report_latex

        return "$$" + report_latex(self, full=False, max_rows=20) + "$$"


def _sym_q(q: fmpq):
    import sympy

    return sympy.Rational(int(q.p), int(q.q))


def conditions(net: Network, output: int = 0, *, graph=None, max_regions: int | None = None,
               timeout: float | None = None, progress=None, slope_symbols: bool = True) -> ConditionReport:
    """The path-lifting convexity conditions realized on ``net``, decided exactly.

    For every hidden neuron nu and every downstream pattern D that occurs on a facet of
    the region graph where nu switches alone: "c_nu(D) >= 0", the sum of the products of
    the active paths from nu to the output.  Where several neurons switch on one facet, one
    combined condition (module docstring: the multi-switch convention).  The conditions
    cover every facet, so they all hold iff output ``output`` is convex.

    The values are exact (python-flint); the symbolic forms are written only when asked for
    (``Term.paths``, ``Condition.expression``, the printers), once per distinct condition.

    Parameters
    ----------
    net : Network
    output : int
        Which output (default 0).
    graph : networkx.Graph, optional
        The region graph of this output (``exactconvex.graph.regions(net, output)``), if
        already built.
    max_regions, timeout :
        Bounds: ``LimitReached`` is raised when the region graph reaches ``max_regions`` regions,
        or when ``timeout`` seconds (counted from the call, the region graph included) pass
        before the conditions are complete.
    progress : None, True or a callable progress(done, total)
        The region graph's progress (``exactconvex.progress``); True shows tqdm bars, and an
        object with phases (``ProgressBars``) also follows the facets ("conditions").
    slope_symbols : bool
        In the expressions, a LeakyReLU layer l carries its slope as the symbol ``s_l`` (default),
        or, with False, as its exact value.  ``value`` is the same either way.

    Returns
    -------
    ConditionReport
        ``.conditions`` (``Condition``: ``neuron``, ``pattern``, ``expression``, ``value``,
        ``holds``, ``facets``, ``terms``), ``.no_condition`` (neurons that never switch, with
        the reason), ``.all_hold``; ``to_json``, ``to_text``, ``to_latex``.

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[2, -3]]}])
    >>> report = conditions(net)
    >>> [(c.neurons, str(c.expression), c.value, c.holds) for c in report]
    [(((1, 0), (1, 1)), 'v_1 + v_2', -1, False)]
    >>> report.all_hold
    False
    """
    from ..progress import ProgressBars, as_progress, phase_of

    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    if not 0 <= output < net.num_outputs:
        raise ValueError(f"output {output} does not exist (the network has {net.num_outputs})")
    shown = as_progress(progress)
    try:
        locals_: dict = {}
        if graph is None:
            from ..graph import explore, graph_from_arrangement

            arrangement = explore(net, max_regions=max_regions, timeout=timeout, progress=shown)
            graph = graph_from_arrangement(arrangement, output, redundant=False)
            locals_ = {r.id: r.local for r in arrangement.regions}  # the region graph's own local maps
        elif graph.graph.get("output", output) != output:
            raise ValueError(f"the graph given is the region graph of output {graph.graph['output']}, not {output}")
        return _conditions_of_graph(net, output, graph, locals_, deadline, timeout, phase_of(shown, "conditions"),
                                    slope_symbols)
    finally:
        if progress is True and isinstance(shown, ProgressBars):
            shown.close()


def _out_of_time(timeout, what: str, done: int, total: int, graph):
    from ..graph import LimitReached

    n = graph.number_of_nodes()
    return LimitReached(f"stopped after {timeout:g} s while {what} ({done} of {total} done; the region graph was "
                        f"complete: {n} regions)", n, n)


def _conditions_of_graph(net: Network, output: int, graph, locals_: dict, deadline, timeout, report_progress,
                         slope_symbols: bool) -> ConditionReport:
    arch = Architecture.of_network(net)
    d = net.input_dim
    L = net.depth

    def local(node):
        if node not in locals_:
            locals_[node] = net.local_affine(graph.nodes[node]["pattern"])
        return locals_[node]

    def grad(node, neuron) -> tuple:
        G, _ = local(node).pre[neuron[0]]
        return tuple(G[neuron[1], c] for c in range(d))

    def downstream(pattern, neuron) -> Pattern:
        split = net.split_pattern(pattern)
        return tuple(split[m - 1] for m in range(neuron[0] + 1, L))

    values: dict = {}
    paths: dict = {}
    exact = _PathSums(net, output)
    if net.is_relu:
        slopes = None
    elif slope_symbols:
        slopes = tuple(SYMBOL if s is None else fmpq(s) for s in network_slope_symbols(net))
    else:
        slopes = tuple(net.slopes)

    def term(neuron, pattern, coefficient) -> Term:
        key = (neuron, pattern)
        if key not in values:  # once per distinct (neuron, pattern): exact now, symbolic when written
            values[key] = exact(neuron, pattern)
            paths[key] = PathSum(arch, neuron, _states(neuron, pattern), output, slopes)
        if slopes is None:
            return Term(neuron, pattern, coefficient, values[key], paths[key])
        return Term(neuron, pattern, coefficient, values[key], paths[key], 1 - net.layers[neuron[0] - 1].slope,
                    slopes[neuron[0] - 1])

    groups: dict = {}
    switching_seen: set = set()
    edges = graph.number_of_edges()
    for done, (u, v, data) in enumerate(graph.edges(data=True)):
        if done % 32 == 0:
            if deadline is not None and time.perf_counter() > deadline:
                raise _out_of_time(timeout, "computing the conditions of the facets", done, edges, graph)
            if report_progress is not None:
                report_progress(done, edges)
        switching = sorted(data["switching"], key=lambda n: net.neuron_index(*n))
        switching_seen.update(switching)
        first = switching[0]
        i1 = net.neuron_index(*first)
        a, b = (u, v) if not graph.nodes[u]["pattern"][i1] else (v, u)  # A: the earliest switching neuron off
        pa, pb = graph.nodes[a]["pattern"], graph.nodes[b]["pattern"]
        n = grad(b, first)
        nn = dot(n, n)
        terms = []
        for nu in switching:
            idx = net.neuron_index(*nu)
            sigma = pb[idx] - pa[idx]
            g = grad(b, nu)
            gn = dot(g, n)
            if any(gi * nn != gn * ni for gi, ni in zip(g, n)):
                raise AssertionError(f"the region graph's facet between regions {u} and {v}: the gradient of "
                                     f"neuron {nu[1]} of layer {nu[0]} is not parallel to the facet normal")
            terms.append(term(nu, downstream(pa, nu), sigma * gn / nn))
        value = sum((t.value for t in terms), fmpq(0))
        if value * nn != data["bend"]:
            raise AssertionError(f"the path-lifting value {value} * |n|^2 = {value * nn} differs from the region "
                                 f"graph's bend {data['bend']} on the facet between regions {u} and {v}")
        key = tuple((t.neuron, t.pattern, t.coefficient) for t in terms)
        cond = groups.get(key)
        if cond is None:
            cond = groups[key] = Condition(output, tuple(terms), value)
        source = data.get("source", u)
        target = v if source == u else u
        cond.facets.append(FacetRef((source, target), tuple(data["point"]), data["bend"], nn))
    if report_progress is not None:
        report_progress(edges, edges)

    conds = sorted(groups.values(), key=lambda c: (net.neuron_index(*c.neuron), len(c.terms),
                                                   [(net.neuron_index(*t.neuron), t.pattern, t.coefficient)
                                                    for t in c.terms]))
    no_condition = []
    nodes = list(graph.nodes)
    for idx, nu in enumerate(net.hidden_neurons):
        if nu in switching_seen:
            continue
        if deadline is not None and time.perf_counter() > deadline:
            raise _out_of_time(timeout, "looking at the neurons that never switch", idx, len(net.hidden_neurons),
                               graph)
        states = {graph.nodes[x]["pattern"][idx] for x in nodes}
        if len(states) == 2:  # pragma: no cover - the graph is connected, so an on/off neuron switches on some facet
            no_condition.append(NoCondition(nu, "no_facet", "zero set has no (d-1)-dimensional piece"))
        elif all(all(c == 0 for c in grad(x, nu)) for x in nodes):
            _, g0 = local(nodes[0]).pre[nu[0]]
            c0 = g0[nu[1], 0]
            no_condition.append(NoCondition(nu, "constant", f"constant: z = {c0} on all of R^{d}, so "
                                            + ("always on" if c0 > 0 else "never on")))
        elif states == {0}:
            no_condition.append(NoCondition(nu, "dead", f"dead: never on (z <= 0 on all of R^{d})"))
        else:
            no_condition.append(NoCondition(nu, "always_on", f"always on (z >= 0 on all of R^{d}, > 0 on every "
                                            "full-dimensional region), so its activation never switches"))
    return ConditionReport(net, arch, output, conds, no_condition, graph.number_of_nodes(), graph.number_of_edges())


# ----- the family of conditions of an architecture ---------------------------------------------

@dataclass
class ArchitectureCondition:
    """``expression >= 0`` for a neuron and a downstream pattern (``sources`` lists every
    (neuron, pattern) giving this inequality when distinct ones were asked for).  With
    LeakyReLU slopes the expression is (1 - s_l) c_nu(D), s_l the slope of the neuron's layer."""

    output: int
    neuron: tuple
    pattern: Pattern
    expression: object
    sources: list = field(default_factory=list)

    @property
    def trivial(self) -> bool:
        """0 >= 0: no path from the neuron reaches the output through an active neuron."""
        return self.expression == 0

    @property
    def factored(self):
        import sympy

        return sympy.factor(self.expression)

    @property
    def inequality(self):
        return self.expression >= 0


@dataclass
class ArchitectureConditions:
    """What ``conditions_for_architecture`` returns; iterate over it for the conditions."""

    architecture: Architecture
    output: int
    conditions: list
    distinct: bool
    slopes: dict | None = None  # {hidden layer: sympy value or symbol s_l}; None: ReLU everywhere

    def __iter__(self):
        return iter(self.conditions)

    def __len__(self) -> int:
        return len(self.conditions)

    def to_json(self) -> dict:
        from .printers import family_json

        return family_json(self)

    def to_text(self) -> str:
        from .printers import family_text

        return family_text(self)

    def to_latex(self) -> str:
        from .printers import family_latex

        return family_latex(self)


def conditions_for_architecture(d: int, widths: Sequence[int], skips=None, *, outputs: int = 1, output: int = 0,
                                distinct: bool = False, max_conditions: int = 10_000,
                                slopes=None) -> ArchitectureConditions:
    """The symbolic convexity conditions of an architecture, before any weight is known.

    One condition per hidden neuron nu and downstream pattern D (every 0/1 state of the
    hidden layers after nu's): "c_nu(D) >= 0", the sum of the products of the paths from nu
    to the output through neurons that are on in D, expanded (``expression``) and factored
    (``factored``); with LeakyReLU slopes "(1 - s_l) c_nu(D) >= 0", where an off neuron of
    layer m contributes s_m to a path product.  A network of this architecture is convex iff
    the conditions realized on its facets hold (``conditions``); which ones are realized
    depends on the weights.

    Parameters
    ----------
    d : int
        Input dimension (the conditions do not depend on it; the input weights never enter).
    widths : sequence of int
        Hidden widths: ``[2, 2]`` is two hidden layers of width 2.
    skips : optional
        Skip connections as pairs (into_layer, from_layer), or a mapping
        {(into_layer, from_layer): True}; layers are 1-based, 0 is the input, and
        into_layer = len(widths) + 1 is the output.  Skips from the input never enter a
        condition; skips from hidden layers add paths.
    outputs, output : int
        Number of outputs of the architecture, and which one the conditions are about.
    distinct : bool
        List each distinct non-trivial inequality once, with every (neuron, pattern) that
        gives it in ``sources``.
    max_conditions : int
        Refuse (ValueError) when there would be more (neuron, pattern) pairs than this:
        their number doubles with every neuron downstream.
    slopes : optional
        The LeakyReLU slopes: None (ReLU everywhere), ``"symbolic"`` (hidden layer l carries
        the symbol ``s_l``), or one entry per hidden layer: an exact number (0 = ReLU) or None
        for that layer's symbol.

    Examples
    --------
    >>> fam = conditions_for_architecture(2, [2, 2])
    >>> len(fam), [str(c.expression) for c in fam if c.neuron == (1, 0)]
    (10, ['0', 'W2_2_1*v_2', 'W2_1_1*v_1', 'W2_1_1*v_1 + W2_2_1*v_2'])
    >>> [str(c.expression) for c in conditions_for_architecture(2, [2, 2], distinct=True)][-2:]
    ['v_1', 'v_2']
    >>> [str(c.factored) for c in conditions_for_architecture(1, [1, 1], slopes="symbolic")]
    ['-W2_1_1*s_2*v_1*(s_1 - 1)', '-W2_1_1*v_1*(s_1 - 1)', '-v_1*(s_2 - 1)']
    """
    import sympy

    arch = Architecture.build(d, widths, skips, outputs)
    if not 0 <= output < arch.outputs:
        raise ValueError(f"output {output} does not exist (the architecture has {arch.outputs})")
    total = sum(2 ** sum(arch.widths[m] for m in range(l + 1, arch.depth)) for l, _ in arch.hidden_neurons)
    if total > max_conditions:
        raise ValueError(f"the architecture {arch.describe()} has {total} (neuron, downstream pattern) pairs, "
                         f"more than max_conditions = {max_conditions}")
    values = slope_values(arch, slopes)
    conds = []
    for nu in arch.hidden_neurons:
        jump = jump_expression(arch, nu, slopes)
        for pattern in downstream_patterns(arch, nu):
            expr = sympy.expand(jump * symbolic_path_sum(arch, nu, pattern, output, slopes))
            conds.append(ArchitectureCondition(output, nu, pattern, expr, [(nu, pattern)]))
    if distinct:
        merged: dict = {}
        for c in conds:
            if c.trivial:
                continue
            if c.expression in merged:
                merged[c.expression].sources.append((c.neuron, c.pattern))
            else:
                merged[c.expression] = ArchitectureCondition(output, c.neuron, c.pattern, c.expression,
                                                             [(c.neuron, c.pattern)])
        conds = list(merged.values())
    return ArchitectureConditions(arch, output, conds, distinct, values)
