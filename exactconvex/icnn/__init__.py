"""ICNNs: exact equivalence, the one-hidden-layer conversion, and certified non-representability.

An ICNN here is a network whose weights from hidden layers (into later layers and into the
output) are all >= 0; weights from the input (first layer, input skips) are free.

* ``equivalent(f, g)``: do f and g compute the same function on R^d?  A differing rational
  point, or a claim "equivalent" certificate (``equiv.py``).
* ``to_icnn(net)``: a convex network with one hidden layer of width n as an ICNN of width n,
  with the equivalence certificate (``convert.py``).
* ``kinks_on_line``, ``icnn_kink_bound``: an ICNN of hidden widths (n1, ..., nk) has at most
  n1 + 2 (n2 + ... + nk) kinks on any line (``proofs/icnn-kink-bound.md``); a convex network
  with more kinks on some line is computed by no ICNN of its widths.
  ``not_representable_certificate`` writes that as a claim "not_icnn_representable"
  certificate (``certify.py``).
* ``search_counterexample``: find such networks among small rational weights (``search.py``);
  ``deep_family(m)``: an explicit family with 2^m + 1 kinks and m hidden layers (``family.py``).
"""

from .certify import NotACounterexample, not_representable_certificate
from .convert import Conversion, NotConvexError, icnn_weights, to_icnn
from .equiv import Equivalence, difference_network, equivalence_certificate, equivalent
from .family import deep_family, deep_family_kinks
from .line import icnn_kink_bound, is_convex_on_line, kink_changes, kinks_on_line, line_pieces, restrict_to_line
from .search import SearchResult, search_counterexample

__all__ = ["equivalent", "Equivalence", "difference_network", "equivalence_certificate", "to_icnn",
           "icnn_weights", "Conversion", "NotConvexError", "kinks_on_line", "kink_changes", "line_pieces",
           "is_convex_on_line", "icnn_kink_bound", "restrict_to_line", "not_representable_certificate",
           "NotACounterexample", "search_counterexample", "SearchResult", "deep_family", "deep_family_kinks"]


