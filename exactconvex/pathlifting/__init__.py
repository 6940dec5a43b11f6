"""Convexity through the path-lifting, exact and symbolic (sympy).

The path-lifting of a ReLU network lists every path from an input coordinate or a hidden
neuron to the output with the product of the weights along it; f(x) is the sum over the
paths active at x of these products, times the input coordinate or the bias where the path
starts (``path_lifting``).  Crossing the zero set of hidden neuron nu changes the gradient
of f by (the sum of the products of the active paths from nu) times grad z_nu, so convexity
is a family of sign conditions on sums of path products: ``conditions`` gives those realized
on the facets of a network's region graph (exactly, with their symbolic form),
``conditions_for_architecture`` the whole symbolic family of an architecture.

Parameter symbols are named ``W{l}_{i}_{j}``, ``b{l}_{i}``, ``S{l}_{k}_{i}_{j}`` (1-based
indices; ``v_{j}``, ``b{L}`` and ``S{L}_{k}_{j}`` for a single output): see
``exactconvex.pathlifting.arch``.  sympy is imported only by this package, never at
``import exactconvex``.
"""

from __future__ import annotations

from .arch import Architecture, neuron_label
from .conditions import (ArchitectureCondition, ArchitectureConditions, Condition, ConditionReport, FacetRef,
                         NoCondition, Term, conditions, conditions_for_architecture, downstream_patterns, path_sum,
                         symbolic_path_sum)
from .lifting import Path, PathLifting, path_lifting

__all__ = ["path_lifting", "conditions", "conditions_for_architecture", "path_sum", "symbolic_path_sum",
           "downstream_patterns", "Architecture", "neuron_label", "Path", "PathLifting", "Condition", "Term",
           "FacetRef", "NoCondition", "ConditionReport", "ArchitectureCondition", "ArchitectureConditions"]
