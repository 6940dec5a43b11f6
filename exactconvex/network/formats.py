"""Readers and writers: the JSON network format (version 1), NumPy ``.npz`` and PyTorch.

JSON: exactly ``shared/spec/network-format.md``.  Every error is a ``FormatError`` whose
message names the layer, the field and the problem.

NPZ keys (documented in README): ``W1, b1, ..., WL, bL`` (``b`` optional) and
``S{l}_{k}`` for a skip from source k into layer l (written in ASCII digits without leading
zeros); optional ``input_dim`` (an integer scalar) and ``slope{l}`` (a scalar exact number:
the LeakyReLU negative slope of hidden layer l; absent means ReLU).  ``W`` and ``S`` arrays
are 2-D, ``b`` arrays 1-D, none empty.  Arrays may be integer, float (read as exact binary
values) or string arrays of exact numbers (``"p/q"``, decimals).  ``save_npz`` writes string
arrays, so nothing is rounded.

Reading is bounded: only regular files are read (a directory, a device such as /dev/zero, a
FIFO or a socket is refused before anything is read, so nothing blocks or grows without end);
a JSON file is at most ``MAX_JSON_BYTES``; an ``.npz`` is checked member by member from the
array headers, before anything is decompressed, against ``MAX_NPZ_ENTRIES`` numbers and
``MAX_NPZ_BYTES`` uncompressed bytes in total; other model files are at most
``MAX_MODEL_BYTES``.  Writing is atomic: ``save_json`` and ``save_npz`` write a temporary file
in the target's folder and rename it, so a failed write leaves the old file as it was.

PyTorch and ONNX models (``.pt2``, ``.onnx``, bare state_dicts ``.pt``/``.pth`` with a declared
activation) are read by ``exactconvex.bridges`` (imported only when such a file or model is
given); ``from_torch``, ``to_torch`` and ``read_torch`` here are thin re-exports of it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any, Callable

from flint import fmpq_mat

from ..numbers import ZERO, NumberError, q_json, shorten, to_q
from .model import Layer, Network, NetworkError

__all__ = ["FormatError", "load", "read_json", "network_from_dict", "network_to_dict", "save_json",
           "dumps", "read_npz", "save_npz", "from_torch", "to_torch", "read_torch"]

FORMAT_NAME = "exactconvex.network"
FORMAT_VERSION = 1
_LAYER_KEYS = {"weight", "bias", "skip", "activation"}
_TOP_KEYS = {"format", "version", "input_dim", "layers", "name", "description", "metadata"}


#: A JSON network file larger than this is refused before it is read (512 MiB: about 50 million
#: weights written as short decimals; parsing it already takes several GB of memory).
MAX_JSON_BYTES = 512 * 2**20
#: Numbers in all arrays of an ``.npz`` together (checked from the array headers, before any
#: decompression: a 20000 x 20000 matrix, 4 * 10^8 entries, is refused at once).
MAX_NPZ_ENTRIES = 50_000_000
#: Uncompressed bytes of all arrays of an ``.npz`` together (long string arrays count here).
MAX_NPZ_BYTES = 2 * 2**30
#: Any other model file (``.pt``, ``.pt2``, ``.onnx``, ...), as stored on disk.
MAX_MODEL_BYTES = 2 * 2**30


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
        raise FormatError(f'field "format": expected "{FORMAT_NAME}", got {_short_json(data.get("format"))}')
    version = data.get("version")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise FormatError(f'field "version": expected {FORMAT_VERSION}, got {json.dumps(version)}')
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise FormatError(f"unknown top-level key(s): {', '.join(shorten(k) for k in sorted(unknown))}")
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
            raise FormatError(f"{where}: unknown key(s): {', '.join(shorten(k) for k in sorted(unknown))}")
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
                # a layer index as JSON writes integers: ASCII digits, no sign, no leading zero
                if not re.fullmatch(r"0|[1-9][0-9]*", key, re.ASCII):
                    raise FormatError(f'{where}, field "skip": source "{shorten(key)}" is not a layer index '
                                      '(write "0", "1", ...: ASCII digits without leading zeros)')
                k = int(key) if len(key) <= 18 else l  # longer keys are out of range; int() may refuse them
                if k > l - 2:
                    raise FormatError(f'{where}, field "skip": source {shorten(key)} is out of range '
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
    try:
        return shorten(json.dumps(value))
    except (TypeError, ValueError):  # not JSON data: say what it is
        return type(value).__name__


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
    """Write ``net`` as a JSON network file, atomically (see ``write_atomically``).

    >>> import os, tempfile
    >>> from exactconvex.network import Network
    >>> path = os.path.join(tempfile.mkdtemp(), "net.json")
    >>> save_json(Network.from_lists(1, [{"weight": [["1/3"]]}]), path)
    >>> load(path).layers[0].weight[0, 0]
    1/3
    """
    text = dumps(net) + "\n"
    write_atomically(path, lambda fh: fh.write(text.encode("utf-8")))


def write_atomically(path: str | os.PathLike, write: Callable[[Any], Any]) -> bool:
    """Write a file by ``write(binary file object)`` into a temporary file beside ``path``, then
    rename it over ``path``; returns whether an existing file was replaced.

    The rename is atomic: readers see the old file or the complete new one, never a truncated
    one, and a failed write (an exception from ``write``, a full disk) leaves the old file as it
    was and no temporary file behind.  A new file gets the usual permissions (0666 minus the
    umask), a replaced one keeps its mode.  ``path`` itself is replaced, never a file it links to.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> write_atomically(path, lambda fh: fh.write(b"one")), write_atomically(path, lambda fh: fh.write(b"two"))
    (False, True)
    >>> open(path).read(), sorted(os.listdir(os.path.dirname(path)))
    ('two', ['out.txt'])
    """
    import secrets

    target = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(target))
    try:
        old_mode = stat.S_IMODE(os.lstat(target).st_mode)
        existed = True
    except FileNotFoundError:
        old_mode, existed = None, False
    for _ in range(100):
        tmp = os.path.join(folder, f".{name[:100]}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file in {folder}")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return existed


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
            raise FormatError(f'the key "{shorten(key)}" appears twice in the same JSON object')
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
    """Read a JSON network file (at most ``MAX_JSON_BYTES``; a regular file only)."""
    text = _read_text(path)
    return network_from_dict(parse_json_text(text, f"{os.fspath(path)}"))


def _open_regular(path, limit: int, what: str = "file"):
    """Open ``path`` for binary reading if it is a regular file of at most ``limit`` bytes.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever) and
    checked on the open descriptor, so what is checked is what is read.
    """
    p = os.fspath(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FormatError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{p} is a directory, not a file") from None
    except OSError as exc:
        raise FormatError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise FormatError(f"{p} is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                    or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
            raise FormatError(f"{p} is {kind}, not a regular file; only regular files are read "
                              "(save the network to a file first)")
        if st.st_size > limit:
            raise FormatError(f"{p} is too large to read ({_size(st.st_size)}; the limit for a {what} is "
                              f"{_size(limit)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _read_text(path) -> str:
    p = os.fspath(path)
    with _open_regular(p, MAX_JSON_BYTES, "JSON network file") as fh:
        try:
            raw = fh.read(MAX_JSON_BYTES + 1)  # the file may have grown since it was checked
        except OSError as exc:
            raise FormatError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_JSON_BYTES:
        raise FormatError(f"{p} is too large to read (more than {_size(MAX_JSON_BYTES)}, the limit for a JSON "
                          "network file)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{p} is not a UTF-8 text file (not JSON)") from None


# ----- NumPy ---------------------------------------------------------------------------

_NPZ_SKIP = re.compile(r"S([1-9][0-9]*)_(0|[1-9][0-9]*)", re.ASCII)
_NPZ_SLOPE = re.compile(r"slope([1-9][0-9]*)", re.ASCII)


def _npz_error(path: str, exc: BaseException) -> FormatError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "pickle" in text:  # numpy's advice to allow pickles is not for our users: we never unpickle
        text = "it holds Python objects, which are not read"
    return FormatError(f"{path} is not a readable .npz file ({shorten(text, 120)})")


def _npy_header(fp):
    """(shape, dtype) of an .npy stream, reading only its header."""
    from numpy.lib import format as npy

    version = npy.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = npy.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _, dtype = npy.read_array_header_2_0(fp)
    else:
        raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    return shape, dtype


def _npz_arrays(path: str) -> dict:
    """The arrays of an .npz file, each checked from its header before it is decompressed."""
    import zipfile
    import zlib

    from numpy.lib import format as npy

    with _open_regular(path, MAX_NPZ_BYTES, ".npz file") as fh:
        try:
            archive = zipfile.ZipFile(fh)
            members = archive.infolist()
            seen: set = set()
            headers = {}
            entries = total = 0
            for member in members:
                key = member.filename[:-4] if member.filename.endswith(".npy") else member.filename
                if not member.filename.endswith(".npy"):
                    raise FormatError(f'{path}: member "{shorten(member.filename)}" is not a NumPy array '
                                      '(an .npz holds only .npy arrays)')
                if member.filename in seen:
                    raise FormatError(f'{path}: array "{shorten(key)}" is given twice')
                seen.add(member.filename)
                with archive.open(member) as stream:
                    shape, dtype = _npy_header(stream)
                where = f'{path}: array "{shorten(key)}"'
                if dtype.hasobject:
                    raise FormatError(f"{where} holds Python objects, which are not read (store numbers: "
                                      "integer, float or string arrays)")
                if dtype.kind not in "iufUb":
                    raise FormatError(f"{where} has the unsupported type {dtype} (use integer, float or string "
                                      "arrays of exact numbers)")
                size = 1
                for n in shape:
                    size *= n
                if size == 0:
                    raise FormatError(f"{where} is empty (shape {tuple(shape)})")
                entries += size
                total += size * dtype.itemsize
                if entries > MAX_NPZ_ENTRIES:
                    raise FormatError(f"{path} holds too many numbers (more than {MAX_NPZ_ENTRIES:,} in all arrays; "
                                      f'array "{shorten(key)}" has shape {tuple(shape)}); nothing was decompressed')
                if total > MAX_NPZ_BYTES:
                    raise FormatError(f"{path} is too large to read (its arrays take more than {_size(MAX_NPZ_BYTES)} "
                                      "uncompressed); nothing was decompressed")
                headers[key] = (member, shape, dtype)
            arrays = {}
            for key, (member, shape, dtype) in headers.items():
                with archive.open(member) as stream:
                    arrays[key] = npy.read_array(stream, allow_pickle=False)
                if arrays[key].shape != tuple(shape):  # pragma: no cover - read_array follows the header
                    raise FormatError(f'{path}: array "{shorten(key)}" does not match its header')
            return arrays
        except FormatError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError, RuntimeError,
                NotImplementedError, TypeError, SyntaxError, OverflowError) as exc:
            raise _npz_error(path, exc) from None


def _array_rows(arr, where: str, ndim: int) -> list:
    """The entries of a numeric or string array as nested lists of exact numbers."""
    a = arr
    if a.ndim != ndim:
        raise FormatError(f"{where}: expected a {ndim}-D array, got shape {tuple(a.shape)}")
    if a.dtype.kind == "b":
        raise FormatError(f"{where}: boolean arrays are not numbers")
    if a.dtype.kind not in "iufU":
        raise FormatError(f"{where}: unsupported array type {a.dtype}")
    exact_int = a.dtype.kind in "iu"

    def value(v, index):
        return _number(v.item() if exact_int else v, f"{where}{''.join(f'[{i}]' for i in index)}")

    if ndim == 1:
        return [value(v, (i,)) for i, v in enumerate(a)]
    return [[value(v, (i, j)) for j, v in enumerate(row)] for i, row in enumerate(a)]


def read_npz(path: str | os.PathLike) -> Network:
    """Read a network from an ``.npz`` (keys in the module docstring), bounded by the caps there.

    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> np.savez(path, W1=np.array([[1.0, -2.0]]), b1=np.array(["1/3"]))
    >>> read_npz(path).evaluate([1, 0])
    (4/3,)
    """
    p = os.fspath(path)
    data = _npz_arrays(p)
    keys = set(data)
    L = 0
    while f"W{L + 1}" in keys:
        L += 1
    if L == 0:
        raise FormatError(f"{p}: no weight array W1 (expected keys W1, b1, W2, ...)")
    known = {f"W{l}" for l in range(1, L + 1)} | {f"b{l}" for l in range(1, L + 1)} | {"input_dim"}
    skip_keys = {k for k in keys if _NPZ_SKIP.fullmatch(k)}
    slope_keys = {k for k in keys if _NPZ_SLOPE.fullmatch(k)}
    unknown = sorted(keys - known - skip_keys - slope_keys)
    if unknown:
        listed = ", ".join(shorten(k) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                                                  else "")
        raise FormatError(f"{p}: unknown array(s): {listed} (expected W1, b1, ..., S<l>_<k>, slope<l>, input_dim)")
    for key in sorted(skip_keys | slope_keys):
        target = key[1:].split("_")[0] if key.startswith("S") else key[len("slope"):]
        if len(target) > 9 or not 1 <= int(target) <= L:
            raise FormatError(f'{p}: array "{shorten(key)}": layer {shorten(target)} does not exist '
                              f"(the network has layers 1..{L})")
    layers = []
    for l in range(1, L + 1):
        entry: dict = {"weight": _array_rows(data[f"W{l}"], f'layer {l}, array "W{l}"', 2)}
        if f"b{l}" in keys:
            entry["bias"] = _array_rows(data[f"b{l}"], f'layer {l}, array "b{l}"', 1)
        skip = {}
        for key in sorted(skip_keys):
            tl, k = key[1:].split("_")
            if int(tl) == l:
                skip[k] = _array_rows(data[key], f'layer {l}, array "{key}"', 2)
        if skip:
            entry["skip"] = skip
        if f"slope{l}" in keys:
            entry["activation"] = {"leaky_relu": _npz_scalar(data[f"slope{l}"], f'layer {l}, array "slope{l}"')}
        layers.append(entry)
    if "input_dim" in keys:
        dim = data["input_dim"]
        if dim.shape != () or dim.dtype.kind not in "iu":
            raise FormatError(f'{p}: array "input_dim": expected an integer scalar (a 0-D integer array), got an '
                              f"array of type {dim.dtype} and shape {tuple(dim.shape)}")
        d = int(dim.item())
    else:
        d = len(layers[0]["weight"][0])  # no array is empty
    return network_from_dict({"format": FORMAT_NAME, "version": FORMAT_VERSION, "input_dim": d, "layers": layers})


def _npz_scalar(arr, where: str):
    if arr.shape != ():
        raise FormatError(f"{where}: expected a scalar (a 0-D array), got shape {tuple(arr.shape)}")
    return _array_rows(arr.reshape(1), where, 1)[0]


def save_npz(net: Network, path: str | os.PathLike) -> None:
    """Write ``net`` as an ``.npz`` of exact string arrays, atomically (at ``path`` as given:
    no ``.npz`` is appended)."""
    import numpy as np

    arrays = {"input_dim": np.array(net.input_dim)}
    for l, layer in enumerate(net.layers, start=1):
        arrays[f"W{l}"] = np.array([[str(layer.weight[i, j]) for j in range(layer.weight.ncols())]
                                    for i in range(layer.width)])
        arrays[f"b{l}"] = np.array([str(layer.bias[i, 0]) for i in range(layer.width)])
        for k, s in layer.skip.items():
            arrays[f"S{l}_{k}"] = np.array([[str(s[i, j]) for j in range(s.ncols())] for i in range(s.nrows())])
        if layer.slope != 0:
            arrays[f"slope{l}"] = np.array(str(layer.slope))
    write_atomically(path, lambda fh: np.savez(fh, **arrays))


# ----- PyTorch and ONNX (exactconvex.bridges, imported only when used) ------------------------

def from_torch(model, example_input=None) -> Network:
    """The exact network of a PyTorch module or ExportedProgram, read by its graph
    (``exactconvex.bridges.torch.from_torch``; needs the ``torch`` extra)."""
    from ..bridges.torch import from_torch as _from_torch

    return _from_torch(model, example_input)


def to_torch(net: Network, dtype=None, rounding=None):
    """A plain PyTorch module computing the network (``exactconvex.bridges.torch.to_torch``)."""
    from ..bridges.torch import to_torch as _to_torch

    return _to_torch(net, dtype, rounding)


def read_torch(path: str | os.PathLike, state_dict_activation=None) -> Network:
    """A ``.pt``/``.pth`` state_dict, read only with a declared activation (``exactconvex.bridges.torch``)."""
    from ..bridges.torch import read_torch as _read_torch

    return _read_torch(path, state_dict_activation)


# ----- dispatch ---------------------------------------------------------------------------

def load(path: str | os.PathLike, state_dict_activation: str | None = None) -> Network:
    """Read a network: ``.json`` (the exactconvex format), ``.npz``, or a model that carries its graph:
    ``.pt2`` (``torch.export``) or ``.onnx``; a bare PyTorch state_dict (``.pt``/``.pth``) only with
    ``state_dict_activation`` = ``"relu"`` or ``"leaky_relu:S"`` (ignored for the other formats).

    Models are read by their graph and compared with their own forward pass (``exactconvex.bridges``).
    Only regular files are read, and no more than the caps of the module docstring allow.
    """
    p = os.fspath(path)
    _open_regular(p, MAX_MODEL_BYTES, "model file").close()  # refused early: missing, directory, FIFO, device
    ext = os.path.splitext(p)[1].lower()
    if ext == ".npz":
        return read_npz(p)
    if ext in (".pt", ".pth"):
        return read_torch(p, state_dict_activation)
    if ext == ".pt2":
        from ..bridges.torch import read_pt2

        return read_pt2(p)
    if ext == ".onnx":
        from ..bridges.onnx import read_onnx

        return read_onnx(p)
    return read_json(p)
