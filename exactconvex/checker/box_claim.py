"""Claims about a box Q = [A, B]^d (``docs/certificate-format.md``; proof: ``proofs/box.md``).

"not_convex" with a ``"box"``: the witness as for "not_convex", and x and y lie in Q (so does
the whole segment, the point at lambda included): no output k is convex on Q.

"convex_on_box": every output is convex on Q.  One proof per output, in order: "icnn",
"one_layer", "regions" (convex on R^d, checked as for claim "convex") or "box_regions": the
region graph passes checks 1-4 (it covers R^d, every facet is listed, the neighbour is across
it), and every listed facet where output k bends by < 0 has a separation that shows it misses
the open box.  A separation of facet i of region r (constraints g_nu of r, g the facet's):

    S = sum_j multipliers_j g_{neurons_j} + facet_multiplier g + sum_k lower_k (x_k - A) + upper_k (B - x_k)

must be a constant s (zero gradient) with s <= 0, and s < 0 or some lower_k, upper_k > 0; the
multipliers, lower and upper are >= 0.  At a point of the facet inside the open box every g_nu
is >= 0, g = 0 and every x_k - A, B - x_k is > 0, so S would be > 0 (some box multiplier > 0)
or >= 0 > s: there is no such point.  Then ``proofs/box.md`` (Theorem) gives convexity on Q.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq

from .convexity import METHODS, ConvexClaim, Witness, check_not_convex, read_convex, read_not_convex
from .reader import Network, field, number, numbers, short, short_text, typed
from .region_graph import Kernels, Layout, Neuron, _neuron, check_bends, check_region_graph, region_maps
from .results import Invalid, Summary, require

__all__ = ["NotConvexOnBox", "Separation", "BoxClaim", "read_not_convex_on_box", "check_not_convex_on_box",
           "read_convex_on_box", "check_convex_on_box"]


def _box(box: tuple[fmpq, ...]) -> tuple[fmpq, fmpq]:
    require(len(box) == 2, f"box: expected two numbers [A, B], got {len(box)}")
    require(box[0] < box[1], f"box: [A, B] needs A < B, got A = {short(box[0])}, B = {short(box[1])}")
    return box[0], box[1]


def _box_text(A: fmpq, B: fmpq, d: int) -> str:
    return f"[{short(A)}, {short(B)}]^{d}"


# ----- "not_convex" with a box ------------------------------------------------------------------------

@dataclass(frozen=True)
class NotConvexOnBox:
    witness: Witness
    box: tuple[fmpq, ...] | None  # None: a witness anywhere in R^d


def read_not_convex_on_box(cert: dict) -> NotConvexOnBox:
    return NotConvexOnBox(read_not_convex(cert), numbers(cert["box"], "box") if "box" in cert else None)


def check_not_convex_on_box(net: Network, claim: NotConvexOnBox, kernels: Kernels) -> Summary:
    """The witness as for "not_convex"; with a box, x and y lie in it too."""
    summary = check_not_convex(net, claim.witness, kernels)
    if claim.box is None:
        return summary
    A, B = _box(claim.box)
    for name, point in (("x", claim.witness.x), ("y", claim.witness.y)):
        for k, v in enumerate(point):
            require(A <= v <= B, f"witness: {name}[{k}] = {short(v)} is outside the box "
                                 f"{_box_text(A, B, net.input_dim)}")
    return Summary(f"{summary.text}; x and y, hence the whole segment, lie in the box "
                   f"{_box_text(A, B, net.input_dim)}: not convex on the box")


# ----- "convex_on_box" ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Separation:
    region: int
    facet: int
    neurons: tuple[Neuron, ...]
    multipliers: tuple[fmpq, ...]
    facet_multiplier: fmpq
    lower: tuple[fmpq, ...]
    upper: tuple[fmpq, ...]


@dataclass(frozen=True)
class BoxClaim:
    box: tuple[fmpq, ...]
    convex: ConvexClaim  # the proofs per output and the region graph
    separations: tuple[Separation, ...]


def _separation(doc, where: str) -> Separation:
    doc = typed(doc, dict, where)
    neurons = typed(field(doc, "neurons", where), list, f"{where}.neurons")
    return Separation(typed(field(doc, "region", where), int, f"{where}.region"),
                      typed(field(doc, "facet", where), int, f"{where}.facet"),
                      tuple(_neuron(n, f"{where}.neurons[{i}]") for i, n in enumerate(neurons)),
                      numbers(field(doc, "multipliers", where), f"{where}.multipliers"),
                      number(field(doc, "facet_multiplier", where), f"{where}.facet_multiplier"),
                      numbers(field(doc, "lower", where), f"{where}.lower"),
                      numbers(field(doc, "upper", where), f"{where}.upper"))


def read_convex_on_box(cert: dict) -> BoxClaim:
    convex = read_convex(cert)
    if convex.graph is None and any(p.method == "box_regions" for p in convex.proofs):
        field(cert, "region_graph", "certificate")  # raises: the method needs the region graph
    separations = typed(cert.get("separations", []), list, "separations")
    return BoxClaim(numbers(field(cert, "box", "certificate"), "box"), convex,
                    tuple(_separation(S, f"separations[{s}]") for s, S in enumerate(separations)))


def check_separation(s: int, S: Separation, graph, maps, layout: Layout, A: fmpq, B: fmpq) -> None:
    """The combination S of the region's constraints, the facet's and the box's is a constant
    s <= 0, with s < 0 or some box multiplier > 0 (module docstring): the facet misses the open box."""
    w = f"separations[{s}]"
    require(0 <= S.region < len(graph), f"{w}: region {S.region} is not a region index")
    require(0 <= S.facet < len(graph[S.region].facets), f"{w}: region {S.region} has no facet {S.facet}")
    w = f"{w} (region {S.region}, facet {S.facet})"
    require(len(S.neurons) == len(S.multipliers), f"{w}: {len(S.multipliers)} multipliers for {len(S.neurons)} "
                                                  f"neurons")
    d = len(graph[S.region].interior_point)
    require(len(S.lower) == d and len(S.upper) == d, f"{w}: lower and upper need {d} multipliers each")
    require(all(m >= 0 for m in S.multipliers + S.lower + S.upper), f"{w}: a multiplier is negative")
    region = maps[S.region]
    terms = [(S.facet_multiplier, region.constraints[layout.position(graph[S.region].facets[S.facet].neuron)])]
    for neuron, m in zip(S.neurons, S.multipliers):
        position = layout.position(neuron)
        require(position is not None, f"{w}: the network has no {neuron}")
        terms.append((m, region.constraints[position]))
    total = [fmpq(0)] * (d + 1)
    for m, g in terms:
        if m != 0:
            total = [t + m * v for t, v in zip(total, g)]
    for k in range(d):  # lower_k (x_k - A) + upper_k (B - x_k)
        total[k] += S.lower[k] - S.upper[k]
        total[d] += S.upper[k] * B - S.lower[k] * A
    for k in range(d):
        require(total[k] == 0, f"{w}: the combination is not constant (coefficient {k} is {short(total[k])})")
    require(total[d] <= 0, f"{w}: the combination is the constant {short(total[d])} > 0")
    require(total[d] < 0 or any(v > 0 for v in S.lower + S.upper),
            f"{w}: the combination is 0 and no box multiplier is positive")


def check_convex_on_box(net: Network, claim: BoxClaim, kernels: Kernels) -> Summary:
    """One proof per output, in order; checks 1-4 on the region graph (5 for method "regions"), every
    separation, and for method "box_regions" a bend >= 0 or a separation on every listed facet."""
    A, B = _box(claim.box)
    box, m, proofs = _box_text(A, B, net.input_dim), net.outputs, claim.convex.proofs
    require(len(proofs) == m, f"{len(proofs)} proofs for {m} outputs (one per output, in order)")
    by_method: dict[str, list[int]] = {}
    for i, proof in enumerate(proofs):
        require(proof.output == i, f"proofs[{i}] is for output {proof.output}; expected output {i} "
                                   f"(one proof per output, in order)")
        require(proof.method in METHODS or proof.method in ("regions", "box_regions"),
                f"proofs[{i}]: unknown method {short_text(proof.method)}")
        by_method.setdefault(proof.method, []).append(i)
        if proof.method in METHODS:
            METHODS[proof.method](net, i)
    text = "; ".join(f"{method}: outputs {ks}" for method, ks in by_method.items())
    graph = claim.convex.graph
    if graph is None:
        require(not claim.separations, "separations without a region graph")
        return Summary(f"every output is convex on R^{net.input_dim}, so on the box {box} ({text})")
    regions, facets = check_region_graph(net, graph, by_method.get("regions", []), kernels)
    layout = Layout.of(net)
    maps = [region_maps(net, R.pattern) for R in graph]
    for s, S in enumerate(claim.separations):
        check_separation(s, S, graph, maps, layout, A, B)
    separated = {(S.region, S.facet) for S in claim.separations}
    for k in by_method.get("box_regions", []):
        for r, R in enumerate(graph):
            for i, F in enumerate(R.facets):
                if (r, i) not in separated:
                    g = maps[r].constraints[layout.position(F.neuron)]
                    try:
                        check_bends(r, i, F, g, maps[r], maps[F.neighbor], [k])
                    except Invalid as exc:
                        raise Invalid(f"{exc}, and no separation shows that the facet misses the open box "
                                      f"{box}") from None
    return Summary(f"every output is convex on the box {box} ({text}; region graph: {regions} regions, {facets} "
                   f"facets; {len(separated)} listed facets miss the open box)", regions, facets)
