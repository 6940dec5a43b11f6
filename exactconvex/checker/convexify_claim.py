"""The claim "nearest_convex" (``docs/certificate-format.md``): OUT is the convex network nearest to NET.

NET is the embedded ``"network"``, OUT the embedded ``"convexified"``.  The free weights of an
output row ("theta") are the output layer's weights from hidden units: its skips from hidden
layers 1, 2, ... (increasing source) and its main weight from the last hidden layer.  The
checks, one function each:

1. ``check_same_hidden_layers``: OUT has NET's hidden layers, NET's output bias, NET's skip
   sources into the output and NET's skip from the input; only the free weights may differ.
2. ``check_distances``: for every output k, ||theta_k(OUT) - theta_k(NET)|| (the certificate's
   norm) is the claimed distance D_k, and the claimed distance of the whole output layer is the
   largest D_k (linf) or their sum (l1).
3. The region graph passes checks 1-5 on OUT for every output (``region_graph.py``): OUT is
   convex on R^d.
4. ``check_optimality``: for every output with D_k > 0, the multipliers y_e >= 0 name facets of
   the region graph (checks 2-3 made each one a real facet); the checker recomputes each bend row
   g_e from the network (bend of any output row theta across e = g_e . theta), forms
   w = sum_e y_e g_e and requires w . theta_k(NET) < 0 and
   -(w . theta_k(NET)) / ||w||_1 = D_k (linf; ||w||_inf for l1).

Why 4 proves optimality: a convex output row theta bends by >= 0 across every facet, so
w . theta >= 0; hence w . (theta - theta_0) >= -w . theta_0 > 0, and Hoelder's inequality
w . v <= ||w||_1 ||v||_inf (resp. ||w||_inf ||v||_1) gives ||theta - theta_0|| >= D_k.  OUT's
row is convex (3) and at distance D_k (2): it is nearest.  Rows are independent, so the
output layer is nearest too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq

from .arithmetic import local_affine
from .reader import Network, field, number, read_network, short, short_text, typed
from .region_graph import Kernels, Layout, Region, check_region_graph, read_region_graph, region_maps
from .results import Summary, require

__all__ = ["Multiplier", "OutputClaim", "NearestConvexClaim", "NORMS", "read_nearest_convex",
           "check_nearest_convex", "check_same_hidden_layers", "check_distances", "check_optimality",
           "free_weights", "output_row", "bend_row"]

NORMS = ("linf", "l1")


@dataclass(frozen=True)
class Multiplier:
    region: int
    facet: int
    y: fmpq


@dataclass(frozen=True)
class OutputClaim:
    output: int
    distance: fmpq
    multipliers: tuple[Multiplier, ...]


@dataclass(frozen=True)
class NearestConvexClaim:
    convexified: Network
    norm: str
    distance: fmpq
    outputs: tuple[OutputClaim, ...]
    graph: tuple[Region, ...]


def _multiplier(doc, where: str) -> Multiplier:
    doc = typed(doc, dict, where)
    return Multiplier(typed(field(doc, "region", where), int, f"{where}.region"),
                      typed(field(doc, "facet", where), int, f"{where}.facet"),
                      number(field(doc, "y", where), f"{where}.y"))


def _output(doc, where: str) -> OutputClaim:
    doc = typed(doc, dict, where)
    mult = typed(doc.get("multipliers", []), list, f"{where}.multipliers")
    return OutputClaim(typed(field(doc, "output", where), int, f"{where}.output"),
                       number(field(doc, "distance", where), f"{where}.distance"),
                       tuple(_multiplier(m, f"{where}.multipliers[{i}]") for i, m in enumerate(mult)))


def read_nearest_convex(cert: dict) -> NearestConvexClaim:
    outputs = typed(field(cert, "outputs", "certificate"), list, "outputs")
    return NearestConvexClaim(read_network(field(cert, "convexified", "certificate"), "convexified"),
                              typed(field(cert, "norm", "certificate"), str, "norm"),
                              number(field(cert, "distance", "certificate"), "distance"),
                              tuple(_output(o, f"outputs[{i}]") for i, o in enumerate(outputs)),
                              read_region_graph(field(cert, "region_graph", "certificate")))


# ----- the free weights ----------------------------------------------------------------------------

def free_weights(net: Network) -> list[tuple[int, int]]:
    """(hidden layer, neuron index) of every free weight of an output row, in order: skips into the
    output from hidden layers 1, 2, ..., then the main weight from the last hidden layer."""
    L = net.depth
    if L < 2:
        return []
    sources = [k for k, _ in net.layers[-1].skip if k >= 1] + [L - 1]
    return [(l, j) for l in sources for j in range(net.layers[l - 1].width)]


def output_row(net: Network, k: int) -> list[fmpq]:
    """Output k's free weights, in the order of ``free_weights``."""
    last = net.layers[-1]
    skips = dict(last.skip)
    return [(last.weight if l == net.depth - 1 else skips[l])[k, j] for l, j in free_weights(net)]


def _norm(values: list, norm: str) -> fmpq:
    if norm == "linf":
        return max((abs(v) for v in values), default=fmpq(0))
    return sum((abs(v) for v in values), fmpq(0))


# ----- the checks ----------------------------------------------------------------------------------

def check_same_hidden_layers(net: Network, out: Network) -> None:
    """Check 1: OUT differs from NET only in the output layer's weights from hidden units."""
    require(net.input_dim == out.input_dim and net.depth == out.depth,
            f"the convexified network has input dimension {out.input_dim} and depth {out.depth}, the network "
            f"{net.input_dim} and {net.depth}")
    for l, (a, b) in enumerate(zip(net.layers[:-1], out.layers[:-1]), start=1):
        for name in ("weight", "bias", "skip", "slope"):
            require(getattr(a, name) == getattr(b, name),
                    f"the convexified network's hidden layer {l} differs from the network's ({name})")
    a, b = net.layers[-1], out.layers[-1]
    L = net.depth
    require(a.width == b.width, f"the convexified network has {b.width} outputs, the network {a.width}")
    require(a.bias == b.bias, f"the convexified network's output bias (layer {L}) differs from the network's")
    require([k for k, _ in a.skip] == [k for k, _ in b.skip],
            f"the convexified network's output layer (layer {L}) has skip sources {[k for k, _ in b.skip]}, the "
            f"network's {[k for k, _ in a.skip]}")
    require(dict(a.skip).get(0) == dict(b.skip).get(0),
            f"the convexified network's skip from the input into layer {L} differs from the network's")
    if L == 1:
        require(a.weight == b.weight, "the network has no hidden layer, so its output layer cannot change")


def check_distances(net: Network, out: Network, claim: NearestConvexClaim) -> None:
    """Check 2: every claimed distance is the norm of the change of the free weights."""
    require(claim.norm in NORMS, f"norm {short_text(claim.norm)} is not one of {', '.join(NORMS)}")
    m = net.outputs
    require(len(claim.outputs) == m, f"{len(claim.outputs)} output entries for {m} outputs (one per output, in order)")
    for i, o in enumerate(claim.outputs):
        require(o.output == i, f"outputs[{i}] is for output {o.output}; expected output {i} (one per output, in order)")
        change = [x - y for x, y in zip(output_row(out, i), output_row(net, i))]
        actual = _norm(change, claim.norm)
        require(actual == o.distance, f"output {i}: the free weights changed by {short(actual)} in {claim.norm}, "
                                      f"not by the claimed {short(o.distance)}")
    total = _norm([o.distance for o in claim.outputs], claim.norm)
    require(total == claim.distance, f"the output layer's {claim.norm} distance is {short(total)} "
                                     f"({'the largest' if claim.norm == 'linf' else 'the sum'} of the outputs'), not "
                                     f"the claimed {short(claim.distance)}")


def bend_row(net: Network, regions: tuple[Region, ...], r: int, i: int, cache: dict) -> list[fmpq]:
    """g_e for facet i of region r: the bend of an output row theta across it, from r into its
    neighbour N with n = -grad g (g the facet's constraint in r), is g_e . theta, where
    g_e[p] = (grad h_p^N - grad h_p^r) . n for the hidden unit h_p of free weight p."""
    layout = Layout.of(net)

    def maps(t):
        if t not in cache:
            on = [[ch == "1" for ch in s] for s in regions[t].pattern]
            cache[t] = (on, local_affine(net, on), region_maps(net, regions[t].pattern))
        return cache[t]

    F = regions[r].facets[i]
    on_r, rows_r, maps_r = maps(r)
    on_n, rows_n, _ = maps(F.neighbor)
    g = maps_r.constraints[layout.position(F.neuron)]
    normal = [-v for v in g[:-1]]
    row = []
    for l, j in free_weights(net):
        slope = net.layers[l - 1].slope
        a = [v if on_r[l - 1][j] else slope * v for v in rows_r[l - 1][j][:-1]]
        b = [v if on_n[l - 1][j] else slope * v for v in rows_n[l - 1][j][:-1]]
        row.append(sum(((y - x) * c for x, y, c in zip(a, b, normal)), fmpq(0)))
    return row


def check_optimality(net: Network, claim: NearestConvexClaim) -> int:
    """Check 4: for every output with distance D > 0, the multipliers bound the distance of every
    convex output row from below by exactly D.  Returns the number of facets used."""
    regions = claim.graph
    dual = "l1" if claim.norm == "linf" else "linf"
    cache: dict = {}
    used = set()
    for o in claim.outputs:
        k = o.output
        if o.distance == 0:
            require(not o.multipliers, f"output {k}: distance 0 needs no multipliers")
            continue
        require(o.multipliers, f"output {k}: distance {short(o.distance)} > 0 but no multipliers prove that no nearer "
                               f"output row is convex")
        theta0 = output_row(net, k)
        w = [fmpq(0)] * len(theta0)
        for t, mult in enumerate(o.multipliers):
            where = f"output {k}, multipliers[{t}]"
            require(0 <= mult.region < len(regions), f"{where}: region {mult.region} is not a region index")
            require(0 <= mult.facet < len(regions[mult.region].facets),
                    f"{where}: region {mult.region} has no facet {mult.facet}")
            require(mult.y >= 0, f"{where}: the multiplier {short(mult.y)} is negative")
            g = bend_row(net, regions, mult.region, mult.facet, cache)
            w = [a + mult.y * b for a, b in zip(w, g)]
            used.add((mult.region, mult.facet))
        value = sum((a * b for a, b in zip(w, theta0)), fmpq(0))
        require(value < 0, f"output {k}: w . theta_0 = {short(value)} is not negative, so the multipliers prove no "
                           f"positive distance")
        bound = -value / _norm(w, dual)
        require(bound == o.distance, f"output {k}: the multipliers prove a distance of at least {short(bound)}, not "
                                     f"the claimed {short(o.distance)}")
    return len(used)


def check_nearest_convex(net: Network, claim: NearestConvexClaim, kernels: Kernels) -> Summary:
    """Checks 1-4 above; the region graph's checks run on OUT for every output."""
    out = claim.convexified
    check_same_hidden_layers(net, out)
    check_distances(net, out, claim)
    regions, facets = check_region_graph(out, claim.graph, list(range(out.outputs)), kernels)
    used = check_optimality(net, claim)
    if claim.distance == 0:
        text = f"the network is convex (distance 0; region graph: {regions} regions, {facets} facets)"
    else:
        text = (f"the convexified network is convex (region graph: {regions} regions, {facets} facets) and its output "
                f"layer is nearest to the network's: {claim.norm} distance {short(claim.distance)}, proven optimal by "
                f"multipliers on {used} facets")
    return Summary(text, regions, facets)
