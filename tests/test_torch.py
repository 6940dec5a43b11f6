"""The PyTorch bridge (exactconvex/bridges/torch.py): models read by their graph (torch.export),
every import compared with the model's forward pass, bare state_dicts only with a declared
activation, and ``to_torch`` for every network.

Every test takes the ``torch`` fixture (tests/conftest.py): skipped without PyTorch, failed
without it under CI=true.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import exactconvex
from exactconvex import FormatError, Network, from_torch, load, to_torch
from exactconvex.numbers import to_fraction
from strategies import run_cli

REPO = Path(__file__).resolve().parent.parent
HALF = Fraction(1, 2)


# ----- the LeakyReLU(0.5) model of issue 12 ------------------------------------------------------

W1, B1 = [[2.0], [1.0]], [0.0, -1.0]
W2, B2 = [[-1.0, 0.0], [0.0, -2.0]], [-1.0, -1.0]
W3, B3 = [[-2.0, 0.0]], [0.0]


def leaky_model(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(1, 2), nn.LeakyReLU(0.5), nn.Linear(2, 2), nn.LeakyReLU(0.5), nn.Linear(2, 1))
    with torch.no_grad():
        for lin, (w, b) in zip(model[::2], [(W1, B1), (W2, B2), (W3, B3)]):
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
    return model.eval()


def slopes(net) -> list[Fraction]:
    return [to_fraction(s) for s in net.slopes]


def leaky_by_hand(x: Fraction) -> Fraction:
    """The model evaluated with Fractions, independently of exactconvex."""
    def act(v):
        return v if v > 0 else HALF * v

    h = [Fraction(x)]
    for W, b, last in ((W1, B1, False), (W2, B2, False), (W3, B3, True)):
        z = [sum(Fraction(w) * v for w, v in zip(row, h)) + Fraction(c) for row, c in zip(W, b)]
        h = z if last else [act(v) for v in z]
    return h[0]


def export_pt2(torch, model, d, path, batch_dim=True):
    example = torch.zeros(2, d, dtype=next(model.parameters()).dtype)
    dynamic = {"x" if "x" in _forward_args(model) else _forward_args(model)[0]: {0: torch.export.Dim("batch")}} \
        if batch_dim else None
    ep = torch.export.export(model, (example,), dynamic_shapes=dynamic)
    torch.export.save(ep, str(path))
    return path


def _forward_args(model):
    import inspect

    return list(inspect.signature(model.forward).parameters)


def assert_witness_violates_convexity(witness: dict, f):
    x, y = Fraction(witness["x"][0]), Fraction(witness["y"][0])
    lam = Fraction(witness["lambda"])
    assert 0 < lam < 1 and x != y
    assert f(lam * x + (1 - lam) * y) > lam * f(x) + (1 - lam) * f(y)


def test_leaky_model_module_reads_exactly_and_is_not_convex(torch):
    model = leaky_model(torch)
    net = from_torch(model)
    assert slopes(net) == [HALF, HALF] and net.widths == [1, 2, 2, 1]
    assert [to_fraction(net.evaluate([x])[0]) for x in (-2, -1, 0)] == [-2, 0, 1]
    with torch.no_grad():
        assert model(torch.tensor([[-2.0], [-1.0], [0.0]])).flatten().tolist() == [-2.0, 0.0, 1.0]
    verdict = exactconvex.check(net)
    assert verdict.convex is False
    w = verdict.witness
    assert_witness_violates_convexity({"x": [str(v) for v in w["x"]], "y": [str(v) for v in w["y"]],
                                       "lambda": str(w["lambda"])}, leaky_by_hand)
    assert net.provenance["comparison"]["points"] >= 64
    assert net.provenance["comparison"]["precision"] == "float64"


def test_leaky_model_pt2_cli_exit_1_with_exact_witness(torch, tmp_path):
    path = export_pt2(torch, leaky_model(torch), 1, tmp_path / "leaky.pt2")
    assert load(path) == from_torch(leaky_model(torch))
    r = run_cli("check", "--json", path)
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["convex"] is False
    assert_witness_violates_convexity(out["witness"], leaky_by_hand)


def test_leaky_state_dict_needs_a_declared_activation(torch, tmp_path):
    path = tmp_path / "leaky.pt"
    torch.save(leaky_model(torch).state_dict(), path)
    r = run_cli("check", path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "state-dict-activation" in r.stderr and "torch.export.save" in r.stderr and "torch.onnx.export" in r.stderr
    r = run_cli("check", "--json", "--state-dict-activation", "leaky_relu:1/2", path)
    assert r.returncode == 1, r.stderr
    assert_witness_violates_convexity(json.loads(r.stdout)["witness"], leaky_by_hand)
    # the Python API says the same
    with pytest.raises(FormatError, match="torch.export.save"):
        load(path)
    net = load(path, state_dict_activation="leaky_relu:1/2")
    assert net == from_torch(leaky_model(torch))
    # declared ReLU: a different (and convex) function, read as declared
    relu = load(path, state_dict_activation="relu")
    assert slopes(relu) == [0, 0] and any("declared" in n for n in relu.notes)
    with pytest.raises(FormatError, match="leaky_relu:S"):
        load(path, state_dict_activation="tanh")


def test_state_dict_chain_must_fit(torch, tmp_path):
    nn = torch.nn

    class Swapped(nn.Module):  # registered out of chain order: shapes do not chain
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(3, 1)
            self.inp = nn.Linear(2, 3)

    path = tmp_path / "swapped.pt"
    torch.save(Swapped().state_dict(), path)
    with pytest.raises(FormatError, match="do not form a chain"):
        load(path, state_dict_activation="relu")
    bn = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 1))
    torch.save(bn.state_dict(), path)
    with pytest.raises(FormatError, match="running_mean"):
        load(path, state_dict_activation="relu")


def test_pickled_module_is_refused(torch, tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(leaky_model(torch), path)
    with pytest.raises(FormatError, match="weights_only.*torch.export.save"):
        load(path, state_dict_activation="relu")


# ----- refusals: the operation and its place ---------------------------------------------------------

@pytest.mark.parametrize("name, build, expected", [
    ("Tanh", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)), r"Tanh.*module '1'"),
    ("Softplus", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Softplus(), nn.Linear(3, 1)), r"Softplus.*'1'"),
    ("ReLU6", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ReLU6(), nn.Linear(3, 1)), r"ReLU6.*'1'"),
    ("GELU", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)), r"GELU.*'1'"),
    ("Sigmoid", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)), r"Sigmoid.*'1'"),
    ("MaxPool", lambda nn: nn.Sequential(nn.Linear(2, 4), nn.MaxPool1d(2), nn.Linear(2, 1)), r"MaxPool1d.*'1'"),
    ("trailing ReLU", lambda nn: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.ReLU()),
     r"module '3' \(ReLU\).*trailing activation"),
])
def test_unsupported_operations_are_refused_by_name(torch, name, build, expected):
    with pytest.raises(FormatError, match=expected):
        from_torch(build(torch.nn).eval())


def test_refusal_on_the_command_line(torch, tmp_path):
    nn = torch.nn
    path = export_pt2(torch, nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)), 2, tmp_path / "tanh.pt2")
    r = run_cli("info", path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Tanh" in r.stderr and "'1'" in r.stderr


def test_functional_refusals_name_the_code(torch):
    nn, F = torch.nn, torch.nn.functional

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 1)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    with pytest.raises(FormatError, match=r"tanh.*torch.tanh\(self.a\(x\)\)"):
        from_torch(Functional())

    class Product(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            return (self.a(x) * self.b(x)).sum(dim=1)

    with pytest.raises(FormatError, match="product of two values"):
        from_torch(Product())
    with pytest.raises(FormatError, match="training mode"):
        from_torch(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.ReLU(), nn.Linear(2, 1)).train())

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 1)

        def forward(self, x):
            return self.a(x) if x.sum() > 0 else -self.a(x)

    with pytest.raises(FormatError, match="control flow"):
        from_torch(Branchy())
    del F


# ----- reading in forward order, with every supported building block --------------------------------

def test_layers_registered_out_of_order_are_read_in_forward_order(torch):
    nn = torch.nn

    class Misordered(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(3)
            self.last = nn.Linear(4, 1)
            self.middle = nn.Linear(3, 4)
            self.first = nn.Linear(2, 3)
            self.act = nn.LeakyReLU(0.25)

        def forward(self, x):
            return self.last(self.act(self.middle(torch.relu(self.first(x)))))

    model = Misordered().eval()
    net = from_torch(model)
    seq = nn.Sequential(model.first, nn.ReLU(), model.middle, nn.LeakyReLU(0.25), model.last)
    assert net == from_torch(seq)
    assert net.widths == [2, 3, 4, 1] and slopes(net) == [0, Fraction(1, 4)]
    # the verdict agrees with the model's forward pass: evaluations match exactly at float points
    xs = torch.tensor([[0.5, -1.0], [3.0, 2.0], [-4.0, 0.25]], dtype=torch.float64)
    with torch.no_grad():
        expected = model.double()(xs).flatten().tolist()
    for x, e in zip(xs.tolist(), expected):
        assert float(net.evaluate(x)[0]) == pytest.approx(e, rel=1e-12, abs=1e-12)


def test_inplace_relu_is_read_by_its_real_data_flow(torch):
    nn = torch.nn

    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.out = nn.Linear(1, 1), nn.Linear(1, 1)
            self.act = nn.ReLU(inplace=True)
            with torch.no_grad():
                self.a.weight.fill_(1.0), self.a.bias.fill_(0.0), self.out.weight.fill_(1.0), self.out.bias.fill_(0.0)

        def forward(self, x):
            y = self.a(x)
            z = self.act(y)  # overwrites y
            return self.out(y + z)  # 2 relu(x), not x + relu(x)

    net = from_torch(InPlace())
    assert [to_fraction(net.evaluate([v])[0]) for v in (-3, 2)] == [0, 4]


def test_residual_batchnorm_dropout_flatten_and_functional_forms(torch):
    nn, F = torch.nn, torch.nn.functional

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)
            self.flat = nn.Flatten()
            self.a = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)
            self.drop = nn.Dropout(0.3)
            self.b = nn.Linear(4, 4)
            self.out = nn.Linear(8, 2)

        def forward(self, x):
            x = self.flat(x)
            h = F.leaky_relu(self.bn(self.a(x)), 0.125)
            h = self.drop(h)
            g = h + torch.relu(self.b(h)) * 2 - h / 4
            g = torch.cat([g, F.relu(self.b(h) - x.sum(dim=1, keepdim=True))], dim=1)
            return self.out(g) + 0.5

    model = Mixed()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
    model.eval()
    net = from_torch(model)
    assert slopes(net) == [Fraction(1, 8), 0] and net.num_outputs == 2
    assert any("BatchNorm" in n and "float64" in n for n in net.notes)
    assert net.provenance["comparison"]["max_abs_difference"] < 1e-9
    with pytest.raises(FormatError, match="BatchNorm in training mode"):
        from_torch(model.train())


def test_two_slopes_at_one_depth_go_into_two_layers(torch):
    nn = torch.nn

    class TwoSlopes(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(7)
            self.a, self.b, self.out = nn.Linear(2, 3), nn.Linear(2, 2), nn.Linear(5, 1)

        def forward(self, x):
            return self.out(torch.cat([torch.relu(self.a(x)), nn.functional.leaky_relu(self.b(x), 0.5)], dim=1))

    net = from_torch(TwoSlopes())
    # depth 1 holds both activations; by first appearance: the ReLU layer, then the LeakyReLU layer,
    # which reads x through a skip (its main weight from the ReLU layer is zero)
    assert net.hidden_widths == [3, 2] and slopes(net) == [0, HALF]
    assert set(net.layers[1].skip) == {0} and all(v == 0 for v in net.layers[1].weight.entries())
    assert set(net.layers[2].skip) == {1}


def test_comparison_refuses_a_network_that_differs_from_the_model(torch):
    from exactconvex.bridges.graph import compare

    net = from_torch(leaky_model(torch))
    model = leaky_model(torch).double()

    def run(X):
        with torch.no_grad():
            return (model(torch.as_tensor(X)) * (1 + 1e-6)).numpy()  # a model 1e-6 off: far beyond rounding

    with pytest.raises(FormatError, match="does not compute what the model computes.*difference"):
        compare(net, run, "float64", "test model")

    def exact_run(X):
        with torch.no_grad():
            return model(torch.as_tensor(X)).numpy()

    summary = compare(net, exact_run, "float64", "test model")
    assert summary["points"] >= 64 and summary["max_difference_over_tolerance"] <= 1


# ----- the thin re-exports and lazy imports ------------------------------------------------------------

def test_reexports_and_lazy_imports(torch):
    import exactconvex.network as network

    assert network.from_torch(leaky_model(torch)) == exactconvex.from_torch(leaky_model(torch))
    code = ("import sys, exactconvex, exactconvex.cli.main, exactconvex.bridges; "
            "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


# ----- back out ------------------------------------------------------------------------------------

def skip_net() -> Network:
    return Network.from_lists(2, [
        {"weight": [[1, -2], [0.5, 1]], "bias": [0, -1], "slope": "1/4"},
        {"weight": [[1, 1], [-1, 2], [0, 1]], "skip": {0: [[1, 0], [0, 1], [2, 2]]}, "slope": -1},
        {"weight": [[1, -1, 0.75], [2, 0, 1]], "bias": [3, -0.5], "skip": {0: [[1, 1], [0, 0]], 1: [[1, 0], [0, 1]]}},
    ])


def test_to_torch_for_networks_with_skips_slopes_and_several_outputs(torch):
    net = skip_net()
    model = to_torch(net)
    assert type(model).__name__ == "ExactNetwork" and isinstance(model, torch.nn.Module)
    xs = [[Fraction(1, 2), -3], [2, Fraction(5, 4)], [0, 0], [-7, 1]]
    with torch.no_grad():
        out = model(torch.tensor([[float(v) for v in x] for x in xs], dtype=torch.float64))
    assert out.dtype == torch.float64
    for x, row in zip(xs, out.tolist()):
        assert [Fraction(v) for v in row] == [to_fraction(v) for v in net.evaluate(x)]
    assert from_torch(model) == net
    assert from_torch(to_torch(net, dtype=torch.float32)) == net  # every number here is a float32 too


def test_to_torch_module_loads_without_exactconvex(torch, tmp_path):
    model = to_torch(skip_net())
    path = tmp_path / "model.pt"
    torch.save(model, path)
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "exactconvex" or name.startswith("exactconvex."):
            raise ImportError("exactconvex is not installed here")
sys.meta_path.insert(0, Block())
import torch
model = torch.load({str(path)!r}, weights_only=False)
print(model(torch.tensor([[0.5, -3.0]], dtype=torch.float64)).tolist())
print(any(m.startswith("exactconvex") for m in sys.modules))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    expected = [float(v) for v in skip_net().evaluate([Fraction(1, 2), -3])]
    assert r.stdout.split("\n")[:2] == [str([expected]), "False"]


def test_to_torch_exactness_and_rounding(torch):
    third = Network.from_lists(1, [{"weight": [["1/3"]], "slope": "1/3"}, {"weight": [[1]]}])
    with pytest.raises(FormatError, match="1/3 is not exactly representable in float64.*rounding='nearest'"):
        to_torch(third)
    from exactconvex.bridges.graph import RoundingWarning

    with pytest.warns(RoundingWarning, match="largest absolute change"):
        model = to_torch(third, rounding="nearest")
    change = model.meta["exactconvex"]["max_abs_change"]
    assert change == float(abs(Fraction(float(Fraction(1, 3))) - Fraction(1, 3))) and 0 < change < 1e-16
    tenth = Network.from_lists(1, [{"weight": [["0.1"]]}])
    with pytest.raises(FormatError, match="float32"):
        to_torch(tenth, dtype=torch.float32)
    huge = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]], "bias": ["1e40"]}])
    with pytest.raises(FormatError, match="layer 2, bias.*too large for float32"):
        to_torch(huge, dtype=torch.float32, rounding="nearest")
    with pytest.raises(FormatError, match="too large for float64"):
        to_torch(Network.from_lists(1, [{"weight": [["1e400"]]}]), rounding="nearest")


def test_float32_weights_are_read_as_their_exact_values(torch):
    lin = torch.nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(0.1)
        lin.bias.fill_(-0.1)
    net = from_torch(torch.nn.Sequential(lin))
    tenth32 = Fraction(float(torch.tensor(0.1, dtype=torch.float32)))
    assert tenth32 == Fraction(13421773, 134217728)
    assert to_fraction(net.layers[0].weight[0, 0]) == tenth32 and to_fraction(net.layers[0].bias[0, 0]) == -tenth32


def test_a_model_that_runs_only_in_float32_is_compared_in_float32(torch):
    nn = torch.nn

    class Float32Only(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(11)
            self.a, self.b = nn.Linear(3, 5), nn.Linear(5, 2)

        def forward(self, x):
            if x.dtype != torch.float32:  # static in the graph, but a float64 copy cannot run
                raise TypeError("float32 inputs only")
            return self.b(torch.relu(self.a(x)))

    net = from_torch(Float32Only())
    comparison = net.provenance["comparison"]
    assert comparison["precision"] == "float32" and comparison["relative_tolerance"] >= 1e-4
    assert net == from_torch(nn.Sequential(Float32Only().a, nn.ReLU(), Float32Only().b))
