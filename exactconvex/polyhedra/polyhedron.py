"""Exact facts about polyhedra P = {x : a_i . x + c_i >= 0}.

Each fact comes with an exact witness:

* ``facet_witness``: a point where one constraint is tight and every constraint on another
  hyperplane is strict (so the constraint defines a (d-1)-dimensional facet), or ``None``
  when an exact LP proves that no such point exists;
* ``farkas_certificate``: nonnegative rationals lambda_i, mu with
  g = sum_i lambda_i g_i + mu identically (so g >= 0 is implied by the g_i >= 0);
* ``step_inside``: how far one may walk from a point along a direction and stay strictly
  inside every constraint that is not tight there.

Floats only propose (HiGHS, a rounded point); every proposal is checked exactly, and an
exact rational simplex decides when a check fails.
"""

from __future__ import annotations

import math
from fractions import Fraction
from operator import mul
from typing import Sequence

from flint import fmpq, fmpq_mat

from ..numbers import q_from_float
from .lp import float_lp_free, lp_free
from .rows import float_guess

__all__ = ["Affine", "canonical_key", "facet_witness", "farkas_certificate", "farkas_guess", "farkas_on_support", "farkas_on_support_many", "farkas_holds_many", "farkas_holds_for_rows", "step_inside", "step_from_values",
           "q_from_floats_nice", "dot", "values_at", "strictly_inside", "project_onto", "q_from_float_nice"]

Affine = tuple  # (a: tuple[fmpq, ...], c: fmpq): the function x -> a . x + c


def dot(u: Sequence[fmpq], v: Sequence[fmpq]) -> fmpq:
    """The exact dot product (the loop runs in C: about twice as fast as a Python loop)."""
    return sum(map(mul, u, v), fmpq(0))


def canonical_key(a: Sequence[fmpq], c: fmpq) -> tuple:
    """A hashable key with equal keys <=> positive multiples of each other (same half-space).

    The function scaled so its first nonzero gradient entry is +-1, written as (p, q) integer
    pairs (hashing integers is far cheaper than hashing rationals).
    """
    pivot = next(v for v in a if v != 0)
    s = abs(pivot)
    key = []
    for v in a:
        w = v / s
        key.append((int(w.p), int(w.q)) if w != 0 else 0)
    w = c / s
    key.append((int(w.p), int(w.q)))
    return tuple(key)


def values_at(rows: Sequence[Affine], x: Sequence[fmpq]) -> list[fmpq]:
    """Exact values of affine functions at x (one matrix product)."""
    from .rows import Rows

    return Rows(len(x), [v for a, c in rows for v in (*a, c)]).values([x])[0] if rows else []


def strictly_inside(rows: Sequence[Affine], x: Sequence[fmpq]) -> bool:
    return all(v > 0 for v in values_at(rows, x))


def step_inside(rows: Sequence[Affine], p: Sequence[fmpq], direction: Sequence[fmpq],
                cap: fmpq = fmpq(1)) -> fmpq | None:
    """A step eps > 0 with every g in rows strictly positive at p + eps*direction.

    Rows that vanish at p must increase along ``direction``; returns None if one does not.
    The step is half the distance to the nearest constraint that decreases, capped.
    """
    return step_from_values(values_at(rows, p), [dot(a, direction) for a, _ in rows], cap)


def step_from_values(values: Sequence[fmpq], slopes: Sequence[fmpq], cap: fmpq = fmpq(1)) -> fmpq | None:
    """``step_inside`` from the constraints' values at p and slopes along the direction.

    The step is a power of two (small numbers downstream), at most half the distance allowed.
    """
    best = cap * 2
    for v, slope in zip(values, slopes):  # rationals, or integers (all scaled by one positive number)
        if not v:
            if slope <= 0:
                return None
        elif v < 0:
            return None
        elif slope < 0:
            bound = fmpq(v) / -slope
            if bound < best:
                best = bound
    step = fmpq(1)
    while step > best / 2:
        step /= 2
    while step * 2 <= best / 2:
        step *= 2
    return step


def _nice(x: float, max_den: int) -> fmpq:
    f = Fraction(x).limit_denominator(max_den)
    return fmpq(f.numerator, f.denominator)


def _candidates(xs: Sequence[float]):
    """Rational readings of a float point, simplest first."""
    for den in (1 << 10, 1 << 24):
        yield [_nice(v, den) for v in xs]
    yield [q_from_float(v) for v in xs]


def q_from_float_nice(x: float) -> fmpq | None:
    """A simple rational near a float guess (exactness comes later, from the checks); None when
    the guess is not a finite number (inf or nan: there is no guess)."""
    import math

    if not math.isfinite(x):
        return None
    if abs(x) >= 1e12:
        return q_from_float(x)
    # a multiple of 2^-20, or for |x| < 1 of 2^-20 times the power of two just above |x|
    # (20 significant bits: offsets of 10^-30 do not round to 0)
    bits = 20 if abs(x) >= 1 or x == 0 else 20 - math.frexp(x)[1]
    return fmpq(int(round(math.ldexp(x, bits))), 2 ** bits)


def q_from_floats_nice(values) -> list:
    """``q_from_float_nice`` of every float of an array (flattened), the same rationals, with the
    float work done by numpy at once."""
    import numpy as np

    x = np.asarray(values, float).ravel()
    with np.errstate(all="ignore"):
        bits = np.where((np.abs(x) >= 1) | (x == 0), 20, 20 - np.frexp(x)[1])
        numerators = np.rint(np.ldexp(x, bits))
    moderate = np.isfinite(x) & (np.abs(x) < 1e12)
    out = []
    for v, ok, n, b in zip(x.tolist(), moderate.tolist(), numerators.tolist(), bits.tolist()):
        out.append(fmpq(int(n), 1 << b) if ok else q_from_float_nice(v))
    return out


def project_onto(point, target: Affine, value: fmpq | None = None) -> list[fmpq]:
    """A point of the hyperplane target = 0 near the given one (exact); ``value``: target at the
    point, when already known."""
    return _project(point, target, value)


def _project(point, target: Affine, value: fmpq | None = None) -> list[fmpq]:
    """Move the point onto target = 0 along the coordinate where target's gradient is largest.

    Moving one coordinate (rather than projecting orthogonally, which divides by |a|^2)
    keeps the point's denominators small, and every later computation cheaper.
    """
    a, c = target
    g = dot(a, point) + c if value is None else value
    if g == 0:
        return list(point)
    sizes = list(map(abs, a))
    j = sizes.index(max(sizes))  # the first largest, as max(range, key=...) but without a Python call per entry
    out = list(point)
    out[j] = out[j] - g / a[j]
    return out


def facet_witness(target: Affine, others: Sequence[Affine], hint: Sequence[fmpq] | None = None,
                  exact_only: bool = False, float_only: bool = False) -> list[fmpq] | None:
    """A point with target(x) = 0 and every g in others > 0, or None if none exists.

    ``others`` must hold every constraint of the polyhedron not on target's hyperplane.
    ``hint`` (an interior point) gives a first cheap try: its orthogonal projection.
    ``float_only``: only the cheap tries and the float LP's proposals (each checked exactly);
    None then means "not found", not "none exists".
    """
    if hint is not None:
        p = _project(hint, target)
        if strictly_inside(others, p):
            return p
    a_t, c_t = target
    d = len(a_t)
    if not exact_only and hint is not None:
        # the float LP in y = x - hint: far-out regions (coordinates of 10^6 and more) keep their
        # small features in float precision, and the rounded offsets stay small numbers
        shifted = _shift(target, hint)
        moved = [_shift(g, hint) for g in others]
        res = _float_facet_lp(shifted, moved, any_value=True)
        if res is not None and -res.fun > 1e-9:
            for cand in _candidates(res.x[:d]):
                p = _project([h + y for h, y in zip(hint, cand)], target)
                if strictly_inside(others, p):
                    return p
        if res is not None:
            # the float LP's vertex, solved exactly from the rows it makes tight (a basis guess):
            # thin facets far out, where no rounding of the float point is inside
            y = _vertex_of_active_rows(shifted, moved, res)
            if y is not None:
                p = [h + v for h, v in zip(hint, y)]
                if strictly_inside(others, p):
                    return p
    res = None if exact_only or hint is not None else _float_facet_lp(target, others)
    if res is not None:
        for cand in _candidates(res.x[:d]):
            p = _project(cand, target)
            if strictly_inside(others, p):
                return p
    if float_only:
        return None
    # exact: maximise t subject to target = 0, g >= t for others, t <= 1
    res = lp_free([fmpq(0)] * d + [fmpq(-1)],
                  A_ub=[[-v for v in a] + [fmpq(1)] for a, _ in others] + [[fmpq(0)] * d + [fmpq(1)]],
                  b_ub=[c for _, c in others] + [fmpq(1)],
                  A_eq=[list(a_t) + [fmpq(0)]], b_eq=[-c_t])
    if res.status == "optimal" and res.x[d] > 0:
        return res.x[:d]
    return None


def _shift(g: Affine, origin: Sequence[fmpq]) -> Affine:
    """g in the coordinates y = x - origin: the same gradient, the constant g(origin)."""
    a, c = g
    return a, dot(a, origin) + c


def _vertex_of_active_rows(target: Affine, others: Sequence[Affine], res) -> list[fmpq] | None:
    """The exact point where target = 0 and the d rows of ``others`` (or the cap t = 1) that the
    float LP left tightest all hold with equality in g_j(x) = w_j t (w_j: the LP's row weights, as
    rationals: any positive weights give a point to check), or None when that system is
    singular or gives t <= 0.  A guess: the caller checks the point exactly."""
    import numpy as np

    a_t, c_t = target
    d = len(a_t)
    slack = np.asarray(res.slack, float)
    if len(slack) != len(others) + 1 or not np.isfinite(slack).all():
        return None
    tight = np.argsort(slack, kind="stable")[:d].tolist()
    rows, rhs = [list(a_t) + [fmpq(0)]], [-c_t]
    for j in tight:
        if j == len(others):  # the cap: t = 1
            rows.append([fmpq(0)] * d + [fmpq(1)])
            rhs.append(fmpq(1))
            continue
        a, c = others[j]
        w = q_from_float_nice(res.weights[j])
        if w is None or w <= 0:
            return None
        rows.append(list(a) + [-w])
        rhs.append(-c)
    try:
        solution = fmpq_mat(d + 1, d + 1, [v for r in rows for v in r]).solve(fmpq_mat(d + 1, 1, rhs))
    except ZeroDivisionError:
        return None
    values = solution.entries()
    return list(values[:d]) if values[d] > 0 else None


def _float_facet_lp(target: Affine, others: Sequence[Affine], any_value: bool = False):
    """The float guess of ``facet_witness``'s LP, or None when there is none: each row is scaled
    exactly by its largest entry before it becomes floats (weights of 10^400 or 10^-400 stay in
    range), and a system that still does not fit floats gives no guess.  The result carries the
    weights w_j of its rows (g_j / w_j >= t).  Without ``any_value`` an optimum t <= 10^-9 gives
    no guess either."""
    import math

    a_t, c_t = target
    d = len(a_t)

    def scaled(a, c):
        # by the gradient alone: in far-out regions c = g(hint) is huge, and scaling by it would
        # shrink the gradient below HiGHS's tolerances (the LP then "solves" a flattened system)
        top = max((abs(v) for v in a), default=fmpq(0)) or abs(c)
        if top == 0:
            return [0.0] * d, 0.0, fmpq(1)
        return [float_guess(v / top) for v in a], float_guess(c / top), top

    rows = [scaled(a, c) for a, c in others]
    eq_a, eq_c, _ = scaled(a_t, c_t)
    norms = [math.sqrt(sum(v * v for v in a)) or 1.0 for a, _, _ in rows]
    A_ub = [[-v / nm for v in a] + [1.0] for (a, _, _), nm in zip(rows, norms)] + [[0.0] * d + [1.0]]
    b_ub = [c / nm for (_, c, _), nm in zip(rows, norms)] + [1.0]
    if not all(math.isfinite(v) for row in A_ub for v in row) or not all(math.isfinite(v) for v in b_ub):
        return None
    res = float_lp_free([0.0] * d + [-1.0], A_ub=A_ub, b_ub=b_ub, A_eq=[eq_a + [0.0]], b_eq=[-eq_c])
    if res is None or not (any_value or -res.fun > 1e-9):
        return None
    res.weights = [float_guess(top) * nm for (_, _, top), nm in zip(rows, norms)]
    return res


def farkas_certificate(target: Affine, basis: Sequence[Affine]) -> tuple[list[fmpq], fmpq] | None:
    """Nonnegative lambda, mu with target = sum lambda_i basis_i + mu identically, or None."""
    a_t, c_t = target
    d = len(a_t)
    k = len(basis)
    lam = farkas_guess(target, basis)
    if lam is not None:
        return lam
    # exact: variables lambda_1..k, mu >= 0; d equations for the gradient, one for the constant
    A = [[basis[i][0][r] for i in range(k)] + [fmpq(0)] for r in range(d)]
    A.append([basis[i][1] for i in range(k)] + [fmpq(1)])
    b = list(a_t) + [c_t]
    from .lp import simplex_standard

    res = simplex_standard([fmpq(0)] * (k + 1), A, b)
    if res.status != "optimal":
        return None
    return res.x[:k], res.x[k]


def farkas_guess(target: Affine, basis: Sequence[Affine], at: Sequence[fmpq] | None = None):
    """Float NNLS support, then an exact solve on it; None when the guess does not check.

    The float system is the whole Farkas identity: gradients, plus the constant term
    written at the point ``at`` (better conditioned than at the origin) with a slack for mu.
    """
    if not basis:
        return None
    try:
        import numpy as np
        from scipy.optimize import nnls
    except ImportError:  # pragma: no cover
        return None
    a_t, c_t = target
    d, k = len(a_t), len(basis)
    at = list(at) if at is not None else [fmpq(0)] * d
    from .rows import _trusted_floats, floats_of

    g_at = [dot(a, at) + c for a, c in basis]
    columns = [list(a) + [g] for (a, _), g in zip(basis, g_at)] + [list(a_t) + [dot(a_t, at) + c_t]]
    flat = [v for col in columns for v in col]
    F = floats_of(flat).reshape(k + 1, d + 1)
    if not _trusted_floats(F, flat):
        # beyond the float range (overflow, or entries that underflow to 0): scale every column
        # exactly by its largest entry first (a positive factor per multiplier does not change
        # which multipliers are nonzero, which is all the guess is for)
        F = np.array([[float_guess(v / top) for v in col] if (top := max(abs(v) for v in col)) != 0
                      else [0.0] * (d + 1) for col in columns])
    M = np.zeros((d + 1, k + 1))
    M[:, :k] = F[:k].T
    M[d, k] = 1.0
    rhs = F[k]
    scale = np.maximum(np.abs(M).max(axis=1), 1e-300)
    try:
        with np.errstate(all="ignore"):
            lam, _ = nnls(M / scale[:, None], rhs / scale)
    except Exception:  # a guess only: any failure of the float solver means no guess
        return None
    top = float(np.max(lam)) if k else 0.0
    support = sorted((i for i in range(k) if lam[i] > 1e-12 * max(1.0, top)), key=lambda i: -lam[i])
    with_mu = bool(lam[k] > 1e-12 * max(1.0, top))
    for _ in range(len(support) + 1):
        result = farkas_on_support(target, basis, support, with_mu)
        if result is not None or not support:
            return result
        support = support[:-1]  # drop the smallest multiplier and try again
    return None


def farkas_on_support(target: Affine, basis: Sequence[Affine], support: list[int], with_mu: bool):
    """Solve the Farkas identity exactly with only the given multipliers nonzero (mu too if with_mu).

    Returns (lambda over all of ``basis``, mu), or None when that solution is not a certificate.
    """
    result = farkas_on_support_many([target], basis, support, with_mu)[0]
    if result is None:
        return None
    lam = [fmpq(0)] * len(basis)
    for i, v in zip(support, result[0]):
        lam[i] = v
    return lam, result[1]


def farkas_on_support_many(targets: Sequence[Affine], basis: Sequence[Affine], support: list[int],
                           with_mu: bool) -> list:
    """``farkas_on_support`` for several targets at once: one exact solve with many right-hand sides.

    Returns, per target, (multipliers of the support's rows, in the order of ``support``, mu)
    when the exact solution on the support is an exact, nonnegative Farkas certificate, else None.
    """
    solved = _solve_on_support(targets, basis, support, with_mu)
    if solved is None:
        return [None] * len(targets)
    X, ok = solved
    k, e = len(targets), X.entries()
    columns = [e[t::k] for t in range(k)]
    return [(col[:len(support)], col[-1] if with_mu else fmpq(0)) if good else None
            for col, good in zip(columns, ok)]


def farkas_holds_many(targets: Sequence[Affine], basis: Sequence[Affine], support: list[int],
                      with_mu: bool) -> list[bool]:
    """Whether ``farkas_on_support_many`` finds a certificate, per target (without building them)."""
    solved = _solve_on_support(targets, basis, support, with_mu, need_values=False)
    return [False] * len(targets) if solved is None else solved[1]


def farkas_holds_for_rows(flat: Sequence[fmpq], d: int, rows: list[int], basis: Sequence[Affine],
                          support: list[int], with_mu: bool, floats=None) -> list[bool]:
    """``farkas_holds_many`` for targets given as row indices into ``flat``, the constraints [a | c]
    one after the other (``Rows.flat``): the right-hand sides are read off it, no tuple per row.

    ``floats``: the rows' floats when they are trusted (``Rows.trusted``), for a proven filter
    (``_farkas_signs_by_floats``) that settles most targets without exact products."""
    if not rows:
        return []
    if floats is not None and with_mu and len(support) == d and len(rows) >= FILTER_FROM:
        settled = _farkas_signs_by_floats(floats, d, rows, basis, support)
        if settled is not None and None not in settled:  # (the usual case: the floats settle every target)
            return settled
        if settled is not None:
            doubtful = [t for t, ok in zip(rows, settled) if ok is None]
            exact = iter(farkas_holds_for_rows(flat, d, doubtful, basis, support, with_mu))
            return [next(exact) if ok is None else ok for ok in settled]
    width = d + 1
    entries = [flat[i * width + r] for r in range(width) for i in rows]
    solved = _solve_on_support(None, basis, support, with_mu, need_values=False, columns=(entries, d, len(rows)))
    return [False] * len(rows) if solved is None else solved[1]


FILTER_FROM = 16  # targets: below this, the filter's fixed cost (an inverse, its floats) exceeds the exact product's


def _farkas_signs_by_floats(floats, d: int, rows: list[int], basis: Sequence[Affine], support: list[int]):
    """Per target row, whether its Farkas multipliers on the support (with mu, a square system)
    are all >= 0: True or False where floats prove it, None where they cannot; None for all when
    the system is singular or its inverse's floats are not trusted.

    X = M^-1 R, with M^-1 exact and then rounded (relative error <= u = 2^-53 per entry, all
    normal), and R's floats correctly rounded (``floats``, trusted).  Each entry of the float
    product is a sum of d + 1 products of such floats, so it lies within (d + 4) u S of the exact
    entry (S = sum of |M^-1_ij R_jt| in floats, which is within a factor (1 + (d + 3) u) of the
    exact sum), plus (d + 1) 2^-1070 for products that underflow.  An entry beyond twice that
    bound has the sign of its float; a target with such a negative entry fails, a target whose
    entries all lie beyond it on the positive side holds, the others are left to exact products.
    """
    import numpy as np

    # M^T row by row: the support's rows [a | c], then mu's column [0 ... 0 1]
    transposed = [v for i in support for v in (*basis[i][0], basis[i][1])] + [fmpq(0)] * d + [fmpq(1)]
    try:
        entries = fmpq_mat(d + 1, d + 1, transposed).inv().entries()  # of (M^T)^-1 = (M^-1)^T
        Mf = [float(v) for v in entries]
    except (ZeroDivisionError, OverflowError):
        return None
    for f, v in zip(Mf, entries):  # all normal, zero only where exact (as ``Rows.trusted``)
        if not (1e-290 < abs(f) < math.inf or (f == 0 and v == 0)):
            return None
    Mf = np.array(Mf).reshape(d + 1, d + 1).T
    Z = floats[rows].T
    with np.errstate(all="ignore"):
        X = Mf @ Z
        bound = 2 * (d + 5) * 2.0**-53 * (np.abs(Mf) @ np.abs(Z)) + (d + 1) * 2.0**-1070
        negative = (X < -bound).any(axis=0)
        positive = (X > bound).all(axis=0)
    if positive.all():  # (most calls: every target is implied)
        return [True] * len(rows)
    return [False if n else (True if p else None) for n, p in zip(negative.tolist(), positive.tolist())]


def _solve_on_support(targets, basis, support, with_mu, need_values=True, columns=None):
    """The exact solution X of the Farkas identities on the support (one column per target) and,
    per target, whether it is a certificate (exact fit, all multipliers >= 0); None if singular.

    Without ``need_values`` (a square system) only the signs of X are read: with M = Mn / Dm and
    R = Rn / Dr (Dm, Dr > 0), X = M^-1 R = Dm adj(Mn) Rn / (det(Mn) Dr), so X has the signs of
    adj(Mn) Rn times the sign of det(Mn) (small d), or of flint's exact solution (larger d).
    ``columns`` = (entries of R row by row, d, k) instead of ``targets``.
    """
    if columns is not None:
        entries, d, k = columns
    elif not targets:
        return None
    else:
        d, k = len(targets[0][0]), len(targets)
        entries = [(t[0][r] if r < d else t[1]) for r in range(d + 1) for t in targets]
    cols = [list(basis[i][0]) + [basis[i][1]] for i in support] + ([[fmpq(0)] * d + [fmpq(1)]] if with_mu else [])
    if not cols:
        return None
    n = len(cols)
    M = fmpq_mat(d + 1, n, [cols[j][r] for r in range(d + 1) for j in range(n)])
    R = fmpq_mat(d + 1, k, entries)
    square = n == d + 1
    if square and not need_values:
        if d <= 4:  # small: adj(Mn) Rn over the integers, with the sign of det(Mn) (measured cheaper)
            Mn, _ = M.numer_denom()
            det = Mn.det()
            if det == 0:
                return None
            adjugate, _ = (Mn.inv() * det).numer_denom()  # integer entries: denominator 1
            product = adjugate * R.numer_denom()[0]
            e = (product if det > 0 else -product).entries()
        else:  # flint's exact solve (fraction-free): from d = 5 on, cheaper than the inverse
            try:
                e = M.solve(R).entries()
            except ZeroDivisionError:
                return None
        by_row = [e[r * k:(r + 1) * k] for r in range(d + 1)]  # d + 1 >= 2 rows
        return None, [low >= 0 for low in map(min, *by_row)]  # per target, its smallest multiplier
    try:  # a square system has one solution; otherwise least squares, then the fit is checked
        X = M.solve(R) if square else (M.transpose() * M).solve(M.transpose() * R)
    except ZeroDivisionError:
        return None
    ok = [True] * k
    for j, v in enumerate(X.entries()):  # the sign of a rational is its numerator's (cheaper to read)
        if v.p < 0:
            ok[j % k] = False
    if not square:
        fits = M * X
        for t in range(k):
            if ok[t] and any(fits[r, t] != R[r, t] for r in range(d + 1)):
                ok[t] = False
    return X, ok
