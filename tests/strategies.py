"""Hypothesis strategies for small exact ReLU networks, shared by the test files.

Import them as ``from strategies import networks, points, rationals`` (``tests/`` is on
``sys.path``: pytest puts it there and ``tests/conftest.py`` makes sure).

Every strategy draws exact values (``fractions.Fraction``), never floats, so that a test
failure is about the library and not about rounding.  The main entry point::

    networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=1)

draws a :class:`exactconvex.Network`.  Its weights come from :func:`rationals`: small
fractions p/q (|p| <= 5, 1 <= q <= 4, so that the arithmetic stays cheap and hand-checkable)
by default, mixed with huge and tiny values such as 10^40, 10^-40 and 7/(3*10^40) when
``extreme=True``.  Any other strategy of exact numbers can be passed as ``values=``
(:func:`dyadics` gives values that float32/float64 represent exactly, for PyTorch tests).

Other helpers:

* ``rationals(extreme=False)``: one exact number;
* ``dyadics()``: small dyadic rationals n / 2^k;
* ``points(d, values=None, extreme=False)``: a point of Q^d as a tuple of Fractions;
* ``patterns(net)``: an arbitrary 0/1 activation pattern of a network (not necessarily
  realised by any point);
* ``network_dicts(...)``: same arguments as ``networks``, but returns the plain
  ``(input_dim, layers)`` lists given to ``Network.from_lists``, for tests that want to
  build or alter the data themselves;
* ``network_pairs(...)``: two networks with the same input dimension and number of
  outputs (for differences, combinations, equivalence), of independent depths;
* ``network_documents(...)``: same arguments as ``network_dicts``, but returns the JSON
  document of the network (the ``exactconvex.network`` format, numbers as exact strings),
  built here without the package, so that the same document can be given to the package's
  reader and to the independent oracle of ``tests/oracle.py``;
* ``small_integers(lo=-2, hi=2)``: integer weights; networks drawn from them are full of
  degenerate cases (zero rows, dead neurons, repeated, proportional and opposite rows);
* ``slopes()``: an exact LeakyReLU negative slope: 0 (ReLU), 1/100, 1/2, 1, 2, -1 or any
  small fraction; ``network_dicts(..., slopes=slopes())`` gives every hidden layer one.

Test helpers that are not strategies:

* ``scaled(n)``: the ``max_examples`` to use for a test that wants n examples; 20 n when
  ``HYPOTHESIS_PROFILE=thorough`` (profiles are registered in ``tests/conftest.py``);
* ``run_cli(*args)``: run ``python -m exactconvex ARGS`` with the current interpreter in a
  subprocess (the way users and scripts run it), text output captured;
* ``document(d, layers)``: the JSON document of ``(input_dim, layers)`` lists (a layer's
  ``"slope"`` becomes the format's ``"activation"`` key, omitted for ReLU).
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from typing import Optional

from hypothesis import strategies as st

from exactconvex import Network

__all__ = ["scaled", "run_cli", "rationals", "small_rationals", "extreme_rationals", "dyadics", "small_integers",
           "slopes", "points", "patterns", "network_dicts", "networks", "network_pairs", "network_documents",
           "document", "EXTREME_VALUES", "CORPUS_SLOPES"]

EXAMPLES_FACTOR = 20 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1


def scaled(n: int) -> int:
    """Number of hypothesis examples for a test that asks for n by default."""
    return n * EXAMPLES_FACTOR


def run_cli(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    """``python -m exactconvex *args`` with the current interpreter; text output captured."""
    return subprocess.run([sys.executable, "-m", "exactconvex", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


#: Values far outside float64's comfortable range of exact behaviour (but exact here).
EXTREME_VALUES = (
    Fraction(10**40), Fraction(-(10**40)), Fraction(1, 10**40), Fraction(-1, 10**40),
    Fraction(7, 3 * 10**40), Fraction(3 * 10**40 + 1, 7), Fraction(-(10**40) + 1, 10**40 + 3),
)


def small_rationals(max_numerator: int = 5, max_denominator: int = 4) -> st.SearchStrategy[Fraction]:
    """p/q with |p| <= max_numerator and 1 <= q <= max_denominator (shrinks towards 0)."""
    return st.builds(Fraction, st.integers(-max_numerator, max_numerator), st.integers(1, max_denominator))


def extreme_rationals() -> st.SearchStrategy[Fraction]:
    """Huge and tiny values: the fixed ones in EXTREME_VALUES and random ones up to ~10^45."""
    big = st.integers(-(10**45), 10**45)
    return st.one_of(
        st.sampled_from(EXTREME_VALUES),
        st.builds(Fraction, big, st.integers(1, 10**45)),
        st.builds(lambda p, e: Fraction(p) * Fraction(10) ** e, st.integers(-9, 9), st.integers(-45, 45)),
    )


def rationals(extreme: bool = False) -> st.SearchStrategy[Fraction]:
    """One exact number: small fractions, mixed (about half the time) with extreme ones if asked."""
    if extreme:
        return st.one_of(small_rationals(), extreme_rationals())
    return small_rationals()


def dyadics(max_numerator: int = 8, max_exponent: int = 3) -> st.SearchStrategy[Fraction]:
    """n / 2^k with |n| <= max_numerator, 0 <= k <= max_exponent: exact in float32 and float64.

    With the default bounds, small networks built from these evaluate exactly in float64
    (every intermediate value has few significant bits), so float and exact results agree.
    """
    return st.builds(lambda n, k: Fraction(n, 2**k), st.integers(-max_numerator, max_numerator),
                     st.integers(0, max_exponent))


def small_integers(lo: int = -2, hi: int = 2) -> st.SearchStrategy[Fraction]:
    """Integers lo..hi as Fractions: with {-2..2}, zero rows, dead neurons and repeated,
    proportional and opposite rows are frequent."""
    return st.integers(lo, hi).map(Fraction)


#: The LeakyReLU slopes of the corpus tests (issue 12): ReLU, leaky, half, identity, concave, |z|.
CORPUS_SLOPES = (Fraction(0), Fraction(1, 100), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(-1))


def slopes() -> st.SearchStrategy[Fraction]:
    """A LeakyReLU negative slope: one of CORPUS_SLOPES most of the time, else a small fraction."""
    return st.one_of(st.sampled_from(CORPUS_SLOPES), small_rationals(3, 4))


def points(d: int, values: Optional[st.SearchStrategy] = None, extreme: bool = False) -> st.SearchStrategy[tuple]:
    """A point of Q^d, as a tuple of d exact numbers."""
    values = values if values is not None else rationals(extreme)
    return st.tuples(*[values] * d)


def patterns(net: Network) -> st.SearchStrategy[tuple]:
    """Any 0/1 pattern over the hidden neurons of ``net`` (topological order)."""
    return st.tuples(*[st.integers(0, 1)] * net.num_hidden)


def _range(r) -> tuple[int, int]:
    """An int n means exactly n, a pair (lo, hi) means lo..hi inclusive."""
    if isinstance(r, int):
        return r, r
    lo, hi = r
    return int(lo), int(hi)


@st.composite
def network_dicts(draw, d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=1,
                  values: Optional[st.SearchStrategy] = None, extreme: bool = False, omit_bias: bool = False,
                  slopes: Optional[st.SearchStrategy] = None):
    """``(input_dim, layers)`` ready for ``Network.from_lists``; see :func:`networks`.

    ``slopes``: a strategy of LeakyReLU slopes (for instance :func:`slopes`); each hidden
    layer then gets one, as the key ``"slope"``.  None: ReLU networks, no ``"slope"`` key.
    """
    d = draw(st.integers(*_range(d_range)))
    depth = draw(st.integers(*_range(depth_range)))
    n_out = draw(st.integers(*_range(outputs)))
    widths = [d] + [draw(st.integers(*_range(width_range))) for _ in range(depth - 1)] + [n_out]
    vals = values if values is not None else rationals(extreme)

    def matrix(nrows, ncols):
        return [[draw(vals) for _ in range(ncols)] for _ in range(nrows)]

    layers = []
    for l in range(1, depth + 1):
        layer = {"weight": matrix(widths[l], widths[l - 1])}
        if not (omit_bias and draw(st.booleans())):
            layer["bias"] = [draw(vals) for _ in range(widths[l])]
        if skips and l >= 2:
            sources = draw(st.sets(st.integers(0, l - 2), max_size=2))
            if sources:
                layer["skip"] = {k: matrix(widths[l], widths[k]) for k in sorted(sources)}
        if slopes is not None and l < depth:
            layer["slope"] = draw(slopes)
        layers.append(layer)
    return d, layers


def _json_number(v) -> object:
    v = Fraction(v)
    return int(v) if v.denominator == 1 and abs(v) < 2**53 else str(v)


def document(d: int, layers) -> dict:
    """The JSON document (``exactconvex.network`` format) of ``(input_dim, layers)`` lists.

    Built here, without the package: numbers become JSON integers or exact ``"p/q"`` strings,
    skip keys strings, a hidden layer's ``"slope"`` s the key ``"activation": {"leaky_relu": s}``
    (omitted when s = 0, as the format's writers do).
    """
    out = []
    for layer in layers:
        entry = {"weight": [[_json_number(v) for v in row] for row in layer["weight"]]}
        if layer.get("bias") is not None:
            entry["bias"] = [_json_number(v) for v in layer["bias"]]
        if layer.get("skip"):
            entry["skip"] = {str(k): [[_json_number(v) for v in row] for row in rows]
                             for k, rows in sorted(layer["skip"].items(), key=lambda kv: int(kv[0]))}
        if layer.get("slope") is not None and Fraction(layer["slope"]) != 0:
            entry["activation"] = {"leaky_relu": _json_number(layer["slope"])}
        out.append(entry)
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": out}


def network_documents(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=1,
                      values: Optional[st.SearchStrategy] = None, extreme: bool = False, omit_bias: bool = False,
                      slopes: Optional[st.SearchStrategy] = None) -> st.SearchStrategy[dict]:
    """A random network as its JSON document (see :func:`network_dicts` and :func:`document`)."""
    return network_dicts(d_range, depth_range, width_range, skips, outputs, values, extreme, omit_bias,
                         slopes).map(lambda dl: document(dl[0], dl[1]))


def networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=1,
             values: Optional[st.SearchStrategy] = None, extreme: bool = False,
             omit_bias: bool = False, slopes: Optional[st.SearchStrategy] = None) -> st.SearchStrategy[Network]:
    """A random exact ReLU (or, with ``slopes``, LeakyReLU) network.

    Parameters
    ----------
    d_range, depth_range, width_range, outputs :
        an int (exactly that) or an inclusive pair (lo, hi): input dimension, number of
        layers L (1 = affine network), width of each hidden layer, number of outputs.
    skips :
        if True, each layer l >= 2 gets skip connections from up to two random sources
        among 0..l-2 (0 is the input).  False draws plain feed-forward networks.
    values :
        a strategy of exact numbers for every weight, bias and skip entry; the default is
        ``rationals(extreme)``.
    extreme :
        mix in huge and tiny values (10^40, 10^-40, ...) when ``values`` is not given.
    omit_bias :
        let some layers have no bias (all zeros) instead of a drawn one.
    slopes :
        a strategy of LeakyReLU slopes, one drawn per hidden layer (None: ReLU).
    """
    return network_dicts(d_range, depth_range, width_range, skips, outputs, values, extreme,
                         omit_bias, slopes).map(lambda dl: Network.from_lists(dl[0], dl[1]))


@st.composite
def network_pairs(draw, d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=1,
                  values: Optional[st.SearchStrategy] = None, extreme: bool = False):
    """Two networks with the same input dimension and number of outputs, depths drawn independently."""
    d = draw(st.integers(*_range(d_range)))
    m = draw(st.integers(*_range(outputs)))
    f = draw(networks(d, depth_range, width_range, skips, m, values, extreme))
    g = draw(networks(d, depth_range, width_range, skips, m, values, extreme))
    return f, g
