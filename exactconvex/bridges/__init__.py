"""Models in and out by their graph: PyTorch (``torch.export``) and ONNX.

Nothing here imports PyTorch or ONNX until a function is called, so that the command line
starts fast and works without them; a missing package is reported as a ``FormatError``
saying what to install.

* :func:`from_torch` (a module or an ``ExportedProgram``), :func:`read_pt2` (``.pt2``),
  :func:`read_torch` and :func:`from_state_dict` (bare state_dicts, activation declared),
  :func:`to_torch` (a plain ``nn.Module`` for every network);
* :func:`read_onnx` (``.onnx``), :func:`save_onnx`.

Every import is compared with the model's own forward pass (``graph.compare``); the
network carries ``notes`` (what is not exact) and ``provenance`` (the comparison).

>>> import exactconvex.bridges as bridges
>>> [name for name in bridges.__all__ if name.startswith(("from_", "save_", "to_"))]
['from_onnx', 'from_state_dict', 'from_torch', 'save_onnx', 'to_torch']
"""

from __future__ import annotations

import importlib

_LAZY = {
    "from_torch": "torch",
    "to_torch": "torch",
    "read_torch": "torch",
    "read_pt2": "torch",
    "read_exported_program": "torch",
    "from_state_dict": "torch",
    "parse_state_dict_activation": "torch",
    "read_onnx": "onnx",
    "from_onnx": "onnx",
    "save_onnx": "onnx",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
