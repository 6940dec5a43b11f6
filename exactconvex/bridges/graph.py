"""From a model's graph to the exact network, and the comparison with the model's forward pass.

Both bridges (``torch.py``: ``torch.export`` programs, ``onnx.py``: ONNX graphs) walk the
model's graph in execution order and give every tensor value one of two meanings:

* a **constant** (a parameter, a buffer, a literal, or anything computed from those only);
* an **affine value** (:class:`Affine`): per sample, a vector of n numbers that is an exact
  affine function ``sum_k T_k h_k + c`` of the input x (source 0) and of the outputs h_k of
  the activations met so far (sources 1, 2, ...).

Affine operations (Linear, +, -, * and / by constants, BatchNorm in eval mode, slicing,
concatenation) combine affine values exactly.  A ReLU / LeakyReLU applied to an affine value
z creates a new source (a :class:`Group` of neurons with pre-activation z and one slope) and
the value "identity on that source".  Anything else that touches an affine value is refused
by the bridge, naming the operation and where it sits in the model.

:func:`build_network` then lays the groups out as the layers of the exact network:

* the *depth* of a group is 1 + the largest depth of the sources its pre-activation reads
  (the input has depth 0): the longest path from the input;
* one hidden layer holds the groups of one depth and one slope.  Two groups at the same depth
  with different slopes go into different, consecutive layers (the slopes ordered by their
  first appearance in the forward pass); a layer that does not read its predecessor gets an
  all-zero main weight and reads its real sources through skips, which the format allows from
  any earlier layer;
* the output layer reads the output's sources: the last hidden layer through its weight,
  every other source through a skip.

Connections are kept as the model has them: a source that an operation reads stays a
connection even when its matrix happens to be zero (so a network written out by
``to_torch`` / ``save_onnx`` reads back as the same network, skips included).  Groups that the
output does not depend on are dropped.

:func:`compare` evaluates the exact network at fixed random points (exactly) and the model's
own forward pass (in float64 where possible), and refuses the import when they differ by
more than float rounding explains (see its docstring for the tolerance).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

from flint import fmpq, fmpq_mat

from ..network.formats import FormatError
from ..network.model import Layer, Network

__all__ = ["Affine", "Group", "GraphState", "build_network", "compare", "exact_matrix", "exact_vector",
           "COMPARISON_POINTS", "network_floats", "nearest_float", "RoundingWarning"]

ONE = fmpq(1)
ZERO = fmpq(0)


def _float(q: fmpq) -> float:
    """float(q), or +-inf beyond the float range."""
    try:
        return float(q)
    except OverflowError:
        return float("inf") if q > 0 else float("-inf")


def _q(value: float) -> fmpq:
    p, q = float(value).as_integer_ratio()
    return fmpq(p, q)


def exact_matrix(rows: Sequence[Sequence[float]], where: str) -> fmpq_mat:
    """An fmpq matrix holding the exact values of float (or int) entries; refuses nan / inf."""
    rows = [list(r) for r in rows]
    ncols = len(rows[0]) if rows else 0
    flat = []
    for r in rows:
        for v in r:
            flat.append(_exact_number(v, where))
    return fmpq_mat(len(rows), ncols, flat)


def exact_vector(values: Sequence[float], where: str) -> fmpq_mat:
    """A column of exact values."""
    return fmpq_mat(len(values), 1, [_exact_number(v, where) for v in values])


def _exact_number(v, where: str) -> fmpq:
    if isinstance(v, bool):
        return fmpq(int(v))
    if isinstance(v, int):
        return fmpq(v)
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise FormatError(f"{where}: holds {v}, not a finite number")
    return _q(v)


# ----- affine values ------------------------------------------------------------------------

def _identity_rows(c: fmpq, width: int) -> fmpq_mat:
    m = fmpq_mat(width, width)
    for i in range(width):
        m[i, i] = c
    return m


class Affine:
    """Per sample: ``sum_k T_k h_k + const``, a vector of ``width`` numbers.

    ``terms`` maps a source (0 = the input, g >= 1 = activation group g) to its matrix
    (width x source width), or to an ``fmpq`` c meaning c times the identity (cheap for the
    common "the output of this activation" value).  ``rank`` is 2 for (batch, width) tensors
    and 1 for (batch,) tensors (width 1).  ``raw_activation`` names the activation whose output
    this value is, untouched by any affine map since (a trailing activation is refused).
    """

    __slots__ = ("terms", "const", "width", "rank", "raw_activation")

    def __init__(self, terms: dict, const: fmpq_mat, width: int, rank: int = 2, raw_activation: str | None = None):
        self.terms = terms
        self.const = const
        self.width = width
        self.rank = rank
        self.raw_activation = raw_activation

    @classmethod
    def source(cls, k: int, width: int, raw_activation: str | None = None) -> "Affine":
        return cls({k: ONE}, fmpq_mat(width, 1), width, 2, raw_activation)

    @classmethod
    def constant(cls, values: fmpq_mat) -> "Affine":
        return cls({}, values, values.nrows(), 2)

    def with_rank(self, rank: int) -> "Affine":
        return Affine(self.terms, self.const, self.width, rank, self.raw_activation)

    def kept(self) -> "Affine":
        """The same value (an identity-like operation: clone, view, eval-mode dropout...)."""
        return Affine(self.terms, self.const, self.width, self.rank, self.raw_activation)

    @staticmethod
    def _dense(t, width: int) -> fmpq_mat:
        return _identity_rows(t, width) if isinstance(t, fmpq) else t

    def left_mul(self, W: fmpq_mat) -> "Affine":
        """W times the value (W: m x width)."""
        terms = {}
        for k, t in self.terms.items():
            if isinstance(t, fmpq):
                terms[k] = W if t == ONE else W * t
            else:
                terms[k] = W * t
        return Affine(terms, W * self.const, W.nrows(), 2)

    def scale(self, c: fmpq) -> "Affine":
        terms = {k: t * c for k, t in self.terms.items()}
        return Affine(terms, self.const * c, self.width, self.rank)

    def scale_rows(self, cs: Sequence[fmpq]) -> "Affine":
        """diag(cs) times the value."""
        if len(set(cs)) == 1:
            return self.scale(cs[0])
        D = fmpq_mat(self.width, self.width)
        for i, c in enumerate(cs):
            D[i, i] = c
        out = self.left_mul(D)
        out.rank = self.rank
        return out

    def add(self, other: "Affine") -> "Affine":
        if self.width != other.width:
            raise ValueError("widths differ")
        terms = dict(self.terms)
        for k, t in other.terms.items():
            if k not in terms:
                terms[k] = t
            else:
                a = terms[k]
                if isinstance(a, fmpq) and isinstance(t, fmpq):
                    terms[k] = a + t
                else:
                    terms[k] = self._dense(a, self.width) + self._dense(t, self.width)
        return Affine(terms, self.const + other.const, self.width, max(self.rank, other.rank))

    def add_const(self, c: fmpq_mat) -> "Affine":
        return Affine(dict(self.terms), self.const + c, self.width, self.rank)

    def rows(self, index: Sequence[int], source_widths: dict) -> "Affine":
        """The value restricted to the given rows (in that order; repeats allowed)."""
        index = list(index)
        if index == list(range(self.width)):
            return self.kept()
        terms = {}
        for k, t in self.terms.items():
            w = source_widths[k]
            m = fmpq_mat(len(index), w)
            if isinstance(t, fmpq):
                for r, i in enumerate(index):
                    m[r, i] = t
            else:
                for r, i in enumerate(index):
                    for j in range(w):
                        m[r, j] = t[i, j]
            terms[k] = m
        const = fmpq_mat(len(index), 1, [self.const[i, 0] for i in index])
        raw = self.raw_activation  # a slice of an activation's output is still that output
        return Affine(terms, const, len(index), 2, raw)

    @staticmethod
    def concat(parts: Sequence["Affine"], source_widths: dict) -> "Affine":
        width = sum(p.width for p in parts)
        sources = []
        for p in parts:
            for k in p.terms:
                if k not in sources:
                    sources.append(k)
        terms = {}
        for k in sources:
            m = fmpq_mat(width, source_widths[k])
            r0 = 0
            for p in parts:
                if k in p.terms:
                    block = Affine._dense(p.terms[k], p.width)
                    for i in range(p.width):
                        for j in range(source_widths[k]):
                            v = block[i, j]
                            if v != 0:
                                m[r0 + i, j] = v
                r0 += p.width
            terms[k] = m
        const = fmpq_mat(width, 1, [v for p in parts for v in p.const.entries()])
        raw = next((p.raw_activation for p in parts if p.raw_activation), None)
        return Affine(terms, const, width, 2, raw)


@dataclass
class Group:
    """Neurons created by one activation: pre-activation ``pre``, LeakyReLU slope ``slope``."""

    pre: Affine
    slope: fmpq
    where: str

    @property
    def width(self) -> int:
        return self.pre.width


@dataclass
class GraphState:
    """The input dimension, the activation groups met so far, and the notes of the reading."""

    input_dim: int
    groups: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def source_widths(self) -> dict:
        widths = {0: self.input_dim}
        for g, group in enumerate(self.groups, start=1):
            widths[g] = group.width
        return widths

    def input(self) -> Affine:
        return Affine.source(0, self.input_dim)

    def activation(self, z: Affine, slopes: Sequence[fmpq], where: str) -> Affine:
        """The (Leaky)ReLU of z, with one slope per row: one new group per distinct slope."""
        distinct: list = []
        for s in slopes:
            if s not in distinct:
                distinct.append(s)
        widths = self.source_widths
        if len(distinct) == 1:
            self.groups.append(Group(z.kept(), distinct[0], where))
            return Affine.source(len(self.groups), z.width, raw_activation=where).with_rank(z.rank)
        # per-row slopes (PReLU with one slope per feature): one group per slope, then the rows
        # are put back in their places
        placed = {}
        for s in distinct:
            index = [i for i, t in enumerate(slopes) if t == s]
            self.groups.append(Group(z.rows(index, widths), s, where))
            g = len(self.groups)
            for r, i in enumerate(index):
                placed[i] = (g, r)
        terms = {}
        for i in range(z.width):
            g, r = placed[i]
            m = terms.setdefault(g, fmpq_mat(z.width, self.groups[g - 1].width))
            m[i, r] = ONE
        return Affine(terms, fmpq_mat(z.width, 1), z.width, z.rank, where)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters), for error messages.

    Examples
    --------
    >>> first_line(ValueError("bad shape\\ndetails follow")), first_line(KeyError())
    ('bad shape', 'KeyError')
    """
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def precision_name(dtype) -> str:
    """"float64" or "float32" for a dtype given by name, numpy or torch dtype (None: float64).

    Examples
    --------
    >>> import numpy as np
    >>> precision_name(None), precision_name("double"), precision_name(np.float32)
    ('float64', 'float64', 'float32')
    """
    if dtype is None:
        return "float64"
    name = dtype.__name__ if isinstance(dtype, type) else (getattr(dtype, "name", None) or str(dtype))
    name = name.replace("torch.", "")
    if name in ("float64", "double"):
        return "float64"
    if name in ("float32", "float"):
        return "float32"
    raise FormatError(f"dtype {dtype!r}: expected float64 or float32")


def trailing_activation_check(where: str, out, last_map: str) -> "Affine":
    """The model's output value, refused unless it is affine and not straight out of an activation
    (the output layer of the exact network format is linear); ``last_map`` names the operation
    that ends a model right in the bridge's own words."""
    if not isinstance(out, Affine):
        raise FormatError(f"{where}: the model's output does not depend on its input")
    if out.raw_activation:
        raise FormatError(
            f"{where}: the model's output comes straight out of the activation at {out.raw_activation}: "
            f"a trailing activation after the last affine map is not supported, because the output layer "
            f"of the exact network format is linear (remove the final activation, or end the model with "
            f"{last_map})")
    return out


class GraphReader:
    """What both bridges' graph walkers share: notes, broadcasting, the affine arithmetic of
    +, -, * and / by constants, and activations.  A subclass sets ``where`` and ``state`` and
    provides ``place(node)``, ``refuse(node, reason)`` and ``exact(node, constant, what)``."""

    where: str
    state: GraphState | None

    def __init__(self, where: str):
        self.where = where
        self.state = None
        self._noted: set = set()

    def place(self, node) -> str:
        raise NotImplementedError

    def refuse(self, node, reason: str):
        raise NotImplementedError

    def exact(self, node, constant, what: str) -> fmpq_mat:
        raise NotImplementedError

    def note(self, key, text: str) -> None:
        """Add ``text`` to the notes of the reading, once per ``key``."""
        if key not in self._noted:
            self._noted.add(key)
            self.state.notes.append(text)

    def note_rounded_fold(self, key, op: str, node) -> None:
        self.note(key, f"{op} of constants at {self.place(node)} was computed in float64 and read as the exact "
                       f"value of that float (it may round)")

    # --- constants against affine values ---
    def per_sample_entries(self, node, constant, shape: tuple, width: int, rank: int, what: str) -> tuple[list, int]:
        """A constant of this shape broadcast against a (batch, width) value (rank 2) or a (batch,)
        value (rank 1): its per-sample entries and the broadcast width.  Scalars, (n,), (1, n) and
        (1,) broadcast; anything that would vary over the batch or mix samples is refused."""
        if len(shape) == 0 or (len(shape) == 1 and rank == 2) or (len(shape) == 2 and shape[0] == 1 and rank == 2) \
                or (rank == 1 and shape == (1,)):
            n = 1 if len(shape) == 0 else shape[-1]
            if n != 1 and width != 1 and n != width:
                self.refuse(node, f"{what} has {n} entries per sample, the value it acts on {width}")
            return list(self.exact(node, constant.reshape(-1), what).entries()), n
        self.refuse(node, f"{what} has shape {shape}, which does not broadcast over the samples of a "
                          f"(batch, {width}) value")

    def affine(self, node, value, what: str = "the input of this operation") -> Affine:
        if not isinstance(value, Affine):
            self.refuse(node, f"{what} does not depend on the model's input")
        return value

    def broadcast(self, value: Affine, width: int) -> Affine:
        if value.width == width:
            return value
        out = value.rows([0] * width, self.state.source_widths)
        out.rank = value.rank
        out.raw_activation = None
        return out

    @staticmethod
    def column(entries, width, factor=ONE) -> fmpq_mat:
        if len(entries) == 1:
            entries = entries * width
        return fmpq_mat(width, 1, [e * factor for e in entries])

    # --- affine arithmetic ---
    def combine(self, node, a, b, factor: fmpq):
        """a + factor * b, either of them constant."""
        if isinstance(a, Affine) and isinstance(b, Affine):
            if a.rank != b.rank:
                self.refuse(node, "adding a (batch,) value to a (batch, n) value mixes samples")
            width = max(a.width, b.width)
            if min(a.width, b.width) != 1 and a.width != b.width:
                self.refuse(node, f"adding values of widths {a.width} and {b.width}")
            return self.broadcast(a, width).add(self.broadcast(b, width).scale(factor))
        if isinstance(a, Affine):
            entries, n = self.per_sample(node, b, a.width, a.rank, "the constant")
            width = max(a.width, n)
            return self.broadcast(a, width).add_const(self.column(entries, width, factor))
        entries, n = self.per_sample(node, a, b.width, b.rank, "the constant")
        width = max(b.width, n)
        return self.broadcast(b, width).scale(factor).add_const(self.column(entries, width))

    def multiply(self, node, a, b) -> Affine:
        """a * b, one of them constant."""
        if isinstance(a, Affine) and isinstance(b, Affine):
            self.refuse(node, "the product of two values that depend on the input is not affine")
        x, c = (a, b) if isinstance(a, Affine) else (b, a)
        entries, n = self.per_sample(node, c, x.width, x.rank, "the factor")
        width = max(x.width, n)
        return self.broadcast(x, width).scale_rows(entries * width if len(entries) == 1 else entries)

    def divide(self, node, a, b) -> Affine:
        """a / b, b constant: the exact multiplication by 1 / b."""
        if not isinstance(a, Affine) or isinstance(b, Affine):
            self.refuse(node, "a division is affine only as (value depending on the input) / constant")
        entries, n = self.per_sample(node, b, a.width, a.rank, "the divisor")
        if any(e == 0 for e in entries):
            self.refuse(node, "a division by zero")
        inv = [1 / e for e in entries]
        width = max(a.width, n)
        return self.broadcast(a, width).scale_rows(inv * width if len(inv) == 1 else inv)

    def activation(self, node, x, slopes) -> Affine:
        x = self.affine(node, x)
        if len(slopes) == 1:
            slopes = slopes * x.width
        return self.state.activation(x, slopes, self.place(node))


# ----- the exact network ----------------------------------------------------------------------

def build_network(state: GraphState, out: Affine) -> Network:
    """Lay the groups the output depends on out as layers (see the module docstring)."""
    groups = state.groups
    needed = set()
    stack = [k for k in out.terms if k > 0]
    while stack:
        g = stack.pop()
        if g in needed:
            continue
        needed.add(g)
        stack.extend(k for k in groups[g - 1].pre.terms if k > 0 and k not in needed)
    depth = {0: 0}
    for g in sorted(needed):  # groups are created in forward order: sources come first
        depth[g] = 1 + max((depth[k] for k in groups[g - 1].pre.terms), default=0)
    # layers: by depth, then by the first appearance of their slope at that depth
    keys: list = []
    for g in sorted(needed):
        key = (depth[g], groups[g - 1].slope)
        if key not in keys:
            keys.append(key)
    keys.sort(key=lambda key: (key[0], min(g for g in needed if (depth[g], groups[g - 1].slope) == key)))
    layer_of = {0: (0, 0)}  # source -> (layer index, first row there)
    members: list = [[] for _ in keys]
    widths = [state.input_dim]
    for t, key in enumerate(keys, start=1):
        row = 0
        for g in sorted(needed):
            if (depth[g], groups[g - 1].slope) == key:
                layer_of[g] = (t, row)
                members[t - 1].append(g)
                row += groups[g - 1].width
        widths.append(row)
    L = len(keys) + 1
    widths.append(out.width)
    layers = []
    for t in range(1, L + 1):
        if t < L:
            parts = [(groups[g - 1].pre, layer_of[g][1]) for g in members[t - 1]]
            slope = keys[t - 1][1]
        else:
            parts = [(out, 0)]
            slope = ZERO
        layers.append(_layer(t, parts, widths, layer_of, slope))
    return Network(state.input_dim, layers)


def _layer(t: int, parts, widths, layer_of, slope) -> Layer:
    n = widths[t]
    W = None
    skips: dict = {}
    b = fmpq_mat(n, 1)
    for value, row0 in parts:
        for k, term in value.terms.items():
            ts, col0 = layer_of[k]
            # the common case: one group fills the layer and the source fills its layer
            whole = value.width == n and not isinstance(term, fmpq) and term.ncols() == widths[ts]
            if ts == t - 1:
                if W is None and whole:
                    W = term
                    continue
                if W is None:
                    W = fmpq_mat(n, widths[t - 1])
                target = W
            else:
                if ts not in skips and whole:
                    skips[ts] = term
                    continue
                if ts not in skips:
                    skips[ts] = fmpq_mat(n, widths[ts])
                target = skips[ts]
            _write_block(target, term, row0, col0, value.width)
        for i in range(value.width):
            b[row0 + i, 0] = value.const[i, 0]
    if W is None:
        W = fmpq_mat(n, widths[t - 1])
    return Layer(W, b, dict(sorted(skips.items())), slope)


def _write_block(target: fmpq_mat, term, row0: int, col0: int, nrows: int) -> None:
    if isinstance(term, fmpq):
        for i in range(nrows):
            target[row0 + i, col0 + i] += term
        return
    for i in range(term.nrows()):
        for j in range(term.ncols()):
            v = term[i, j]
            if v != 0:
                target[row0 + i, col0 + j] += v


# ----- comparison with the model ----------------------------------------------------------------

#: Scales of the comparison points: 10^-3 .. 10^3, COMPARISON_PER_SCALE points each.
COMPARISON_SCALES = tuple(10.0 ** e for e in range(-3, 4))
COMPARISON_PER_SCALE = 16
COMPARISON_POINTS = len(COMPARISON_SCALES) * COMPARISON_PER_SCALE  # 112
COMPARISON_SEED = 20240612
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24}
#: Floors of the relative tolerance (see ``compare``).
TOLERANCE_FLOOR = {"float64": 1e-9, "float32": 1e-4}


def comparison_points(d: int):
    """The fixed points of every comparison: 16 per scale 1e-3, 1e-2, ..., 1e3 (seeded, so deterministic).

    Each point is a standard normal vector times the scale, so every coordinate sign pattern
    and many activation patterns are met, near the origin and far away.
    """
    import numpy as np

    rng = np.random.default_rng(COMPARISON_SEED)
    blocks = [rng.standard_normal((COMPARISON_PER_SCALE, d)) * s for s in COMPARISON_SCALES]
    return np.concatenate(blocks, axis=0)


def exact_outputs(net: Network, X) -> list[list[fmpq]]:
    """The exact outputs at the float points X (rows), evaluated for all points at once."""
    N = len(X)
    H = [fmpq_mat(net.input_dim, N, [_q(X[j][i]) for i in range(net.input_dim) for j in range(N)])]
    ones = fmpq_mat(1, N, [ONE] * N)
    for l, layer in enumerate(net.layers, start=1):
        Z = layer.weight * H[l - 1] + layer.bias * ones
        for k, S in layer.skip.items():
            Z += S * H[k]
        if l < net.depth:
            s = layer.slope
            H.append(fmpq_mat(Z.nrows(), N, [v if v > 0 else s * v for v in Z.entries()]))
        else:
            H.append(Z)
    out = H[-1]
    m = out.nrows()
    return [[out[k, j] for k in range(m)] for j in range(N)]


def magnitudes(net: Network, X):
    """|W| |h| + |b| carried through the layers (per point and output): the scale that float
    rounding errors are proportional to (each dot product's rounding error is at most
    n u times the sum of the absolute values of its terms)."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        def absf(m):
            return np.abs(np.array([[_float(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())],
                                   dtype=float).reshape(m.nrows(), m.ncols()))

        H = [np.abs(np.asarray(X, dtype=float)).T]
        for l, layer in enumerate(net.layers, start=1):
            M = absf(layer.weight) @ H[l - 1] + absf(layer.bias)
            for k, S in layer.skip.items():
                M = M + absf(S) @ H[k]
            if l < net.depth:
                M = M * max(1.0, abs(_float(layer.slope)))
            H.append(M)
        return H[-1].T


def fan_in_total(net: Network) -> int:
    """Sum over layers of the terms each pre-activation adds up (weights, skips, bias)."""
    return sum(layer.weight.ncols() + sum(S.ncols() for S in layer.skip.values()) + 1 for layer in net.layers)


def compare(net: Network, run: Callable, precision: str, where: str) -> dict:
    """Compare the exact network with the model's forward pass ``run`` at the fixed points.

    ``run(X)`` takes an (N, d) float64 array (already rounded to float32 when ``precision`` is
    "float32") and returns the model's (N, m) outputs.  The exact network is evaluated at the
    same float points exactly.  At every point and output the difference must be at most
    ``rtol * M``, where M is the magnitude of :func:`magnitudes` (the forward pass of the
    absolute values) and

        rtol = max(floor, 2 * F * u),

    u the unit roundoff of the precision (2^-53 or 2^-24), F the total fan-in (each dot
    product of n terms computed in floating point is off by at most about n u times the sum of
    the absolute values of its terms, and errors carry through later layers at most as M
    does), floor = 1e-9 in float64 (room for what the bound does not model: the model's
    operation order, a BatchNorm scale or a folded constant rounded once more) and 1e-4 in
    float32.  A misread model (a wrong slope, a missing connection, layers in the wrong order)
    is off by a sizeable fraction of M at some of the points, far above these tolerances.

    Points where M is not finite in float64 (weights near the float range) are skipped.
    Returns a summary; raises FormatError on a mismatch, naming the largest difference.
    """
    import numpy as np

    X = comparison_points(net.input_dim)
    if precision == "float32":
        X = X.astype(np.float32).astype(np.float64)
    model = np.asarray(run(X), dtype=np.float64)
    m = net.num_outputs
    if model.ndim == 1:
        model = model.reshape(-1, 1)
    if model.shape != (len(X), m):
        raise FormatError(f"{where}: the model's forward pass gives outputs of shape {tuple(model.shape)}, "
                          f"the network read from it has {m} output(s) per point")
    exact = exact_outputs(net, X)
    M = magnitudes(net, X)
    rtol = max(TOLERANCE_FLOOR[precision], 2 * fan_in_total(net) * UNIT_ROUNDOFF[precision])
    worst = None  # (ratio, i, k, diff, model value, exact value, tolerance)
    compared = 0
    max_diff = 0.0
    for i in range(len(X)):
        for k in range(m):
            scale = M[i, k]
            if not np.isfinite(scale):
                continue
            e = exact[i][k]
            ef = _float(e)
            tol = rtol * scale
            a = model[i, k]
            diff = abs(a - ef) if np.isfinite(a) else float("inf")
            compared += 1
            max_diff = max(max_diff, diff)
            ratio = diff / tol if tol > 0 else (0.0 if diff == 0 else float("inf"))
            if worst is None or ratio > worst[0]:
                worst = (ratio, i, k, diff, a, ef, tol)
    if worst is not None and worst[0] > 1:
        _, i, k, diff, a, ef, tol = worst
        point = ", ".join(f"{v:.6g}" for v in X[i])
        raise FormatError(
            f"{where}: the exact network read from the model does not compute what the model computes: "
            f"at x = ({point}), output {k}, the model's forward pass ({precision}) gives {a:.17g} and the "
            f"exact network {ef:.17g}, a difference of {diff:.3g}, while float rounding explains at most "
            f"{tol:.3g} there (the largest difference relative to that bound among {compared} comparisons "
            f"at {len(X)} points). The import is refused.")
    return {"points": len(X), "precision": precision, "relative_tolerance": rtol,
            "max_abs_difference": float(max_diff),
            "max_difference_over_tolerance": 0.0 if worst is None else float(worst[0])}


def comparison_note(summary: dict) -> str:
    return (f"compared with the model's own forward pass ({summary['precision']}) at {summary['points']} "
            f"points (scales 1e-3 to 1e3): largest difference {summary['max_abs_difference']:.3g}, within "
            f"float rounding (relative tolerance {summary['relative_tolerance']:.3g})")


# ----- back out: exact values as floats ---------------------------------------------------------

def nearest_float(q: fmpq, precision: str) -> float:
    """The float (of the precision) nearest to q; OverflowError beyond its range."""
    import numpy as np

    f = float(q)  # correctly rounded to float64 (OverflowError when too large)
    if precision == "float64":
        return f
    with np.errstate(over="ignore"):
        c = np.float32(f)
    if not np.isfinite(c):
        raise OverflowError
    best = None
    for cand in (np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf))):
        if not np.isfinite(cand):
            continue
        err = abs(fmpq(*float(cand).as_integer_ratio()) - q)
        if best is None or err < best[0]:
            best = (err, float(cand))
    return best[1]


class _Rounder:
    """Converts exact values to floats of one precision: exactly, or to nearest when asked."""

    def __init__(self, precision: str, rounding):
        if rounding not in (None, "nearest"):
            raise FormatError(f"rounding={rounding!r}: expected None (exact only) or 'nearest'")
        self.precision = precision
        self.rounding = rounding
        self.max_change = fmpq(0)
        self.max_where = None

    def __call__(self, q: fmpq, where: str) -> float:
        try:
            f = nearest_float(q, self.precision)
        except OverflowError:
            raise FormatError(f"{where}: {q} is too large for {self.precision}") from None
        change = abs(fmpq(*f.as_integer_ratio()) - q)
        if change != 0:
            if self.rounding is None:
                raise FormatError(f"{where}: {q} is not exactly representable in {self.precision} (the nearest "
                                  f"value is {f!r}); pass rounding='nearest' to round every weight to the nearest "
                                  f"{self.precision}, the largest change is then reported")
            if change > self.max_change:
                self.max_change, self.max_where = change, where
        return f

    def matrix(self, m: fmpq_mat, where: str) -> list:
        return [[self(m[i, j], f"{where}[{i}][{j}]") for j in range(m.ncols())] for i in range(m.nrows())]

    def report(self) -> dict:
        return {"precision": self.precision, "rounding": self.rounding, "max_abs_change": float(self.max_change),
                "max_abs_change_exact": str(self.max_change), "where": self.max_where}


class RoundingWarning(UserWarning):
    """A network was written with rounded weights (``rounding='nearest'``)."""


def network_floats(net: Network, precision: str, rounding=None) -> tuple[list, dict]:
    """Every layer's weight, bias, skips and slope as floats of the precision (exact, or rounded when asked)."""
    r = _Rounder(precision, rounding)
    layers = []
    for l, layer in enumerate(net.layers, start=1):
        layers.append({
            "weight": r.matrix(layer.weight, f"layer {l}, weight"),
            "bias": [r(layer.bias[i, 0], f"layer {l}, bias[{i}]") for i in range(layer.width)],
            "skip": {k: r.matrix(S, f"layer {l}, skip from {k}") for k, S in sorted(layer.skip.items())},
            "slope": r(layer.slope, f"layer {l}, LeakyReLU slope") if l < net.depth else 0.0,
        })
    report = r.report()
    if rounding is not None and r.max_change != 0:
        warnings.warn(f"the network was rounded to {precision}: the largest absolute change of a weight is "
                      f"{float(r.max_change):.3g} (at {r.max_where})", RoundingWarning, stacklevel=3)
    return layers, report
