"""Verdicts: is each output of a network convex on all of R^d, and why.

``check(net)`` tries, per output and in the order of the rule registry (``rules.RULES``), what
settles convexity cheapest, each with an exact witness: ICNN structure, the one-hidden-layer
closed form, a float-guided search for a violation confirmed exactly, and finally the exact
region graph (built once, shared by all outputs), whose bends decide.  Certificates are
written by ``exactconvex.certificates``.

This package is light to import (the command line reads ``METHODS`` at start-up); the search
code is imported when ``check`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .rules import METHODS, RULE, RULES, OutputVerdict, Rule, Work

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["check", "Verdict", "OutputVerdict", "Undecided", "LimitReached", "METHODS", "RULES", "RULE", "Rule",
           "witness_json", "region_graph_json", "build_certificate"]


class Undecided(RuntimeError):
    """The forced method cannot decide this network (no verdict is given)."""


@dataclass
class Verdict:
    """The answer of ``check``: ``convex`` is True iff every output is convex."""

    convex: bool
    method: str
    witness: dict | None
    regions: int | None
    seconds: float
    outputs: list = field(default_factory=list)
    certificate: dict | None = None
    facets: int | None = None
    min_bend: object = None
    box: object = None  # check(..., box=...): the box [A, B]^d (``graph.box.Box``); convex means convex on it
    on_rd: "Verdict | None" = None  # with a box: the verdict on all of R^d
    violation: object = None  # the witness's f(lambda x + (1-lambda) y) - (lambda f(x) + (1-lambda) f(y)), exact
    concave: object = None  # ``display.ConcaveFacets`` when the region graph was built
    input_dim: int | None = None

    def __bool__(self) -> bool:
        return self.convex

    # a few lines in a terminal or a notebook, whatever the size of the certificate
    def __repr__(self) -> str:
        from .display import verdict_repr

        return verdict_repr(self)

    def _repr_html_(self) -> str:
        from .display import verdict_html

        return verdict_html(self)

    def _repr_latex_(self) -> str:
        from .display import verdict_latex

        return verdict_latex(self)


def check(net: Network, method: str = "auto", certificate: bool = False, *, max_regions: int | None = None,
          timeout: float | None = None, progress=None, search_lines: int = 48, box=None,
          jobs: int | None = None) -> Verdict:
    """Decide exactly whether every output of ``net`` is convex on R^d (or on the box [A, B]^d).

    Parameters
    ----------
    method : "auto" or the name of a rule: "icnn", "one-layer", "search", "regions"
        "auto" uses the cheapest rule that settles each output (``rules.RULES``, in order); the
        others force one rule and raise ``Undecided`` when it cannot settle the question.
    certificate : bool
        Also build a certificate (``Verdict.certificate``) that ``exactconvex.verify`` checks.
    max_regions, timeout : bounds on the region graph; ``LimitReached`` is raised when hit.
    progress : None, True or a callable progress(done, found)
        True shows tqdm bars (region graph, certificate); a callable follows the region graph
        (``exactconvex.progress``).
    jobs : int, optional
        Explore the region graph on this many processes (the same graph and certificate as one).
    box : optional (A, B) or "A,B", exact numbers A < B
        Decide convexity on the box [A, B]^d instead (``proofs/box.md``): ``convex`` is the answer
        on the box, a witness lies in it, the certificate claims "convex_on_box" or "not_convex"
        with the box, and ``on_rd`` holds the verdict on all of R^d, with its own certificate when
        one is asked for.  R^d is decided first (by ``method``), then the box: a search inside it,
        then the facets of the region graph.  A ``LimitReached`` raised while settling the box
        carries the verdict on R^d as ``on_rd``.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}]})
    >>> v = check(net)
    >>> v.convex, v.method
    (False, 'one-layer')

    A concave kink at x = 10^6 only: convex on [-100, 100], not on R.

    >>> far = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1]], "bias": [-1000000]}, {"weight": [[-1]]}]})
    >>> v = check(far, box=(-100, 100))
    >>> v.convex, v.method, v.on_rd.convex
    (True, 'box', False)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if box is not None:
        from ..graph.box import parse_box

        box = parse_box(box)  # ValueError unless A < B are exact numbers
    from ..progress import as_progress, phase_of

    shown = as_progress(progress)
    try:
        return _check(net, method, certificate, box, Work(
            net, forced=method != "auto", max_regions=max_regions, timeout=timeout, progress=shown,
            search_lines=search_lines, jobs=jobs), lambda: phase_of(shown, "certificate"))
    finally:
        if progress is True:
            shown.close()


def _check(net: Network, method: str, certificate: bool, box, work: Work, certificate_progress) -> Verdict:
    results: dict[int, OutputVerdict] = {}
    pending = list(range(net.num_outputs))
    for rule in RULES if method == "auto" else (RULE[method],):
        if not pending:
            break
        ready = [k for k in pending if rule.applies(net, k)]
        if ready:
            results.update(rule.settle(work, ready))
            pending = [k for k in pending if k not in results]
        if pending and method != "auto":
            raise Undecided(rule.cannot(net))
    outs = [results[k] for k in range(net.num_outputs)]
    if box is not None:
        from ..graph import LimitReached
        from .box import settle_box

        on_rd = outs
        try:
            outs, separations = settle_box(work, on_rd, box, certificate)
        except LimitReached as exc:  # the verdict on R^d is known: the exception carries it
            exc.on_rd = _verdict(on_rd, work)
            raise
    verdict = _verdict(outs, work)
    arrangement = work.arrangement
    if box is not None:
        verdict.box, verdict.on_rd = box, _verdict(on_rd, work)
    if certificate:
        from ..certificates import certificate_of_verdict
        from ..graph.explore import collector_paused

        with collector_paused():
            if box is not None:  # the box's certificate, and the one of the verdict on R^d beside it
                from ..certificates.box import certificate_of_box_verdict

                verdict.certificate = certificate_of_box_verdict(net, verdict, arrangement, separations)
                verdict.on_rd.certificate = certificate_of_verdict(net, verdict.on_rd, arrangement,
                                                                   certificate_progress())
            else:
                verdict.certificate = certificate_of_verdict(net, verdict, arrangement, certificate_progress())
    verdict.seconds = time.perf_counter() - work.started
    return verdict


def _verdict(outs: list, work: Work) -> Verdict:
    """The verdict of the outputs' verdicts: convex iff all are, the first non-convex one's witness."""
    convex = all(o.convex for o in outs)
    first_bad = next((o for o in outs if not o.convex), None)
    arrangement = work.arrangement
    verdict = Verdict(convex=convex, method=first_bad.method if first_bad else "+".join(sorted({o.method for o in outs})),
                      witness=first_bad.witness if first_bad else None,
                      regions=len(arrangement.regions) if arrangement else None, seconds=0.0, outputs=outs)
    if arrangement is not None:
        verdict.facets = sum(len(r.facets) for r in arrangement.regions) // 2
    _annotate(verdict, work)
    verdict.seconds = time.perf_counter() - work.started
    return verdict


def _annotate(verdict: Verdict, work: Work) -> None:
    """What a verdict tells people besides yes or no (``display``): the size of each witness's
    violation, and the concave facets when the region graph was built (counted once per check)."""
    from .display import concave_facets, no_concave_facets, violation

    net = work.net
    verdict.input_dim = net.input_dim
    for o in verdict.outputs:
        if o.witness is not None and o.violation is None:
            o.violation = violation(net, o.witness)
    if verdict.witness is not None:
        verdict.violation = violation(net, verdict.witness)
    if work.arrangement is not None:
        if work.concave is None:
            work.concave = (no_concave_facets if verdict.convex else concave_facets)(net, work.arrangement)
        verdict.concave = work.concave


def build_certificate(net: Network, verdict: Verdict, arrangement=None) -> dict:
    """The certificate of a verdict (kept for callers of the earlier name): see
    ``exactconvex.certificates.certificate_of_verdict``."""
    from ..certificates import certificate_of_verdict

    return certificate_of_verdict(net, verdict, arrangement)


def __getattr__(name: str):
    # heavy or moved names, imported on first use: the region graph's LimitReached, and the
    # certificate writer's JSON helpers (their home is exactconvex.certificates)
    if name == "LimitReached":
        from ..graph import LimitReached

        return LimitReached
    if name in ("witness_json", "region_graph_json"):
        from .. import certificates

        return getattr(certificates, name)
    raise AttributeError(f"module 'exactconvex.decide' has no attribute {name!r}")
