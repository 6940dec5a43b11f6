"""A convex one-hidden-layer network as an ICNN of the same width.

f(x) = sum_j a_j ReLU(w_j . x + b_j) + A x + c.  Group the neurons by hyperplane: in a group,
(w_j, b_j) = c_j (u, beta) with l(x) = u . x + beta the group's canonical function (first
nonzero entry of u equal to 1).  As ReLU(c l) = |c| ReLU(l) for c > 0 and
ReLU(c l) = |c| (ReLU(l) - l) for c < 0,

    sum_j a_j ReLU(c_j l) = S ReLU(l) - T l,   S = sum_j a_j |c_j|,  T = sum_{c_j < 0} a_j |c_j|.

f is convex iff S >= 0 for every group (geometry notes, section 6).  Then new weights
a'_j >= 0 with sum_j a'_j |c_j| = S give S ReLU(l) - T' l, and (T' - T) l goes into the
affine part (the input skip into the output and the output bias).  The first layer is kept
as it is; in a group whose weights are all >= 0 nothing changes, otherwise the positive
weights are scaled by S / P (P = sum over a_j > 0 of a_j |c_j| >= S) and the negative ones
become 0.  A constant neuron (w_j = 0) with a_j < 0 moves into the output bias.

A LeakyReLU hidden layer of slope s is first written as ReLU: s z + (1 - s) ReLU(z) (geometry
notes, section 8), so its output weights become (1 - s) a_j and s a_j (w_j . x + b_j) goes
into the input skip and the bias.  The result is always a *ReLU* ICNN of the same width (for
any s, also s > 1 or s < 0, whenever the network is convex); the equivalence check proves it
equal to the LeakyReLU network.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq, fmpq_mat

from ..network import Layer, Network, NetworkError

__all__ = ["to_icnn", "icnn_weights", "relu_form", "NotConvexError", "Conversion"]


class NotConvexError(ValueError):
    """The network is not convex: no ICNN computes it.  ``witness`` proves it."""

    def __init__(self, message: str, witness: dict, output: int):
        super().__init__(message)
        self.witness = witness
        self.output = output


@dataclass
class Conversion:
    """The result of ``to_icnn``: the ICNN and the proof that it computes the same function."""

    network: Network
    equivalence: object  # an Equivalence (with its certificate when asked for)

    @property
    def certificate(self) -> dict | None:
        return self.equivalence.certificate if self.equivalence is not None else None


def relu_form(net: Network) -> Network:
    """A one-hidden-layer LeakyReLU network of slope s rewritten with ReLU: s z + (1 - s) ReLU(z),
    the output weights times (1 - s), s times the first layer's affine map through the input skip
    into the output and the output bias.  A ReLU network is returned as it is.

    Examples
    --------
    >>> leaky = Network.from_lists(1, [{"weight": [[1]], "slope": "1/4"}, {"weight": [[2]]}])
    >>> relu = relu_form(leaky)
    >>> relu.is_relu, [relu.evaluate([x]) == leaky.evaluate([x]) for x in (-3, 0, 5)]
    (True, [True, True, True])
    """
    if net.depth != 2:
        raise NetworkError(f"relu_form needs exactly one hidden layer (this network has {net.depth - 1})")
    first, out = net.layers
    s = first.slope
    if s == 0:
        return net
    d, m = net.input_dim, out.width
    skip0 = (fmpq_mat(out.skip[0]) if 0 in out.skip else fmpq_mat(m, d)) + out.weight * first.weight * s
    bias = out.bias + out.weight * first.bias * s
    skip = {0: skip0} if any(v != 0 for v in skip0.entries()) else {}
    return Network(d, [Layer(first.weight, first.bias), Layer(out.weight * (1 - s), bias, skip)])


def icnn_weights(net: Network) -> Network:
    """The ReLU ICNN (same first layer, output weights >= 0) of a convex one-hidden-layer network
    (ReLU, or LeakyReLU of any slope: ``relu_form`` first).

    Raises NetworkError if the network does not have exactly one hidden layer and
    NotConvexError if an output is not convex.  No proof: see ``to_icnn``.
    """
    if net.depth != 2:
        raise NetworkError(f"to_icnn needs exactly one hidden layer (this network has {net.depth - 1})")
    from ..decide.fastpaths import hyperplane_groups, one_layer

    for k in range(net.num_outputs):
        convex, witness = one_layer(net, k)
        if not convex:
            raise NotConvexError(f"output {k} is not convex, so no ICNN computes it", witness, k)
    net = relu_form(net)
    first, out = net.layers
    d, m = net.input_dim, out.width
    groups, constants = hyperplane_groups(net)  # canonical (u, beta) -> [(j, c_j)]
    A = fmpq_mat(out.weight)
    skip0 = fmpq_mat(out.skip[0]) if 0 in out.skip else fmpq_mat(m, d)
    bias = fmpq_mat(out.bias)
    for k in range(m):
        for j in constants:
            a = A[k, j]
            if a < 0:  # a ReLU(b_j) is the constant a max(b_j, 0)
                bias[k, 0] += a * max(first.bias[j, 0], fmpq(0))
                A[k, j] = 0
        for key, members in groups.items():
            if all(A[k, j] >= 0 for j, _ in members):
                continue
            S = sum((A[k, j] * abs(c) for j, c in members), fmpq(0))
            P = sum((A[k, j] * abs(c) for j, c in members if A[k, j] > 0), fmpq(0))
            T = sum((A[k, j] * abs(c) for j, c in members if c < 0), fmpq(0))
            for j, _ in members:
                A[k, j] = A[k, j] * S / P if A[k, j] > 0 else fmpq(0)
            T_new = sum((A[k, j] * abs(c) for j, c in members if c < 0), fmpq(0))
            # old group = S ReLU(l) - T l, new group = S ReLU(l) - T_new l: add (T_new - T) l
            shift = T_new - T
            for i in range(d):
                skip0[k, i] += shift * key[i]
            bias[k, 0] += shift * key[d]
    skip = {0: skip0} if any(v != 0 for v in skip0.entries()) else {}
    return Network(d, [first, Layer(A, bias, skip)])


def to_icnn(net: Network, *, certificate: bool = True, max_regions: int | None = None,
            timeout: float | None = None, progress=None) -> Conversion:
    """An ICNN of the same width computing exactly the same function, with its proof.

    For a convex network with one hidden layer of width n: the first layer is kept, the output
    weights become >= 0 and the affine rest goes through the input skip into the output.  A
    LeakyReLU layer becomes a ReLU layer (``relu_form``): the ICNN is always a ReLU ICNN.  The
    equality is then decided by ``equivalent`` (a claim "equivalent" certificate when
    ``certificate``).  Raises NotConvexError (with ``.witness``) for a non-convex network and
    NetworkError when the network does not have exactly one hidden layer.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[2, -1]]}]})   # 2 ReLU(x) - ReLU(-x)
    >>> conv = to_icnn(net)
    >>> conv.network.is_icnn(), conv.equivalence.equivalent
    (True, True)
    >>> leaky = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1]], "activation": {"leaky_relu": 2}}, {"weight": [[-1]]}]})  # -max(x, 2x)
    >>> conv = to_icnn(leaky)
    >>> conv.network.is_relu, conv.network.is_icnn(), conv.equivalence.equivalent
    (True, True, True)
    """
    from .equiv import equivalent

    icnn = icnn_weights(net)
    proof = equivalent(net, icnn, certificate=certificate, max_regions=max_regions, timeout=timeout,
                       progress=progress)
    if not proof.equivalent:  # pragma: no cover - the construction is an identity
        raise AssertionError(f"internal error: the ICNN differs from the network at {proof.point}")
    return Conversion(icnn, proof)
