"""Certificates of non-representability by ICNNs (claim "not_icnn_representable").

If output k of a network is convex and, restricted to some line, has more kinks than
n1 + 2 (n2 + ... + nk) (its hidden widths), then no ICNN of those hidden widths computes it
(``proofs/icnn-kink-bound.md``).  The certificate holds the convexity proof (as for claim
"convex"), the line, the widths, the bound and the kinks; the checker recomputes the
restriction to the line, its kinks and the bound itself.
"""

from __future__ import annotations

from typing import Sequence

from ..certificates import not_icnn_representable_certificate
from ..network import Network
from ..numbers import to_q
from .line import icnn_kink_bound, kinks_on_line

__all__ = ["not_representable_certificate", "NotACounterexample"]


class NotACounterexample(ValueError):
    """The network is not convex, or it does not have more kinks than the bound on the line."""


def not_representable_certificate(net: Network, point: Sequence | None = None, direction: Sequence | None = None,
                                  output: int = 0, *, convexity: dict | None = None, note: str | None = None,
                                  max_regions: int | None = None, timeout: float | None = None) -> dict:
    """A claim "not_icnn_representable" certificate for output ``output`` along p + t u.

    ``point``/``direction`` default to 0 and 1 for a one-dimensional network.  ``convexity``
    may be a claim "convex" certificate of ``net`` already at hand; otherwise one is built with
    ``check(..., certificate=True)``.  Raises NotACounterexample when the network is not convex
    or the kinks do not exceed the bound.
    """
    from ..decide import check

    d = net.input_dim
    if point is None:
        point = [0] * d
    if direction is None:
        if d != 1:
            raise ValueError("give the line's direction (the network is not one-dimensional)")
        direction = [1]
    point, direction = [to_q(v) for v in point], [to_q(v) for v in direction]
    if all(v == 0 for v in direction):
        raise ValueError("the direction of the line must not be 0")
    widths = net.hidden_widths
    bound = icnn_kink_bound(widths)
    kinks = kinks_on_line(net, point, direction, output)
    if len(kinks) <= bound:
        raise NotACounterexample(f"{len(kinks)} kinks on the line, which does not exceed the ICNN bound {bound} "
                                 f"for hidden widths {widths}")
    if convexity is None:
        verdict = check(net, certificate=True, max_regions=max_regions, timeout=timeout)
        if not verdict.convex:
            raise NotACounterexample("the network is not convex (a non-convex function is computed by no ICNN, "
                                     "but this claim is about convex ones)")
        convexity = verdict.certificate
    summary = note or (f"output {output} is convex and has {len(kinks)} kinks on the line, more than the "
                       f"{bound} = n1 + 2(n2 + ... + nk) that any ICNN of hidden widths {tuple(widths)} can have there")
    return not_icnn_representable_certificate(convexity, output, point, direction, widths, bound, kinks, summary)
