"""The PyTorch bridge: float weights read exactly, ``.pt`` files opened with weights_only=True,
and ``to_torch`` computing in float64 what the exact network computes.

Every test takes the ``torch`` fixture (tests/conftest.py): skipped without PyTorch, failed
without it under CI=true.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exactconvex
from exactconvex import FormatError, Network, from_torch, load, to_torch
from exactconvex.numbers import to_fraction
from strategies import dyadics, networks, points, run_cli, scaled

REPO = Path(__file__).resolve().parent.parent


def matrix(m) -> list[list[Fraction]]:
    return [[to_fraction(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())]


def float_model(torch, sizes=(3, 4, 5, 2), seed=0, bias=True):
    torch.manual_seed(seed)
    mods = []
    for i in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[i], sizes[i + 1], bias=bias))
        if i < len(sizes) - 2:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def assert_exact_copy(torch, model, net: Network):
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert net.depth == len(linears)
    for layer, lin in zip(net.layers, linears):
        assert lin.weight.dtype == torch.float32
        assert matrix(layer.weight) == [[Fraction(float(w)) for w in row] for row in lin.weight.detach()]
        expected_bias = [Fraction(float(b)) for b in lin.bias.detach()] if lin.bias is not None else [0] * layer.width
        assert [r[0] for r in matrix(layer.bias)] == expected_bias


def test_float32_sequential_is_read_exactly(torch):
    model = float_model(torch)
    net = from_torch(model)
    assert net.widths == [3, 4, 5, 2]
    assert_exact_copy(torch, model, net)
    # a float32 weight is a dyadic rational, not the decimal it prints as
    w = model[0].weight[0, 0].item()
    assert to_fraction(net.layers[0].weight[0, 0]) == Fraction(w) and Fraction(w).denominator & (
        Fraction(w).denominator - 1) == 0


def test_float32_tenth_in_a_linear_layer(torch):
    lin = torch.nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(0.1)
        lin.bias.fill_(-0.1)
    net = from_torch(torch.nn.Sequential(lin))
    tenth32 = Fraction(float(torch.tensor(0.1, dtype=torch.float32)))
    assert tenth32 == Fraction(13421773, 134217728) != Fraction(1, 10)
    assert matrix(net.layers[0].weight) == [[tenth32]] and matrix(net.layers[0].bias) == [[-tenth32]]


def test_state_dict_is_read_exactly(torch):
    model = float_model(torch, seed=1)
    net = from_torch(model.state_dict())
    assert net == from_torch(model)
    assert_exact_copy(torch, model, net)


def test_linear_without_bias(torch):
    model = float_model(torch, sizes=(2, 3, 1), bias=False)
    net = from_torch(model)
    assert_exact_copy(torch, model, net)
    assert from_torch(model.state_dict()) == net


def test_pt_file_round_trip_with_weights_only(torch, tmp_path, monkeypatch):
    model = float_model(torch, seed=2)
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    net = exactconvex.load(path)
    assert calls and all(c.get("weights_only") is True for c in calls)
    monkeypatch.undo()
    assert net == from_torch(model)
    assert_exact_copy(torch, model, net)
    pth = tmp_path / "model.pth"
    torch.save(model.state_dict(), pth)
    assert load(pth) == net


def test_pickled_module_is_refused(torch, tmp_path):
    # a whole pickled module needs weights_only=False, i.e. running arbitrary code: refused
    path = tmp_path / "whole.pt"
    torch.save(float_model(torch), path)
    with pytest.raises(FormatError, match="weights_only|state_dict"):
        load(path)


def test_cli_info_on_pt_file(torch, tmp_path):
    path = tmp_path / "model.pt"
    torch.save(float_model(torch, sizes=(2, 3, 1)).state_dict(), path)
    r = run_cli("info", "--json", path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["input_dim"] == 2 and info["hidden_widths"] == [3]
    bad = tmp_path / "bad.pt"
    bad.write_text("not a torch file")
    r = run_cli("info", bad)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "bad.pt" in r.stderr


@pytest.mark.parametrize("build", [
    lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)),
    lambda nn: nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
    lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)),
    lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(2, 1)),
    lambda nn: nn.Linear(2, 1),
])
def test_unsupported_modules_refused(torch, build):
    with pytest.raises(FormatError):
        from_torch(build(torch.nn))


def test_unsupported_state_dict_refused(torch):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2), torch.nn.Linear(2, 1))
    with pytest.raises(FormatError, match="running_mean|unexpected"):
        from_torch(model.state_dict())


def test_named_layers_keep_their_order(torch):
    # a state_dict of a custom module: layers named, not numbered, in registration order
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.input = torch.nn.Linear(2, 2)
            self.hidden = torch.nn.Linear(2, 2)
            self.out = torch.nn.Linear(2, 1)

    model = Net()
    net = from_torch(model.state_dict())
    seq = torch.nn.Sequential(model.input, torch.nn.ReLU(), model.hidden, torch.nn.ReLU(), model.out)
    assert net == from_torch(seq)

    # nested containers: "features.0", "features.2", "classifier.0" stay in registration order
    class Nested(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
            self.classifier = torch.nn.Sequential(torch.nn.Linear(2, 1))

    nested = Nested()
    flat = torch.nn.Sequential(*nested.features, torch.nn.ReLU(), *nested.classifier)
    assert from_torch(nested.state_dict()) == from_torch(flat)


def test_to_torch_refuses_skips(torch):
    net = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]], "skip": {0: [[1]]}}])
    with pytest.raises(FormatError, match="skip"):
        to_torch(net)


def test_to_torch_refuses_values_beyond_the_float_range(torch):
    huge64 = Network.from_lists(1, [{"weight": [["1e400"]]}])
    with pytest.raises(FormatError, match="layer 1.*too large"):
        to_torch(huge64)
    huge32 = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]], "bias": ["1e40"]}])
    to_torch(huge32)  # fine in float64
    with pytest.raises(FormatError, match="layer 2.*too large"):
        to_torch(huge32, dtype=torch.float32)


@settings(max_examples=scaled(40))
@given(st.data())
def test_to_torch_matches_exact_evaluation_for_dyadic_weights(torch, data):
    net = data.draw(networks(skips=False, outputs=(1, 3), values=dyadics()))
    model = to_torch(net)
    assert isinstance(model, torch.nn.Sequential)
    xs = data.draw(st.lists(points(net.input_dim, values=dyadics()), min_size=1, max_size=5))
    with torch.no_grad():
        out = model(torch.tensor([[float(v) for v in x] for x in xs], dtype=torch.float64))
    assert out.dtype == torch.float64
    for x, row in zip(xs, out.tolist()):
        exact = [to_fraction(v) for v in net.evaluate(x)]
        assert [Fraction(v) for v in row] == exact  # equal, not close: every value is exact in float64
    # and back: the float64 model is read as the same exact network
    assert from_torch(model) == net


def test_to_torch_float32(torch):
    net = load(REPO / "examples" / "networks" / "abs.json")
    model = to_torch(net, dtype=torch.float32)
    assert model[0].weight.dtype == torch.float32
    with torch.no_grad():
        assert model(torch.tensor([[-1.5]], dtype=torch.float32)).item() == 1.5
    assert from_torch(model) == net
