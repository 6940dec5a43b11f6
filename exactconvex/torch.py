"""PyTorch helpers under the name the issue tracker uses: ``exactconvex.torch.convexity_penalty``.

The code lives in :mod:`exactconvex.bridges` (models in and out) and
:mod:`exactconvex.bridges.penalty` (the differentiable convexity penalty); this module only
gathers the names a training script needs.  It needs PyTorch (the ``torch`` extra).
"""

from .bridges.penalty import convexity_penalty, exact_network
from .bridges.torch import from_torch, to_torch

__all__ = ["convexity_penalty", "exact_network", "from_torch", "to_torch"]
