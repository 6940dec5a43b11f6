"""Symbolic path sums without sympy: the paths are walked when they are written.

c_nu(D), the sum over the paths from a neuron to an output of the products of their weights
(a later hidden neuron contributes 1 when on in D and its layer's slope when off), is a
polynomial with one monomial per path: distinct paths use distinct edges, hence distinct
parameter symbols, so nothing cancels or merges and the expanded polynomial *is* the list of
paths.  ``PathSum`` keeps the network's shape and the pattern, and writes that polynomial on
demand: its number of terms (a backward count over the layers, no enumeration), its first terms
(a depth-first walk that stops early), the whole text (parsable by sympy), LaTeX, or a sympy
expression, built only when someone asks for it.  This keeps ``conditions`` at the speed of the
region graph: sympy's expansion of a 1024-path sum costs a second, writing it here a millisecond.

Terms are in path order: from the neuron, successor layers in order (the next layer, then skip
targets), units by index.  The slope of an off neuron of layer l is the symbol ``s_l`` or its
value (``slopes``); for ReLU (slope 0) an off neuron ends the path.
"""

from __future__ import annotations

from typing import Iterator

from flint import fmpq

from .arch import Architecture, ParamKey, slope_latex, slope_name

__all__ = ["PathSum", "SYMBOL"]

#: In ``slopes``: the layer's slope is written as its symbol ``s_l``.
SYMBOL = "symbol"

_ONE = fmpq(1)


class PathSum:
    """c_nu(D) for ``neuron`` under ``states`` ({later hidden layer: 0/1 tuple}) into ``output``.

    ``slopes``: None when every layer is ReLU, else one entry per hidden layer (index l - 1):
    ``SYMBOL`` for the symbol ``s_l``, or an exact value (0: ReLU, an off neuron ends the path).

    Examples
    --------
    >>> arch = Architecture.build(2, [2, 2])
    >>> c = PathSum(arch, (1, 0), {2: (1, 1)}, 0)
    >>> len(c), c.text(), c.latex()
    (2, 'W2_1_1*v_1 + W2_2_1*v_2', 'W^{(2)}_{1,1} v_{1} + W^{(2)}_{2,1} v_{2}')
    >>> PathSum(arch, (1, 0), {2: (1, 0)}, 0, slopes=(0, SYMBOL)).text()
    'W2_1_1*v_1 + W2_2_1*s_2*v_2'
    >>> PathSum(arch, (1, 0), {2: (0, 0)}, 0).text()
    '0'
    """

    __slots__ = ("arch", "neuron", "states", "output", "slopes", "_count", "_children")

    def __init__(self, arch: Architecture, neuron: tuple, states: dict, output: int, slopes=None):
        self.arch = arch
        self.neuron = tuple(neuron)
        self.states = states
        self.output = output
        self.slopes = slopes
        self._count = None
        self._children = None

    def __repr__(self) -> str:
        l, j = self.neuron
        return f"PathSum(neuron {j} of layer {l}: {len(self)} path products)"

    # ----- the paths ------------------------------------------------------------------------
    def _factor(self, l: int, i: int):
        """What hidden unit i of layer l contributes: 1 (on), a slope (off), None (off, ReLU)."""
        if self.states[l][i]:
            return _ONE
        s = 0 if self.slopes is None else self.slopes[l - 1]
        if isinstance(s, str):  # SYMBOL
            return ("s", l)
        return None if s == 0 else s

    def _walk(self):
        """Per unit that reaches the output, its steps [(layer, unit, edge key, factor)] and the
        number of paths from it; a backward pass over the layers after the neuron's."""
        if self._children is not None:
            return
        arch = self.arch
        L = arch.depth
        l0, j0 = self.neuron
        count = {(L, self.output): 1}
        children = {}
        for m in range(L - 1, l0 - 1, -1):
            for a in ([j0] if m == l0 else range(arch.widths[m])):
                steps, total = [], 0
                for l in arch.successors(m):
                    for i in (range(arch.widths[l]) if l < L else (self.output,)):
                        n = count.get((l, i), 0)
                        if not n:
                            continue
                        factor = _ONE if l == L else self._factor(l, i)
                        if factor is None:
                            continue
                        steps.append((l, i, arch.edge_key(l, m, i, a), factor))
                        total += n
                if total:
                    count[(m, a)] = total
                    children[(m, a)] = steps
        self._count = count.get(self.neuron, 0)
        self._children = children

    def __len__(self) -> int:
        """The number of path products (terms of the expanded polynomial)."""
        self._walk()
        return self._count

    def monomials(self) -> Iterator[tuple[fmpq, tuple]]:
        """(coefficient, factors) per path, in path order; factors are parameter keys
        (``arch.name``) and ("s", l) for a slope symbol; the coefficient is the product of the
        slope values on the path (1 without numeric slopes)."""
        self._walk()
        if not self._count:
            return
        L = self.arch.depth
        children = self._children
        stack = [(self.neuron, _ONE, ())]
        while stack:  # depth first; children pushed in reverse so that they come out in order
            unit, coef, factors = stack.pop()
            if unit[0] == L:
                yield coef, factors
                continue
            for l, i, key, factor in reversed(children[unit]):
                if isinstance(factor, tuple):
                    stack.append(((l, i), coef, factors + (key, factor)))
                elif factor == 1:
                    stack.append(((l, i), coef, factors + (key,)))
                else:
                    stack.append(((l, i), coef * factor, factors + (key,)))

    # ----- writing ------------------------------------------------------------------------------
    def _name(self, key) -> str:
        return slope_name(key[1]) if key[0] == "s" else self.arch.name(key)

    def _latex_name(self, key) -> str:
        return slope_latex(key[1]) if key[0] == "s" else self.arch.latex_name(key)

    def text(self, max_terms: int | None = None) -> str:
        """The expanded polynomial as text sympy reads (``W2_1_1*v_1 + ...``); with ``max_terms``,
        its first terms, then ``+ ...`` and the number of terms when there are more."""
        return _join([_monomial_text(c, [self._name(k) for k in f]) for c, f in self._first(max_terms)],
                     len(self), max_terms, " + ... ({n} path products)")

    def latex(self, max_terms: int | None = None) -> str:
        """The expanded polynomial in LaTeX; with ``max_terms`` as in ``text``."""
        return _join([_monomial_latex(c, [self._latex_name(k) for k in f]) for c, f in self._first(max_terms)],
                     len(self), max_terms, r" + \dots\ (\text{{{n} path products}})")

    def _first(self, max_terms):
        out = []
        for item in self.monomials():
            if max_terms is not None and len(out) >= max_terms:
                break
            out.append(item)
        return out

    def sympy(self):
        """The expanded polynomial as a sympy expression (what ``sympy.expand`` gives)."""
        import sympy

        symbols: dict = {}

        def symbol(key):
            if key not in symbols:
                symbols[key] = sympy.Symbol(self._name(key))
            return symbols[key]

        return sympy.Add(*[sympy.Mul(sympy.Rational(int(c.p), int(c.q)), *[symbol(k) for k in f])
                           for c, f in self.monomials()])


def _monomial_text(coef: fmpq, names: list[str]) -> str:
    """``-1/2*W2_1_1*v_1``: sympy reads 1/2*x as (1/2)*x."""
    body = "*".join(names)
    sign = "-" if coef < 0 else ""
    size = abs(coef)
    return sign + body if size == 1 else f"{sign}{size}*{body}"


def _monomial_latex(coef: fmpq, names: list[str]) -> str:
    body = " ".join(names)
    if coef == 1:
        return body
    if coef == -1:
        return "-" + body
    if coef.q == 1:
        return f"{coef} {body}"
    sign = "-" if coef < 0 else ""
    return f"{sign}\\tfrac{{{abs(int(coef.p))}}}{{{int(coef.q)}}} {body}"


def _join(terms: list[str], count: int, max_terms: int | None, more: str) -> str:
    """Terms joined by + (a leading minus becomes " - "), then ``more`` when some were left out."""
    if not terms:
        return "0"
    text = terms[0]
    for t in terms[1:]:
        text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    if max_terms is not None and count > len(terms):
        text += more.format(n=count)
    return text
