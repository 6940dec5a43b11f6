"""The paper authors' float32 checker (GitHub annegnx/beyondicnn), timed on our networks.

Only used when ``benchmarks/run.py --anchor PATH`` names a checkout of that repository (it is
not a dependency of exactconvex and none of its code is copied here): the checkout is put on
``sys.path`` and its public functions are called as its own experiments call them
(``skeletal_subdivision`` inside [-100, 100]^d, ``get_e_sv``, ``check_convexity``), one thread,
on a ``FeedForwardNet`` whose float32 weights are exactly our network's (ICNN-structured
networks without skips: its input format has none).
"""

from __future__ import annotations

import sys
import time


class Anchor:
    def __init__(self, path: str):
        if path not in sys.path:
            sys.path.insert(0, path)
        import torch

        torch.set_num_threads(1)
        from beyondicnn.check_convexity import check_convexity
        from beyondicnn.edges_subdivision import get_e_sv, skeletal_subdivision
        from beyondicnn.models import FeedForwardNet

        self.torch, self.model = torch, FeedForwardNet
        self.subdivide, self.edge_signs, self.check_convexity = skeletal_subdivision, get_e_sv, check_convexity

    def _model(self, net):
        torch = self.torch
        if any(layer.skip for layer in net.layers) or net.num_outputs != 1:
            raise ValueError("the float checker reads plain feed-forward networks with one output")
        f = self.model(input_dim=net.input_dim, widths=net.hidden_widths)
        with torch.no_grad():
            for fc, layer in zip(f.fcs, net.layers):
                W = [[float(layer.weight[i, j]) for j in range(layer.weight.ncols())] for i in range(layer.weight.nrows())]
                fc.weight.copy_(torch.tensor(W, dtype=torch.float32))
                fc.bias.copy_(torch.tensor([float(v) for v in layer.bias.entries()], dtype=torch.float32))
        return f

    def seconds(self, net) -> tuple[float, bool]:
        """Wall seconds of the float checker on ``net`` (one thread) and its verdict."""
        f = self._model(net)
        t = time.perf_counter()
        with self.torch.no_grad():
            _, edges, v_sv = self.subdivide(f, bbox=(-100, 100), device="cpu", verbose=False, plot=False,
                                            return_intermediate=False)
            convex, _ = self.check_convexity(f, self.edge_signs(v_sv, edges))
        return time.perf_counter() - t, bool(convex)
