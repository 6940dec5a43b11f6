"""Random networks for sweeps: PyTorch's default initialisation, ICNN-structured, small integers.

Every generator draws from a NumPy ``Generator`` and returns an exact ``Network``:

* ``torch_network``: PyTorch's default ``nn.Linear(fan_in, fan_out)`` initialisation, weight and bias
  uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)] (``kaiming_uniform_`` with ``a = sqrt(5)`` gives
  exactly that bound), reproduced with NumPy and rounded to float32 like PyTorch's tensors; every
  float32 is then read as the exact binary rational it is.  (PyTorch's own random stream cannot be
  reproduced without PyTorch; the distribution and the float32 rounding are the same.)
* ``icnn_structured``: the same network with every weight out of a hidden layer replaced by its
  absolute value (weights from the input and biases unchanged), so it has ICNN structure.
* ``int_network``: weights and biases uniform integers in [-bound, bound] (default 3): small exact
  numbers, with the coincident hyperplanes and dead neurons random floats almost never produce.

``network_rng(seed, d, hidden, outputs, n)`` is the generator of network n of an architecture: its
stream depends on (seed, architecture, n) only, so network n is the same whatever the count of the
sweep or the number of workers.  The ``torch``, ``icnn`` and ``int`` networks of one (seed,
architecture, n) share that stream: ``icnn`` network n is exactly ``icnn_structured`` of ``torch``
network n, which pairs the two families.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from flint import fmpq, fmpq_mat, fmpz_mat

from ..network import Layer, Network

__all__ = ["torch_network", "icnn_structured", "int_network", "network_rng", "random_network"]


def _float32_matrix(values: np.ndarray) -> fmpq_mat:
    """The exact rationals of a float32 array, as an fmpq matrix (a vector becomes one column)."""
    rows, cols = (values.shape[0], 1) if values.ndim == 1 else values.shape
    wide = values.astype(np.float64).ravel()  # exact: float64 holds every float32
    if wide.size:
        # v = f 2^e with f in [0.5, 1) a 24-bit mantissa, so v 2^K is an integer for K >= 24 - e: one
        # integer matrix over 2^K, canonicalised by flint, is 2-3x faster than one fraction per entry
        _, exponents = np.frexp(wide)
        shift = 24 - int(exponents.min())
        if 0 <= shift and shift + int(exponents.max()) <= 62:  # the integers fit in int64
            integers = np.ldexp(wide, shift).astype(np.int64)  # exact: a power-of-two scaling
            return fmpq_mat(fmpz_mat(rows, cols, integers.tolist())) / (1 << shift)
    # float(float32) is exact, and as_integer_ratio gives its exact binary value
    return fmpq_mat(rows, cols, [fmpq(*r) for r in map(float.as_integer_ratio, wide.tolist())])


def torch_network(rng: np.random.Generator, d: int, hidden: Sequence[int], outputs: int = 1) -> Network:
    """A network drawn as PyTorch's default ``nn.Linear`` initialisation, in float32, read exactly.

    Layer by layer (input to output), the weight (fan_out x fan_in) then the bias are drawn
    uniformly on [-1/sqrt(fan_in), 1/sqrt(fan_in)] and rounded to float32.

    Examples
    --------
    >>> net = torch_network(np.random.default_rng(0), 2, [4, 4])
    >>> net.widths
    [2, 4, 4, 1]
    >>> all(abs(v) <= fmpq(1, 2) for v in net.layers[1].weight.entries())  # fan_in 4: bound 1/2
    True
    """
    widths = [int(d)] + [int(w) for w in hidden] + [int(outputs)]
    layers = []
    for l in range(1, len(widths)):
        bound = 1.0 / np.sqrt(widths[l - 1])
        weight = rng.uniform(-bound, bound, size=(widths[l], widths[l - 1])).astype(np.float32)
        bias = rng.uniform(-bound, bound, size=widths[l]).astype(np.float32)
        layers.append(Layer(_float32_matrix(weight), _float32_matrix(bias)))
    return Network(widths[0], layers)


def random_network(rng: np.random.Generator, d: int, hidden: Sequence[int]) -> Network:
    """``torch_network`` with one output (the name ``benchmarks/grid.py`` has always used)."""
    return torch_network(rng, d, hidden, 1)


def icnn_structured(net: Network) -> Network:
    """The network with every weight out of a hidden layer replaced by its absolute value.

    Weights from the input (layer 1 and skips from source 0), biases and activations are kept,
    so a ReLU network becomes an input convex neural network.

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, 2]]}])
    >>> icnn = icnn_structured(net)
    >>> icnn.layers[1].weight, icnn.is_icnn()
    ([1, 2], True)
    """

    def absolute(m: fmpq_mat) -> fmpq_mat:
        return fmpq_mat(m.nrows(), m.ncols(), [abs(v) for v in m.entries()])

    layers = [Layer(layer.weight if l == 0 else absolute(layer.weight), layer.bias,
                    {k: (s if k == 0 else absolute(s)) for k, s in layer.skip.items()}, layer.slope)
              for l, layer in enumerate(net.layers)]
    return Network(net.input_dim, layers)


def int_network(rng: np.random.Generator, d: int, hidden: Sequence[int], outputs: int = 1,
                bound: int = 3) -> Network:
    """Weights and biases uniform integers in [-bound, bound], layer by layer (weight, then bias).

    Examples
    --------
    >>> net = int_network(np.random.default_rng(0), 2, [3], bound=1)
    >>> sorted({int(v) for layer in net.layers for v in layer.weight.entries()}) in ([-1, 0, 1], [-1, 0], [0, 1], [-1, 1])
    True
    """
    widths = [int(d)] + [int(w) for w in hidden] + [int(outputs)]
    layers = []
    for l in range(1, len(widths)):
        weight = rng.integers(-bound, bound, size=(widths[l], widths[l - 1]), endpoint=True)
        bias = rng.integers(-bound, bound, size=widths[l], endpoint=True)
        layers.append(Layer(fmpq_mat(widths[l], widths[l - 1], [fmpq(v) for v in weight.ravel().tolist()]),
                            fmpq_mat(widths[l], 1, [fmpq(v) for v in bias.tolist()])))
    return Network(widths[0], layers)


def network_rng(seed: int, d: int, hidden: Sequence[int], outputs: int, n: int) -> np.random.Generator:
    """The random generator of network ``n`` of the architecture (d, hidden, outputs) under ``seed``.

    A ``SeedSequence`` with entropy ``seed`` and spawn key (d, outputs, depth, *hidden, n): the
    stream depends on nothing else (not on the count, the order or the worker), and distinct
    architectures or indices get independent streams.

    Examples
    --------
    >>> a = network_rng(0, 2, [8, 8], 1, 5).random()
    >>> a == network_rng(0, 2, [8, 8], 1, 5).random() != network_rng(0, 2, [8, 8], 1, 6).random()
    True
    """
    key = (int(d), int(outputs), len(hidden), *(int(w) for w in hidden), int(n))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=key))
