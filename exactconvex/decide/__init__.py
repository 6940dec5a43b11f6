"""Verdicts: is each output of a network convex on all of R^d, and why.

``check(net)`` tries, per output and in this order, what settles convexity cheapest, each
with an exact witness: ICNN structure, the one-hidden-layer closed form, a float-guided
search for a violation confirmed exactly, and finally the exact region graph (built once,
shared by all outputs), whose bends decide.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..graph import LimitReached, bend, edge_normal, explore, switching_neurons, violation_witness
from ..network import Network, network_to_dict
from ..numbers import q_str
from .fastpaths import icnn_structure, one_layer, search_violation

__all__ = ["check", "Verdict", "OutputVerdict", "Undecided", "LimitReached", "METHODS"]

METHODS = ("auto", "icnn", "one-layer", "search", "regions")


class Undecided(RuntimeError):
    """The forced method cannot decide this network (no verdict is given)."""


@dataclass
class OutputVerdict:
    output: int
    convex: bool
    method: str
    witness: dict | None = None


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

    def __bool__(self) -> bool:
        return self.convex


def _region_results(net: Network, arrangement, k: int) -> OutputVerdict:
    regs = arrangement.regions
    worst = None
    for r in regs:
        for f in r.facets:
            if f.neighbor < r.id:
                continue
            other = regs[f.neighbor]
            normal = edge_normal(net, r, other, switching_neurons(r, other))
            b = bend(r, other, normal, k)
            if b < 0 and (worst is None or b < worst[0]):
                worst = (b, r, other, f.point, normal)
    if worst is None:
        return OutputVerdict(k, True, "regions")
    _, a, b_, point, normal = worst
    witness = violation_witness(net, a, b_, point, normal, k)
    if witness is None:  # pragma: no cover - a negative bend always yields one
        raise AssertionError("negative bend without a violation witness")
    return OutputVerdict(k, False, "regions", witness)


def check(net: Network, method: str = "auto", certificate: bool = False, *, max_regions: int | None = None,
          timeout: float | None = None, progress=None, search_lines: int = 48) -> Verdict:
    """Decide exactly whether every output of ``net`` is convex on R^d.

    Parameters
    ----------
    method : "auto", "icnn", "one-layer", "search" or "regions"
        "auto" uses the cheapest way that settles each output; the others force one and
        raise ``Undecided`` when it cannot settle the question.
    certificate : bool
        Also build a certificate (``Verdict.certificate``) that ``exactconvex.verify`` checks.
    max_regions, timeout : bounds on the region graph; ``LimitReached`` is raised when hit.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}]})
    >>> v = check(net)
    >>> v.convex, v.method
    (False, 'one-layer')
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    t0 = time.perf_counter()
    m = net.num_outputs
    results: dict[int, OutputVerdict] = {}
    arrangement = None

    def need_regions():
        nonlocal arrangement
        if arrangement is None:
            left = None if timeout is None else max(0.0, timeout - (time.perf_counter() - t0))
            arrangement = explore(net, max_regions=max_regions, timeout=left, progress=progress)
        return arrangement

    pending = list(range(m))
    if method in ("auto", "icnn"):
        for k in list(pending):
            if icnn_structure(net, k):
                results[k] = OutputVerdict(k, True, "icnn")
                pending.remove(k)
        if method == "icnn" and pending:
            raise Undecided("the network does not have ICNN structure (a weight out of a hidden layer is "
                            "negative, or an activation is not convex and nondecreasing), so the icnn method "
                            "cannot decide it")
    if method in ("auto", "one-layer") and pending:
        if net.depth == 2:
            for k in list(pending):
                convex, witness = one_layer(net, k)
                results[k] = OutputVerdict(k, convex, "one-layer", witness)
                pending.remove(k)
        elif method == "one-layer":
            raise Undecided(f"the one-layer method needs exactly one hidden layer (this network has "
                            f"{net.depth - 1})")
    if method in ("auto", "search") and pending:
        found = search_violation(net, pending, lines=search_lines if method == "auto" else 4 * search_lines)
        for k, w in found.items():
            results[k] = OutputVerdict(k, False, "search", w)
            pending.remove(k)
        if method == "search" and pending:
            raise Undecided("the search found no violation of convexity, which proves nothing; "
                            "use --method regions (or auto) for a verdict")
    if method == "regions":
        pending = list(range(m))
        results = {}
    if pending:
        arr = need_regions()
        for k in pending:
            results[k] = _region_results(net, arr, k)
    outs = [results[k] for k in range(m)]
    convex = all(o.convex for o in outs)
    first_bad = next((o for o in outs if not o.convex), None)
    methods = sorted({o.method for o in outs})
    verdict = Verdict(convex=convex, method=first_bad.method if first_bad else "+".join(methods),
                      witness=first_bad.witness if first_bad else None,
                      regions=len(arrangement.regions) if arrangement else None,
                      seconds=0.0, outputs=outs)
    if arrangement is not None:
        verdict.facets = sum(len(r.facets) for r in arrangement.regions) // 2
    if certificate:
        verdict.certificate = build_certificate(net, verdict, arrangement)
    verdict.seconds = time.perf_counter() - t0
    return verdict


# ----- certificates -----------------------------------------------------------------------

def _point(p) -> list[str]:
    return [q_str(v) for v in p]


def witness_json(w: dict) -> dict:
    return {"output": w["output"], "x": _point(w["x"]), "y": _point(w["y"]), "lambda": q_str(w["lambda"])}


def region_graph_json(net: Network, arrangement) -> dict:
    regs = arrangement.regions
    names = [list(n) for n in net.hidden_neurons]
    out = []
    for r in regs:
        facets = []
        for f in r.facets:
            other = regs[f.neighbor]
            bends = [q_str(bend(r, other, f.outward, k)) for k in range(net.num_outputs)]  # n: into the neighbour
            l, j = net.hidden_neurons[f.neuron]
            facets.append({"neuron": [l, j], "point": _point(f.point), "neighbor": f.neighbor, "bend": bends})
        implied = [{"facets": support[:], "neurons": [names[n][:] for n in ns]}
                   for support, ns in r.implied]
        redundant = []
        for n, support, mult, const in r.redundant:
            l, j = net.hidden_neurons[n]
            redundant.append({"neuron": [l, j], "support": list(support), "multipliers": [q_str(v) for v in mult],
                              "constant": q_str(const)})
        region = {"pattern": ["".join(map(str, s)) for s in net.split_pattern(r.pattern)],
                  "interior_point": _point(r.interior_point), "facets": facets, "redundant": redundant}
        if implied:
            region["implied"] = implied
        out.append(region)
    return {"regions": out}


def build_certificate(net: Network, verdict: Verdict, arrangement=None) -> dict:
    cert = {"format": "exactconvex.certificate", "version": 1,
            "claim": "convex" if verdict.convex else "not_convex",
            "network": network_to_dict(net)}
    if not verdict.convex:
        cert["witness"] = witness_json(verdict.witness)
        return cert
    method_name = {"icnn": "icnn", "one-layer": "one_layer", "regions": "regions"}
    cert["proofs"] = [{"output": o.output, "method": method_name[o.method]} for o in verdict.outputs]
    if arrangement is not None:
        cert["region_graph"] = region_graph_json(net, arrangement)
    return cert
