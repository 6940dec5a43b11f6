"""The certificate of claim "nearest_convex" (``docs/certificate-format.md``).

It embeds NET (``"network"``) and the convexified OUT (``"convexified"``), the norm, the
distances, the region graph of OUT (OUT has NET's hidden layers, so it is NET's region graph
too; its human-readable bends are OUT's), and per output the facet multipliers that prove no
output layer nearer to NET's is convex.  Nothing is decided here: the content comes from
``exactconvex.convexify.convexify``, and the independent checker recomputes every bend row.
"""

from __future__ import annotations

from dataclasses import replace

from ..network import network_to_dict
from ..numbers import q_str
from .writer import FORMAT, VERSION, region_graph_json

__all__ = ["nearest_convex_certificate"]


def _arrangement_of(out, arrangement):
    """The same regions and facets, with OUT's local maps (so the listed bends are OUT's): plain
    ``Region``s with what the certificate writes (the search's regions rebuild their rows from
    NET's maps when asked, which OUT's regions must not)."""
    from ..graph.explore import Region

    return replace(arrangement, network=out,
                   regions=[Region(r.id, r.pattern, r.interior_point, out.local_affine(r.pattern), facets=r.facets,
                                   redundant=r.redundant, implied=r.implied, has_zero=r.has_zero)
                            for r in arrangement.regions])


def nearest_convex_certificate(result) -> dict:
    """Claim "nearest_convex" of a ``ConvexifyResult``: OUT is convex (its region graph) and is
    nearest to NET among the convex networks with NET's hidden layers (multipliers on facets)."""
    cone = result.cone
    out = result.network
    outputs = []
    for o in result.outputs:
        mult = [{"region": cone.facets[e].region, "facet": cone.facets[e].facet, "y": q_str(y)}
                for e, y in sorted(o.multipliers.items())]
        outputs.append({"output": o.output, "distance": q_str(o.distance), "multipliers": mult})
    dual = "||w||_1" if result.norm == "linf" else "||w||_inf"
    summary = (f"the convexified network is convex on R^{out.input_dim} and its output weights from hidden units are "
               f"at {result.norm} distance {q_str(result.distance)} from the network's; no nearer output layer is "
               f"convex: per output, w = sum y_e g_e over the listed facets is >= 0 on every convex output row and "
               f"-(w . theta_0) / {dual} equals the distance")
    return {"format": FORMAT, "version": VERSION, "claim": "nearest_convex",
            "network": network_to_dict(result.original), "convexified": network_to_dict(out),
            "norm": result.norm, "distance": q_str(result.distance), "outputs": outputs,
            "region_graph": region_graph_json(out, _arrangement_of(out, cone.arrangement)), "summary": summary}
