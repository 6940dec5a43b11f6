"""Exact polyhedra: LPs, facet witnesses, Farkas certificates."""

from .lp import LPResult, float_lp_free, lp_free, simplex_standard
from .polyhedron import (Affine, canonical_key, dot, facet_witness, farkas_certificate, step_inside,
                         strictly_inside, values_at)

__all__ = ["LPResult", "lp_free", "float_lp_free", "simplex_standard", "Affine", "canonical_key", "dot",
           "facet_witness", "farkas_certificate", "step_inside", "strictly_inside", "values_at"]
