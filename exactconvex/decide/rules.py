"""``check``'s ways of deciding: a registry of named rules.

Each rule states the theorem it rests on and where that is proven, says cheaply whether it
applies to an output (``applies(net, k)``), and settles what it can (``settle``): a verdict
per output with its exact witness, or, for "convex", the name of the proof the certificate
format knows (``certificate_method``).  ``check(method="auto")`` runs the rules in registry
order on the outputs still undecided; a forced method runs one rule and raises ``Undecided``
with the rule's own reason (``cannot``) when it leaves an output undecided.  The names are the
``method`` of ``check``, of ``exactconvex check --method`` and of ``Verdict.method``.

This module is light (no numpy, no region graph at import): the command line reads the
method names from it at start-up; each rule imports what it needs when it runs.

>>> [rule.name for rule in RULES]
['icnn', 'one-layer', 'search', 'regions']
>>> RULE["one-layer"].certificate_method, RULE["search"].certificate_method
('one_layer', None)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # the command line imports this module at start-up: no flint, no numpy here
    from ..network import Network

__all__ = ["Rule", "Work", "OutputVerdict", "RULES", "RULE", "METHODS"]


@dataclass
class OutputVerdict:
    """The verdict on one output: ``method`` is the rule that settled it, ``witness`` a violation
    (not convex) and ``proof`` the certificate format's name of the convexity proof (convex)."""

    output: int
    convex: bool
    method: str
    witness: dict | None = None
    proof: str | None = None
    violation: object = None  # the witness's f(lambda x + (1-lambda) y) - (lambda f(x) + (1-lambda) f(y)), exact


@dataclass
class Work:
    """What the rules share while ``check`` runs: the network, the bounds, and the region graph
    (explored at most once, for every output that needs it)."""

    net: Network
    forced: bool = False  # a forced method: the search looks along more lines
    max_regions: int | None = None
    timeout: float | None = None
    progress: Callable | None = None
    search_lines: int = 48
    jobs: int | None = None  # processes for the region graph
    started: float = field(default_factory=time.perf_counter)
    arrangement: object = None
    concave: object = None  # the concave facets of the arrangement (``display.concave_facets``), once

    def regions(self):
        """The explored arrangement of the network (``exactconvex.graph.explore``), built once."""
        if self.arrangement is None:
            from ..graph import explore

            left = None if self.timeout is None else max(0.0, self.timeout - (time.perf_counter() - self.started))
            self.arrangement = explore(self.net, max_regions=self.max_regions, timeout=left, progress=self.progress,
                                       jobs=self.jobs)
        return self.arrangement


@dataclass(frozen=True)
class Rule:
    """One way of deciding convexity (module docstring)."""

    name: str  # the method name of check, of --method and of Verdict.method
    theorem: str  # what it rests on, in one sentence
    proof: str  # where that is proven
    applies: Callable[[Network, int], bool]  # can the rule settle output k? (cheap and exact)
    settle: Callable[[Work, list], dict]  # {output: OutputVerdict} for the outputs it settles
    certificate_method: str | None  # the certificate's proof method for "convex" (None: witnesses only)
    cannot: Callable[[Network], str]  # why, forced, it leaves an output undecided


# ----- the rules --------------------------------------------------------------------------------

def _icnn_applies(net: Network, k: int) -> bool:
    from .fastpaths import icnn_structure

    return icnn_structure(net, k)


def _icnn_settle(work: Work, outputs: list) -> dict:
    return {k: OutputVerdict(k, True, ICNN.name, proof=ICNN.certificate_method) for k in outputs}


def _one_layer_settle(work: Work, outputs: list) -> dict:
    from .fastpaths import one_layer

    out = {}
    for k in outputs:
        convex, witness = one_layer(work.net, k)
        out[k] = OutputVerdict(k, convex, ONE_LAYER.name, witness, ONE_LAYER.certificate_method if convex else None)
    return out


def _search_settle(work: Work, outputs: list) -> dict:
    from .fastpaths import search_violation

    lines = 4 * work.search_lines if work.forced else work.search_lines
    found = search_violation(work.net, outputs, lines=lines)
    return {k: OutputVerdict(k, False, SEARCH.name, w) for k, w in found.items()}


def _regions_settle(work: Work, outputs: list) -> dict:
    from ..graph.explore import collector_paused

    arrangement = work.regions()
    with collector_paused():
        return {k: _bends_verdict(work.net, arrangement, k) for k in outputs}


def _bends_verdict(net: Network, arrangement, k: int) -> OutputVerdict:
    """Output k from the bends of the region graph: the most negative bend's witness, or convex."""
    from ..graph import bend, edge_normal, switching_neurons, violation_witness
    from ..graph.explore import facet_bend

    regs = arrangement.regions
    worst = None
    for r in regs:
        for f in r.facets:
            if f.neighbor < r.id:
                continue
            other = regs[f.neighbor]
            if facet_bend(r, f, other, k) >= 0:  # the outward normal is a positive multiple of edge_normal's
                continue
            normal = edge_normal(net, r, other, switching_neurons(r, other))
            b = bend(r, other, normal, k)
            if b < 0 and (worst is None or b < worst[0]):
                worst = (b, r, other, f.point, normal)
    if worst is None:
        return OutputVerdict(k, True, REGIONS.name, proof=REGIONS.certificate_method)
    _, a, b_, point, normal = worst
    witness = violation_witness(net, a, b_, point, normal, k)
    if witness is None:  # pragma: no cover - a negative bend always yields one
        raise AssertionError("negative bend without a violation witness")
    return OutputVerdict(k, False, REGIONS.name, witness)


ICNN = Rule(
    name="icnn",
    theorem="An output whose weights out of hidden layers are all >= 0, with convex activations (LeakyReLU "
            "slope s <= 1) that are also nondecreasing after the first layer (0 <= s <= 1), is convex.",
    proof="shared/design/geometry-notes.md, sections 7-8; docs/certificate-format.md (method icnn)",
    applies=_icnn_applies,
    settle=_icnn_settle,
    certificate_method="icnn",
    cannot=lambda net: ("the network does not have ICNN structure (a weight out of a hidden layer is negative, or "
                        "an activation is not convex and nondecreasing), so the icnn method cannot decide it"))

ONE_LAYER = Rule(
    name="one-layer",
    theorem="With one hidden layer of slope s, an output is convex iff every group of neurons on one hyperplane "
            "has sum_j a_j (1 - s) |c_j| >= 0; a failing group gives a witness across its hyperplane.",
    proof="shared/design/geometry-notes.md, sections 6 and 8; docs/certificate-format.md (method one_layer)",
    applies=lambda net, k: net.depth == 2,
    settle=_one_layer_settle,
    certificate_method="one_layer",
    cannot=lambda net: f"the one-layer method needs exactly one hidden layer (this network has {net.depth - 1})")

SEARCH = Rule(
    name="search",
    theorem="Points x, y and lambda in (0, 1) with f(lambda x + (1 - lambda) y) > lambda f(x) + (1 - lambda) f(y), "
            "checked by exact evaluation, prove that f is not convex (floats only propose them).",
    proof="the definition of convexity; docs/certificate-format.md (claim not_convex)",
    applies=lambda net, k: True,
    settle=_search_settle,
    certificate_method=None,
    cannot=lambda net: ("the search found no violation of convexity, which proves nothing; use --method regions "
                        "(or auto) for a verdict"))

REGIONS = Rule(
    name="regions",
    theorem="The exact region graph covers R^d, and an output is convex iff every facet bend is >= 0; a negative "
            "bend gives a witness across its facet.",
    proof="proofs/completeness.md and proofs/facet-bends.md",
    applies=lambda net, k: True,
    settle=_regions_settle,
    certificate_method="regions",
    cannot=lambda net: "the region graph decides every network")  # never raised: it settles every output

#: The rules in the order ``check(method="auto")`` tries them: cheapest first, the region graph last.
RULES: tuple[Rule, ...] = (ICNN, ONE_LAYER, SEARCH, REGIONS)
RULE: dict[str, Rule] = {rule.name: rule for rule in RULES}
#: The method names of ``check`` and ``exactconvex check --method``.
METHODS: tuple[str, ...] = ("auto",) + tuple(RULE)
