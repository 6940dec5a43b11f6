"""Training convex networks beyond ICNNs: a soft convexity penalty, then an exact, certified convexification.

    python examples/train_convex.py [--seeds 5] [--epochs 20] [--batch 2000] [--lam 1.0] [--refresh 10]

Needs the ``torch`` extra.  The 2-D regularised experiment of "How to improve expressivity of convex
ReLU neural networks?", per seed:

* **target**: a random convex 2 -> 4 -> 8 -> 1 ReLU network that is not an ICNN: hidden layers drawn
  with PyTorch's default initialisation (``exactconvex.sweep.generate.torch_network``; their
  hidden-to-hidden weights keep both signs) until the cone of convex output rows has an interior,
  and an output row inside it (``make_target``).  ``exactconvex.check`` certifies it convex, the
  checker verifies the certificate.
* **data**: 200,000 points uniform in [-10, 10]^2 (and 20,000 fresh ones for validation), labels
  from the target in float64; L1 loss, Adam, mini-batches.
* **variants**, all 2 -> 4 -> 8 -> 1 ReLU ``nn.Sequential`` from the same initialisation:
  (a) unconstrained; (b) ICNN: the weights out of hidden layers clipped to >= 0 after every step
  (no input skips: the same widths and parameters as the others); (c) penalty: L1 loss +
  lam * ``convexity_penalty(model, box=(-10, 10), refresh_every=k)``, then ``convexify`` (linf);
  (d) for comparison, (a) followed by ``convexify``.
* **certified convexity**, exactly: (a) and (b) by ``exactconvex.check`` with a certificate (convex
  or not, with proof) verified by the independent checker; (c) and (d) by the "nearest_convex"
  certificate of ``convexify``, verified against the trained network.

Validation losses are computed in float64 from the exact networks (``to_torch`` rounds the
convexified weights to the nearest float64 for that; the verdicts are about the exact networks).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings

try:
    import torch
except ImportError:
    sys.exit("this example needs PyTorch: pip install torch --index-url https://download.pytorch.org/whl/cpu")

import numpy as np
from flint import fmpq

import exactconvex
from exactconvex.bridges import to_torch
from exactconvex.bridges.penalty import convexity_penalty, exact_network
from exactconvex.convexify import cone_of, convexify, deepest_row
from exactconvex.sweep.generate import torch_network

nn = torch.nn
WIDTHS = (2, 4, 8, 1)


def make_target(seed: int):
    """A random convex non-ICNN 2 -> 4 -> 8 -> 1 network, exact, certified convex.

    Hidden layers drawn with PyTorch's default initialisation until their cone of convex output rows
    has an interior (most draws give a cone inside a hyperplane: then every convex output row is on
    the boundary); the output row is the deepest row of the cone in [-1, 1]^8 (``deepest_row``, margin
    r), moved by a random step of at most r / 2 in every weight, so it stays convex with margin >= r / 2.
    """
    rng = np.random.default_rng(10_000 + seed)
    for _ in range(200):
        base = torch_network(rng, 2, list(WIDTHS[1:-1]))
        cone = cone_of(base)
        centre, r = deepest_row(cone)
        if r >= fmpq(1, 50):
            break
    else:  # pragma: no cover - about one draw in eight has an interior
        raise RuntimeError("no hidden layers with a cone of convex output rows that has an interior")
    step = [fmpq(int(k), 16) * (r / 2) for k in rng.integers(-16, 16, size=cone.dimension, endpoint=True)]
    target = cone.with_rows({0: [c + s for c, s in zip(centre, step)]})
    verdict = exactconvex.check(target, certificate=True)
    assert verdict.convex and exactconvex.verify(verdict.certificate, network=target).valid
    assert not target.is_icnn()
    return target


def float_model(net):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_torch(net, dtype=torch.float64, rounding="nearest")


def mlp() -> nn.Sequential:
    d, n1, n2, m = WIDTHS
    return nn.Sequential(nn.Linear(d, n1), nn.ReLU(), nn.Linear(n1, n2), nn.ReLU(), nn.Linear(n2, m))


def clip(model: nn.Sequential) -> None:
    with torch.no_grad():
        for layer in (model[2], model[4]):
            layer.weight.clamp_(min=0)


def train(model, X, y, args, seed, *, icnn=False, penalty=None) -> dict:
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.L1Loss()
    if icnn:
        clip(model)
    last_penalty = None
    for _ in range(args.epochs):
        order = torch.randperm(len(X), generator=gen)
        for start in range(0, len(X), args.batch):
            idx = order[start:start + args.batch]
            loss = loss_fn(model(X[idx]), y[idx])
            if penalty is not None:
                p = penalty()
                last_penalty = p.item()
                loss = loss + args.lam * p
            opt.zero_grad()
            loss.backward()
            opt.step()
            if icnn:
                clip(model)
        sched.step()
    return {"penalty": last_penalty}


def l1(model, X, y) -> float:
    with torch.no_grad():
        return float((model(X.double()) - y.double()).abs().mean())


def certify_check(net) -> str:
    verdict = exactconvex.check(net, certificate=True)
    valid = exactconvex.verify(verdict.certificate, network=net).valid
    return ("convex" if verdict.convex else "NOT convex") + (" (certified)" if valid else " (certificate INVALID)")


def certify_convexify(net) -> tuple:
    result = convexify(net)
    valid = exactconvex.verify(result.certificate(), network=net).valid
    return result, "convex (certified)" if valid else "certificate INVALID"


def run_seed(seed: int, args) -> dict:
    t0 = time.perf_counter()
    target = make_target(seed)
    f_target = float_model(target)
    gen = torch.Generator().manual_seed(seed)
    X = (torch.rand(args.points, 2, generator=gen, dtype=torch.float64) * 20 - 10)
    Xv = (torch.rand(args.val_points, 2, generator=gen, dtype=torch.float64) * 20 - 10)
    with torch.no_grad():
        y, yv = f_target(X), f_target(Xv)
    X32, y32 = X.float(), y.float()
    torch.manual_seed(seed)
    init = mlp()
    row = {"seed": seed, "target_regions": exactconvex.check(target, method="regions").regions}

    plain = copy.deepcopy(init)
    train(plain, X32, y32, args, seed)
    net_a = exact_network(plain)
    row["a_loss"], row["a_cert"] = l1(float_model(net_a), Xv, yv), certify_check(net_a)
    conv_a, row["d_cert"] = certify_convexify(net_a)
    row["d_loss"], row["d_dist"] = l1(float_model(conv_a.network), Xv, yv), float(conv_a.distance)

    icnn = copy.deepcopy(init)
    train(icnn, X32, y32, args, seed, icnn=True)
    net_b = exact_network(icnn)
    row["b_loss"], row["b_cert"] = l1(float_model(net_b), Xv, yv), certify_check(net_b)

    pen = copy.deepcopy(init)
    penalty = convexity_penalty(pen, box=(-10, 10), refresh_every=args.refresh)
    info = train(pen, X32, y32, args, seed, penalty=penalty)
    net_c = exact_network(pen)
    row["c_loss_before"] = l1(float_model(net_c), Xv, yv)
    row["c_penalty"] = info["penalty"]
    row["c_before"] = certify_check(net_c)
    conv_c, row["c_cert"] = certify_convexify(net_c)
    row["c_loss"], row["c_dist"] = l1(float_model(conv_c.network), Xv, yv), float(conv_c.distance)
    row["seconds"] = time.perf_counter() - t0
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--lam", type=float, default=1.0, help="weight of the convexity penalty")
    ap.add_argument("--refresh", type=int, default=10, help="refresh the region graph every this many steps")
    ap.add_argument("--points", type=int, default=200_000)
    ap.add_argument("--val-points", type=int, default=20_000)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"2 -> 4 -> 8 -> 1 ReLU, {args.points} training points in [-10, 10]^2, L1 loss, Adam lr {args.lr} "
          f"(cosine), {args.epochs} epochs of batches of {args.batch}; penalty weight {args.lam}, region graph "
          f"refreshed every {args.refresh} steps; validation on {args.val_points} fresh points")
    rows = []
    header = (f"{'seed':>4} | {'(a) plain':>9} {'convex?':<22} | {'(b) ICNN':>9} {'convex?':<18} | "
              f"{'(c) pen.':>9} {'convex?':<22} {'-> cvx':>8} {'dist':>7} {'convex?':<18} | "
              f"{'(d) a->cvx':>10} {'dist':>7} | {'s':>4}")
    print(header)
    print("-" * len(header))
    for seed in range(args.seeds):
        r = run_seed(seed, args)
        rows.append(r)
        print(f"{seed:>4} | {r['a_loss']:9.4f} {r['a_cert']:<22} | {r['b_loss']:9.4f} {r['b_cert']:<18} | "
              f"{r['c_loss_before']:9.4f} {r['c_before']:<22} {r['c_loss']:8.4f} {r['c_dist']:7.4f} "
              f"{r['c_cert']:<18} | {r['d_loss']:10.4f} {r['d_dist']:7.4f} | {r['seconds']:4.0f}", flush=True)

    def ms(key):
        values = [r[key] for r in rows]
        return f"{statistics.mean(values):.4f} +- {statistics.stdev(values) if len(values) > 1 else 0:.4f}"

    print("-" * len(header))
    print(f"mean +- std of the validation L1 loss over {len(rows)} seeds:")
    print(f"  (a) unconstrained:                    {ms('a_loss')}   certified convex: "
          f"{sum(r['a_cert'].startswith('convex') for r in rows)}/{len(rows)}")
    print(f"  (b) ICNN, weights clipped >= 0:       {ms('b_loss')}   certified convex: "
          f"{sum(r['b_cert'].startswith('convex') for r in rows)}/{len(rows)}")
    print(f"  (c) penalty, before convexify:        {ms('c_loss_before')}   certified convex: "
          f"{sum(r['c_before'].startswith('convex') for r in rows)}/{len(rows)}")
    print(f"  (c) penalty, then convexify:          {ms('c_loss')}   certified convex: "
          f"{sum(r['c_cert'].startswith('convex') for r in rows)}/{len(rows)}   linf distance {ms('c_dist')}")
    print(f"  (d) unconstrained, then convexify:    {ms('d_loss')}   certified convex: "
          f"{sum(r['d_cert'].startswith('convex') for r in rows)}/{len(rows)}   linf distance {ms('d_dist')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
