"""The region adjacency graph: a ``networkx.Graph`` carrying exact data.

Nodes are the full-dimensional activation regions (ids 0, 1, ... in discovery order) with
attributes ``pattern`` (tuple of 0/1 over hidden neurons), ``interior_point``,
``gradient`` and ``offset`` (the affine piece of the chosen output), ``facets`` (list of
dicts: ``neuron`` as (layer, index), ``point``, ``neighbor``) and ``redundant`` (Farkas
certificates of the non-facet constraints: ``multipliers`` of the facets at positions
``support`` in ``facets``, the others 0, and ``constant``).

Edges are the shared (d-1)-dimensional facets, with ``point`` (exact, in the facet's
relative interior), ``normal`` (the local gradient of the earliest switching neuron,
oriented from ``source`` into the other end; never normalised), ``source``,
``switching`` (the neurons that switch, as (layer, index)) and ``bend`` =
(grad_target - grad_source) . normal.  The output is convex iff every bend is >= 0.

Analyses are plain functions of the graph: ``min_bend``, ``negative_facets``,
``to_graphml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..network import Network
if TYPE_CHECKING:  # networkx is imported where a graph is built, not at CLI start-up
    import networkx as nx

from .explore import (Arrangement, LimitReached, bend, check_witness, edge_normal, explore, implied_certificates,
                      switching_neurons, violation_witness)

__all__ = ["regions", "graph_from_arrangement", "explore", "Arrangement", "LimitReached", "min_bend",
           "negative_facets", "to_graphml", "check_witness", "violation_witness", "summary", "RegionGraphSummary"]


def graph_from_arrangement(arr: Arrangement, output: int = 0, *, redundant: bool = True) -> "nx.Graph":
    """The region graph of one output, from an explored arrangement.

    ``redundant=False`` leaves out the nodes' ``redundant`` attribute (the Farkas certificates,
    whose implied multipliers are solved here: a third of the cost of a graph), for callers that
    only read patterns, facets and bends."""
    import networkx as nx

    net = arr.network
    G = nx.Graph(network=net, output=output, input_dim=net.input_dim, seconds=arr.seconds)
    for r in arr.regions:
        G.add_node(r.id, pattern=r.pattern, interior_point=r.interior_point,
                   gradient=r.output_gradient(output), offset=r.output_offset(output),
                   facets=[{"neuron": net.hidden_neurons[f.neuron], "point": f.point, "neighbor": f.neighbor}
                           for f in r.facets])
        if redundant:
            G.nodes[r.id]["redundant"] = [{"neuron": net.hidden_neurons[n], "support": tuple(s),
                                           "multipliers": tuple(m), "constant": c}
                                          for n, s, m, c in r.redundant + implied_certificates(r)]
    for r in arr.regions:
        for f in r.facets:
            if G.has_edge(r.id, f.neighbor):
                continue
            other = arr.regions[f.neighbor]
            sw = switching_neurons(r, other)
            normal = edge_normal(net, r, other, sw)
            G.add_edge(r.id, f.neighbor, source=r.id, point=f.point, normal=normal,
                       switching=tuple(net.hidden_neurons[i] for i in sw),
                       bend=bend(r, other, normal, output))
    return G


def regions(net: Network, output: int = 0, *, max_regions: int | None = None, timeout: float | None = None,
            progress=None, jobs: int | None = None) -> "nx.Graph":
    """The exact region adjacency graph of output ``output`` of ``net`` on all of R^d.

    Parameters
    ----------
    net : Network
    output : int
        Which output's affine pieces and bends the graph carries.
    max_regions, timeout : optional bounds; ``LimitReached`` is raised when one is hit.
    progress : None, True (tqdm bars) or a callable progress(done, found), per region processed.
    jobs : optional number of processes (the same graph as one process).

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]})
    >>> G = regions(net)
    >>> G.number_of_nodes(), G.number_of_edges(), min_bend(G)
    (2, 1, 2)
    """
    if not 0 <= output < net.num_outputs:
        raise ValueError(f"output {output} does not exist (the network has {net.num_outputs})")
    from ..progress import as_progress

    shown = as_progress(progress)  # True: tqdm bars (exactconvex.progress)
    try:
        return graph_from_arrangement(explore(net, max_regions=max_regions, timeout=timeout, progress=shown,
                                              jobs=jobs),
                                      output)
    finally:
        if progress is True:
            shown.close()


def min_bend(G: "nx.Graph"):
    """The smallest facet bend, or None when there is no facet."""
    bends = [b for _, _, b in G.edges(data="bend")]
    return min(bends) if bends else None


def negative_facets(G: "nx.Graph") -> list:
    """Edges (u, v) whose bend is < 0: each one is a proven concave kink."""
    return [(u, v) for u, v, b in G.edges(data="bend") if b < 0]


@dataclass(frozen=True)
class RegionGraphSummary:
    """What a region graph says in a few numbers (``summary``); short in a terminal and a notebook."""

    output: int
    input_dim: int
    regions: int
    facets: int
    concave_facets: int  # facets with bend < 0: each a proven concave kink of the output
    regions_at_concave: int  # regions bordering a concave facet
    min_bend: object  # the smallest bend (exact), None without facets
    seconds: float

    @property
    def convex(self) -> bool:
        """The output is convex iff no facet is concave."""
        return self.concave_facets == 0

    def lines(self) -> list[str]:
        from ..numbers import readable

        lines = [f"region graph of output {self.output} on all of R^{self.input_dim}: {self.regions} regions, "
                 f"{self.facets} facets ({self.seconds:.3g} s)"]
        if self.facets:
            share = 100 * self.concave_facets / self.facets
            lines.append(f"{self.concave_facets} concave facets ({share:.1f}%), bordering {self.regions_at_concave} "
                         f"regions: {'convex' if self.convex else 'NOT convex'}; smallest bend {readable(self.min_bend)}")
        else:
            lines.append("no facet: the output is affine, hence convex")
        return lines

    def __repr__(self) -> str:
        return "<RegionGraphSummary: " + "\n ".join(self.lines()) + ">"

    def _repr_html_(self) -> str:
        from html import escape

        first, *rest = self.lines()
        return f"<div><b>{escape(first)}</b>" + "".join(f"<br>{escape(line)}" for line in rest) + "</div>"

    def _repr_latex_(self) -> str:
        from ..numbers import approximate, readable

        text = (rf"\text{{{self.regions} regions, {self.facets} facets, {self.concave_facets} concave}}")
        if self.min_bend is not None:
            exact = readable(self.min_bend) == str(self.min_bend)
            mantissa, _, exponent = approximate(self.min_bend).partition("e")
            value = str(self.min_bend) if exact else (mantissa if not exponent else
                                                      rf"{mantissa} \cdot 10^{{{int(exponent)}}}")
            relation = "=" if exact else r"\approx"
            text += rf",\quad \min \text{{bend}} {relation} {value}"
        return f"${text}$"

    def to_json(self) -> dict:
        from ..numbers import q_str

        return {"output": self.output, "regions": self.regions, "facets": self.facets,
                "concave_facets": self.concave_facets, "regions_at_concave_facets": self.regions_at_concave,
                "min_bend": None if self.min_bend is None else q_str(self.min_bend), "seconds": self.seconds}


def summary(G: "nx.Graph") -> RegionGraphSummary:
    """The region graph in a few numbers: regions, facets, concave facets and the regions they
    border, the smallest bend.  Its repr is a few lines (also in notebooks: HTML and LaTeX).

    Examples
    --------
    >>> from exactconvex import Network
    >>> G = regions(Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}]))
    >>> s = summary(G)
    >>> s.regions, s.facets, s.concave_facets, s.regions_at_concave, s.min_bend, s.convex
    (4, 4, 2, 4, -1, False)
    """
    concave = negative_facets(G)
    return RegionGraphSummary(G.graph.get("output", 0), G.graph.get("input_dim", 0), G.number_of_nodes(),
                              G.number_of_edges(), len(concave), len({n for e in concave for n in e}), min_bend(G),
                              float(G.graph.get("seconds", 0.0)))


def to_graphml(G: "nx.Graph", path) -> None:
    """Write GraphML with every exact value as a string (rationals as "p/q")."""
    import networkx as nx

    H = nx.Graph()

    def text(v):
        if isinstance(v, (tuple, list)):
            return "[" + ", ".join(text(x) for x in v) + "]"
        return str(v)

    for n, data in G.nodes(data=True):
        H.add_node(n, pattern="".join(map(str, data["pattern"])), interior_point=text(data["interior_point"]),
                   gradient=text(data["gradient"]), offset=str(data["offset"]), facets=len(data["facets"]))
    for u, v, data in G.edges(data=True):
        H.add_edge(u, v, source=str(data["source"]), point=text(data["point"]), normal=text(data["normal"]),
                   switching=text(data["switching"]), bend=str(data["bend"]))
    nx.write_graphml(H, path)
