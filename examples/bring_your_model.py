"""Bring your model: train two small PyTorch models, save them the ways PyTorch saves models that
carry their graph (.pt2 and .onnx), read them exactly with exactconvex, decide convexity with
proof, and convert the exact networks back to PyTorch and ONNX.

    python examples/bring_your_model.py [--out DIR]

Needs the extras ``torch`` and ``onnx`` (pip install -e '.[torch,onnx]'); runs in seconds on a CPU.

1. An Amos-style input convex network (ICNN): d = 2, hidden widths 16, 16, 16, the input passed
   into every layer, weights from hidden layers clipped to >= 0 after each training step, fitted
   to the convex function |x_1| + x_2^2 / 2.  exactconvex certifies it convex on all of R^2 and
   the independent checker verifies the certificate.
2. A LeakyReLU(0.01) MLP (2 -> 16 -> 16 -> 1) fitted to the non-convex sin(x_1) + x_2.
   exactconvex proves it is not convex with three rational points, checked by exact evaluation.

The .pt2 and .onnx files of each model read to the same exact network, except for one thing the
formats store differently: a LeakyReLU slope 0.01 is a float64 in a PyTorch program and a
float32 in ONNX (the type of LeakyRelu's alpha), and each is read as the exact value stored.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings

try:
    import torch
except ImportError:
    sys.exit("this example needs PyTorch: pip install torch --index-url https://download.pytorch.org/whl/cpu")

import exactconvex
from exactconvex.bridges import save_onnx, to_torch

nn = torch.nn


class ICNN(nn.Module):
    """z_1 = relu(W_0 x + b_0), z_{l+1} = relu(Wz_l z_l + Wx_l x + b_l), f = Wz_L z_L + Wx_L x + b_L,
    with every Wz >= 0 (Amos, Xu and Kolter, 2017): convex in x by construction."""

    def __init__(self, d: int = 2, widths=(16, 16, 16)):
        super().__init__()
        self.first = nn.Linear(d, widths[0])
        self.wz = nn.ModuleList([nn.Linear(widths[i], widths[i + 1], bias=False) for i in range(len(widths) - 1)]
                                + [nn.Linear(widths[-1], 1, bias=False)])
        self.wx = nn.ModuleList([nn.Linear(d, widths[i + 1]) for i in range(len(widths) - 1)] + [nn.Linear(d, 1)])
        self.clip()

    def clip(self):
        with torch.no_grad():
            for layer in self.wz:
                layer.weight.clamp_(min=0)

    def forward(self, x):
        z = torch.relu(self.first(x))
        for wz, wx in zip(self.wz[:-1], self.wx[:-1]):
            z = torch.relu(wz(z) + wx(x))
        return self.wz[-1](z) + self.wx[-1](x)


def train(model, target, steps=300, clip=False, seed=0):
    torch.manual_seed(seed)
    x = torch.rand(512, 2) * 4 - 2
    y = target(x).unsqueeze(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        if clip:
            model.clip()
    return loss.item()


def save_both(model, out: str, name: str) -> tuple[str, str]:
    """Save a model the two ways that keep its graph: a torch.export program and an ONNX file."""
    model.eval()
    pt2 = os.path.join(out, f"{name}.pt2")
    ep = torch.export.export(model, (torch.zeros(2, 2),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(ep, pt2)
    path_onnx = os.path.join(out, f"{name}.onnx")
    with warnings.catch_warnings():  # torch's legacy exporter needs no onnxscript; it warns that it is legacy
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 2),), path_onnx, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})
    return pt2, path_onnx


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder for the files written (default: a temporary folder)")
    args = parser.parse_args(argv)
    out = args.out or tempfile.mkdtemp(prefix="bring_your_model_")
    os.makedirs(out, exist_ok=True)

    # --- 1. the ICNN: certified convex ---------------------------------------------------------
    torch.manual_seed(0)
    icnn = ICNN()
    loss = train(icnn, lambda x: x[:, 0].abs() + x[:, 1] ** 2 / 2, clip=True)
    print(f"ICNN trained (mean squared error {loss:.4f})")
    pt2, path_onnx = save_both(icnn, out, "icnn")
    net = exactconvex.load(pt2)  # read by its graph and compared with the program's forward pass
    assert exactconvex.load(path_onnx) == net == exactconvex.from_torch(icnn)
    print(f"  {pt2} and {path_onnx}: the same exact network {net}")
    print(f"  {net.provenance['comparison_note']}")
    verdict = exactconvex.check(net, certificate=True)
    result = exactconvex.verify(verdict.certificate)
    print(f"  convex on all of R^2: {verdict.convex} ({verdict.method}); certificate verified: {result.valid}")
    assert verdict.convex and result.valid

    # back out: a plain PyTorch module and an ONNX file, exact (every weight is a float32)
    back = to_torch(net)  # float64: the float32 weights are float64 numbers too, so this is exact
    assert exactconvex.from_torch(back) == net
    points = [[0.5, -1.25], [3.0, 2.0]]
    with torch.no_grad():
        values = back(torch.tensor(points, dtype=torch.float64)).flatten().tolist()
    exact = [float(net.evaluate(p)[0]) for p in points]
    print(f"  to_torch: a plain {type(back).__name__} module; at {points} it gives {values}, "
          f"the exact network {exact}")
    exact_onnx = os.path.join(out, "icnn_exact.onnx")
    save_onnx(net, exact_onnx)
    assert exactconvex.load(exact_onnx) == net
    print(f"  save_onnx: {exact_onnx} (float64, reads back as the same exact network)")

    # --- 2. the LeakyReLU MLP: not convex, with a witness -------------------------------------------
    torch.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.01), nn.Linear(16, 16), nn.LeakyReLU(0.01),
                        nn.Linear(16, 1))
    loss = train(mlp, lambda x: torch.sin(2 * x[:, 0]) + x[:, 1], seed=1)
    print(f"LeakyReLU MLP trained (mean squared error {loss:.4f})")
    pt2, path_onnx = save_both(mlp, out, "mlp")
    net = exactconvex.load(pt2)
    from_onnx = exactconvex.load(path_onnx)
    print(f"  LeakyReLU slope in {os.path.basename(pt2)}: {net.slopes[0]} (the float64 0.01), in "
          f"{os.path.basename(path_onnx)}: {from_onnx.slopes[0]} (the float32 0.01)")
    verdict = exactconvex.check(net)
    w = verdict.witness
    x_, y_, lam = w["x"], w["y"], w["lambda"]
    mid = [lam * a + (1 - lam) * b for a, b in zip(x_, y_)]
    f_mid, f_x, f_y = net.evaluate(mid)[0], net.evaluate(x_)[0], net.evaluate(y_)[0]
    assert verdict.convex is False and f_mid > lam * f_x + (1 - lam) * f_y
    print(f"  convex: {verdict.convex}; witness x = {[str(v) for v in x_]}, y = {[str(v) for v in y_]}, "
          f"lambda = {lam}: f(mid) exceeds the chord by {float(f_mid - lam * f_x - (1 - lam) * f_y):.3g} "
          f"(exactly, in rationals)")
    back = to_torch(net)  # float64: the slope 0.01 is a float64, so this is exact
    assert exactconvex.from_torch(back) == net
    print(f"  to_torch (float64) reads back as the same exact network; files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
