"""The claims "not_convex" and "convex" (``docs/certificate-format.md``).

"not_convex": a witness (x, y, lambda) above the chord, by exact evaluation.
"convex": one proof per output, by method "icnn" (``check_icnn``), "one_layer"
(``check_one_layer``) or "regions" (the region graph, ``region_graph.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from flint import fmpq

from .arithmetic import evaluate
from .reader import Network, field, number, numbers, short, short_text, typed
from .region_graph import Kernels, Region, check_region_graph, read_region_graph
from .results import Invalid, Summary, require

__all__ = ["Witness", "Proof", "ConvexClaim", "METHODS", "read_not_convex", "check_not_convex", "read_convex",
           "check_convex", "check_icnn", "check_one_layer"]


# ----- "not_convex" ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Witness:
    output: int
    x: tuple[fmpq, ...]
    y: tuple[fmpq, ...]
    lam: fmpq


def read_not_convex(cert: dict) -> Witness:
    w = typed(field(cert, "witness", "certificate"), dict, "witness")
    return Witness(typed(field(w, "output", "witness"), int, "witness.output"),
                   numbers(field(w, "x", "witness"), "witness.x"), numbers(field(w, "y", "witness"), "witness.y"),
                   number(field(w, "lambda", "witness"), "witness.lambda"))


def check_not_convex(net: Network, w: Witness, kernels: Kernels) -> Summary:
    """f_k(lambda x + (1 - lambda) y) > lambda f_k(x) + (1 - lambda) f_k(y) with 0 < lambda < 1."""
    k, lam, d = w.output, w.lam, net.input_dim
    require(0 <= k < net.outputs, f"witness: output {k} does not exist (the network has {net.outputs})")
    require(len(w.x) == d and len(w.y) == d, f"witness: x and y need {d} coordinates each")
    require(0 < lam < 1, f"witness: lambda = {short(lam)} is not strictly between 0 and 1")
    middle = [lam * a + (1 - lam) * b for a, b in zip(w.x, w.y)]
    fm, fx, fy = evaluate(net, middle)[k], evaluate(net, list(w.x))[k], evaluate(net, list(w.y))[k]
    chord = lam * fx + (1 - lam) * fy
    require(fm > chord, f"witness: output {k} at lambda x + (1 - lambda) y is {short(fm)}, which does not exceed "
                        f"lambda f(x) + (1 - lambda) f(y) = {short(chord)}")
    return Summary(f"output {k} is not convex: at lambda = {short(lam)} between x and y it lies {short(fm - chord)} "
                   f"above the chord")


# ----- "convex" --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proof:
    output: int
    method: str


@dataclass(frozen=True)
class ConvexClaim:
    proofs: tuple[Proof, ...]
    graph: tuple[Region, ...] | None  # checked whenever present; required by method "regions"


def read_convex(cert: dict) -> ConvexClaim:
    proofs = []
    for i, p in enumerate(typed(field(cert, "proofs", "certificate"), list, "proofs")):
        p = typed(p, dict, f"proofs[{i}]")
        proofs.append(Proof(typed(field(p, "output", f"proofs[{i}]"), int, f"proofs[{i}].output"),
                            typed(field(p, "method", f"proofs[{i}]"), str, f"proofs[{i}].method")))
    needs_graph = any(p.method == "regions" for p in proofs) or "region_graph" in cert
    return ConvexClaim(tuple(proofs), read_region_graph(field(cert, "region_graph", "certificate"))
                       if needs_graph else None)


def check_icnn(net: Network, k: int) -> None:
    """Method "icnn": output k is a nonnegative combination of convex functions.

    Every weight from a hidden layer into a later hidden layer, and into output k, is >= 0
    (weights from the input are free); the activation of hidden layer 1 is convex (slope
    s <= 1), that of every later hidden layer convex and nondecreasing (0 <= s <= 1).  Then
    by induction every hidden neuron is convex: an affine function of x plus a nonnegative
    combination of convex neurons, through a convex (nondecreasing after layer 1) activation.
    """
    L = net.depth
    for l, layer in enumerate(net.layers[:-1], start=1):
        s = layer.slope
        require(s <= 1, f"output {k}, method icnn: hidden layer {l} has slope {short(s)} > 1 (a concave activation)")
        require(l == 1 or s >= 0, f"output {k}, method icnn: hidden layer {l} has slope {short(s)} < 0 (a decreasing "
                                  f"activation after layer 1)")
    for l, layer in enumerate(net.layers, start=1):
        rows = [k] if l == L else range(layer.width)
        for source, S in ([(l - 1, layer.weight)] if l >= 2 else []) + [(k2, S) for k2, S in layer.skip if k2 >= 1]:
            for i in rows:
                for j in range(S.ncols()):
                    if S[i, j] < 0:
                        into = f"output {k}" if l == L else f"neuron {i} of layer {l}"
                        raise Invalid(f"output {k}, method icnn: the weight of neuron {j} of layer {source} into {into} "
                                      f"is {short(S[i, j])} < 0")


def check_one_layer(net: Network, k: int) -> None:
    """Method "one_layer": one hidden layer with slope s, so f_k = affine + sum_j a_j (1 - s) relu(z_j).

    Rows (w_j, b_j) with w_j != 0 are grouped by the hyperplane they define ((w_j, b_j) over the
    first nonzero entry c_j of w_j); relu(z_j) = |c_j| relu(t) + (an affine function), t the
    group's normalised row, so every group with sum_j a_j (1 - s) |c_j| >= 0 adds a convex
    function.  Rows with w_j = 0 are constants.
    """
    require(net.depth == 2, f"output {k}, method one_layer: the network does not have exactly one hidden layer")
    hidden, out = net.layers
    d = net.input_dim
    groups: dict[tuple, fmpq] = {}
    for j in range(hidden.width):
        row = [hidden.weight[j, i] for i in range(d)] + [hidden.bias[j, 0]]
        c = next((v for v in row[:-1] if v != 0), None)
        if c is not None:
            key = tuple(v / c for v in row)
            groups[key] = groups.get(key, fmpq(0)) + out.weight[k, j] * (1 - hidden.slope) * abs(c)
    for key, total in groups.items():
        if total < 0:
            plane = ", ".join(short(v) for v in key)
            raise Invalid(f"output {k}, method one_layer: the neurons on the hyperplane (w, b) = ({plane}) bend by "
                          f"{short(total)} < 0")


METHODS = {"icnn": check_icnn, "one_layer": check_one_layer}  # and "regions": the region graph


def check_convex(net: Network, claim: ConvexClaim, kernels: Kernels) -> Summary:
    """One proof per output, in order; the region graph whenever it is present."""
    m = net.outputs
    require(len(claim.proofs) == m, f"{len(claim.proofs)} proofs for {m} outputs (one per output, in order)")
    by_method: dict[str, list[int]] = {}
    for i, proof in enumerate(claim.proofs):
        require(proof.output == i, f"proofs[{i}] is for output {proof.output}; expected output {i} "
                                   f"(one proof per output, in order)")
        require(proof.method in METHODS or proof.method == "regions",
                f"proofs[{i}]: unknown method {short_text(proof.method)}")
        by_method.setdefault(proof.method, []).append(i)
    for proof in claim.proofs:
        if proof.method != "regions":
            METHODS[proof.method](net, proof.output)
    text = "; ".join(f"{method}: outputs {ks}" for method, ks in by_method.items())
    if claim.graph is None:
        return Summary(f"every output is convex ({text})")
    regions, facets = check_region_graph(net, claim.graph, by_method.get("regions", []), kernels)
    return Summary(f"every output is convex ({text}; region graph: {regions} regions, {facets} facets)",
                   regions, facets)
