"""The independent certificate checker (format: ``docs/certificate-format.md``).

``verify(cert, network=None)`` re-derives everything it needs from the embedded network with
exact rational arithmetic and trusts nothing it can recompute.  It deliberately imports only
``exactconvex.numbers`` and the format reader ``exactconvex.network.formats``, and has its own
forward evaluation and local-affine computation, so that it does not share code with the search.

Two kinds of failure, decided consistently:

* ``CertificateError`` (unreadable, exit 2): not JSON, wrong ``format``/``version``, a required
  key missing, a value of the wrong JSON type, a string that is not an exact number, an invalid
  embedded network.  All structure is read before anything is checked.
* ``CheckResult(valid=False, reason)`` (invalid, exit 1): well-formed but wrong, including wrong
  lengths, out-of-range indices, pattern strings that do not fit the network, unknown claims or
  methods, and every false (in)equality.

Proofs of soundness: ``proofs/completeness.md`` and ``proofs/facet-bends.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from flint import fmpq, fmpq_mat

from ..network.formats import FormatError, load, network_from_dict, parse_json_text
from ..numbers import to_q

__all__ = ["verify", "CheckResult", "CertificateError", "CLAIMS"]

CERT_FORMAT, CERT_VERSION = "exactconvex.certificate", 1


class CertificateError(ValueError):
    """The certificate (or the network to compare with) cannot be read."""


@dataclass(frozen=True)
class CheckResult:
    valid: bool
    reason: str  # the first reason found when invalid, a one-line summary when valid
    claim: str | None = None


class _Invalid(Exception):
    """Internal: the certificate is well formed but wrong."""


def _require(condition: Any, reason: str) -> None:
    if not condition:
        raise _Invalid(reason)


# ----- reading the structure (CertificateError) -------------------------------------------

def _key(obj: dict, key: str, where: str, default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            raise CertificateError(f'{where}: missing key "{key}"')
        return default
    return obj[key]


def _typed(v: Any, kind: type, where: str) -> Any:
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        name = {dict: "a JSON object", list: "a list", str: "a string", int: "an integer"}[kind]
        text = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
        raise CertificateError(f"{where}: expected {name}, got {text}")
    return v


def _num(v: Any, where: str) -> fmpq:
    if v is None or isinstance(v, (bool, list, dict)):
        raise CertificateError(f"{where}: expected an exact number, got {v!r}")
    try:
        return to_q(v)
    except (ValueError, ArithmeticError) as exc:  # NumberError is a ValueError
        raise CertificateError(f"{where}: {exc}") from None


def _nums(v: Any, where: str) -> list[fmpq]:
    return [_num(x, f"{where}[{i}]") for i, x in enumerate(_typed(v, list, where))]


def _neuron_key(v: Any, where: str) -> tuple[int, int]:
    if type(v) is list and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:  # the usual case, fast
        return v[0], v[1]
    if not isinstance(v, list) or len(v) != 2:
        raise CertificateError(f"{where}: expected [layer, index]")
    return _typed(v[0], int, where), _typed(v[1], int, where)


def _read_json(path) -> Any:
    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            text = fh.read().decode("utf-8")
    except UnicodeDecodeError:
        raise CertificateError(f"{p} is not a UTF-8 text file (not JSON)") from None
    except OSError as exc:
        raise CertificateError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        return parse_json_text(text, p)
    except FormatError as exc:
        raise CertificateError(str(exc)) from None


def _network(v: Any, where: str):
    try:
        if isinstance(v, (str, os.PathLike)):
            return load(v)
        if isinstance(v, dict):
            return network_from_dict(v)
    except FormatError as exc:
        raise CertificateError(f"{where}: {exc}") from None
    if hasattr(v, "layers") and hasattr(v, "input_dim"):
        return v
    raise CertificateError(f"{where}: expected a network, got {type(v).__name__}")


# ----- exact arithmetic of the network (own implementation) --------------------------------

def _evaluate(net, x: list[fmpq]) -> list[fmpq]:
    """Outputs at x: h_0 = x, z_l = W_l h_{l-1} + sum_k S_{l,k} h_k + b_l, h_l = ReLU(z_l)."""
    h = [fmpq_mat(len(x), 1, x)]
    for layer in net.layers:
        z = layer.weight * h[-1] + layer.bias
        for k, S in layer.skip.items():
            z = z + S * h[k]
        h.append(fmpq_mat(z.nrows(), 1, [v if v > 0 else 0 for v in z.entries()]))
    return z.entries()


def _local_affine(net, on: list[list[bool]]) -> list[list[tuple]]:
    """Rows (a_1, ..., a_d, c) of z = a.x + c for every neuron of layers 1..L, ReLUs fixed by ``on``."""
    d = net.input_dim
    M = [fmpq_mat(d, d + 1, [int(i == j) for i in range(d) for j in range(d + 1)])]  # h_0 = [I | 0]
    Z = []
    for l, layer in enumerate(net.layers, start=1):
        n = layer.weight.nrows()
        z = layer.weight * M[l - 1] + fmpq_mat(n, d + 1, [layer.bias[i, 0] if j == d else 0
                                                         for i in range(n) for j in range(d + 1)])
        for k, S in layer.skip.items():
            z = z + S * M[k]
        e = z.entries()
        rows = [tuple(e[i * (d + 1):(i + 1) * (d + 1)]) for i in range(n)]
        Z.append(rows)
        if l < net.depth:  # off neurons output 0
            M.append(fmpq_mat(n, d + 1, [v if on[l - 1][i] else 0 for i, r in enumerate(rows) for v in r]))
    return Z


def _signs_at(C: fmpq_mat, points: list[list]) -> list[list]:
    """Per point, the values of every row (a | c) of C at it, each times the same positive
    integer (so with the same signs): one exact integer matrix product.

    C = N / D and the points' matrix P = Pn / Dp with integers N, Pn and D, Dp > 0, so
    C P = (N Pn) / (D Dp); integers avoid reducing every fraction.
    """
    k, n = len(points), C.ncols()
    N, D = C.numer_denom()
    Pn, Dp = fmpq_mat(n, k, [p[t] if t < n - 1 else 1 for t in range(n) for p in points]).numer_denom()
    _require(D > 0 and Dp > 0, "internal: a common denominator is not positive")  # flint guarantees it
    e = (N * Pn).entries()
    return [e[j::k] for j in range(k)]


def _value(g: tuple, p: list) -> fmpq:
    """g(p) for g = (a_1, ..., a_d, c), exactly (for messages)."""
    return sum((a * x for a, x in zip(g, p)), fmpq(0)) + g[-1]


def _not_positive(values: list) -> list[int]:
    """Positions of the values that are <= 0."""
    return [t for t, v in enumerate(values) if v <= 0]


def _nonconst(g: tuple) -> bool:
    return any(g[:-1])


def _neg(g: tuple) -> tuple:
    return tuple(-v for v in g)


def _pos_multiple(g: tuple, h: tuple) -> bool:
    """g = t h for some t > 0 (h non-constant)."""
    i = next(i for i, v in enumerate(h) if v != 0)
    t = g[i] / h[i]
    return t > 0 and all(a == t * b for a, b in zip(g, h))


def _same_network(a, b) -> bool:
    if a.input_dim != b.input_dim or len(a.layers) != len(b.layers):
        return False
    return all(A.weight == B.weight and A.bias == B.bias and set(A.skip) == set(B.skip)
               and all(A.skip[k] == B.skip[k] for k in A.skip) for A, B in zip(a.layers, b.layers))


def _outputs(net) -> int:
    return net.layers[-1].weight.nrows()


# ----- claim "not_convex" -----------------------------------------------------------------

def _parse_not_convex(cert: dict) -> dict:
    w = _typed(_key(cert, "witness", "certificate"), dict, "witness")
    return {"output": _typed(_key(w, "output", "witness"), int, "witness.output"),
            "x": _nums(_key(w, "x", "witness"), "witness.x"), "y": _nums(_key(w, "y", "witness"), "witness.y"),
            "lambda": _num(_key(w, "lambda", "witness"), "witness.lambda")}


def _check_not_convex(net, w: dict) -> str:
    k, x, y, lam, d = w["output"], w["x"], w["y"], w["lambda"], net.input_dim
    _require(0 <= k < _outputs(net), f"witness: output {k} does not exist (the network has {_outputs(net)})")
    _require(len(x) == d and len(y) == d, f"witness: x and y need {d} coordinates each")
    _require(0 < lam < 1, f"witness: lambda = {lam} is not strictly between 0 and 1")
    m = [lam * a + (1 - lam) * b for a, b in zip(x, y)]
    fm, fx, fy = _evaluate(net, m)[k], _evaluate(net, x)[k], _evaluate(net, y)[k]
    gap = fm - (lam * fx + (1 - lam) * fy)
    _require(gap > 0, f"witness: f_{k}(lambda x + (1 - lambda) y) = {fm} does not exceed "
                      f"lambda f_{k}(x) + (1 - lambda) f_{k}(y) = {fm - gap}")
    return f"output {k} is not convex: at lambda = {lam} between x and y it lies {gap} above the chord"


# ----- claim "convex" ---------------------------------------------------------------------

def _parse_convex(cert: dict) -> dict:
    proofs = []
    for i, p in enumerate(_typed(_key(cert, "proofs", "certificate"), list, "proofs")):
        p = _typed(p, dict, f"proofs[{i}]")
        proofs.append((_typed(_key(p, "output", f"proofs[{i}]"), int, f"proofs[{i}].output"),
                       _typed(_key(p, "method", f"proofs[{i}]"), str, f"proofs[{i}].method")))
    if any(m == "regions" for _, m in proofs) or "region_graph" in cert:
        return {"proofs": proofs, "graph": _parse_graph(_key(cert, "region_graph", "certificate"))}
    return {"proofs": proofs, "graph": None}


def _check_convex(net, c: dict) -> str:
    m, proofs = _outputs(net), c["proofs"]
    _require(len(proofs) == m, f"{len(proofs)} proofs for {m} outputs (one per output, in order)")
    by_method: dict[str, list[int]] = {}
    for i, (k, method) in enumerate(proofs):
        _require(k == i, f"proofs[{i}] is for output {k}; expected output {i} (one proof per output, in order)")
        _require(method in METHODS, f"proofs[{i}]: unknown method {method!r}")
        by_method.setdefault(method, []).append(k)
    for method, ks in by_method.items():
        for k in ks:
            if method != "regions":
                METHODS[method](net, k)
    summary = "; ".join(f"{meth}: outputs {ks}" for meth, ks in by_method.items())
    if c["graph"] is not None:  # checked whenever present; bends only for the outputs that use it
        regions, facets = _check_graph(net, c["graph"], by_method.get("regions", []))
        summary += f" (region graph: {regions} regions, {facets} facets)"
    return f"every output is convex ({summary})"


def _check_icnn(net, k: int) -> None:
    """Weights from hidden layers into hidden layers, and into output k, are >= 0."""
    L = len(net.layers)
    for l, layer in enumerate(net.layers, start=1):
        rows = [k] if l == L else range(layer.weight.nrows())
        mats = ([(l - 1, layer.weight)] if l >= 2 else []) + [(s, S) for s, S in layer.skip.items() if s >= 1]
        for src, S in mats:
            for i in rows:
                for j in range(S.ncols()):
                    _require(S[i, j] >= 0, f"output {k}, method icnn: the weight of neuron {j} of layer {src} "
                                           f"into neuron {i} of layer {l} is {S[i, j]} < 0")


def _check_one_layer(net, k: int) -> None:
    """Group hidden rows by hyperplane; each group's sum_j a_j |c_j| is >= 0."""
    _require(len(net.layers) == 2, f"output {k}, method one_layer: the network does not have exactly one hidden layer")
    W, b, A = net.layers[0].weight, net.layers[0].bias, net.layers[1].weight
    groups: dict[tuple, fmpq] = {}
    for j in range(W.nrows()):
        row = [W[j, i] for i in range(W.ncols())] + [b[j, 0]]
        c = next((v for v in row[:-1] if v != 0), None)
        if c is not None:  # rows with w_j = 0 are constants
            key = tuple(v / c for v in row)
            groups[key] = groups.get(key, fmpq(0)) + A[k, j] * abs(c)
    for key, total in groups.items():
        _require(total >= 0, f"output {k}, method one_layer: the neurons on the hyperplane "
                             f"{[str(v) for v in key]} bend by {total} < 0")


METHODS: dict[str, Callable] = {"icnn": _check_icnn, "one_layer": _check_one_layer, "regions": None}


# ----- the region graph -------------------------------------------------------------------

def _parse_graph(graph: Any) -> list[dict]:
    regions = []
    for r, R in enumerate(_typed(_key(_typed(graph, dict, "region_graph"), "regions", "region_graph"), list, "regions")):
        w = f"regions[{r}]"
        R = _typed(R, dict, w)
        pattern = _typed(_key(R, "pattern", w), list, f"{w}.pattern")
        facets, redundant = [], []
        for i, F in enumerate(_typed(R.get("facets", []), list, f"{w}.facets")):
            v = f"{w}.facets[{i}]"
            F = _typed(F, dict, v)
            facets.append({"neuron": _neuron_key(_key(F, "neuron", v), f"{v}.neuron"),
                           "point": _nums(_key(F, "point", v), f"{v}.point"),
                           "neighbor": _typed(_key(F, "neighbor", v), int, f"{v}.neighbor")})
        for i, E in enumerate(_typed(R.get("redundant", []), list, f"{w}.redundant")):
            v = f"{w}.redundant[{i}]"
            E = _typed(E, dict, v)
            support = E.get("support")
            redundant.append({"neuron": _neuron_key(_key(E, "neuron", v), f"{v}.neuron"),
                              "support": None if support is None else
                              [_typed(k, int, f"{v}.support") for k in _typed(support, list, f"{v}.support")],
                              "multipliers": _nums(_key(E, "multipliers", v), f"{v}.multipliers"),
                              "constant": _num(_key(E, "constant", v), f"{v}.constant")})
        implied = []
        for i, E in enumerate(_typed(R.get("implied", []), list, f"{w}.implied")):
            v = f"{w}.implied[{i}]"
            E = _typed(E, dict, v)
            implied.append({"facets": [_typed(k, int, f"{v}.facets") for k in _typed(_key(E, "facets", v), list,
                                                                                   f"{v}.facets")],
                            "neurons": [_neuron_key(n, f"{v}.neurons") for n in _typed(_key(E, "neurons", v), list,
                                                                                       f"{v}.neurons")]})
        regions.append({"pattern": [_typed(s, str, f"{w}.pattern[{i}]") for i, s in enumerate(pattern)],
                        "interior_point": _nums(_key(R, "interior_point", w), f"{w}.interior_point"),
                        "facets": facets, "redundant": redundant, "implied": implied})
    return regions


def _check_graph(net, regions: list[dict], outputs: list[int]) -> tuple[int, int]:
    """Checks 1-5 of docs/certificate-format.md; returns (regions, facets)."""
    _require(regions, "the region graph has no regions")
    widths, d = [layer.weight.nrows() for layer in net.layers[:-1]], net.input_dim
    computed = []  # per region: {(layer, index): constraint g >= 0}, its keys, which g are non-constant,
    #                output rows, the matrix of the g
    for r, R in enumerate(regions):
        pat = R["pattern"]
        _require(len(pat) == len(widths) and all(len(s) == n and set(s) <= {"0", "1"} for s, n in zip(pat, widths)),
                 f"region {r}: pattern {pat} is not one string of 0/1 per hidden layer of widths {widths}")
        on = [[ch == "1" for ch in s] for s in pat]
        Z = _local_affine(net, on)
        cons = {(l, j): g if on[l - 1][j] else _neg(g) for l in range(1, len(widths) + 1) for j, g in enumerate(Z[l - 1])}
        C = fmpq_mat(len(cons), d + 1, [v for g in cons.values() for v in g])
        computed.append((cons, list(cons), [_nonconst(g) for g in cons.values()], Z[-1], C))
    # every point at which a region's constraints are needed (its interior point, its facet
    # points, and the facet points of regions naming it as neighbour): one product per region
    asked: list[list] = [[] for _ in regions]

    def ask(r: int, point: list) -> int:
        asked[r].append(point)
        return len(asked[r]) - 1

    columns = []
    for r, R in enumerate(regions):
        cons = computed[r][0]
        p = R["interior_point"]
        _require(len(p) == d, f"region {r}: the interior point has {len(p)} coordinates, expected {d}")
        cols = [ask(r, p)]
        for i, F in enumerate(R["facets"]):
            w, nu, q, nb = f"region {r}, facet {i}", F["neuron"], F["point"], F["neighbor"]
            _require(nu in cons, f"{w}: there is no hidden neuron {list(nu)}")
            _require(len(q) == d, f"{w}: the point has {len(q)} coordinates, expected {d}")
            _require(0 <= nb < len(regions), f"{w}: neighbor {nb} is not a region index")
            cols.append((ask(r, q), ask(nb, q)))
        columns.append(cols)
    values = [_signs_at(computed[r][-1], asked[r]) for r in range(len(regions))]  # checks 1-3 need signs only
    nfacets = 0
    for r, R in enumerate(regions):
        cons, keys, nonconst, out, _ = computed[r]
        at_p = values[r][columns[r][0]]
        # checks 1-3 look only at the constraints that are <= 0 at a point (at a constant
        # constraint, the value is its constant)
        for t in _not_positive(at_p):  # check 1
            if nonconst[t] or at_p[t] < 0:
                _require(False, f"region {r}: the constraint of neuron {list(keys[t])} is {_value(cons[keys[t]], R['interior_point'])} "
                                f"at the interior point")
        facet_g = []
        for i, F in enumerate(R["facets"]):
            w, nu, nb = f"region {r}, facet {i}", F["neuron"], F["neighbor"]
            own, across_col = columns[r][i + 1]
            g = cons[nu]
            _require(_nonconst(g), f"{w}: the constraint of neuron {list(nu)} is constant")
            at_q = values[r][own]
            _require(not at_q[keys.index(nu)], f"{w}: the point is not on the hyperplane of neuron {list(nu)}")
            for t in _not_positive(at_q):  # check 2
                if nonconst[t] and not _pos_multiple(cons[keys[t]], g):
                    _require(False, f"{w}: the point is not in the relative interior of the facet "
                                    f"(constraint of neuron {list(keys[t])})")
            ncons, nkeys, nnonconst, nout, _ = computed[nb]
            across = False
            for t in _not_positive(values[nb][across_col]):  # check 3
                h = ncons[nkeys[t]]
                if nnonconst[t]:
                    if not _pos_multiple(h, _neg(g)):
                        _require(False, f"{w}: region {nb} does not contain the other side of the facet near the "
                                        f"point (constraint of neuron {list(nkeys[t])})")
                    across = True
            _require(across, f"{w}: region {nb} has no constraint on the facet's hyperplane (it is not across)")
            for k in outputs:  # check 5, n = -grad g points from R into the neighbour
                bend = sum((b - a) * -c for a, b, c in zip(out[k][:-1], nout[k][:-1], g[:-1]))
                _require(bend >= 0, f"{w}: output {k} bends by {bend} < 0 across the facet into region {nb}")
            facet_g.append(g)
        nfacets += len(facet_g)
        proved = set(F["neuron"] for F in R["facets"])
        dense, targets = [], []  # check 4: every identity of the region in one matrix product
        for i, E in enumerate(R["redundant"]):
            w, nu, mult, const = f"region {r}, redundant {i}", E["neuron"], E["multipliers"], E["constant"]
            _require(nu in cons, f"{w}: there is no hidden neuron {list(nu)}")
            support = E["support"]
            if support is None:  # one multiplier per facet
                _require(len(mult) == len(facet_g), f"{w}: {len(mult)} multipliers for {len(facet_g)} facets")
                support = range(len(facet_g))
            else:  # multipliers of the listed facets, the others are 0
                _require(len(mult) == len(support), f"{w}: {len(mult)} multipliers for {len(support)} support facets")
                _require(len(set(support)) == len(support) and all(0 <= f < len(facet_g) for f in support),
                         f"{w}: the support {support} does not name distinct facets of the region")
            _require(all(m >= 0 for m in mult) and const >= 0, f"{w}: a multiplier or the constant is negative")
            row = [0] * (len(facet_g) + 1)
            for m, f in zip(mult, support):
                row[f] = m
            row[-1] = const
            dense.append(row)
            targets.append(cons[nu])
            proved.add(nu)
        if dense:  # sum_f multiplier_f g_f + constant, for every entry at once
            basis = fmpq_mat(len(facet_g) + 1, d + 1, [v for G in facet_g for v in G] + [0] * d + [1])
            combos = fmpq_mat(len(dense), len(facet_g) + 1, [v for row in dense for v in row]) * basis
            for i, g in (enumerate(targets) if combos != fmpq_mat(len(targets), d + 1, [v for g in targets for v in g])
                         else ()):  # find the first wrong identity
                for t in range(d + 1):
                    if combos[i, t] != g[t]:
                        _require(False, f"region {r}, redundant {i}: the Farkas identity for neuron "
                                        f"{list(R['redundant'][i]['neuron'])} fails at "
                                        f"{'the constant term' if t == d else f'coefficient {t}'}")
        for i, E in enumerate(R["implied"]):  # check 4 with multipliers the checker solves for
            proved.update(_check_implied(f"region {r}, implied {i}", cons, facet_g, E["facets"], E["neurons"], d))
        for t, (nu, g) in enumerate(cons.items()):
            if nonconst[t] and nu not in proved and not any(_pos_multiple(g, G) for G in facet_g):
                _require(False, f"region {r}: the constraint of neuron {list(nu)} is neither a listed facet nor "
                                f"proved redundant")
    return len(regions), nfacets


def _check_implied(w: str, cons: dict, facet_g: list, support: list, neurons: list, d: int) -> list:
    """Each listed constraint g = sum_f lambda_f g_f + mu with lambda, mu >= 0 over the support.

    With the support's rows and the constant linearly independent, the solution is unique,
    so solving for it exactly and finding it nonnegative is a Farkas certificate; finding it
    negative (or no exact solution) rejects the claim.
    """
    _require(len(set(support)) == len(support) and all(0 <= f < len(facet_g) for f in support),
             f"{w}: the facets {support} are not distinct facets of the region")
    for nu in neurons:
        _require(nu in cons, f"{w}: there is no hidden neuron {list(nu)}")
    columns = [facet_g[f] for f in support] + [(0,) * d + (1,)]  # the last one is the constant
    M = fmpq_mat(d + 1, len(columns), [g[t] for t in range(d + 1) for g in columns])
    T = fmpq_mat(d + 1, len(neurons), [cons[nu][t] for t in range(d + 1) for nu in neurons])
    independent = f"{w}: the facets {support} and the constant are not linearly independent"
    if len(columns) == d + 1:
        # square: X = M^-1 T. With M = Mn / Dm, T = Tn / Dt (integers, Dm, Dt > 0) and
        # Mn^-1 = adj(Mn) / det(Mn): X = Dm adj(Mn) Tn / (det(Mn) Dt), so the signs of X are those
        # of adj(Mn) Tn times the sign of det(Mn) (exact integers, no fractions to reduce)
        (Mn, Dm), (Tn, Dt) = M.numer_denom(), T.numer_denom()
        det = Mn.det()
        _require(det != 0 and Dm > 0 and Dt > 0, independent)
        adjugate, one = (Mn.inv() * det).numer_denom()
        _require(one == 1, "internal: the adjugate of an integer matrix is an integer matrix")
        positive = det > 0
        signs = [v if positive else -v for v in (adjugate * Tn).entries()]
    else:  # the normal equations' solution is the only possible one; it must fit exactly
        try:
            X = (M.transpose() * M).solve(M.transpose() * T)
        except ZeroDivisionError:
            raise _Invalid(independent) from None
        _require(M * X == T, f"{w}: some listed constraint is not a combination of the facets {support} and a "
                             f"constant")
        signs = X.entries()
    for k, v in enumerate(signs):
        if v < 0:
            raise _Invalid(f"{w}: the constraint of neuron {list(neurons[k % len(neurons)])} needs a negative "
                           f"multiplier")
    return neurons


# ----- entry point -------------------------------------------------------------------------

# claim name -> (read the claim's keys (CertificateError), check them (_Invalid) and return a summary).
# "equivalent" and "not_icnn_representable" will be registered here.
CLAIMS: dict[str, tuple[Callable[[dict], Any], Callable[[Any, Any], str]]] = {
    "not_convex": (_parse_not_convex, _check_not_convex),
    "convex": (_parse_convex, _check_convex),
}


def verify(cert, network=None) -> CheckResult:
    """Check a certificate (a path or a parsed dict) exactly; ``network`` (a Network or a path)
    must then equal the embedded network.  Raises CertificateError if the input is unreadable."""
    data = cert if isinstance(cert, dict) else _read_json(cert) if isinstance(cert, (str, os.PathLike)) else None
    data = _typed(data, dict, "the certificate")
    if data.get("format") != CERT_FORMAT:
        raise CertificateError(f'field "format": expected "{CERT_FORMAT}", got {data.get("format")!r}')
    version = data.get("version")
    if isinstance(version, bool) or version != CERT_VERSION:
        raise CertificateError(f'field "version": expected {CERT_VERSION}, got {version!r}')
    claim = _typed(_key(data, "claim", "certificate"), str, "claim")
    net = _network(_typed(_key(data, "network", "certificate"), dict, "network"), "embedded network")
    other = None if network is None else _network(network, "--network")
    if claim not in CLAIMS:
        return CheckResult(False, f"claim {claim!r} is not supported by this checker "
                                  f"(supported: {', '.join(sorted(CLAIMS))})", claim)
    parse, check = CLAIMS[claim]
    parsed = parse(data)
    try:
        _require(other is None or _same_network(net, other), "the embedded network differs from the given network")
        return CheckResult(True, check(net, parsed), claim)
    except _Invalid as exc:
        return CheckResult(False, str(exc), claim)


# claims "equivalent" and "not_icnn_representable": exactconvex/checker/extra_claims.py
import sys as _sys  # noqa: E402

from .extra_claims import claims as _extra_claims  # noqa: E402

CLAIMS.update(_extra_claims(_sys.modules[__name__]))
