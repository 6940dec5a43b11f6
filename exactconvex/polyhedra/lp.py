"""Linear programming: an exact rational simplex, and a float solver used only to guess.

The exact solver is a dense two-phase simplex with Bland's rule on ``fmpq`` numbers: simple
and slow, but correct, and every decision that matters can fall back on it.  The float
solver (SciPy's HiGHS) only proposes points and supports that are then checked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from flint import fmpq

__all__ = ["LPResult", "simplex_standard", "lp_free", "float_lp_free", "pivot", "run_bland"]


@dataclass
class LPResult:
    status: str  # "optimal", "infeasible" or "unbounded"
    x: list | None = None
    value: fmpq | None = None


def pivot(T: list[list[fmpq]], basis: list[int], r: int, c: int) -> None:
    """One exact pivot of the tableau T on row r, column c (column c enters the basis at row r)."""
    row = T[r]
    inv = 1 / row[c]
    if inv != 1:
        T[r] = row = [v * inv for v in row]
    for i, other in enumerate(T):
        if i != r:
            f = other[c]
            if f != 0:
                T[i] = [a - f * b if b != 0 else a for a, b in zip(other, row)]
    basis[r] = c


def run_bland(T: list[list[fmpq]], basis: list[int], ncols: int) -> str:
    """Minimise the objective in the last row of T over columns < ncols (Bland's rule)."""
    m = len(T) - 1
    obj = T[m]
    while True:
        obj = T[m]
        enter = next((j for j in range(ncols) if obj[j] < 0), None)
        if enter is None:
            return "optimal"
        best, leave = None, None
        for i in range(m):
            a = T[i][enter]
            if a > 0:
                ratio = T[i][-1] / a
                if best is None or ratio < best or (ratio == best and basis[i] < basis[leave]):
                    best, leave = ratio, i
        if leave is None:
            return "unbounded"
        pivot(T, basis, leave, enter)


def simplex_standard(c: Sequence, A: Sequence[Sequence], b: Sequence) -> LPResult:
    """Exactly minimise c.y subject to A y = b, y >= 0."""
    m, n = len(A), len(c)
    rows = []
    for i in range(m):
        row = [fmpq(v) for v in A[i]]
        rhs = fmpq(b[i])
        if rhs < 0:
            row, rhs = [-v for v in row], -rhs
        rows.append(row + [fmpq(0)] * m + [rhs])
        rows[-1][n + i] = fmpq(1)
    # phase 1: minimise the sum of the artificials
    obj = [fmpq(0)] * (n + m + 1)
    for r in rows:
        for j in range(n):
            obj[j] -= r[j]
        obj[-1] -= r[-1]
    T = rows + [obj]
    basis = [n + i for i in range(m)]
    run_bland(T, basis, n + m)
    if T[m][-1] != 0:
        return LPResult("infeasible")
    # drive artificials out of the basis where possible; drop redundant rows
    for i in range(m - 1, -1, -1):
        if basis[i] >= n:
            j = next((j for j in range(n) if T[i][j] != 0), None)
            if j is None:
                del T[i]
                del basis[i]
            else:
                pivot(T, basis, i, j)
    m = len(basis)
    T = [row[:n] + [row[-1]] for row in T[:m]]
    obj = [fmpq(v) for v in c] + [fmpq(0)]
    for i, j in enumerate(basis):
        f = obj[j]
        if f != 0:
            obj = [a - f * r for a, r in zip(obj, T[i])]
    T.append(obj)
    status = run_bland(T, basis, n)
    if status != "optimal":
        return LPResult(status)
    y = [fmpq(0)] * n
    for i, j in enumerate(basis):
        y[j] = T[i][-1]
    return LPResult("optimal", y, -T[m][-1])


def lp_free(c: Sequence, A_ub: Sequence[Sequence] = (), b_ub: Sequence = (),
            A_eq: Sequence[Sequence] = (), b_eq: Sequence = ()) -> LPResult:
    """Exactly minimise c.x over free x subject to A_ub x <= b_ub and A_eq x = b_eq."""
    n = len(c)
    m_ub = len(A_ub)
    cols = 2 * n + m_ub
    A, b = [], []
    for i, row in enumerate(A_ub):
        r = [fmpq(v) for v in row] + [-fmpq(v) for v in row] + [fmpq(0)] * m_ub
        r[2 * n + i] = fmpq(1)
        A.append(r)
        b.append(b_ub[i])
    for i, row in enumerate(A_eq):
        A.append([fmpq(v) for v in row] + [-fmpq(v) for v in row] + [fmpq(0)] * m_ub)
        b.append(b_eq[i])
    cc = [fmpq(v) for v in c] + [-fmpq(v) for v in c] + [fmpq(0)] * m_ub
    res = simplex_standard(cc, A, b) if A else LPResult("optimal", [fmpq(0)] * cols, fmpq(0))
    if res.status != "optimal":
        return res
    x = [res.x[j] - res.x[n + j] for j in range(n)]
    return LPResult("optimal", x, res.value)


def float_lp_free(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None):
    """A float guess for min c.x over free x (HiGHS), or None when no guess is available."""
    try:
        from scipy.optimize import linprog
    except ImportError:  # pragma: no cover - scipy is a dependency; fall back to exact LPs
        return None
    import numpy as np

    n = len(c)
    with np.errstate(all="ignore"):
        try:
            res = linprog(np.asarray(c, float), A_ub=None if A_ub is None else np.asarray(A_ub, float),
                          b_ub=None if b_ub is None else np.asarray(b_ub, float),
                          A_eq=None if A_eq is None else np.asarray(A_eq, float),
                          b_eq=None if b_eq is None else np.asarray(b_eq, float),
                          bounds=[(None, None)] * n, method="highs")
        except (ValueError, OverflowError):
            return None
    if res.status != 0 or res.x is None or not np.all(np.isfinite(res.x)):
        return None
    return res
