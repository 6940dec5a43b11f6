"""Certificates of box verdicts (format: ``docs/certificate-format.md``, section "Boxes").

"not_convex" with a ``"box"`` [A, B]: the witness lies in the box.  "convex_on_box": the box,
one proof per output ("icnn", "one_layer", "regions", or "box_regions"), the region graph when a
proof needs it, and the separations that show the facets with a negative bend miss the open box.
Nothing is decided here: the content comes from ``exactconvex.graph.box`` through ``check``.
"""

from __future__ import annotations

from typing import Sequence

from ..network import Network
from ..numbers import q_str
from .writer import convex_certificate, not_convex_certificate, point_json

__all__ = ["box_json", "separation_json", "not_convex_on_box_certificate", "convex_on_box_certificate",
           "certificate_of_box_verdict"]

GRAPH_METHODS = ("regions", "box_regions")  # the proofs that read the region graph


def box_json(box) -> list[str]:
    """[A, B] as exact strings."""
    return [q_str(box.lower), q_str(box.upper)]


def separation_json(net: Network, sep) -> dict:
    """A ``graph.box.Separation`` (neurons as [layer, index], every number exact)."""
    return {"region": sep.region, "facet": sep.facet,
            "neurons": [list(net.hidden_neurons[n]) for n in sep.neurons],
            "multipliers": point_json(sep.multipliers), "facet_multiplier": q_str(sep.facet_multiplier),
            "lower": point_json(sep.lower), "upper": point_json(sep.upper), "value": q_str(sep.constant)}


def not_convex_on_box_certificate(net: Network, witness: dict, box) -> dict:
    """Claim "not_convex" with its box: the checker also requires x and y in [A, B]^d."""
    cert = not_convex_certificate(net, witness)
    cert["box"] = box_json(box)
    return cert


def convex_on_box_certificate(net: Network, proofs: Sequence[tuple[int, str]], box, arrangement=None,
                              separations: Sequence = ()) -> dict:
    """Claim "convex_on_box": the keys of claim "convex" (the region graph only when a proof reads it),
    then the box and the separations."""
    needs_graph = any(method in GRAPH_METHODS for _, method in proofs)
    cert = convex_certificate(net, proofs, arrangement if needs_graph else None)
    cert["claim"] = "convex_on_box"
    cert["box"] = box_json(box)
    if separations:
        cert["separations"] = [separation_json(net, s) for s in separations]
    d = net.input_dim
    cert["summary"] = (f"every output is convex on [{cert['box'][0]}, {cert['box'][1]}]^{d}"
                       + (f"; {len(separations)} listed facets with a negative bend miss the open box"
                          if separations else ""))
    return cert


def certificate_of_box_verdict(net: Network, verdict, arrangement=None, separations: Sequence = ()) -> dict:
    """The certificate of a ``Verdict`` of ``check(..., box=...)``: "not_convex" with the box and a
    witness inside it, or "convex_on_box" with each output's proof and the separations."""
    if not verdict.convex:
        return not_convex_on_box_certificate(net, verdict.witness, verdict.box)
    return convex_on_box_certificate(net, [(o.output, o.proof) for o in verdict.outputs], verdict.box, arrangement,
                                     separations)
