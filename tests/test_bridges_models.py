"""The networks convex-network users train, through every door: an Amos-style ICNN (input
passthroughs into every layer, weights from hidden layers clipped >= 0) and a FeedForwardNet with
residual connections in the style of the paper authors' code, each read from the module, from a
``torch.export`` program (.pt2) and from an ONNX file to the same exact network; the ICNN is
certified convex and its certificate verifies.
"""

from __future__ import annotations

import warnings


import exactconvex
from exactconvex import from_torch, load
from test_onnx import onnx  # noqa: F401  (the fixture)


def amos_icnn(torch, d=2, widths=(16, 16, 16), seed=0):
    """z_1 = relu(W_0 x + b_0), z_{l+1} = relu(Wz_l z_l + Wx_l x + b_l), f = Wz_L z_L + Wx_L x + b_L."""
    nn = torch.nn

    class ICNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(d, widths[0])
            self.wz = nn.ModuleList([nn.Linear(widths[i], widths[i + 1], bias=False) for i in range(len(widths) - 1)]
                                    + [nn.Linear(widths[-1], 1, bias=False)])
            self.wx = nn.ModuleList([nn.Linear(d, widths[i + 1]) for i in range(len(widths) - 1)]
                                    + [nn.Linear(d, 1)])

        def clip(self):
            with torch.no_grad():
                for layer in self.wz:
                    layer.weight.clamp_(min=0)

        def forward(self, x):
            z = torch.relu(self.first(x))
            for wz, wx in zip(self.wz[:-1], self.wx[:-1]):
                z = torch.relu(wz(z) + wx(x))
            return self.wz[-1](z) + self.wx[-1](x)

    torch.manual_seed(seed)
    model = ICNN()
    model.clip()
    return model.eval()


def feed_forward_net(torch, d=2, width=8, depth=3, outputs=1, seed=1):
    """h_1 = relu(W_0 x + b_0), h_{l+1} = h_l + relu(W_l h_l + b_l), f = W_out h_L + b_out."""
    nn = torch.nn

    class FeedForwardNet(nn.Module):
        def __init__(self, residuals=True):
            super().__init__()
            self.residuals = residuals
            self.input_layer = nn.Linear(d, width)
            self.hidden_layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth - 1)])
            self.output_layer = nn.Linear(width, outputs)

        def forward(self, x):
            h = torch.relu(self.input_layer(x))
            for layer in self.hidden_layers:
                h = h + torch.relu(layer(h)) if self.residuals else torch.relu(layer(h))
            return self.output_layer(h)

    torch.manual_seed(seed)
    return FeedForwardNet().eval()


def through_every_door(torch, onnx, model, d, tmp_path):  # noqa: F811
    """The exact networks read from the module, its .pt2 and its .onnx."""
    by_module = from_torch(model)
    ep = torch.export.export(model, (torch.zeros(2, d),), dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    torch.export.save(ep, str(tmp_path / "model.pt2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, d),), str(tmp_path / "model.onnx"), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    return by_module, load(tmp_path / "model.pt2"), load(tmp_path / "model.onnx")


def test_amos_icnn_through_every_door_and_certified(torch, onnx, tmp_path):  # noqa: F811
    model = amos_icnn(torch)
    by_module, by_pt2, by_onnx = through_every_door(torch, onnx, model, 2, tmp_path)
    assert by_module == by_pt2 == by_onnx
    net = by_module
    assert net.widths == [2, 16, 16, 16, 1] and net.is_relu
    # the passthroughs are skips from the input into every layer after the first
    assert [sorted(layer.skip) for layer in net.layers] == [[], [0], [0], [0]]
    assert net.is_icnn()
    verdict = exactconvex.check(net, certificate=True)
    assert verdict.convex is True
    result = exactconvex.verify(verdict.certificate)
    assert result.valid, result.reason


def test_feed_forward_net_with_residuals_through_every_door(torch, onnx, tmp_path):  # noqa: F811
    model = feed_forward_net(torch)
    by_module, by_pt2, by_onnx = through_every_door(torch, onnx, model, 2, tmp_path)
    assert by_module == by_pt2 == by_onnx
    net = by_module
    # h_3 = h_1 + r_2 + r_3: every hidden layer reads all earlier ones, the output all of them
    assert net.widths == [2, 8, 8, 8, 1]
    assert [sorted(layer.skip) for layer in net.layers] == [[], [], [1], [1, 2]]
    # the residual sum enters with weight W_l on every earlier term: layer 3 reads h_1 with the same W_3
    W3, S31 = net.layers[2].weight, net.layers[2].skip[1]
    assert W3 == S31
    assert net.provenance["comparison"]["max_difference_over_tolerance"] <= 1


def test_info_and_check_say_how_the_model_was_imported(torch, tmp_path, cli):
    # the verdict is about the exact network read from the model: the CLI says how it compares
    # with the model's forward pass and where it is not the model itself (BatchNorm's scale)
    import json

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(),
                                torch.nn.Linear(3, 1)).eval()
    path = tmp_path / "bn.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(4, 2),)), str(path))
    info = cli("info", str(path), "--json")
    data = json.loads(info.stdout)
    assert info.returncode == 0 and "BatchNorm" in data["notes"][0]
    assert data["provenance"]["comparison"]["points"] >= 64
    text = cli("check", str(path))
    assert "note:" in text.stdout and "BatchNorm" in text.stdout and "compared with the model" in text.stdout
