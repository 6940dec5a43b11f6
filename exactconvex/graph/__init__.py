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

from typing import TYPE_CHECKING

from ..network import Network
if TYPE_CHECKING:  # networkx is imported where a graph is built, not at CLI start-up
    import networkx as nx

from .explore import (Arrangement, LimitReached, bend, check_witness, edge_normal, explore, implied_certificates,
                      switching_neurons, violation_witness)

__all__ = ["regions", "graph_from_arrangement", "explore", "Arrangement", "LimitReached", "min_bend",
           "negative_facets", "to_graphml", "check_witness", "violation_witness"]


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
    return graph_from_arrangement(explore(net, max_regions=max_regions, timeout=timeout, progress=progress,
                                          jobs=jobs),
                                  output)


def min_bend(G: "nx.Graph"):
    """The smallest facet bend, or None when there is no facet."""
    bends = [b for _, _, b in G.edges(data="bend")]
    return min(bends) if bends else None


def negative_facets(G: "nx.Graph") -> list:
    """Edges (u, v) whose bend is < 0: each one is a proven concave kink."""
    return [(u, v) for u, v, b in G.edges(data="bend") if b < 0]


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
