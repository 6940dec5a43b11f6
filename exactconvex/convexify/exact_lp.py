"""min c . x subject to A x >= b (x free), solved exactly, with its dual.

Floats propose, exact rationals confirm, an exact simplex decides when the proposal fails:

1. **Proposal.** SciPy's HiGHS solves a float copy (each row scaled exactly by its largest
   entry first, so that huge or tiny rows still give floats in range).  Its dual values and
   slacks say which constraints are tight at the optimum: the rows with positive duals first,
   then the rows with the smallest relative slacks, are taken greedily (exact elimination) until
   N of them are linearly independent (N the number of variables): a guessed optimal basis B.
2. **Confirmation.** Exactly: x = A_B^-1 b_B and y_B = A_B^-T c.  If y_B >= 0 (dual feasible)
   and A x >= b (primal feasible), x and y are optimal (c . x = y . b), whatever the floats did.
3. **Fallback.** Otherwise (or when the floats give nothing: inf, nan, an overflow, no SciPy),
   the dual max b . y s.t. A^T y = c, y >= 0 is solved by an exact two-phase simplex with Bland's
   rule on N rows, and its optimal basis gives x the same way.

The caller guarantees what makes a basis exist: A has full column rank and the program is
feasible and bounded (every program of ``exactconvex.convexify`` is, by construction).  This
simplex exists beside ``exactconvex.polyhedra.lp.simplex_standard`` because that one returns
neither the basis nor the dual solution, which the certificates need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from flint import fmpq, fmpq_mat

from ..polyhedra.rows import float_guess
from ..polyhedra.lp import pivot, run_bland

__all__ = ["LPSolution", "minimise", "confirm_basis", "exact_simplex", "PROPOSED", "EXACT"]

PROPOSED = "float proposal, confirmed exactly"
EXACT = "exact simplex"


@dataclass(frozen=True)
class LPSolution:
    """An optimal pair: x (primal), y >= 0 with A^T y = c (dual, one per row of A), the optimal
    value c . x = b . y, the basis (N row indices of A) and how it was found."""

    x: tuple
    y: tuple
    value: fmpq
    basis: tuple
    how: str


def minimise(A: Sequence[Sequence], b: Sequence, c: Sequence, *, propose: bool = True) -> LPSolution:
    """Exactly minimise c . x subject to A x >= b over free x.

    A must have full column rank and the program must be feasible and bounded.

    Examples
    --------
    >>> s = minimise([[1, 0], [0, 1], [1, 1]], [0, 0, 1], [1, 2])  # min x + 2y, x, y >= 0, x + y >= 1
    >>> s.x, s.value, s.y
    ((1, 0), 1, (0, 1, 1))
    >>> minimise([[1, 0], [0, 1], [1, 1]], [0, 0, 1], [1, 2], propose=False).x
    (1, 0)
    """
    A = [[fmpq(v) for v in row] for row in A]
    b = [fmpq(v) for v in b]
    c = [fmpq(v) for v in c]
    if propose:
        basis = _proposed_basis(A, b, c)
        if basis is not None:
            found = confirm_basis(A, b, c, basis, PROPOSED)
            if found is not None:
                return found
    return exact_simplex(A, b, c)


def confirm_basis(A: list, b: list, c: list, basis: Sequence[int], how: str = PROPOSED) -> LPSolution | None:
    """The optimal solution of the basis, if it is one: A_B nonsingular, y_B = A_B^-T c >= 0 and
    x = A_B^-1 b_B feasible (A x >= b), all exact; otherwise None."""
    N = len(c)
    if len(basis) != N:
        return None
    M = fmpq_mat(N, N, [v for i in basis for v in A[i]])
    try:
        x = M.solve(fmpq_mat(N, 1, [b[i] for i in basis]))
        yB = M.transpose().solve(fmpq_mat(N, 1, c))
    except ZeroDivisionError:  # singular: not a basis
        return None
    if any(v < 0 for v in yB.entries()):
        return None
    values = fmpq_mat(len(A), N, [v for row in A for v in row]) * x
    if any(values[i, 0] < b[i] for i in range(len(A))):
        return None
    y = [fmpq(0)] * len(A)
    for i, v in zip(basis, yB.entries()):
        y[i] = v
    xs = tuple(x.entries())
    return LPSolution(xs, tuple(y), sum((ci * xi for ci, xi in zip(c, xs)), fmpq(0)), tuple(basis), how)


# ----- the float proposal ------------------------------------------------------------------------------

def _proposed_basis(A: list, b: list, c: list) -> list[int] | None:
    """N linearly independent rows that HiGHS finds tight at its optimum, or None (no guess)."""
    try:
        from scipy.optimize import linprog
    except ImportError:  # pragma: no cover - scipy is a dependency; the exact simplex decides
        return None
    m, N = len(A), len(c)
    rows = np.empty((m, N + 1))
    for i, (row, rhs) in enumerate(zip(A, b)):
        top = max((abs(v) for v in row), default=fmpq(0))
        if top == 0:
            return None  # a constant row: nothing sensible to guess (never built by the callers)
        rows[i] = [float_guess(v / top) for v in row] + [float_guess(rhs / top)]
    cost = np.array([float_guess(v) for v in c])
    if not (np.all(np.isfinite(rows)) and np.all(np.isfinite(cost))):
        return None
    with np.errstate(all="ignore"):
        try:
            res = linprog(cost, A_ub=-rows[:, :N], b_ub=-rows[:, N], bounds=[(None, None)] * N, method="highs")
        except (ValueError, OverflowError, ArithmeticError):
            return None
        if res.status != 0 or res.x is None or not np.all(np.isfinite(res.x)):
            return None
        duals = -np.asarray(res.ineqlin.marginals, float)
        slack = rows[:, :N] @ res.x - rows[:, N]
        size = np.abs(rows[:, :N]) @ np.abs(res.x) + np.abs(rows[:, N]) + 1.0
    if not (np.all(np.isfinite(duals)) and np.all(np.isfinite(slack))):
        return None
    top = float(np.max(duals)) if m else 0.0
    supported = [i for i in np.argsort(-duals, kind="stable") if top > 0 and duals[i] > 1e-9 * top]
    relative = slack / size
    first = set(supported)
    tight = [i for i in np.argsort(relative, kind="stable") if relative[i] < 1e-7 and i not in first]
    return _independent(A, [int(i) for i in supported + tight], N)


def _independent(A: list, order: list[int], N: int) -> list[int] | None:
    """The first N rows in ``order`` that are linearly independent (greedy, exact elimination)."""
    reduced: list[tuple[int, list]] = []  # (pivot column, row with zeros at every earlier pivot)
    chosen = []
    for i in order:
        v = list(A[i])
        for pivot, r in reduced:
            f = v[pivot]
            if f != 0:
                v = [a - f * e for a, e in zip(v, r)]
        pivot = next((j for j, a in enumerate(v) if a != 0), None)
        if pivot is None:
            continue
        inv = 1 / v[pivot]
        reduced.append((pivot, [a * inv for a in v]))
        chosen.append(i)
        if len(chosen) == N:
            return chosen
    return None


# ----- the exact fallback ------------------------------------------------------------------------------

def _bland(T: list[list], basis: list[int], ncols: int) -> None:
    """Minimise the objective of T's last row over the columns < ncols: the simplex loop of
    ``polyhedra.lp`` (Bland's rule: no cycling), which must end at an optimum here."""
    if run_bland(T, basis, ncols) != "optimal":
        raise ArithmeticError("the program is unbounded")  # excluded by the caller's guarantee


def exact_simplex(A: list, b: list, c: list) -> LPSolution:
    """The exact optimum through the dual max b . y s.t. A^T y = c, y >= 0 (two phases, Bland's rule).

    The dual has only N equations, one per variable of the primal, however many rows A has.
    """
    m, N = len(A), len(c)
    T = []
    for j in range(N):  # equation j: sum_i A[i][j] y_i = c_j, made to have a nonnegative right side
        sign = -1 if c[j] < 0 else 1
        row = [sign * A[i][j] for i in range(m)] + [fmpq(0)] * N + [sign * c[j]]
        row[m + j] = fmpq(1)
        T.append(row)
    phase1 = [fmpq(0)] * (m + N + 1)
    for row in T:
        phase1 = [p - v for p, v in zip(phase1, row)]
    for j in range(m, m + N):
        phase1[j] = fmpq(0)
    T.append(phase1)
    basis = list(range(m, m + N))
    _bland(T, basis, m + N)
    if T[N][-1] != 0:
        raise ArithmeticError("the dual is infeasible: the program is unbounded")  # excluded by the caller
    for r in range(N):  # drive the artificials out; A has full column rank, so a pivot always exists
        if basis[r] >= m:
            col = next((j for j in range(m) if T[r][j] != 0), None)
            if col is None:
                raise ArithmeticError("A does not have full column rank")
            pivot(T, basis, r, col)
    T = [row[:m] + [row[-1]] for row in T[:N]]
    obj = [-v for v in b] + [fmpq(0)]  # minimise -b . y
    for r, j in enumerate(basis):
        f = obj[j]
        if f != 0:
            obj = [o - f * v for o, v in zip(obj, T[r])]
    T.append(obj)
    _bland(T, basis, m)
    found = confirm_basis(A, b, c, basis, EXACT)
    if found is None:  # optimal dual basis <=> its primal solution is feasible (LP duality)
        raise ArithmeticError("the exact simplex ended on a basis that is not optimal")  # pragma: no cover
    return found
