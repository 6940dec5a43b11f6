"""The claims "equivalent" and "not_icnn_representable" (``docs/certificate-format.md``).

Like the core checker, this file imports only ``exactconvex.numbers``, the format reader
``exactconvex.network.formats``, python-flint and the standard library, and recomputes
everything from the networks.  The core checker's own functions come in as ``helpers`` (its
module, or a mapping): the readers ``_key``, ``_typed``, ``_nums``, ``_network`` (which raise
``CertificateError``), ``_parse_graph``, ``_check_graph``, ``_local_affine``, ``_parse_convex``,
``_check_convex``, ``_same_network`` and ``_Invalid``.

Claim "equivalent" (f and g compute the same function on R^d):
  1. rebuild h = f - g from ``networks.f`` and ``networks.g`` (``difference_network``: the hidden
     layers of f and g side by side, the output layer f's minus g's) and require it to be the
     embedded network;
  2. the region graph passes the core checks 1-4 (its regions cover R^d);
  3. in every region, the local output map of h (gradient and offset, every output) is 0.
  Then h = 0 on a dense set, hence everywhere (h is continuous): f = g.

Claim "not_icnn_representable" (output k is convex and no ICNN of the same hidden widths
computes it; ``proofs/icnn-kink-bound.md``):
  1. the convexity proof passes as for claim "convex";
  2. ``widths`` are the hidden widths of the network, ``bound`` = n1 + 2 (n2 + ... + nk);
  3. the restriction of output k to the line p + t u (u != 0) has exactly the kinks listed in
     ``kinks`` (recomputed here: neurons in topological order split the intervals where they
     cross 0, then the slope of the output on consecutive intervals is compared), and there
     are more of them than ``bound``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flint import fmpq

from ..network.formats import network_from_dict

__all__ = ["claims", "check_equivalent", "check_not_icnn_representable", "difference_network",
           "kinks_along", "parse_equivalent", "parse_not_icnn_representable"]


def _h(helpers: Any, name: str):
    return helpers[name] if isinstance(helpers, Mapping) else getattr(helpers, name)


def _fail(helpers, reason: str):
    raise _h(helpers, "_Invalid")(reason)


# ----- reading (structure errors are the core's CertificateError: unreadable, exit 2) -------

def parse_equivalent(cert: dict, helpers) -> dict:
    key, typed, network = _h(helpers, "_key"), _h(helpers, "_typed"), _h(helpers, "_network")
    nets = typed(key(cert, "networks", "certificate"), dict, "networks")
    return {"f": network(typed(key(nets, "f", "networks"), dict, "networks.f"), "networks.f"),
            "g": network(typed(key(nets, "g", "networks"), dict, "networks.g"), "networks.g"),
            "graph": _h(helpers, "_parse_graph")(key(cert, "region_graph", "certificate"))}


def parse_not_icnn_representable(cert: dict, helpers) -> dict:
    key, typed, nums = _h(helpers, "_key"), _h(helpers, "_typed"), _h(helpers, "_nums")
    line = typed(key(cert, "line", "certificate"), dict, "line")
    widths = typed(key(cert, "widths", "certificate"), list, "widths")
    return {"convex": _h(helpers, "_parse_convex")(cert),
            "output": typed(key(cert, "output", "certificate", 0), int, "output"),
            "point": nums(key(line, "point", "line"), "line.point"),
            "direction": nums(key(line, "direction", "line"), "line.direction"),
            "widths": [typed(n, int, f"widths[{i}]") for i, n in enumerate(widths)],
            "bound": typed(key(cert, "bound", "certificate"), int, "bound"),
            "kinks": nums(key(cert, "kinks", "certificate"), "kinks")}


# ----- h = f - g, rebuilt --------------------------------------------------------------------

def difference_network(f, g):
    """One network computing f - g: hidden layer l holds f's layer-l neurons, then g's (a network
    of depth L_i keeps its layers 1..L_i - 1); the output layer is f's output layer minus g's, each
    source (main weight or skip) placed at its layer's columns; all-zero skips are dropped."""
    nets, signs = (f, g), (1, -1)
    L = max(len(f.layers), len(g.layers))

    def own(n, l):  # width of net n's hidden layer l (0 if it has none)
        return n.layers[l - 1].weight.nrows() if 1 <= l < len(n.layers) else 0

    width = [f.input_dim] + [own(f, l) + own(g, l) for l in range(1, L)] + [f.layers[-1].weight.nrows()]

    def offset(i, l):  # first row/column of net i in combined layer l (the input is shared)
        return 0 if l == 0 or i == 0 else own(f, l)

    layers = []
    for l in range(1, L + 1):
        mats: dict[int, list[list[fmpq]]] = {}
        bias = [fmpq(0)] * width[l]
        for i, n in enumerate(nets):
            if l < L and l >= len(n.layers):
                continue
            src_l, row0, sign = (l, offset(i, l), 1) if l < L else (len(n.layers), 0, signs[i])
            layer = n.layers[src_l - 1]
            for k, M in [(src_l - 1, layer.weight), *layer.skip.items()]:
                T = mats.setdefault(k, [[fmpq(0)] * width[k] for _ in range(width[l])])
                for r in range(M.nrows()):
                    for c in range(M.ncols()):
                        T[row0 + r][offset(i, k) + c] += sign * M[r, c]
            for r in range(layer.bias.nrows()):
                bias[row0 + r] += sign * layer.bias[r, 0]
        entry = {"weight": mats.pop(l - 1, [[fmpq(0)] * width[l - 1] for _ in range(width[l])]), "bias": bias}
        skips = {str(k): M for k, M in sorted(mats.items()) if any(v != 0 for row in M for v in row)}
        if skips:
            entry["skip"] = skips
        layers.append(entry)
    return network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": f.input_dim,
                              "layers": layers})


def run_equivalent(net, c: dict, helpers) -> str:
    f, g = c["f"], c["g"]
    if f.input_dim != g.input_dim or f.layers[-1].weight.nrows() != g.layers[-1].weight.nrows():
        _fail(helpers, "f and g differ in input dimension or number of outputs")
    if not _h(helpers, "_same_network")(net, difference_network(f, g)):
        _fail(helpers, "the embedded network is not f - g as rebuilt from networks.f and networks.g")
    graph = c["graph"]
    regions, _ = _h(helpers, "_check_graph")(net, graph, [])
    for r, R in enumerate(graph):
        out = _h(helpers, "_local_affine")(net, [[ch == "1" for ch in s] for s in R["pattern"]])[-1]
        for k, row in enumerate(out):
            if any(v != 0 for v in row):
                _fail(helpers, f"region {r}: output {k} of f - g is {[str(v) for v in row]} "
                               f"(gradient, offset) there, not 0")
    return (f"f and g compute the same function: f - g is 0 on each of the {regions} regions "
            f"of its region graph, which cover R^{net.input_dim}")


# ----- kinks along a line ----------------------------------------------------------------------

def kinks_along(net, p: list, u: list, k: int) -> list[fmpq]:
    """The t where output k of net restricted to p + t u changes slope (exact, increasing)."""

    def pre(layer, hs):  # (slope, offset) in t of every neuron of ``layer`` on one interval
        z = []
        for i in range(layer.weight.nrows()):
            s, c = fmpq(0), layer.bias[i, 0]
            for src, M in [(len(hs) - 1, layer.weight), *layer.skip.items()]:
                for j, (a, b) in enumerate(hs[src]):
                    s, c = s + M[i, j] * a, c + M[i, j] * b
            z.append((s, c))
        return z

    pieces = [(None, None, [list(zip(u, p))])]  # (lo, hi, affine maps of h_0 = x, h_1, ...)
    for layer in net.layers[:-1]:
        new = []
        for lo, hi, hs in pieces:
            z = pre(layer, hs)
            cuts = sorted({-c / s for s, c in z if s != 0 and (lo is None or -c / s > lo)
                           and (hi is None or -c / s < hi)})
            ends = [lo, *cuts, hi]
            for a, b in zip(ends, ends[1:]):
                t = fmpq(0) if a is None and b is None else b - 1 if a is None else a + 1 if b is None else (a + b) / 2
                new.append((a, b, hs + [[(s, c) if s * t + c > 0 else (fmpq(0), fmpq(0)) for s, c in z]]))
        pieces = new
    slopes = [(hi, pre(net.layers[-1], hs)[k][0]) for _, hi, hs in pieces]
    return [t for (t, s), (_, s2) in zip(slopes, slopes[1:]) if s != s2]


def run_not_icnn_representable(net, c: dict, helpers) -> str:
    d, k, m = net.input_dim, c["output"], net.layers[-1].weight.nrows()
    p, u = c["point"], c["direction"]
    if not 0 <= k < m:
        _fail(helpers, f"output {k} does not exist (the network has {m})")
    if len(p) != d or len(u) != d:
        _fail(helpers, f"the line needs {d} coordinates for its point and its direction")
    if all(v == 0 for v in u):
        _fail(helpers, "the direction of the line is 0")
    _h(helpers, "_check_convex")(net, c["convex"])
    widths = [layer.weight.nrows() for layer in net.layers[:-1]]
    if c["widths"] != widths:
        _fail(helpers, f"widths {c['widths']} are not the hidden widths {widths} of the network")
    bound = widths[0] + 2 * sum(widths[1:]) if widths else 0
    if c["bound"] != bound:
        _fail(helpers, f"bound {c['bound']} is not n1 + 2 (n2 + ... + nk) = {bound}")
    kinks = kinks_along(net, p, u, k)
    if c["kinks"] != kinks:
        _fail(helpers, f"the kinks along the line are {[str(t) for t in kinks]}, not the listed "
                       f"{[str(t) for t in c['kinks']]}")
    if len(kinks) <= bound:
        _fail(helpers, f"{len(kinks)} kinks along the line do not exceed the ICNN bound {bound}")
    return (f"output {k} is convex and has {len(kinks)} kinks on the line, more than the {bound} that any ICNN "
            f"of hidden widths {tuple(widths)} has on any line: no such ICNN computes it")


# ----- entry points ---------------------------------------------------------------------------

def claims(helpers) -> dict:
    """Entries for the core checker's claim table: name -> (parse(cert), check(net, parsed) -> summary)."""
    return {"equivalent": (lambda cert: parse_equivalent(cert, helpers),
                           lambda net, c: run_equivalent(net, c, helpers)),
            "not_icnn_representable": (lambda cert: parse_not_icnn_representable(cert, helpers),
                                       lambda net, c: run_not_icnn_representable(net, c, helpers))}


def _as_bool(cert: dict, helpers, parse, run) -> tuple[bool, str]:
    key, typed = _h(helpers, "_key"), _h(helpers, "_typed")
    net = _h(helpers, "_network")(typed(key(cert, "network", "certificate"), dict, "network"), "embedded network")
    parsed = parse(cert, helpers)
    try:
        return True, run(net, parsed, helpers)
    except _h(helpers, "_Invalid") as exc:
        return False, str(exc)


def check_equivalent(cert: dict, helpers) -> tuple[bool, str]:
    """(valid, reason) for a claim "equivalent" certificate; CertificateError if unreadable."""
    return _as_bool(cert, helpers, parse_equivalent, run_equivalent)


def check_not_icnn_representable(cert: dict, helpers) -> tuple[bool, str]:
    """(valid, reason) for a claim "not_icnn_representable" certificate; CertificateError if unreadable."""
    return _as_bool(cert, helpers, parse_not_icnn_representable, run_not_icnn_representable)
