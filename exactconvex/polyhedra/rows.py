"""A polyhedron's constraints held once, as one exact matrix and its float shadow.

``Rows`` stores m constraints g_i(x) = a_i . x + c_i >= 0 as a flat list of rationals
[a_i | c_i] (d + 1 per row), the same as an exact ``fmpq_mat`` (so that values at many
points are one matrix product) and as floats (for guesses only).

``hyperplane_groups`` sorts the rows into classes of positive multiples (same half-space).
Floats only rule pairs out, by a proven error bound; every pair they cannot rule out is
compared exactly, so the classes are exact.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from flint import fmpq, fmpq_mat, fmpz, fmpz_mat

__all__ = ["Rows", "hyperplane_groups", "floats_of", "float_guess"]


def float_guess(value) -> float:
    """The float of an exact value, as a guess that never raises: +-inf beyond the float range,
    0.0 (or a subnormal) below it.  Every float conversion of exact data goes through here or
    ``floats_of``, and the callers treat a non-finite guess as "no guess" (exact work instead).

    >>> from flint import fmpq
    >>> float_guess(fmpq(3, 4)), float_guess(fmpq(-10**400)), float_guess(fmpq(1, 10**400))
    (0.75, -inf, 0.0)
    """
    try:
        return float(value)
    except OverflowError:  # only ever too large: too small rounds to 0.0
        return np.inf if value > 0 else -np.inf


def floats_of(values: Sequence[fmpq]) -> np.ndarray:
    """Floats of exact values (a guess: +-inf where a value is too large for a float)."""
    try:
        return np.fromiter(map(float, values), float, len(values))
    except OverflowError:
        return np.fromiter(map(float_guess, values), float, len(values))


FEW_ROWS = 64  # below this many rows, ``not_positive`` evaluates every row exactly (``integer``)


class Rows:
    """Constraints a_i . x + c_i >= 0, i = 0..m-1, in R^d (exact; floats alongside)."""

    __slots__ = ("d", "flat", "_matrix", "_floats", "_integer", "_trusted")

    def __init__(self, d: int, flat: list):
        self.d, self.flat = d, flat
        self._matrix = self._floats = self._integer = self._trusted = None

    def __len__(self) -> int:
        return len(self.flat) // (self.d + 1)

    def row(self, i: int) -> tuple:
        """Row i as (a, c)."""
        k = i * (self.d + 1)
        return tuple(self.flat[k:k + self.d]), self.flat[k + self.d]

    @property
    def matrix(self) -> fmpq_mat:
        if self._matrix is None:
            self._matrix = fmpq_mat(len(self), self.d + 1, self.flat)
        return self._matrix

    @property
    def floats(self) -> np.ndarray:
        if self._floats is None:
            self._floats = floats_of(self.flat).reshape(len(self), self.d + 1)
        return self._floats

    @property
    def trusted(self) -> bool:
        """Whether every float is the correctly rounded exact entry with relative error <= 2^-53:
        all finite, the nonzero ones normal, and zero exactly where the entry is zero."""
        if self._trusted is None:
            self._trusted = _trusted_floats(self.floats, self.flat)
        return self._trusted

    def with_row_negated(self, i: int, keep: int | None = None) -> "Rows":
        """The same constraints with row i negated (its floats too, if computed: negating a float
        is exact); with ``keep``, only the first ``keep`` rows."""
        w = self.d + 1
        end = len(self) if keep is None else keep
        flat = self.flat[:end * w]
        flat[i * w:(i + 1) * w] = [-v for v in flat[i * w:(i + 1) * w]]
        out = Rows(self.d, flat)
        if self._floats is not None:
            out._floats = self._floats[:end].copy()
            out._floats[i] = -out._floats[i]
            if keep is None or self._trusted:  # a part of trusted floats is trusted
                out._trusted = self._trusted
        return out

    def followed_by(self, flat: list) -> "Rows":
        """These constraints, then those of ``flat`` ([a | c] one after the other); floats carried
        over when computed, only the new rows' converted."""
        out = Rows(self.d, self.flat + flat)
        if self._floats is not None:
            out._floats = np.vstack([self._floats, floats_of(flat).reshape(-1, self.d + 1)])
        return out

    @property
    def integer(self) -> tuple[fmpz_mat, fmpz]:
        """The rows [a | c] as an integer matrix N and a denominator D > 0: they are N / D."""
        if self._integer is None:
            self._integer = self.matrix.numer_denom()
        return self._integer

    def release(self) -> None:
        """Drop the exact matrices (rebuilt on demand).  The floats stay: the rows of a neighbour
        across a facet start from these (``rows_after_flip``) and carry them over, converting only
        their new rows (a ``--jobs`` worker makes a region's neighbours after releasing its rows:
        converting them all again cost the workers about a tenth of their CPU time at d6 8x8)."""
        self._matrix = self._integer = None

    def not_positive(self, points: Sequence[Sequence[fmpq]]) -> list[list[int]]:
        """Per point, the rows whose exact value there is <= 0.

        Float filter (proven): a float dot product of n = d + 1 terms, from correctly rounded
        inputs, is within (n + 4) u S of the exact value (u = 2^-53, S = sum |F_j Z_j|, plus
        n 2^-1070 for products that underflow).  Rows whose float value exceeds twice that
        bound are positive; only the others are evaluated exactly.  Untrusted floats (see
        ``trusted``) send every row to the exact evaluation.
        """
        m, d = len(self), self.d
        if not points:
            return []
        if m < FEW_ROWS:  # few rows: one exact integer product is cheaper than the filter
            columns, _ = self.scaled_values(points)
            return [[i for i, v in enumerate(col) if v <= 0] for col in columns]
        coordinates = [v for p in points for v in p]
        X = floats_of(coordinates)
        Z = np.vstack([X.reshape(len(points), d).T, np.ones((1, len(points)))])  # one column per point
        if not (self.trusted and _trusted_floats(X, coordinates)):
            columns, _ = self.scaled_values(points)
            return [[i for i, v in enumerate(col) if v <= 0] for col in columns]
        F = self.floats
        with np.errstate(all="ignore"):
            bound = 2 * (d + 5) * 2.0**-53 * (np.abs(F) @ np.abs(Z)) + (d + 1) * 2.0**-1070
            doubtful = ~((F @ Z) > bound)  # also catches NaN
        out = []
        for j, p in enumerate(points):
            rows = np.flatnonzero(doubtful[:, j]).tolist()
            out.append([i for i in rows if self._exact_value(i, p) <= 0])
        return out

    def _exact_value(self, i: int, p: Sequence[fmpq]) -> fmpq:
        from .polyhedron import dot

        k = i * (self.d + 1)
        return dot(self.flat[k:k + self.d], p) + self.flat[k + self.d]

    def values(self, points: Sequence[Sequence[fmpq]], directions: Sequence[Sequence[fmpq]] = ()) -> list[list[fmpq]]:
        """Exact values g_i(p) at each point, then slopes a_i . v along each direction: one product.

        Returns one list per point, then per direction, of the m rows' values.
        """
        k, m = len(points) + len(directions), len(self)
        if not m or not k:
            return [[] for _ in range(k)]
        e = (self.matrix * _columns(self.d, points, directions)).entries()
        return [e[j::k] for j in range(k)]

    def _scaled_product(self, points, directions=()) -> tuple[fmpz_mat, fmpz]:
        """N P and s = D Dp > 0 for the rows N / D and the columns P / Dp of ``_columns``: the values
        (then slopes) at the points (then along the directions), times s."""
        N, D = self.integer
        Pn, Dp = _columns(self.d, points, directions).numer_denom()
        return N * Pn, D * Dp

    def scaled_values_at(self, rows: Sequence[int], points: Sequence[Sequence[fmpq]]) -> tuple[list[fmpz], fmpz]:
        """Row rows[j]'s value at points[j], for each j, times one positive integer s (returned with
        them): the product of ``scaled_values``, of which only these k entries are read (not all
        m x k, which at m = 60 rows cost more than the product)."""
        V, s = self._scaled_product(points)
        return [V[i, j] for j, i in enumerate(rows)], s

    def scaled_values(self, points: Sequence[Sequence[fmpq]], directions: Sequence[Sequence[fmpq]] = ()
                      ) -> tuple[list[list[fmpz]], fmpz]:
        """``values``, every one times the same positive integer s (returned with them).

        Exact integers: the same signs and ratios as the values, and cheaper to compute and
        compare than rationals (one integer matrix product, no reduction of fractions).
        """
        k, m = len(points) + len(directions), len(self)
        if not m or not k:
            return [[] for _ in range(k)], fmpz(1)
        V, s = self._scaled_product(points, directions)
        e = V.entries()
        return [e[j::k] for j in range(k)], s


def _columns(d: int, points, directions) -> fmpq_mat:
    """The (d + 1) x k matrix of the points (last coordinate 1) then the directions (0)."""
    cols = [list(p) + [1] for p in points] + [list(v) + [0] for v in directions]
    return fmpq_mat(d + 1, len(cols), [col[r] for r in range(d + 1) for col in cols])


def _trusted_floats(F: np.ndarray, exact: Sequence[fmpq]) -> bool:
    """Floats F of the exact values (same order, flattened): all finite, the nonzero ones normal
    (well above 2^-1022), and zero exactly where the value is zero (nothing underflowed)."""
    F = np.asarray(F).ravel()
    if not np.isfinite(F).all():
        return False
    nonzero = np.abs(F[F != 0])
    if nonzero.size and nonzero.min() <= 1e-290:
        return False
    return all(exact[int(i)] == 0 for i in np.flatnonzero(F == 0))


def hyperplane_groups(rows: Rows) -> list[list[int]]:
    """Classes of rows that are positive multiples of each other, each in increasing row order,
    classes ordered by their first row (deterministic).

    Float filter (proven, not guessed): with every row scaled by the largest |a_k| and
    projected on fixed weights w in [1, 2), rows that are exact positive multiples land within
    2 (d + 6) u S of each other (u = 2^-53, S = sum_k w_k |n_k| <= the largest such sum), as
    long as every float is a normal, finite number with the same zero pattern as the exact
    row.  Rows farther apart than a much larger bound are therefore not multiples; the rest
    are compared exactly.  When the floats cannot be trusted that way, every row is compared
    exactly.
    """
    m, d = len(rows), rows.d
    if m <= 1:
        return [[i] for i in range(m)]
    F = rows.floats
    scale = np.abs(F[:, :d]).max(axis=1)
    trusted = rows.trusted and bool((scale > 0).all())
    if trusted:
        with np.errstate(all="ignore"):
            N = F / scale[:, None]
        trusted = bool(np.isfinite(N).all())
    if not trusted:
        return _exact_groups(rows, list(range(m)))
    w = 1.0 + np.arange(d + 1) / (d + 1)
    s = N @ w
    bound = 1e-13 * (d + 8) * float((np.abs(N) @ w).max())
    order = np.argsort(s, kind="stable")
    gaps = np.diff(s[order]) > bound
    if gaps.all():  # the usual case: no two rows can be multiples
        return [[i] for i in range(m)]
    breaks = np.flatnonzero(gaps) + 1
    groups = []
    for run in np.split(order, breaks):
        if len(run) == 1:
            groups.append([int(run[0])])
        else:  # rows the floats cannot separate
            groups.extend(_exact_groups(rows, sorted(int(i) for i in run)))
    groups.sort(key=lambda g: g[0])
    return groups


def _exact_groups(rows: Rows, indices: list[int]) -> list[list[int]]:
    from .polyhedron import canonical_key

    by_key: dict[tuple, list[int]] = {}
    for i in indices:
        a, c = rows.row(i)
        by_key.setdefault(canonical_key(a, c), []).append(i)
    return list(by_key.values())
