"""exactconvex: decide exactly whether a ReLU network is convex on all of R^d, with proof.

The public API.  Every name is imported on first use, so that the CLI starts fast and
``import exactconvex.checker`` loads nothing of the package but the checker:

>>> import exactconvex
>>> net = exactconvex.network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]})
>>> net.evaluate([-2])
(2,)
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Network": ("exactconvex.network", "Network"),
    "FormatError": ("exactconvex.network", "FormatError"),
    "load": ("exactconvex.network", "load"),
    "network_from_dict": ("exactconvex.network", "network_from_dict"),
    "network_to_dict": ("exactconvex.network", "network_to_dict"),
    "save_json": ("exactconvex.network", "save_json"),
    "save_npz": ("exactconvex.network", "save_npz"),
    "from_torch": ("exactconvex.network", "from_torch"),
    "to_torch": ("exactconvex.network", "to_torch"),
    "to_q": ("exactconvex.numbers", "to_q"),
    "regions": ("exactconvex.graph", "regions"),
    "check": ("exactconvex.decide", "check"),
    "Verdict": ("exactconvex.decide", "Verdict"),
    "verify": ("exactconvex.checker", "verify"),
    "path_lifting": ("exactconvex.pathlifting", "path_lifting"),
    "conditions": ("exactconvex.pathlifting", "conditions"),
    "conditions_for_architecture": ("exactconvex.pathlifting", "conditions_for_architecture"),
    "equivalent": ("exactconvex.icnn", "equivalent"),
    "to_icnn": ("exactconvex.icnn", "to_icnn"),
    "save_onnx": ("exactconvex.bridges", "save_onnx"),
    "from_state_dict": ("exactconvex.bridges", "from_state_dict"),
    "plot_regions": ("exactconvex.plot", "plot_regions"),
    "region_polygons": ("exactconvex.plot", "region_polygons"),
    "sweep": ("exactconvex.sweep", None),  # the module is callable: exactconvex.sweep(...)
    "convexify": ("exactconvex.convexify", None),  # likewise: exactconvex.convexify(net, norm="linf")
    "margin": ("exactconvex.convexify", "margin"),
    "convexity_penalty": ("exactconvex.bridges.penalty", "convexity_penalty"),
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        loaded = importlib.import_module(module)
        return loaded if attr is None else getattr(loaded, attr)
    raise AttributeError(f"module 'exactconvex' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
