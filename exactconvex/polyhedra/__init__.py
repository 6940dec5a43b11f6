"""Exact polyhedra: LPs, facet witnesses, Farkas certificates."""

from .lp import LPResult, float_lp_free, lp_free, simplex_standard
from .polyhedron import (Affine, canonical_key, dot, facet_witness, farkas_certificate, farkas_guess,
                         farkas_holds_for_rows, farkas_holds_many, farkas_on_support, farkas_on_support_many, project_onto,
                         q_from_float_nice, q_from_floats_nice, step_inside, step_from_values, strictly_inside, values_at)
from .rows import float_guess, floats_of

__all__ = ["LPResult", "lp_free", "float_lp_free", "simplex_standard", "Affine", "canonical_key", "dot",
           "facet_witness", "farkas_certificate", "farkas_guess", "farkas_holds_for_rows", "farkas_holds_many", "farkas_on_support",
           "farkas_on_support_many", "project_onto", "q_from_float_nice", "q_from_floats_nice", "step_inside", "step_from_values",
           "strictly_inside", "values_at", "float_guess", "floats_of"]
