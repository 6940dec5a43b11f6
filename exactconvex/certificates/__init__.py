"""Certificates: one writer for every claim (the format of ``docs/certificate-format.md``).

Every certificate any part of exactconvex hands out is built by ``writer``: the claims
"not_convex", "convex" (proofs per output, the region graph), "equivalent" and
"not_icnn_representable".  The independent checker (``exactconvex.checker``) reads them;
this package only writes.  Claims of other features have their own builder module here, built
on ``writer``: ``box`` ("convex_on_box", "not_convex" with a box), ``convexify``
("nearest_convex").
"""

from .box import certificate_of_box_verdict, convex_on_box_certificate, not_convex_on_box_certificate

from .writer import (FORMAT, VERSION, certificate_of_verdict, certificate_text, convex_certificate, equivalence_certificate,
                     not_convex_certificate, not_icnn_representable_certificate, point_json, region_graph_json,
                     witness_json)

__all__ = ["FORMAT", "VERSION", "certificate_text", "witness_json", "point_json", "region_graph_json", "not_convex_certificate",
           "convex_certificate", "certificate_of_verdict", "equivalence_certificate",
           "not_icnn_representable_certificate", "certificate_of_box_verdict", "convex_on_box_certificate",
           "not_convex_on_box_certificate"]
