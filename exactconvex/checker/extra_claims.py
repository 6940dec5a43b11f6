"""The claims "equivalent" and "not_icnn_representable" (``docs/certificate-format.md``).

"equivalent" (f and g compute the same function on R^d):
  1. rebuild h = f - g from ``networks.f`` and ``networks.g`` (``arithmetic.combine``) and
     require it to be the embedded network;
  2. the region graph passes checks 1-4 (its regions cover R^d);
  3. in every region, the local output map of h (gradient and offset, every output) is 0.
  Then h = 0 on a dense set, hence everywhere (h is continuous): f = g.

"not_icnn_representable" (output k is convex and no ICNN of the same hidden widths computes
it; ``proofs/icnn-kink-bound.md``):
  1. the convexity proof passes as for claim "convex";
  2. ``widths`` are the hidden widths of the network, ``bound`` = n1 + 2 (n2 + ... + nk);
  3. the restriction of output k to the line p + t u (u != 0) has exactly the kinks listed in
     ``kinks`` (``arithmetic.kinks_along``), and there are more of them than ``bound``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq

from .arithmetic import combine, kinks_along, local_affine
from .convexity import ConvexClaim, check_convex, read_convex
from .reader import Network, field, numbers, read_network, short, typed
from .region_graph import Kernels, Region, check_region_graph, read_region_graph
from .results import Invalid, Summary, require

__all__ = ["EquivalentClaim", "NotRepresentableClaim", "read_equivalent", "check_equivalent",
           "read_not_icnn_representable", "check_not_icnn_representable"]


# ----- "equivalent" ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EquivalentClaim:
    f: Network
    g: Network
    graph: tuple[Region, ...]


def read_equivalent(cert: dict) -> EquivalentClaim:
    nets = typed(field(cert, "networks", "certificate"), dict, "networks")
    return EquivalentClaim(read_network(field(nets, "f", "networks"), "networks.f"),
                           read_network(field(nets, "g", "networks"), "networks.g"),
                           read_region_graph(field(cert, "region_graph", "certificate")))


def check_equivalent(net: Network, claim: EquivalentClaim, kernels: Kernels) -> Summary:
    f, g = claim.f, claim.g
    require(f.input_dim == g.input_dim and f.outputs == g.outputs,
            "f and g differ in input dimension or number of outputs")
    require(net == combine([f, g], [fmpq(1), fmpq(-1)]),
            "the embedded network is not f - g as rebuilt from networks.f and networks.g")
    regions, facets = check_region_graph(net, claim.graph, [], kernels)
    for r, R in enumerate(claim.graph):
        outputs = local_affine(net, [[ch == "1" for ch in s] for s in R.pattern])[-1]
        for k, row in enumerate(outputs):
            if any(v != 0 for v in row):
                raise Invalid(f"region {r}: output {k} of f - g is not 0 there (gradient and offset "
                              f"({', '.join(short(v) for v in row)}))")
    return Summary(f"f and g compute the same function: f - g is 0 on each of the {regions} regions of its region "
                   f"graph, which cover R^{net.input_dim}", regions, facets)


# ----- "not_icnn_representable" ------------------------------------------------------------------------

@dataclass(frozen=True)
class NotRepresentableClaim:
    convex: ConvexClaim
    output: int
    point: tuple[fmpq, ...]
    direction: tuple[fmpq, ...]
    widths: tuple[int, ...]
    bound: int
    kinks: tuple[fmpq, ...]


def read_not_icnn_representable(cert: dict) -> NotRepresentableClaim:
    line = typed(field(cert, "line", "certificate"), dict, "line")
    widths = typed(field(cert, "widths", "certificate"), list, "widths")
    return NotRepresentableClaim(read_convex(cert), typed(cert.get("output", 0), int, "output"),
                                 numbers(field(line, "point", "line"), "line.point"),
                                 numbers(field(line, "direction", "line"), "line.direction"),
                                 tuple(typed(n, int, f"widths[{i}]") for i, n in enumerate(widths)),
                                 typed(field(cert, "bound", "certificate"), int, "bound"),
                                 numbers(field(cert, "kinks", "certificate"), "kinks"))


def _kinks_text(kinks) -> str:
    shown = ", ".join(short(t) for t in kinks[:8])
    return f"[{shown}{', ...' if len(kinks) > 8 else ''}] ({len(kinks)} kinks)"


def check_not_icnn_representable(net: Network, claim: NotRepresentableClaim, kernels: Kernels) -> Summary:
    d, k, p, u = net.input_dim, claim.output, claim.point, claim.direction
    require(0 <= k < net.outputs, f"output {k} does not exist (the network has {net.outputs})")
    require(len(p) == d and len(u) == d, f"the line needs {d} coordinates for its point and its direction")
    require(any(v != 0 for v in u), "the direction of the line is 0")
    convex = check_convex(net, claim.convex, kernels)
    widths = tuple(net.hidden_widths)
    require(claim.widths == widths, f"widths {list(claim.widths)} are not the hidden widths {list(widths)} of the network")
    bound = widths[0] + 2 * sum(widths[1:]) if widths else 0
    require(claim.bound == bound, f"bound {claim.bound} is not n1 + 2 (n2 + ... + nk) = {bound}")
    kinks = kinks_along(net, list(p), list(u), k)
    require(list(claim.kinks) == kinks, f"the kinks along the line are {_kinks_text(kinks)}, not the listed "
                                        f"{_kinks_text(claim.kinks)}")
    require(len(kinks) > bound, f"{len(kinks)} kinks along the line do not exceed the ICNN bound {bound}")
    return Summary(f"output {k} is convex and has {len(kinks)} kinks on the line, more than the {bound} that any ICNN "
                   f"of hidden widths {widths} has on any line: no such ICNN computes it",
                   convex.regions, convex.facets)
