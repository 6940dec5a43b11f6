"""The cone of convex output layers: the nearest convex network, margins, expressivity.

With the hidden layers of a network fixed, the output rows that make an output convex on R^d
form a polyhedral cone C = {theta : g_e . theta >= 0} with one row per facet of the region
complex (geometry notes, section 9).  Questions about it are linear programs, solved exactly
(floats propose, rationals confirm, an exact simplex decides otherwise) and certified:

* ``convexify(net, norm)``: the nearest convex output layer (linf or l1), with a certificate
  (claim "nearest_convex") that it is convex and that no nearer one is;
* ``margin(net)``: how far the output layer can move (linf) and stay convex, or, for a network
  that is not convex, its distance to convexity (reported as a negative margin);
* ``expressivity(net)``: whether C is strictly larger than the ICNN orthant theta >= 0, with an
  exact member of C outside the orthant;
* ``deepest_row(cone)``: the output row of largest margin in a box (a robustly convex row);
* ``cone_of(net)``: the cone itself (the facets' bend rows, exact).

>>> from exactconvex import Network
>>> from exactconvex.convexify import convexify, margin
>>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}])
>>> convexify(net).distance, margin(net).margin
(1/2, -1/2)

The module itself is callable (``exactconvex.convexify(net)`` is
``exactconvex.convexify.convexify(net)``): once imported, a subpackage shadows a function of the
same name in its parent package, so the package forwards calls to the function.
"""

import sys
import types

from .cone import Cone, FacetRow, Parameter, cone_of, output_parameters
from .margins import Expressivity, MarginResult, OutputMargin, deepest_row, expressivity, margin
from .nearest import NORMS, ConvexifyResult, OutputDistance, convexify, lower_bound, norm_of

__all__ = ["convexify", "margin", "expressivity", "deepest_row", "cone_of", "Cone", "FacetRow", "Parameter",
           "ConvexifyResult", "OutputDistance", "MarginResult", "OutputMargin", "Expressivity", "NORMS",
           "lower_bound", "norm_of", "output_parameters"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return convexify(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
