"""``check(net, box=(A, B))``: convexity on the box [A, B]^d, from the verdicts on R^d.

Per output, cheapest first (``proofs/box.md``):

1. convex on R^d: convex on every box, with the same proof;
2. the witness on R^d already lies in the box: the same witness;
3. a float search along segments inside the box, confirmed by exact evaluation (``search``);
4. the region graph of R^d (built once, shared with the rules): every facet with a negative bend
   either meets the open box (a witness inside it) or has a separation (method ``box``, proof
   ``box_regions`` in the certificate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .rules import OutputVerdict, Work

if TYPE_CHECKING:
    from ..graph.box import Box

__all__ = ["BOX_METHOD", "BOX_PROOF", "settle_box"]

BOX_METHOD = "box"  # Verdict.method of an output settled by the facets of the region graph
BOX_PROOF = "box_regions"  # the certificate's proof method of such an output when it is convex


def settle_box(work: Work, on_rd: list[OutputVerdict], box: "Box", certificate: bool = False
               ) -> tuple[list[OutputVerdict], list]:
    """The verdict of every output on the box, from its verdict on R^d, and the separations the
    certificate needs (each listed facet with a negative bend of an output settled by ``box``)."""
    from ..graph.box import BoxDecider, search_in_box, witness_in_box

    out: dict[int, OutputVerdict] = {}
    pending = []
    for o in on_rd:
        if o.convex or witness_in_box(o.witness, box):
            out[o.output] = o
        else:
            pending.append(o.output)
    if pending:
        found = search_in_box(work.net, pending, box, lines=work.search_lines)
        for k, w in found.items():
            out[k] = OutputVerdict(k, False, "search", w)
        pending = [k for k in pending if k not in found]
    separations: dict = {}
    if pending:
        decider = BoxDecider(work.net, work.regions(), box)
        for k in pending:
            outcome = decider.output(k, certificate=certificate)
            out[k] = OutputVerdict(k, outcome.convex, BOX_METHOD, outcome.witness,
                                   BOX_PROOF if outcome.convex else None)
            if outcome.convex:
                separations.update(outcome.separations)
    return [out[k] for k in range(len(on_rd))], [separations[key] for key in sorted(separations)]
