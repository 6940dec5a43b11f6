"""Readers and writers: the JSON network format (version 1), NumPy ``.npz`` and PyTorch.

JSON: exactly ``shared/spec/network-format.md``.  Every error is a ``FormatError`` whose
message names the layer, the field and the problem.

NPZ keys (documented in README): ``W1, b1, ..., WL, bL`` (``b`` optional) and
``S{l}_{k}`` for a skip from source k into layer l; optional ``input_dim``.  Arrays may be
integer, float (read as exact binary values) or string arrays of exact numbers
(``"p/q"``, decimals).  ``save_npz`` writes string arrays, so nothing is rounded.

PyTorch (optional extra ``torch``): an ``nn.Sequential`` of ``Linear`` and ``ReLU``
(alternating, ending with ``Linear``) or its ``state_dict``; ``.pt``/``.pth`` files are
opened with ``weights_only=True``.  Float weights are read exactly.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping

from flint import fmpq_mat

from ..numbers import ZERO, NumberError, q_json, to_q
from .model import Layer, Network, NetworkError

__all__ = ["FormatError", "load", "read_json", "network_from_dict", "network_to_dict", "save_json",
           "dumps", "read_npz", "save_npz", "from_torch", "to_torch", "read_torch"]

FORMAT_NAME = "exactconvex.network"
FORMAT_VERSION = 1
_LAYER_KEYS = {"weight", "bias", "skip", "activation"}
_TOP_KEYS = {"format", "version", "input_dim", "layers", "name", "description", "metadata"}


class FormatError(ValueError):
    """Input that cannot be used: the message says where and why."""


def _number(value: Any, where: str):
    if isinstance(value, _NonFinite):
        raise FormatError(f"{where}: {value} is not a finite exact number")
    if isinstance(value, (list, dict)):
        raise FormatError(f"{where}: expected a number, got a {'list' if isinstance(value, list) else 'object'}")
    if isinstance(value, bool) or value is None:  # say it as the file spells it: true, false, null
        raise FormatError(f"{where}: {json.dumps(value)} is not a number")
    try:
        return to_q(value)
    except NumberError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _matrix(rows: Any, where: str, nrows: int | None, ncols: int) -> fmpq_mat:
    if not isinstance(rows, list):
        raise FormatError(f"{where}: expected a list of rows")
    if nrows is not None and len(rows) != nrows:
        raise FormatError(f"{where}: has {len(rows)} rows, expected {nrows}")
    flat = []
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise FormatError(f"{where}: row {i} is not a list")
        if len(row) != ncols:
            raise FormatError(f"{where}: row {i} has {len(row)} entries, expected {ncols}")
        flat.extend(_number(v, f"{where}[{i}][{j}]") for j, v in enumerate(row))
    return fmpq_mat(len(rows), ncols, flat)


def network_from_dict(data: Any) -> Network:
    """Validate a parsed JSON document and build the network (raises FormatError)."""
    if not isinstance(data, dict):
        raise FormatError("the network must be a JSON object")
    if data.get("format") != FORMAT_NAME:
        raise FormatError(f'field "format": expected "{FORMAT_NAME}", got {json.dumps(data.get("format"))}')
    version = data.get("version")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise FormatError(f'field "version": expected {FORMAT_VERSION}, got {json.dumps(version)}')
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise FormatError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    d = data.get("input_dim")
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise FormatError(f'field "input_dim": expected a positive integer, got {json.dumps(d)}')
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise FormatError('field "layers": expected a non-empty list of layers')
    widths = [d]
    layers = []
    for l, L in enumerate(layers_data, start=1):
        where = f"layer {l}"
        if not isinstance(L, dict):
            raise FormatError(f"{where}: expected an object")
        unknown = set(L) - _LAYER_KEYS
        if unknown:
            raise FormatError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
        if "weight" not in L:
            raise FormatError(f'{where}: missing field "weight"')
        rows = L["weight"]
        if not isinstance(rows, list) or not rows:
            raise FormatError(f'{where}, field "weight": expected a non-empty list of rows')
        W = _matrix(rows, f'{where}, field "weight"', None, widths[-1])
        n = W.nrows()
        if "bias" in L:
            bias = L["bias"]
            if not isinstance(bias, list):
                raise FormatError(f'{where}, field "bias": expected a list of {n} numbers')
            if len(bias) != n:
                raise FormatError(f'{where}, field "bias": has {len(bias)} entries, expected {n}')
            b = fmpq_mat(n, 1, [_number(v, f'{where}, field "bias"[{i}]') for i, v in enumerate(bias)])
        else:
            b = fmpq_mat(n, 1)
        skips = {}
        if "skip" in L:
            sk = L["skip"]
            if not isinstance(sk, dict):
                raise FormatError(f'{where}, field "skip": expected an object mapping source layers to matrices')
            for key, rows in sk.items():
                if not re.fullmatch(r"\d+", key):
                    raise FormatError(f'{where}, field "skip": source "{key}" is not a layer index')
                k = int(key)
                if k > l - 2:
                    raise FormatError(f'{where}, field "skip": source {k} is out of range '
                                      f'(allowed: 0..{l - 2})' if l >= 2 else
                                      f'{where}, field "skip": layer 1 cannot have skip connections')
                if k in skips:
                    raise FormatError(f'{where}, field "skip": source {k} is given twice')
                skips[k] = _matrix(rows, f'{where}, field "skip" from {k}', n, widths[k])
        slope = _activation(L["activation"], where, last=l == len(layers_data)) if "activation" in L else ZERO
        layers.append(Layer(W, b, dict(sorted(skips.items())), slope))
        widths.append(n)
    try:
        return Network(d, layers)
    except NetworkError as exc:  # pragma: no cover - the checks above come first
        raise FormatError(str(exc)) from None


def _activation(value: Any, where: str, last: bool):
    """The slope of an ``activation`` value: "relu" is 0, {"leaky_relu": s} is s."""
    if last:
        raise FormatError(f'{where}, field "activation": the last layer is linear and has no activation')
    if value == "relu":
        return ZERO
    if isinstance(value, dict) and list(value) == ["leaky_relu"]:
        return _number(value["leaky_relu"], f'{where}, field "activation", "leaky_relu"')
    raise FormatError(f'{where}, field "activation": expected "relu" or {{"leaky_relu": <number>}}, '
                      f"got {_short_json(value)}")


def _short_json(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:40] + f"... ({len(text)} characters)"


def _json_matrix(m: fmpq_mat) -> list:
    return [[q_json(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())]


def network_to_dict(net: Network) -> dict:
    """The JSON document of a network (exact: rationals that are not small integers become strings)."""
    layers = []
    for layer in net.layers:
        entry: dict = {"weight": _json_matrix(layer.weight),
                       "bias": [q_json(layer.bias[i, 0]) for i in range(layer.width)]}
        if layer.skip:
            entry["skip"] = {str(k): _json_matrix(s) for k, s in sorted(layer.skip.items())}
        if layer.slope != 0:  # ReLU layers are written without the key, as before
            entry["activation"] = {"leaky_relu": q_json(layer.slope)}
        layers.append(entry)
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "input_dim": net.input_dim, "layers": layers}


def dumps(net: Network) -> str:
    return json.dumps(network_to_dict(net), indent=1)


def save_json(net: Network, path: str | os.PathLike) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(dumps(net) + "\n")


def parse_json_text(text: str, what: str = "the file") -> Any:
    """Parse JSON keeping decimals exact (as strings) and refusing NaN/Infinity."""
    try:
        return json.loads(text, parse_float=_Decimal, parse_int=_json_int, parse_constant=_NonFinite,
                          object_pairs_hook=_json_object)
    except FormatError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise FormatError(f"{what} is not valid JSON ({exc})") from None


def _json_object(pairs) -> dict:
    # a key given twice would silently mean its last value: refuse rather than guess
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise FormatError(f'the key "{key}" appears twice in the same JSON object')
        obj[key] = value
    return obj


def _json_int(text: str):
    # Python's int() refuses literals of more than 4300 digits; keep those as exact text
    return int(text) if len(text) <= 4000 else _Decimal(text)


class _Decimal(str):
    """A JSON decimal kept as its text, so that 0.1 means exactly 1/10."""


class _NonFinite(str):
    """NaN or Infinity in a JSON file: kept so that the error can say where it stands."""


def read_json(path: str | os.PathLike) -> Network:
    text = _read_text(path)
    return network_from_dict(parse_json_text(text, f"{os.fspath(path)}"))


def _read_text(path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise FormatError(f"{os.fspath(path)}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{os.fspath(path)} is a directory, not a file") from None
    except OSError as exc:
        raise FormatError(f"{os.fspath(path)}: cannot be read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{os.fspath(path)} is not a UTF-8 text file (not JSON)") from None


# ----- NumPy ---------------------------------------------------------------------------

def _array_matrix(arr, where: str, ncols: int | None = None) -> fmpq_mat:
    import numpy as np

    a = np.asarray(arr)
    if a.ndim == 1:
        a = a.reshape(-1, 1) if ncols is None else a.reshape(1, -1)
    if a.ndim != 2:
        raise FormatError(f"{where}: expected a 2-D array, got shape {a.shape}")
    if a.dtype == object or a.dtype.kind in "USiufb":
        if a.dtype.kind == "b":
            raise FormatError(f"{where}: boolean arrays are not numbers")
        flat = [_number(v.item() if hasattr(v, "item") and a.dtype.kind in "iu" else v, where) for v in a.ravel()]
    else:
        raise FormatError(f"{where}: unsupported array type {a.dtype}")
    return fmpq_mat(a.shape[0], a.shape[1], flat)


def read_npz(path: str | os.PathLike) -> Network:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:  # read everything, then close the file
            data = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise FormatError(f"{os.fspath(path)}: no such file") from None
    except (OSError, ValueError, EOFError, AttributeError) as exc:
        raise FormatError(f"{os.fspath(path)} is not a readable .npz file ({str(exc).splitlines()[0]})") from None
    keys = set(data)
    L = 0
    while f"W{L + 1}" in keys:
        L += 1
    if L == 0:
        raise FormatError(f"{os.fspath(path)}: no weight array W1 (expected keys W1, b1, W2, ...)")
    known = {f"W{l}" for l in range(1, L + 1)} | {f"b{l}" for l in range(1, L + 1)} | {"input_dim"}
    skip_keys = {k for k in keys if re.fullmatch(r"S\d+_\d+", k)}
    unknown = keys - known - skip_keys
    if unknown:
        raise FormatError(f"{os.fspath(path)}: unknown array(s): {', '.join(sorted(unknown))}")
    layers = []
    for l in range(1, L + 1):
        W = _array_matrix(data[f"W{l}"], f'layer {l}, array "W{l}"', ncols=1)
        entry = {"weight": [[W[i, j] for j in range(W.ncols())] for i in range(W.nrows())]}
        if f"b{l}" in keys:
            b = np.asarray(data[f"b{l}"]).ravel()
            entry["bias"] = [_number(v.item() if b.dtype.kind in "iu" else v, f'layer {l}, array "b{l}"') for v in b]
        skip = {}
        for key in skip_keys:
            tl, k = map(int, key[1:].split("_"))
            if tl == l:
                S = _array_matrix(data[key], f'layer {l}, array "{key}"', ncols=1)
                skip[str(k)] = [[S[i, j] for j in range(S.ncols())] for i in range(S.nrows())]
            elif tl > L or tl < 1:
                raise FormatError(f'array "{key}": layer {tl} does not exist')
        if skip:
            entry["skip"] = skip
        layers.append(entry)
    d = int(np.asarray(data["input_dim"]).item()) if "input_dim" in keys else len(layers[0]["weight"][0])
    return network_from_dict({"format": FORMAT_NAME, "version": FORMAT_VERSION, "input_dim": d,
                              "layers": _jsonable_layers(layers)})


def _jsonable_layers(layers):
    def conv(v):
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return str(v)
    return conv(layers)


def save_npz(net: Network, path: str | os.PathLike) -> None:
    import numpy as np

    arrays = {"input_dim": np.array(net.input_dim)}
    for l, layer in enumerate(net.layers, start=1):
        arrays[f"W{l}"] = np.array([[str(layer.weight[i, j]) for j in range(layer.weight.ncols())]
                                    for i in range(layer.width)])
        arrays[f"b{l}"] = np.array([str(layer.bias[i, 0]) for i in range(layer.width)])
        for k, s in layer.skip.items():
            arrays[f"S{l}_{k}"] = np.array([[str(s[i, j]) for j in range(s.ncols())] for i in range(s.nrows())])
    np.savez(path, **arrays)


# ----- PyTorch ---------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        raise FormatError("reading or writing PyTorch models needs PyTorch: pip install 'exactconvex[torch]'") from None
    return torch


def _tensor_rows(t) -> list:
    return t.detach().cpu().double().tolist() if t.dtype not in _exact_int_dtypes() else t.tolist()


def _exact_int_dtypes():
    torch = _torch()
    return (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _from_linear_params(params: list[tuple[Any, Any]], where: str) -> Network:
    layers = []
    for i, (w, b) in enumerate(params, start=1):
        # float32 -> float64 is exact, so each entry is the exact value of the stored float
        weight = _tensor_rows(w)
        if not isinstance(weight, list) or not weight or not isinstance(weight[0], list):
            raise FormatError(f"{where}: layer {i} weight is not a matrix")
        entry = {"weight": [[to_q(v) for v in row] for row in weight]}
        if b is not None:
            entry["bias"] = [to_q(v) for v in _tensor_rows(b)]
        layers.append(entry)
    d = len(layers[0]["weight"][0])
    return network_from_dict({"format": FORMAT_NAME, "version": FORMAT_VERSION, "input_dim": d,
                              "layers": _jsonable_layers(layers)})


def from_torch(model) -> Network:
    """Exact network from an ``nn.Sequential`` of Linear/ReLU layers (or its state_dict)."""
    torch = _torch()
    if isinstance(model, Mapping):
        return _from_state_dict(model, "state_dict")
    if not isinstance(model, torch.nn.Sequential):
        raise FormatError(f"expected an nn.Sequential of Linear and ReLU layers, got {type(model).__name__}")
    params, expect_linear = [], True
    for idx, mod in enumerate(model):
        if isinstance(mod, torch.nn.Linear) and expect_linear:
            params.append((mod.weight, mod.bias))
            expect_linear = False
        elif isinstance(mod, torch.nn.ReLU) and not expect_linear:
            expect_linear = True
        else:
            raise FormatError(f"module {idx} ({type(mod).__name__}) breaks the Linear, ReLU, ..., Linear structure")
    if expect_linear:
        raise FormatError("the Sequential must end with a Linear layer")
    return _from_linear_params(params, "nn.Sequential")


def _from_state_dict(state: Mapping, where: str) -> Network:
    groups: dict[str, dict] = {}
    for key, value in state.items():
        prefix, _, name = str(key).rpartition(".")
        if name not in ("weight", "bias"):
            raise FormatError(f"{where}: unexpected entry {key!r} (only Linear weights and biases)")
        groups.setdefault(prefix, {})[name] = value
    # a state_dict lists modules in registration order, which is the layer order; prefixes
    # numbered inside one container (nn.Sequential: "0", "2", ...) are sorted by number,
    # anything else (named layers "input", "hidden", "out") is kept in the order given
    prefixes = list(groups)
    split = [p.rpartition(".") for p in prefixes]
    if all(t.isdigit() for _, _, t in split) and len({h for h, _, _ in split}) == 1:
        prefixes.sort(key=lambda p: int(p.rpartition(".")[2]))
    params = []
    for prefix in prefixes:
        g = groups[prefix]
        if "weight" not in g:
            raise FormatError(f"{where}: {prefix!r} has a bias but no weight")
        params.append((g["weight"], g.get("bias")))
    if not params:
        raise FormatError(f"{where}: no Linear weights found")
    return _from_linear_params(params, where)


def read_torch(path: str | os.PathLike) -> Network:
    torch = _torch()
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise FormatError(f"{os.fspath(path)}: no such file") from None
    except Exception as exc:  # torch raises many types for bad files
        raise FormatError(f"{os.fspath(path)} is not a loadable PyTorch weights file "
                          f"(only state_dicts load with weights_only=True): {str(exc).splitlines()[0]}") from None
    if not isinstance(obj, Mapping):
        raise FormatError(f"{os.fspath(path)}: expected a state_dict, got {type(obj).__name__}")
    return _from_state_dict(obj, os.fspath(path))


def to_torch(net: Network, dtype=None):
    """An ``nn.Sequential`` computing the network in floating point (float64 by default).

    Exact only where every weight is representable in ``dtype``; skip connections are not
    expressible in a Sequential and are refused.
    """
    torch = _torch()
    if any(layer.skip for layer in net.layers):
        raise FormatError("a network with skip connections cannot be written as an nn.Sequential")
    dtype = dtype or torch.float64
    mods = []
    for l, layer in enumerate(net.layers, start=1):
        lin = torch.nn.Linear(layer.weight.ncols(), layer.width, dtype=dtype)
        try:
            W = torch.tensor([[float(layer.weight[i, j]) for j in range(layer.weight.ncols())]
                              for i in range(layer.width)], dtype=dtype)
            b = torch.tensor([float(layer.bias[i, 0]) for i in range(layer.width)], dtype=dtype)
        except OverflowError:
            W = b = None
        if W is None or not (torch.isfinite(W).all() and torch.isfinite(b).all()):
            raise FormatError(f"layer {l}: a weight or bias is too large for {dtype}")
        with torch.no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(b)
        mods.append(lin)
        if l < net.depth:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


# ----- dispatch ---------------------------------------------------------------------------

def load(path: str | os.PathLike) -> Network:
    """Read a network: ``.json`` (the exactconvex format), ``.npz`` or ``.pt``/``.pth`` (PyTorch)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FormatError(f"{p}: no such file")
    ext = os.path.splitext(p)[1].lower()
    if ext == ".npz":
        return read_npz(p)
    if ext in (".pt", ".pth"):
        return read_torch(p)
    return read_json(p)
