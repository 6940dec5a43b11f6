"""The region graph: checks 1-5 of ``docs/certificate-format.md``, one function each.

==========================================  =========================================================
check                                       lemma it establishes
==========================================  =========================================================
1 ``check_interior_point``                  ``proofs/completeness.md`` Lemma 2 (1): P_s is
                                            full-dimensional, its constant constraints hold
2 ``check_facet_relative_interior``         Lemma 2 (3): the point is in the relative interior of
                                            a (d-1)-dimensional facet
3 ``check_neighbour_across``                Lemma 3: the neighbour lies across the whole facet
4 ``check_farkas_redundancy``               Lemma 2 (2) and (4): the listed facets are all facets
5 ``check_bends``                           ``proofs/facet-bends.md``: nonnegative bends give
                                            convexity
==========================================  =========================================================

With checks 1-4 on every listed region, the regions cover R^d (``proofs/completeness.md``,
Theorem).  Conventions of every message: regions, facets, entries and outputs are 0-based
indices as in the certificate; layers are 1-based (layer 0 is the input); a neuron's index
within its layer is 0-based: "neuron 0 of layer 1".

Five speed tricks, each with a plain reference beside it (``FAST`` and ``REFERENCE``;
``verify(..., reference=True)`` runs the references, and differential tests compare them):

* ``facet_rows``: checks 1-3 evaluate only the listed facets' constraints at their points (and
  check 1 reads the constant constraints); check 4 proves the rest, so their signs follow
  (``proofs/facet-checks.md``); reference ``every_row``: checks 1-3 evaluate every constraint.
* ``IntegerMaps``: a region's maps over the integers, every row times the positive
  denominator of its layer (``arithmetic.integer_layers``), updated from the previous region's
  where its activations changed (``proofs/integer-maps.md``); reference ``RationalMaps``:
  ``arithmetic.local_affine`` over the rationals, from scratch.  Every check but the Farkas
  identities (which divide by the denominators) depends only on signs and on positive
  multiples, which the scaling keeps.
* ``signs_at``: the values of constraints at several points, as one integer matrix product
  (each value times a positive integer, so with the right signs); reference
  ``signs_at_reference``: each g(p) on its own, exactly.
* ``first_wrong_identity``: every Farkas identity of a region in one matrix product;
  reference ``first_wrong_identity_reference``: each identity coefficient by coefficient.
* ``implied_multipliers``: the multipliers of an implied group, for a square system read off
  the integer product adj(Mn) Tn and the sign of det(Mn); reference
  ``implied_multipliers_reference``: row reduction of [M | T] over the rationals.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import chain, compress, count
from typing import Any, Callable, NamedTuple

from flint import fmpq, fmpq_mat, fmpz, fmpz_mat

from .arithmetic import Row, integer_layers, local_affine
from .reader import CertificateError, Network, StreamedArray, field, number, numbers, short, typed
from .results import Invalid, require

__all__ = ["Neuron", "Facet", "FarkasEntry", "ImpliedGroup", "Region", "RegionMaps", "Layout", "Kernels",
           "ImpliedOutcome", "FAST", "REFERENCE", "read_region_graph", "check_region_graph", "region_maps",
           "IntegerMaps", "RationalMaps", "Checked", "facet_rows", "every_row",
           "check_interior_point", "check_facet_relative_interior", "check_neighbour_across",
           "check_farkas_redundancy", "check_bends", "signs_at", "signs_at_reference", "first_wrong_identity",
           "first_wrong_identity_reference", "implied_multipliers", "implied_multipliers_reference",
           "check_region_well_formed", "StreamedRegions", "read_the_rest"]


# ----- the parsed certificate ----------------------------------------------------------------------

class Neuron(NamedTuple):
    """A hidden neuron as a certificate names it: ``[layer, index]``."""

    layer: int  # 1-based
    index: int  # 0-based within the layer

    def __str__(self) -> str:
        return f"neuron {self.index} of layer {self.layer}"


@dataclass(frozen=True)
class Facet:
    neuron: Neuron
    point: tuple[fmpq, ...] | None  # None in a region read for another part's checks (``_region``)
    neighbor: int


@dataclass(frozen=True)
class FarkasEntry:
    """g_neuron = sum_f multiplier_f g_f + constant; ``support``: the facets of the multipliers
    (None: one multiplier per facet, in order)."""

    neuron: Neuron
    support: tuple[int, ...] | None
    multipliers: tuple[fmpq, ...]
    constant: fmpq


@dataclass(frozen=True)
class ImpliedGroup:
    """Neurons whose constraints are nonnegative combinations of ``facets`` and a constant,
    with multipliers the checker solves for."""

    facets: tuple[int, ...]
    neurons: tuple[Neuron, ...] | tuple[str, ...]  # [layer, index] each, or marks: one 0/1 string per hidden layer


@dataclass(frozen=True)
class Region:
    pattern: tuple[str, ...]
    interior_point: tuple[fmpq, ...] | None  # None: as Facet.point
    facets: tuple[Facet, ...]
    redundant: tuple[FarkasEntry, ...]
    implied: tuple[ImpliedGroup, ...]


def _index(value: Any, where: str) -> int:
    return typed(value, int, where)


def _neuron(value: Any, where: str) -> Neuron:
    if type(value) is not list or len(value) != 2:
        raise CertificateError(f"{where}: expected [layer, index]")
    return Neuron(_index(value[0], f"{where}[0]"), _index(value[1], f"{where}[1]"))


def _neurons(values: list, where: str) -> tuple[Neuron, ...]:
    """A list of neurons (its messages, ``where[i]``, are only written when one is malformed)."""
    if set(map(type, values)) <= {list} and set(map(len, values)) <= {2} and \
            set(map(type, chain.from_iterable(values))) <= {int}:  # lists of two integers (never bool)
        return tuple(map(tuple, values))  # (plain tuples: equal to the Neurons, and made faster)
    return tuple(_neuron(n, f"{where}[{i}]") for i, n in enumerate(values))


def _facet(doc: Any, where: str, full: bool = True) -> Facet:
    """A facet; without its point unless ``full`` (as ``_region``)."""
    doc = typed(doc, dict, where)
    return Facet(_neuron(field(doc, "neuron", where), f"{where}.neuron"),
                 numbers(field(doc, "point", where), f"{where}.point") if full else None,
                 _index(field(doc, "neighbor", where), f"{where}.neighbor"))


def _farkas_entry(doc: Any, where: str) -> FarkasEntry:
    doc = typed(doc, dict, where)
    support = None
    if "support" in doc:
        support = tuple(_index(f, f"{where}.support[{i}]") for i, f in
                        enumerate(typed(doc["support"], list, f"{where}.support")))
    return FarkasEntry(_neuron(field(doc, "neuron", where), f"{where}.neuron"), support,
                       numbers(field(doc, "multipliers", where), f"{where}.multipliers"),
                       number(field(doc, "constant", where), f"{where}.constant"))


def _implied_group(doc: Any, where: str) -> ImpliedGroup:
    doc = typed(doc, dict, where)
    facets = typed(field(doc, "facets", where), list, f"{where}.facets")
    neurons = typed(field(doc, "neurons", where), list, f"{where}.neurons")
    facets = tuple(_index(f, f"{where}.facets[{i}]") for i, f in enumerate(facets))
    if neurons and set(map(type, neurons)) == {str}:  # marks: string l - 1 has "1" at each neuron of layer l
        if not all(set(marks) <= {"0", "1"} for marks in neurons):
            raise CertificateError(f"{where}.neurons: marks are strings of 0 and 1, one per hidden layer")
        return ImpliedGroup(facets, tuple(neurons))  # (the check reads the marks straight into positions)
    return ImpliedGroup(facets, _neurons(neurons, f"{where}.neurons"))


def _region(doc: Any, where: str, full: bool = True) -> Region:
    """A region; unless ``full`` (for a region that another process checks: ``check_region_graph``
    with parts), only its pattern and its facets' neurons and neighbours (no points, no entries)."""
    doc = typed(doc, dict, where)
    pattern = typed(field(doc, "pattern", where), list, f"{where}.pattern")
    return Region(tuple(typed(s, str, f"{where}.pattern[{i}]") for i, s in enumerate(pattern)),
                  numbers(field(doc, "interior_point", where), f"{where}.interior_point") if full else None,
                  tuple(_facet(F, f"{where}.facets[{i}]", full)
                        for i, F in enumerate(typed(doc.get("facets", []), list, f"{where}.facets"))),
                  tuple(_farkas_entry(E, f"{where}.redundant[{i}]")
                        for i, E in enumerate(typed(doc.get("redundant", []) if full else [], list,
                                                    f"{where}.redundant"))),
                  tuple(_implied_group(E, f"{where}.implied[{i}]")
                        for i, E in enumerate(typed(doc.get("implied", []) if full else [], list,
                                                    f"{where}.implied"))))


class StreamedRegions:
    """The regions of a streamed certificate file (``reader.StreamedArray``): each one read from
    the file when asked for (by index, or all in order), never all of them at once."""

    def __init__(self, array: StreamedArray):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, r: int) -> Region:
        return _region(self.array[r], f"regions[{r}]")

    def __iter__(self):
        return self.read(lambda r: True)

    def read(self, full: Callable[[int], bool]):
        """The regions in order, region r without its points and its redundant and implied entries
        unless ``full(r)``.  (Those are read by the process that checks the region, or by
        ``read_the_rest`` in this one if its pass stops early.)"""
        for r, R in enumerate(self.array):
            lean = not full(r)
            self.array.lean |= lean
            yield _region(R, f"regions[{r}]", not lean)
        self.array.complete = True  # every region was read, and none is malformed (or ``lean``)


def read_region_graph(doc: Any) -> "tuple[Region, ...] | StreamedRegions":
    """The ``"region_graph"`` value of a certificate (CertificateError if malformed).

    A streamed file's regions (``reader.read_json_file``) are read one at a time when the checks
    need them; the pass of ``check_region_graph`` reads them all, and ``read_the_rest``
    the ones no check reached, so that a malformed one is found whatever the checks found."""
    regions = field(typed(doc, dict, "region_graph"), "regions", "region_graph")
    if isinstance(regions, StreamedArray):
        return StreamedRegions(regions)
    return tuple(_region(R, f"regions[{r}]") for r, R in enumerate(typed(regions, list, "regions")))


def read_the_rest(doc: dict, everything: bool = False) -> None:
    """Read a streamed file's regions if no pass read them all (a check stopped before, or there
    was none), or, with ``everything``, if the pass read some without their entries: a malformed
    one makes the certificate unreadable, as if it had been read first."""
    graph = doc.get("region_graph")
    regions = graph.get("regions") if type(graph) is dict else None
    if isinstance(regions, StreamedArray) and (not regions.complete or everything and regions.lean):
        for _ in StreamedRegions(regions):
            pass


# ----- what the checker computes per region ----------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Where the hidden neurons are: constraint t of a region is hidden neuron t in
    topological order (layer by layer)."""

    widths: tuple[int, ...]
    starts: tuple[int, ...]  # position of each hidden layer's first neuron
    positions: dict  # (layer, index) -> position

    @staticmethod
    def of(net: Network) -> "Layout":
        widths = tuple(net.hidden_widths)
        starts = tuple(sum(widths[:l]) for l in range(len(widths)))
        return Layout(widths, starts, {(l + 1, i): starts[l] + i for l, n in enumerate(widths) for i in range(n)})

    def position(self, neuron: Neuron) -> int | None:
        """The neuron's position in topological order, None if the network has no such neuron."""
        return self.positions.get(neuron)

    def neuron(self, position: int) -> Neuron:
        layer = max(l for l in range(len(self.widths)) if self.starts[l] <= position)
        return Neuron(layer + 1, position - self.starts[layer])


@dataclass(frozen=True)
class RegionMaps:
    """The affine data of a region, computed from its pattern (Lemma 1): the constraint
    g_nu >= 0 of every hidden neuron (g_nu = z_nu if on, -z_nu if off) and every output, each
    row (a_1, ..., a_d, c) times the positive denominator of its layer (1 over the rationals)."""

    constraints: tuple[Row, ...]  # in topological order
    outputs: tuple[Row, ...]
    kind: type  # the matrices for them: fmpq_mat or fmpz_mat
    denominators: tuple  # of layers 1..L


def region_maps(net: Network, pattern: tuple[str, ...]) -> RegionMaps:
    """The maps over the rationals (``arithmetic.local_affine``): all denominators 1."""
    on = [[ch == "1" for ch in s] for s in pattern]
    rows = local_affine(net, on)
    constraints = tuple(g if on[l][j] else tuple(-v for v in g) for l in range(len(on)) for j, g in enumerate(rows[l]))
    return RegionMaps(constraints, tuple(rows[-1]), fmpq_mat, (1,) * net.depth)


class RationalMaps:
    """Reference: a region's maps by ``region_maps``, from scratch."""

    def __init__(self, net: Network):
        self.net = net

    def __call__(self, pattern: tuple[str, ...]) -> RegionMaps:
        return region_maps(self.net, pattern)


class IntegerMaps:
    """Fast: a region's maps over the integers (``arithmetic.integer_layers``), each row of layer l
    the positive integer c_l times the row of ``region_maps``, updated from those of the previous
    pattern where activations changed (``proofs/integer-maps.md``).

    Zn_l = Bn_l + sum_k S_k F_k Zn_k over the sources k of layer l: Zn_0 = [I | 0], Bn_l the bias in
    the column of the constant, F_k = diag(f_j = q if neuron j is on, else p) for a hidden layer k
    of slope p / q (F_0 = I).  If no Zn_k changed, Zn_l changes by sum_k S_k (F'_k - F_k) Zn_k (a
    rank-one term per changed activation, or one product); otherwise it is the first sum, with the
    products SD_k = S_k F_k kept from their last use and set anew in the columns that changed."""

    def __init__(self, net: Network):
        self.layers, d1 = integer_layers(net), net.input_dim + 1
        self.sources = [[k for k, _ in L.sources] for L in self.layers]
        self.sd = [[fmpz_mat(S) for _, S in L.sources] for L in self.layers]  # SD_k for the activations in self.has
        self.has = [["?" * S.ncols() for _, S in L.sources] for L in self.layers]
        self.columns = [[[fmpz_mat(S.nrows(), 1, c) for c in S.transpose().tolist()] for _, S in L.sources]
                        for L in self.layers]
        self.bias = [fmpz_mat(L.bias.nrows(), d1, [v if t == d1 - 1 else 0 for v in L.bias.entries() for t in range(d1)])
                     for L in self.layers]
        self.z = [fmpz_mat(d1 - 1, d1, [int(i == t) for i in range(d1 - 1) for t in range(d1)])] + [None] * net.depth
        self.rows, self.signed = [None] * net.depth, [None] * (net.depth - 1)  # of each Zn_l; constraints
        self.pattern = tuple("?" * n for n in net.hidden_widths)  # the first pattern changes every activation

    def _sum(self, l: int, pattern: tuple[str, ...]) -> fmpz_mat:
        """Zn_l = Bn_l + sum_k SD_k Zn_k, each SD_k first set anew in the columns whose activation changed."""
        z = self.bias[l - 1]
        for i, (k, SD, columns) in enumerate(zip(self.sources[l - 1], self.sd[l - 1], self.columns[l - 1])):
            if k and self.has[l - 1][i] != pattern[k - 1]:
                for j in [j for j, (a, b) in enumerate(zip(self.has[l - 1][i], pattern[k - 1])) if a != b]:
                    f = self.layers[k - 1].factors[pattern[k - 1][j] == "0"]
                    for r, v in enumerate(columns[j].entries()):
                        SD[r, j] = v * f
                self.has[l - 1][i] = pattern[k - 1]
            z = z + SD * self.z[k]
        return z

    def __call__(self, pattern: tuple[str, ...]) -> RegionMaps:
        changed = [_differences(old, new) if old != new else [] for old, new in zip(self.pattern, pattern)]
        fresh = [False] * len(self.z)  # fresh[l]: Zn_l changed (Zn_0 never does)
        for l, sources in enumerate(self.sources, start=1):
            z = self.z[l]
            if z is None or any(fresh[k] for k in sources):
                z = self._sum(l, pattern)
            else:  # only activations of the sources changed, if any: Zn_l + sum_k S_k (F'_k - F_k) Zn_k
                for (k, S), columns in zip(self.layers[l - 1].sources, self.columns[l - 1]):
                    if not k or not changed[k - 1]:  # (the input, or a layer whose activations are the same)
                        continue
                    q, p = self.layers[k - 1].factors  # f'_j - f_j = q - p (turned on) or p - q (off)
                    terms = [(j, self.rows[k - 1][j], q - p if pattern[k - 1][j] == "1" else p - q)
                             for j in changed[k - 1]]
                    if len(terms) <= 4:  # one rank-one term per neuron
                        for j, row, f in terms:
                            z = z + columns[j] * (fmpz_mat(1, z.ncols(), row) * f)
                    else:  # all of them in one product (as fast as about four rank-one terms)
                        D = fmpz_mat(S.ncols(), z.ncols())
                        for j, row, f in terms:
                            for t, v in enumerate(row):
                                D[j, t] = v * f
                        z = z + S * D
            fresh[l] = z is not self.z[l]
            if fresh[l]:
                e, d1 = z.entries(), z.ncols()
                self.z[l], self.rows[l - 1] = z, list(zip(*(e[t::d1] for t in range(d1))))
            if l < len(self.layers):  # the constraints of hidden layer l: g = z (on), -z (off)
                rows, s = self.rows[l - 1], pattern[l - 1]
                if fresh[l]:
                    self.signed[l - 1] = [g if ch == "1" else tuple(-v for v in g) for g, ch in zip(rows, s)]
                for j in () if fresh[l] else changed[l - 1]:
                    self.signed[l - 1][j] = rows[j] if s[j] == "1" else tuple(-v for v in rows[j])
        self.pattern = pattern
        return RegionMaps(tuple(chain.from_iterable(self.signed)), tuple(self.rows[-1]), fmpz_mat,
                          tuple(L.denominator for L in self.layers))


def _differences(old: str, new: str) -> list[int]:
    """The positions where two strings of the same length and characters below 128 differ: the
    nonzero bytes of their codes xor-ed (one integer each; a character-by-character loop cost 3x)."""
    xor = int.from_bytes(old.encode(), "big") ^ int.from_bytes(new.encode(), "big")
    return list(compress(count(), xor.to_bytes(len(new), "big")))


class Checked(NamedTuple):
    """The constraints of a region that checks 1-3 evaluate at points (``Kernels.checked``): their
    positions, rows and matrices; and the outputs (check 5) with the layers' denominators."""

    positions: "tuple[int, ...] | range"
    rows: tuple[Row, ...]
    block: "fmpq_mat | fmpz_mat"  # the rows as one matrix
    outputs: tuple[Row, ...]
    denominators: tuple


def every_row(maps: RegionMaps, facets: list[int]) -> Checked:
    """Reference: every constraint of the region."""
    C, d1 = maps.constraints, len(maps.outputs[0])
    return Checked(range(len(C)), C, maps.kind(len(C), d1, [v for g in C for v in g]), maps.outputs, maps.denominators)


def facet_rows(maps: RegionMaps, facets: list[int]) -> Checked:
    """Fast: the constraints of the listed facets (positions ``facets``) only; with check 4 on the
    region (and check 1's constant constraints), the others' signs follow (``proofs/facet-checks.md``)."""
    positions = tuple(sorted(set(facets)))
    rows = tuple(map(maps.constraints.__getitem__, positions))
    block = maps.kind(len(rows), len(maps.outputs[0]), [v for g in rows for v in g])
    return Checked(positions, rows, block, maps.outputs, maps.denominators)


def _nonconstant(g: Row) -> bool:
    return any(g[:-1])


def _exact(row: Row, denominator) -> Row:
    return tuple(fmpq(v) / denominator for v in row)


def _value(g: Row, p: tuple) -> fmpq:
    """g(p), exactly."""
    return sum((a * x for a, x in zip(g, p)), fmpq(0)) + g[-1]


def _positive_multiple(g: Row, h: Row) -> bool:
    """g = t h for some t > 0 (h non-constant): with h_i != 0, t = g_i / h_i (no division)."""
    i = next(i for i, v in enumerate(h) if v != 0)
    return g[i] * h[i] > 0 and all(a * h[i] == b * g[i] for a, b in zip(g, h))


def _not_positive(values: list, zero=fmpz(0)) -> list[int]:
    """Positions of the values that are <= 0 (compared with an fmpz 0: faster than with the int)."""
    return [t for t, v in enumerate(values) if v <= zero]


# ----- speed tricks and their references -------------------------------------------------------------

def signs_at(C: fmpq_mat | fmpz_mat, points: list[tuple]) -> list[list]:
    """Per point, the values of every row (a | c) of the matrix C at it, each times the same
    positive integer, so with the same signs: one integer matrix product.

    C = N / D and the points' matrix P = Pn / Dp (integer N, Pn, positive D, Dp: flint's
    numer_denom; D = 1 for an integer C), so C P = (N Pn) / (D Dp); integers spare reducing
    every fraction.
    """
    k, n = len(points), C.ncols()
    Pn, _ = fmpq_mat(n, k, [p[t] if t < n - 1 else 1 for t in range(n) for p in points]).numer_denom()
    e = ((C if isinstance(C, fmpz_mat) else C.numer_denom()[0]) * Pn).entries()
    return [e[j::k] for j in range(k)]


def signs_at_reference(C: fmpq_mat | fmpz_mat, points: list[tuple]) -> list[list]:
    """Per point, the exact value g(p) of every row g of C, one at a time."""
    rows = [tuple(C[i, j] for j in range(C.ncols())) for i in range(C.nrows())]
    return [[_value(g, p) for g in rows] for p in points]


def first_wrong_identity(facets: list[Row], entries: list[tuple], targets: list[Row]) -> tuple[int, int] | None:
    """The first (entry, coefficient) where sum_f m_f g_f + mu != target, or None.

    ``entries[i]`` = (m_0, ..., m_{F-1}, mu) densely; all identities in one matrix product.
    """
    d1 = len(targets[0])
    basis = fmpq_mat(len(facets) + 1, d1, [v for g in facets for v in g] + [0] * (d1 - 1) + [1])
    combos = fmpq_mat(len(entries), len(facets) + 1, [v for row in entries for v in row]) * basis
    if combos == fmpq_mat(len(targets), d1, [v for g in targets for v in g]):
        return None
    return next((i, t) for i, g in enumerate(targets) for t in range(d1) if combos[i, t] != g[t])


def first_wrong_identity_reference(facets: list[Row], entries: list[tuple],
                                   targets: list[Row]) -> tuple[int, int] | None:
    """Each identity on its own, coefficient by coefficient."""
    for i, (row, g) in enumerate(zip(entries, targets)):
        for t in range(len(g)):
            value = sum((m * G[t] for m, G in zip(row, facets)), fmpq(0)) + (row[-1] if t == len(g) - 1 else 0)
            if value != g[t]:
                return i, t
    return None


@dataclass(frozen=True)
class ImpliedOutcome:
    """The solution X of M X = T (columns of M: facets, then the constant function 1)."""

    independent: bool  # the columns of M are linearly independent (so X is unique if it exists)
    fits: bool = False  # M X = T has a solution
    negative: int | None = None  # the first target (column of T) whose solution has a negative entry


def _first_negative(entries: list, ncols: int) -> int | None:
    return min((e % ncols for e, v in enumerate(entries) if v < 0), default=None)


def implied_multipliers(M: fmpq_mat | fmpz_mat, T: fmpq_mat | fmpz_mat) -> ImpliedOutcome:
    """Decide M X = T fast.

    Square (d + 1 columns): X = M^-1 T. With M = Mn / Dm, T = Tn / Dt (integers, Dm, Dt > 0;
    1 for integer matrices) and Mn^-1 = adj(Mn) / det(Mn): X = Dm adj(Mn) Tn / (det(Mn) Dt), so
    the signs of X are those of the integer product adj(Mn) Tn times the sign of det(Mn).
    Otherwise (fewer columns, as with a lineality space): the normal equations' solution is the
    only candidate, and it must fit exactly.
    """
    if M.nrows() == M.ncols():
        Mn, Tn = [A if isinstance(A, fmpz_mat) else A.numer_denom()[0] for A in (M, T)]
        det = Mn.det()
        if det == 0:
            return ImpliedOutcome(False)
        adjugate = (Mn.inv() * abs(det)).numer_denom()[0]  # integer: |det(Mn)| Mn^-1 = sign(det(Mn)) adj(Mn)
        product = (adjugate * Tn).entries()
        return ImpliedOutcome(True, True, None if min(product, default=0) >= 0 else _first_negative(product, T.ncols()))
    M, T = fmpq_mat(M), fmpq_mat(T)
    try:
        X = (M.transpose() * M).solve(M.transpose() * T)
    except ZeroDivisionError:  # M^T M is singular iff the columns of M are dependent
        return ImpliedOutcome(False)
    if M * X != T:
        return ImpliedOutcome(True, False)
    return ImpliedOutcome(True, True, _first_negative(X.entries(), T.ncols()))


def implied_multipliers_reference(M: fmpq_mat, T: fmpq_mat) -> ImpliedOutcome:
    """Decide M X = T by row reduction of [M | T] over the rationals."""
    M, T = fmpq_mat(M), fmpq_mat(T)
    rows, cols, n = M.nrows(), M.ncols(), T.ncols()
    _, rank = M.rref()
    if rank < cols:
        return ImpliedOutcome(False)
    R, _ = fmpq_mat(rows, cols + n, [v for i in range(rows) for v in
                                      [M[i, j] for j in range(cols)] + [T[i, j] for j in range(n)]]).rref()
    # M has full column rank: rows 0..cols-1 of R read [I | X], the rows below must read [0 | 0]
    if any(R[i, cols + j] != 0 for i in range(cols, rows) for j in range(n)):
        return ImpliedOutcome(True, False)
    return ImpliedOutcome(True, True, _first_negative([R[i, cols + j] for i in range(cols) for j in range(n)], n))


@dataclass(frozen=True)
class Kernels:
    """The arithmetic that checks 1-4 rely on, fast or plain."""

    signs_at: Callable[[fmpq_mat, list], list]
    first_wrong_identity: Callable[[list, list, list], Any]
    implied_multipliers: Callable[[fmpq_mat, fmpq_mat], ImpliedOutcome]
    maps: Callable[[Network], "IntegerMaps | RationalMaps"]
    checked: Callable[[RegionMaps, list[int]], Checked]  # the rows checks 1-3 evaluate, given the facets' positions
    progress: Callable[[int, int], None] | None = None  # progress(done, total) over the regions
    part: tuple[int, int] = (0, 1)  # (k, parts): checks 1-5 of region r here when r * parts // count == k


FAST = Kernels(signs_at, first_wrong_identity, implied_multipliers, IntegerMaps, facet_rows)
REFERENCE = Kernels(signs_at_reference, first_wrong_identity_reference, implied_multipliers_reference, RationalMaps,
                    every_row)


# ----- the checks ------------------------------------------------------------------------------------

def check_well_formed(net: Network, layout: Layout, regions) -> None:
    """Lengths and indices that the checks below rely on (wrong ones make the certificate invalid)."""
    require(len(regions), "the region graph has no regions (an empty list would pass checks 1-5 vacuously)")
    for r, R in enumerate(regions):
        check_region_well_formed(net, layout, r, R, len(regions))


def check_region_well_formed(net: Network, layout: Layout, r: int, R: Region, count: int) -> None:
    """``check_well_formed`` for region r of ``count``."""
    d, widths = net.input_dim, list(layout.widths)
    if len(R.pattern) != len(widths) or not all(len(s) == n and set(s) <= {"0", "1"} for s, n in zip(R.pattern, widths)):
        raise Invalid(f"region {r}: pattern {list(R.pattern)} is not one string of 0/1 per hidden layer of widths "
                      f"{widths}")  # (messages in hot code are written only on failure)
    lean = R.interior_point is None  # (a region that another part checks: no points read, none checked here)
    if not lean and len(R.interior_point) != d:
        raise Invalid(f"region {r}: the interior point has {len(R.interior_point)} coordinates, expected {d}")
    for i, F in enumerate(R.facets):
        if layout.position(F.neuron) is None or not lean and len(F.point) != d or not 0 <= F.neighbor < count:
            w = f"region {r}, facet {i}"
            require(layout.position(F.neuron) is not None, f"{w}: the network has no {F.neuron}")
            if not lean:
                require(len(F.point) == d, f"{w}: the point has {len(F.point)} coordinates, expected {d}")
            require(0 <= F.neighbor < count, f"{w}: neighbor {F.neighbor} is not a region index")


def check_interior_point(r: int, R: Region, maps: RegionMaps, checked: Checked, values: list,
                         layout: Layout) -> None:
    """Check 1 (``proofs/completeness.md``, Lemma 2 (1)): every non-constant constraint of the
    region is > 0 at its interior point, every constant one >= 0; so P_s is full-dimensional.
    ``values``: those of the ``checked`` rows at the point; the constants are read off the rows."""
    bad = [checked.positions[j] for j in _not_positive(values) if _nonconstant(checked.rows[j]) or values[j] < 0]
    bad += [t for t, g in enumerate(maps.constraints) if not g[0] and g[-1] < 0 and not _nonconstant(g)]
    if bad:
        neuron = layout.neuron(min(bad))
        value = _value(maps.constraints[min(bad)], R.interior_point) / maps.denominators[neuron.layer - 1]
        raise Invalid(f"region {r}: the constraint of {neuron} is {short(value)} at the interior point")


def check_facet_relative_interior(r: int, i: int, F: Facet, maps: RegionMaps, checked: Checked, values: list,
                                  layout: Layout) -> Row:
    """Check 2 (Lemma 2 (3)): the facet's constraint g is non-constant, g(point) = 0, and every
    other non-constant constraint (of the ``checked`` rows, whose ``values`` at the point are
    given) is > 0 at the point or a positive multiple of g; so the point is in the relative
    interior of the (d-1)-dimensional facet P_s ∩ {g = 0}.  Returns g."""
    w, position = f"region {r}, facet {i}", layout.position(F.neuron)
    g = maps.constraints[position]
    if not _nonconstant(g) or values[checked.positions.index(position)] != 0:
        require(_nonconstant(g), f"{w}: the constraint of {F.neuron} is constant")
        raise Invalid(f"{w}: the point is not on the hyperplane of {F.neuron}")
    for j in _not_positive(values):
        if _nonconstant(checked.rows[j]) and not _positive_multiple(checked.rows[j], g):
            neuron = layout.neuron(checked.positions[j])
            value = _value(checked.rows[j], F.point) / maps.denominators[neuron.layer - 1]
            raise Invalid(f"{w}: the point is not in the relative interior of the facet (the constraint of {neuron} "
                          f"is {short(value)} there)")
    return g


def check_neighbour_across(r: int, i: int, F: Facet, g: Row, neighbour: Checked, values: list,
                           layout: Layout) -> None:
    """Check 3 (Lemma 3): every non-constant constraint of the neighbour N (of its ``checked``
    rows, whose ``values`` at the point are given) that is <= 0 at the point is a positive
    multiple of -g, and there is at least one; so N contains the other side of the facet near
    the point, hence along the whole facet."""
    w, minus_g, across = f"region {r}, facet {i}", tuple(-v for v in g), False
    for j in _not_positive(values):
        if _nonconstant(neighbour.rows[j]):
            if not _positive_multiple(neighbour.rows[j], minus_g):
                raise Invalid(f"{w}: region {F.neighbor} does not contain the other side of the facet near the "
                              f"point (the constraint of {layout.neuron(neighbour.positions[j])})")
            across = True
    if not across:
        raise Invalid(f"{w}: region {F.neighbor} has no constraint on the facet's hyperplane (it is not across)")


def check_bends(r: int, i: int, F: Facet, g: Row, region: RegionMaps, neighbour: RegionMaps,
                outputs: list[int]) -> None:
    """Check 5 (``proofs/facet-bends.md``): with n = -grad g (pointing from the region into the
    neighbour), every listed output bends by (grad_N - grad_R) . n >= 0 across the facet.  (The
    outputs of both regions share one denominator, so the bend is D_L D_g > 0 times the true one.)"""
    for k in outputs:
        bend = sum(((b - a) * -c for a, b, c in zip(region.outputs[k][:-1], neighbour.outputs[k][:-1], g[:-1])),
                   fmpq(0))
        if bend < 0:
            bend = bend / region.denominators[-1] / region.denominators[F.neuron.layer - 1]
            raise Invalid(f"region {r}, facet {i}: output {k} bends by {short(bend)} < 0 across the facet into "
                          f"region {F.neighbor}")


def _farkas_rows(r: int, R: Region, layout: Layout, facet_count: int) -> list[tuple]:
    """The explicit entries as dense rows (m_0, ..., m_{F-1}, mu), after checking their shape."""
    rows = []
    for i, E in enumerate(R.redundant):
        w = f"region {r}, redundant {i}"
        require(layout.position(E.neuron) is not None, f"{w}: the network has no {E.neuron}")
        support = E.support
        if support is None:
            require(len(E.multipliers) == facet_count, f"{w}: {len(E.multipliers)} multipliers for {facet_count} facets")
            support = range(facet_count)
        else:
            require(len(E.multipliers) == len(support),
                    f"{w}: {len(E.multipliers)} multipliers for {len(support)} support facets")
            require(len(set(support)) == len(support) and all(0 <= f < facet_count for f in support),
                    f"{w}: the support {list(support)} does not name distinct facets of the region")
        require(all(m >= 0 for m in E.multipliers) and E.constant >= 0, f"{w}: a multiplier or the constant is negative")
        row = [fmpq(0)] * (facet_count + 1)
        for m, f in zip(E.multipliers, support):
            row[f] = m
        row[-1] = E.constant
        rows.append(tuple(row))
    return rows


_BIT = bytes.maketrans(b"01", b"\x00\x01")  # marks (read: only "0" and "1") as bytes 0 and 1


def _check_implied_group(w: str, group: ImpliedGroup, maps: RegionMaps, facet_constraints: list[Row],
                         layout: Layout, kernels: Kernels) -> list[int]:
    """An implied group's constraints g = sum_f lambda_f g_f + mu with lambda, mu >= 0: the facets'
    rows and the constant are independent, so the solution is unique; it must exist and be
    nonnegative.  Returns the positions of the group's neurons."""
    F = facet_constraints
    if len(set(group.facets)) != len(group.facets) or not all(0 <= f < len(F) for f in group.facets):
        raise Invalid(f"{w}: the facets {list(group.facets)} are not distinct facets of the region")
    if group.neurons and type(group.neurons[0]) is str:  # marks: position starts[l - 1] + j where string l - 1 has "1"
        widths = layout.widths  # a "1" past its layer's width, or in a string past the hidden layers, names no neuron
        beyond = [(l, m.find("1", widths[l - 1] if l <= len(widths) else 0)) for l, m in enumerate(group.neurons, 1)]
        beyond = [(l, j) for l, j in beyond if j >= 0]
        if beyond:
            raise Invalid(f"{w}: the network has no {Neuron(*beyond[0])}")
        bits = [m.encode().translate(_BIT) for m in group.neurons]
        positions = [p for a, b in zip(layout.starts, bits) for p in compress(count(a), b)]
    else:
        positions = list(map(layout.positions.get, group.neurons))
        if None in positions:  # (the message is only written when needed: this is hot)
            raise Invalid(f"{w}: the network has no {Neuron(*group.neurons[positions.index(None)])}")
    d1, kind, C = len(maps.outputs[0]), maps.kind, maps.constraints  # d + 1; fmpq_mat or fmpz_mat
    columns = [F[f] for f in group.facets] + [(0,) * (d1 - 1) + (1,)]  # the last one: the constant 1
    M = kind(d1, len(columns), [g[t] for t in range(d1) for g in columns])
    T = kind(len(positions), d1, list(chain.from_iterable(map(C.__getitem__, positions)))).transpose()
    outcome = kernels.implied_multipliers(M, T)
    if not outcome.fits or outcome.negative is not None:
        require(outcome.independent, f"{w}: the facets {list(group.facets)} and the constant are not linearly "
                                     f"independent")
        require(outcome.fits, f"{w}: some listed constraint is not a combination of the facets {list(group.facets)} "
                              f"and a constant")
        raise Invalid(f"{w}: the constraint of {layout.neuron(positions[outcome.negative])} needs a negative multiplier")
    return positions


def check_farkas_redundancy(r: int, R: Region, maps: RegionMaps, facet_constraints: list[Row], layout: Layout,
                            kernels: Kernels) -> None:
    """Check 4 (Lemma 2 (2) and (4)): every non-constant constraint that is not a positive
    multiple of a listed facet's g is a nonnegative combination of the facets' g and a
    nonnegative constant (a ``redundant`` entry, or an ``implied`` group whose multipliers
    the checker solves for); so P_s is the intersection of its listed facets' half-spaces.
    (Implied groups read the rows as they are: a positive factor per row keeps the signs of the
    multipliers; the identities of the entries divide the rows by their layers' denominators.)"""
    proved = {layout.position(F.neuron) for F in R.facets}
    rows = _farkas_rows(r, R, layout, len(facet_constraints))
    if rows:
        exact = [_exact(g, maps.denominators[F.neuron.layer - 1]) for g, F in zip(facet_constraints, R.facets)]
        targets = [_exact(maps.constraints[layout.position(E.neuron)], maps.denominators[E.neuron.layer - 1])
                   for E in R.redundant]
        wrong = kernels.first_wrong_identity(exact, rows, targets)
        if wrong is not None:
            i, t = wrong
            where = "the constant term" if t == len(targets[0]) - 1 else f"coefficient {t}"
            raise Invalid(f"region {r}, redundant {i}: the Farkas identity for {R.redundant[i].neuron} fails at {where}")
        proved.update(layout.position(E.neuron) for E in R.redundant)
    for i, group in enumerate(R.implied):
        proved.update(_check_implied_group(f"region {r}, implied {i}", group, maps, facet_constraints, layout, kernels))
    for t in sorted(set(range(len(maps.constraints))).difference(proved)):  # (the others are proved: 40 us less)
        g = maps.constraints[t]
        if _nonconstant(g) and not any(_positive_multiple(g, G) for G in facet_constraints):
            raise Invalid(f"region {r}: the constraint of {layout.neuron(t)} is neither a listed facet nor proved "
                          f"redundant")


def _counted(items, progress, total: int):
    """``items``, calling ``progress(done, total)`` every 16 items."""
    if progress is None:
        yield from items
        return
    done = 0
    for item in items:
        if done % 16 == 0:
            progress(done, total)
        yield item
        done += 1
    progress(done, total)


class _Recent:
    """What checks 3 and 5 need of recently checked regions (``Checked``), up to a memory budget;
    older ones are recomputed from their pattern and facets (kept compactly) when a later region
    names them as neighbour.  Breadth-first certificates name mostly recent neighbours."""

    BUDGET = 128 << 20  # bytes, estimated (about 80 per number, measured with tracemalloc: 60)

    def __init__(self, net: Network, compute: Callable[[tuple], RegionMaps], checked: Callable):
        from collections import OrderedDict

        self.compute, self.checked, self.items, self.keys, self.size = compute, checked, OrderedDict(), [], 0
        self.d1 = net.input_dim + 1

    def _put(self, r: int, item: Checked) -> None:
        self.items[r] = item
        self.size += 80 * self.d1 * (len(item.rows) + len(item.outputs)) + 400
        while self.size > self.BUDGET and len(self.items) > 1:
            old = self.items.popitem(last=False)[1]
            self.size -= 80 * self.d1 * (len(old.rows) + len(old.outputs)) + 400

    def add(self, r: int, pattern: tuple[str, ...], facets: list[int], item: Checked | None) -> None:
        self.keys.append("|".join(pattern).encode("ascii") + b"#" + bytes(array("I", facets)))  # one object each
        if item is not None:  # (None: not computed here, only if a later region names it)
            self._put(r, item)

    def get(self, r: int) -> Checked:
        item = self.items.get(r)
        if item is None:
            pattern, _, facets = self.keys[r].partition(b"#")  # (the pattern has no "#")
            item = self.checked(self.compute(tuple(pattern.decode("ascii").split("|"))), list(array("I", facets)))
            self._put(r, item)
        else:
            self.items.move_to_end(r)
        return item


def check_region_graph(net: Network, regions, outputs: list[int], kernels: Kernels = FAST) -> tuple[int, int]:
    """Checks 1-4 on every region and check 5 for ``outputs``; returns (regions, facets), a
    facet counted once per pair of regions that share it.

    One pass over the regions, in order (``regions`` may be streamed from a file: only its
    length, iteration and nothing else are used), with memory for one region's maps, what checks
    3 and 5 need of recent regions (``_Recent``) and, per region not yet reached, the facet points
    of earlier regions that name it as neighbour: checks 3 and 5 of a facet run when both of its
    regions have been read (the neighbour's rows at the facet point: from the later one's own
    evaluation, or from the earlier one's rows, kept or recomputed).  Check 1 of a region runs
    when it is read, before the checks of its facets and of those that name it.

    With ``kernels.part`` = (k, parts), the checks of the regions and facets of part k only (a
    facet belongs to the region that lists it); the parts of 0, ..., parts - 1 together make the
    checks of one pass (``verify(..., jobs=parts)``).  Every part reads every region, checks
    the form of its pattern and facets' neurons and neighbours, and counts its facets."""
    layout, compute = Layout.of(net), kernels.maps(net)
    n = len(regions)
    require(n, "the region graph has no regions (an empty list would pass checks 1-5 vacuously)")
    part, parts = kernels.part
    mine = lambda r: r * parts // n == part  # noqa: E731
    recent = _Recent(net, compute, kernels.checked)
    waiting: dict[int, list] = {}  # region -> (earlier region, facet index, facet, g, its Checked)
    shared = set()
    items = regions.read(mine) if isinstance(regions, StreamedRegions) else regions
    for r, R in _counted(enumerate(items), kernels.progress, n):
        check_region_well_formed(net, layout, r, R, n)
        facets = [layout.position(F.neuron) for F in R.facets]
        shared.update(min(r, F.neighbor) * n + max(r, F.neighbor) for F in R.facets)
        incoming = waiting.pop(r, [])
        own = mine(r)
        if not (own or incoming):  # another part checks this region
            recent.add(r, R.pattern, facets, None)
            continue
        maps = compute(R.pattern)
        checked = kernels.checked(maps, facets)
        points: list = []  # each distinct point once
        for p in [*((R.interior_point, *(F.point for F in R.facets)) if own else ()),
                  *(item[2].point for item in incoming)]:
            if p not in points:
                points.append(p)
        values = kernels.signs_at(checked.block, points)
        if own:
            check_interior_point(r, R, maps, checked, values[0], layout)
        for q, i, F, g, earlier in incoming:  # facets of earlier regions first, in their order
            check_neighbour_across(q, i, F, g, checked, values[points.index(F.point)], layout)
            check_bends(q, i, F, g, earlier, checked, outputs)
        if own:
            facet_constraints = []
            for i, F in enumerate(R.facets):
                g = check_facet_relative_interior(r, i, F, maps, checked, values[points.index(F.point)], layout)
                facet_constraints.append(g)
                if F.neighbor > r:
                    waiting.setdefault(F.neighbor, []).append((r, i, F, g, checked))
                else:
                    neighbour = checked if F.neighbor == r else recent.get(F.neighbor)
                    check_neighbour_across(r, i, F, g, neighbour, kernels.signs_at(neighbour.block, [F.point])[0],
                                           layout)
                    check_bends(r, i, F, g, checked, neighbour, outputs)
            check_farkas_redundancy(r, R, maps, facet_constraints, layout, kernels)
        recent.add(r, R.pattern, facets, checked)
    return n, len(shared)
