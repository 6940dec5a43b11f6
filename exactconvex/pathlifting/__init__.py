"""Convexity through the path-lifting, exact and symbolic (sympy).

The path-lifting of a (Leaky)ReLU network lists every path from an input coordinate or a
hidden neuron to the output with the product of the weights along it; f(x) is the sum over
the paths of these products times their gate factors at x (1 per on neuron, the layer's
slope s_l per off neuron: for ReLU, the paths active at x), times the input coordinate or the
bias where the path starts (``path_lifting``).  Crossing the zero set of hidden neuron nu
changes the gradient of f by (1 - s_nu) (the sum of the path products from nu under the
downstream pattern) times grad z_nu, so convexity is a family of sign conditions on sums of
path products: ``conditions`` gives those realized on the facets of a network's region graph
(exactly, with their symbolic form), ``conditions_for_architecture`` the whole symbolic
family of an architecture.

Parameter symbols are named ``W{l}_{i}_{j}``, ``b{l}_{i}``, ``S{l}_{k}_{i}_{j}``, ``s_{l}``
(1-based math notation; ``v_{j}``, ``b{L}`` and ``S{L}_{k}_{j}`` for a single output), while
neurons are (layer, index) pairs with a 0-based index, as everywhere in the library: see
``exactconvex.pathlifting.arch``.  sympy is imported only by this package, never at
``import exactconvex``.

Modules: ``arch`` (architectures, names, path sums), ``lifting`` (the path-lifting),
``conditions`` (the mathematics of the conditions), ``pathsums`` (a condition's sum of path
products, written from its paths on demand, without sympy) and ``printers`` (their text, LaTeX
and JSON, apart from the mathematics).
"""

from __future__ import annotations

from .arch import Architecture, neuron_label, slope_name, slope_symbol
from .conditions import (ArchitectureCondition, ArchitectureConditions, Condition, ConditionReport, FacetRef,
                         NoCondition, Term, conditions, conditions_for_architecture, downstream_patterns, path_sum,
                         symbolic_path_sum)
from .lifting import Path, PathLifting, path_lifting
from .pathsums import PathSum

__all__ = ["path_lifting", "conditions", "conditions_for_architecture", "path_sum", "symbolic_path_sum",
           "downstream_patterns", "Architecture", "neuron_label", "slope_name", "slope_symbol", "Path", "PathLifting",
           "Condition", "Term", "FacetRef", "NoCondition", "ConditionReport", "ArchitectureCondition",
           "ArchitectureConditions", "PathSum"]
