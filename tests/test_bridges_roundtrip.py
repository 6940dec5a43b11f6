"""Back out and in again: random exact networks with LeakyReLU slopes, skip connections and
several outputs (dyadic numbers, so that float64 holds them exactly) survive ``to_torch`` ->
``from_torch`` and ``save_onnx`` -> ``load`` unchanged, as exact networks (==)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from exactconvex import Network, from_torch, load
from exactconvex.bridges import save_onnx, to_torch
from strategies import dyadics, network_dicts, scaled
from test_onnx import onnx  # noqa: F401  (the fixture)

#: Slopes that float32 and float64 hold exactly: ReLU, leaky, half, identity, concave, |z|-like.
DYADIC_SLOPES = st.one_of(st.sampled_from([Fraction(0), Fraction(1, 128), Fraction(1, 2), Fraction(1), Fraction(2),
                                           Fraction(-1)]), dyadics(4, 3))


def exact_networks():
    return network_dicts(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=(1, 3),
                         values=dyadics(), slopes=DYADIC_SLOPES).map(lambda dl: Network.from_lists(*dl))


@settings(max_examples=scaled(15))
@given(net=exact_networks(), float32=st.booleans())
def test_to_torch_then_from_torch_is_the_identity(torch, net, float32):
    model = to_torch(net, dtype=torch.float32 if float32 else torch.float64)
    assert from_torch(model) == net


@settings(max_examples=scaled(15))
@given(net=exact_networks(), float32=st.booleans())
def test_save_onnx_then_load_is_the_identity(onnx, tmp_path_factory, net, float32):  # noqa: F811
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    save_onnx(net, path, dtype="float32" if float32 else "float64")
    assert load(path) == net
