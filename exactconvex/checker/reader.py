"""The checker's own strict reader: JSON text, exact numbers and networks.

It shares no code with the package's readers (``exactconvex.network.formats``,
``exactconvex.numbers``), so that a bug there cannot make a wrong certificate pass here.

What it accepts (``docs/certificate-format.md``, "Reading"):

* JSON only: no NaN/Infinity, no key twice in one object, UTF-8, a regular file of at most
  ``MAX_FILE_BYTES`` bytes.  JSON decimals keep their text, so ``0.1`` is exactly 1/10.
* Exact numbers: a JSON integer, a JSON decimal, or a string in the strict grammar
  ``-?D+`` (integer), ``-?D+/D+`` (fraction, denominator not 0) or
  ``-?D+(.D+)?([eE][+-]?D+)?`` (decimal: JSON's grammar, leading zeros allowed), D an ASCII
  digit 0-9: no ``+``, no spaces, no other digits, nothing around the number.
* Networks in the ``exactconvex.network`` format (``shared/spec/network-format.md``),
  including the hidden layers' ``"activation"`` (``"relu"`` or ``{"leaky_relu": s}``);
  skip sources written ``"0"`` or ``[1-9][0-9]*`` (ASCII).

Every failure is a ``CertificateError`` (unreadable input, exit 2) whose one-line message
says where; numbers in messages are shortened by ``short``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from flint import fmpq, fmpq_mat, fmpz

__all__ = ["CertificateError", "MAX_FILE_BYTES", "STREAM_BYTES", "StreamedArray", "Layer", "Network", "read_json_file", "parse_json_text",
           "json_document", "number", "numbers", "field", "typed", "read_network", "network_document",
           "short", "short_text"]

MAX_FILE_BYTES = 1 << 30  # 1 GiB: far above any certificate written so far, far below "fill the memory"
MAX_EXPONENT = 100_000  # 10^100000 is already absurd for a weight; refuse to build worse
NETWORK_FORMAT, NETWORK_VERSION = "exactconvex.network", 1
_TOP_KEYS = frozenset({"format", "version", "input_dim", "layers", "name", "description", "metadata"})
_LAYER_KEYS = frozenset({"weight", "bias", "skip", "activation"})

_RATIONAL = re.compile(r"(-?[0-9]+)(?:/([0-9]+))?")
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")
_SKIP_SOURCE = re.compile(r"0|[1-9][0-9]*")
_INT_DIGITS = 4000  # Python's int() refuses more than 4300 digits; fmpz reads any length


class CertificateError(ValueError):
    """A certificate or network that cannot be read (exit 2); the message says where and why."""


# ----- text for messages ---------------------------------------------------------------------

def short(value: Any) -> str:
    """A number as text for a one-line message, shortened when it is longer than 60 characters.

    >>> short(fmpq(-3, 4))
    '-3/4'
    >>> short(fmpq(10**100 + 1, 3))
    '10000000000000...(101 digits)/3'
    """
    text = str(value)
    if len(text) <= 60:
        return text
    return "/".join(_short_integer(part) for part in text.split("/"))


def _short_integer(text: str) -> str:
    digits = text.lstrip("-")
    if len(digits) <= 20:
        return text
    return f"{text[:len(text) - len(digits) + 14]}...({len(digits)} digits)"


def short_text(value: Any) -> str:
    """``repr`` of a value read from a file, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _reason(exc: BaseException) -> str:
    """An exception's message as a short phrase."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."


# ----- JSON ------------------------------------------------------------------------------------

class _JsonDecimal(str):
    """A JSON number literal kept as its text (a decimal, or an integer too long for int())."""


def _json_int(text: str):
    try:
        return int(text)
    except ValueError:  # longer than int() reads (sys.get_int_max_str_digits)
        return _JsonDecimal(text)


def _no_constant(name: str):
    raise CertificateError(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


def _object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) < len(pairs):  # a key given twice would silently mean its last value
        key = next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i]))
        raise CertificateError(f"the key {short_text(key)} appears twice in the same JSON object")
    return obj


def parse_json_text(text: str, what: str) -> Any:
    """Parse JSON text strictly (see the module docstring).  Integers are first read by json's
    own int() (fast); only if that fails (an integer too long for int(), or any error) is the
    text read again with ``_json_int``, which gives the same values or the error to report."""
    try:
        try:
            return json.loads(text, parse_float=_JsonDecimal, parse_constant=_no_constant, object_pairs_hook=_object)
        except ValueError:
            return json.loads(text, parse_float=_JsonDecimal, parse_int=_json_int, parse_constant=_no_constant,
                              object_pairs_hook=_object)
    except CertificateError as exc:
        raise CertificateError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise CertificateError(f"{what} is not valid JSON ({_reason(exc)})") from None


def read_json_file(path: str | os.PathLike, what: str) -> Any:
    """Read and parse a JSON file: a regular file, UTF-8, at most MAX_FILE_BYTES bytes.

    A file of at least ``STREAM_BYTES`` bytes is read in chunks (``_StreamingReader``): the
    array ``region_graph.regions`` is not built but replaced by a ``StreamedArray`` of its
    elements' byte spans, each element parsed (strictly) when it is asked for, so that memory
    does not grow with the number of regions.  Everything else is read as for a small file."""
    p = os.fspath(path)
    try:  # opened without blocking (a FIFO), then refused unless regular (a FIFO, /dev/zero, a folder)
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise CertificateError(f"{what} {p} is not a regular file")
            if info.st_size > MAX_FILE_BYTES:
                raise CertificateError(f"{what} {p} is larger than {MAX_FILE_BYTES} bytes")
            with open(fd, "rb", closefd=False) as fh:
                if info.st_size >= STREAM_BYTES:
                    return _StreamingReader(fh, p, f"{what} {p}").document()
                raw = fh.read(MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CertificateError(f"{what} {p} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CertificateError(f"{what} {p} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CertificateError(f"{what} {p} is not a UTF-8 text file (the checker reads only JSON)") from None
    return parse_json_text(text, f"{what} {p}")


STREAM_BYTES = 8 << 20  # files from 8 MiB on are streamed (a test lowers it to stream small files too)
_CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


class StreamedArray:
    """The elements of a JSON array in a file, as byte spans, parsed strictly one at a time.

    ``len``, iteration (one sequential read) and indexing (one seek) give each element as the
    strict parser reads it; the file was checked to be the same size when it is read again."""

    def __init__(self, path: str, what: str, spans: list, size: int):
        from array import array

        self.path, self.what, self.size = path, what, size
        self.complete = False  # set when every element was read as a region (``region_graph.StreamedRegions``)
        self.lean = False  # set when some were read without their points and entries, which another process reads
        self.starts, self.ends = array("q", (a for a, _ in spans)), array("q", (b for _, b in spans))

    def __len__(self) -> int:
        return len(self.starts)

    def _element(self, fh, i: int) -> Any:
        fh.seek(self.starts[i])
        raw = fh.read(self.ends[i] - self.starts[i])
        return parse_json_text(raw.decode("utf-8"), f"{self.what}, element {i} of region_graph.regions")

    def _open(self):
        try:
            fh = open(self.path, "rb")
        except OSError as exc:
            raise CertificateError(f"{self.what} cannot be read again ({exc.strerror or exc})") from None
        if os.fstat(fh.fileno()).st_size != self.size:
            fh.close()
            raise CertificateError(f"{self.what} changed while it was being checked")
        return fh

    def __getitem__(self, i: int) -> Any:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        with self._open() as fh:
            return self._element(fh, i % len(self))

    def __iter__(self):
        with self._open() as fh:
            for i in range(len(self)):
                yield self._element(fh, i)


class _StreamingReader:
    """A JSON document read in chunks, with ``region_graph.regions`` left in the file
    (``StreamedArray``).  Syntax is checked here (every element of that array by the standard
    decoder, to find where it ends); the strict rules (no NaN, no key twice, exact decimals)
    apply to everything else here and to each element when it is parsed from its span."""

    def __init__(self, fh, path: str, what: str):
        import codecs

        self.fh, self.path, self.what = fh, path, what
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.base, self.eof = "", 0, 0, False  # base: byte offset of buf[0]
        self.strict = json.JSONDecoder(parse_float=_JsonDecimal, parse_int=_json_int, parse_constant=_no_constant,
                                       object_pairs_hook=_object)
        self.plain = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        raw = self.fh.read(_CHUNK)
        try:
            self.buf += self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise CertificateError(f"{self.what} is not a UTF-8 text file (the checker reads only JSON)") from None
        self.eof = not raw
        return True

    def _compact(self) -> None:
        """Drop what was read (its bytes counted), so that the buffer stays one chunk or so."""
        if self.pos:
            self.base += len(self.buf[:self.pos].encode("utf-8"))
            self.buf, self.pos = self.buf[self.pos:], 0

    def _bad(self, reason: str):
        raise CertificateError(f"{self.what} is not valid JSON ({reason})")

    def _peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            self._compact()
            if not self._more():
                return ""

    def _expect(self, ch: str) -> None:
        if self._peek() != ch:
            self._bad(f"expected {ch!r} at byte {self.base + len(self.buf[:self.pos].encode('utf-8'))}")
        self.pos += 1

    def _value(self, decoder) -> Any:
        """The next JSON value, parsed by ``decoder``; reads more until it is complete."""
        self._peek()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except CertificateError as exc:
                raise CertificateError(f"{self.what}: {exc}") from None
            except (ValueError, RecursionError) as exc:
                if self._more():
                    continue
                self._bad(_reason(exc))
            if end == len(self.buf) and self._more():  # a number may go on in the next chunk
                continue
            self.pos = end
            return value

    def _key(self) -> str:
        key = self._value(self.strict)
        if type(key) is not str:
            self._bad("an object key must be a string")
        self._expect(":")
        return key

    def _object_members(self, on_member) -> dict:
        """Read ``{...}`` calling on_member(key) for each value (it reads the value)."""
        self._expect("{")
        obj: dict = {}
        if self._peek() == "}":
            self.pos += 1
            return obj
        while True:
            if self._peek() != '"':
                self._bad("expected a string key")
            key = self._key()
            if key in obj:
                raise CertificateError(f"{self.what}: the key {short_text(key)} appears twice in the same JSON object")
            obj[key] = on_member(key)
            ch = self._peek()
            self.pos += 1
            if ch == "}":
                return obj
            if ch != ",":
                self._bad("expected ',' or '}' in an object")

    def _regions(self) -> Any:
        if self._peek() != "[":
            return self._value(self.strict)
        self.pos += 1
        spans = []
        if self._peek() == "]":
            self.pos += 1
        else:
            while True:
                self._peek()
                self._compact()
                start = self.base
                self._value(self.plain)
                spans.append((start, self.base + len(self.buf[:self.pos].encode("utf-8"))))
                ch = self._peek()
                self.pos += 1
                if ch == "]":
                    break
                if ch != ",":
                    self._bad("expected ',' or ']' in the array region_graph.regions")
        return StreamedArray(self.path, self.what, spans, os.fstat(self.fh.fileno()).st_size)

    def document(self) -> Any:
        if self._peek() != "{":
            value = self._value(self.strict)
        else:
            def member(key):
                if key == "region_graph" and self._peek() == "{":
                    return self._object_members(lambda k: self._regions() if k == "regions" else self._value(self.strict))
                return self._value(self.strict)

            value = self._object_members(member)
        if self._peek() != "":
            self._bad("extra data after the JSON document")
        return value


def json_document(value: Any, what: str) -> Any:
    """A Python value (a parsed dict, say) read exactly as its JSON text would be.

    Writing it out and reading it back with the strict parser gives Python callers the
    same rules as files: only JSON types, no NaN, every number through ``number``.
    """
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:  # not JSON types, NaN, a cycle, too deep
        raise CertificateError(f"{what} is not a JSON document ({_reason(exc)})") from None
    return parse_json_text(text, what)


# ----- exact numbers and typed fields --------------------------------------------------------------

def _integer(text: str) -> fmpz:
    return fmpz(int(text)) if len(text) <= _INT_DIGITS else fmpz(text)


def _parse_number(text: str) -> fmpq | None:
    m = _RATIONAL.fullmatch(text)
    if m:
        p, q = m.group(1), m.group(2)
        if q is None:
            return fmpq(_integer(p))
        denominator = _integer(q)
        return fmpq(_integer(p), denominator) if denominator != 0 else None
    m = _DECIMAL.fullmatch(text)
    if not m:
        return None
    sign, whole, fraction, exponent = m.group(1), m.group(2), m.group(3) or "", m.group(4) or "0"
    magnitude = exponent.lstrip("+-").lstrip("0") or "0"
    if len(magnitude) > 6 or int(magnitude) > MAX_EXPONENT:
        return None
    e = (-int(magnitude) if exponent.startswith("-") else int(magnitude)) - len(fraction)
    digits = _integer(whole + fraction)
    value = fmpq(digits * fmpz(10) ** e) if e >= 0 else fmpq(digits, fmpz(10) ** -e)
    return -value if sign else value


def number(value: Any, where: str) -> fmpq:
    """An exact number: a JSON integer, a JSON decimal or a string in the strict grammar."""
    if type(value) is int:
        return fmpq(value)
    if isinstance(value, str):
        q = _parse_number(value)
        if q is not None:
            return q
        raise CertificateError(f"{where}: {short_text(value)} is not an exact number "
                               f"(integer, p/q with q != 0, or decimal; no spaces or '+')")
    raise CertificateError(f"{where}: expected an exact number, got {_json_text(value)}")


def numbers(value: Any, where: str) -> tuple[fmpq, ...]:
    """A JSON list of exact numbers."""
    return tuple(number(v, f"{where}[{i}]") for i, v in enumerate(typed(value, list, where)))


_KIND_NAMES = {dict: "a JSON object", list: "a list", str: "a string", int: "an integer"}


def _json_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)  # as the file spells it: true, false, null
    if isinstance(value, _JsonDecimal):
        return short(value)
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else short_text(value)


def typed(value: Any, kind: type, where: str) -> Any:
    """``value`` if it has the JSON type ``kind`` (an integer is never a boolean)."""
    if type(value) is kind or (kind is str and isinstance(value, str) and not isinstance(value, _JsonDecimal)):
        return value
    raise CertificateError(f"{where}: expected {_KIND_NAMES[kind]}, got {_json_text(value)}")


def field(obj: dict, name: str, where: str) -> Any:
    """``obj[name]``, which must be present."""
    if name not in obj:
        raise CertificateError(f'{where}: missing key "{name}"')
    return obj[name]


# ----- networks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    """One layer: z = weight h_{l-1} + sum_k skip_k h_k + bias; a hidden layer's output is
    z where z > 0 and slope * z where z <= 0 (slope 0: ReLU; always 0 on the output layer)."""

    weight: fmpq_mat
    bias: fmpq_mat  # a column
    skip: tuple[tuple[int, fmpq_mat], ...]  # (source layer, matrix), sources increasing
    slope: fmpq

    @property
    def width(self) -> int:
        return self.weight.nrows()


@dataclass(frozen=True)
class Network:
    """A network as the checker reads it; two networks are equal iff their documents say the
    same: input dimension, layers, skip sources, every number and every slope."""

    input_dim: int
    layers: tuple[Layer, ...]

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def hidden_widths(self) -> list[int]:
        return [layer.width for layer in self.layers[:-1]]

    @property
    def outputs(self) -> int:
        return self.layers[-1].width


def _matrix(rows: Any, where: str, nrows: int | None, ncols: int) -> fmpq_mat:
    rows = typed(rows, list, where)
    if nrows is not None and len(rows) != nrows:
        raise CertificateError(f"{where}: has {len(rows)} rows, expected {nrows}")
    entries = []
    for i, row in enumerate(rows):
        row = typed(row, list, f"{where}[{i}]")
        if len(row) != ncols:
            raise CertificateError(f"{where}: row {i} has {len(row)} entries, expected {ncols}")
        entries.extend(number(v, f"{where}[{i}][{j}]") for j, v in enumerate(row))
    return fmpq_mat(len(rows), ncols, entries)


def _slope(layer: dict, where: str, hidden: bool) -> fmpq:
    if "activation" not in layer:
        return fmpq(0)
    activation = layer["activation"]
    if not hidden:
        raise CertificateError(f'{where}: the output layer is linear and has no "activation"')
    if type(activation) is str and activation == "relu":
        return fmpq(0)
    if type(activation) is dict and list(activation) == ["leaky_relu"]:
        return number(activation["leaky_relu"], f'{where}, "activation" leaky_relu')
    raise CertificateError(f'{where}: "activation" must be "relu" or {{"leaky_relu": <number>}}, '
                           f"got {_json_text(activation)}")


def _skips(layer: dict, where: str, l: int, n: int, widths: list[int]) -> tuple[tuple[int, fmpq_mat], ...]:
    if "skip" not in layer:
        return ()
    skip = typed(layer["skip"], dict, f'{where}, "skip"')
    out = []
    for key, rows in skip.items():
        if not _SKIP_SOURCE.fullmatch(key):
            raise CertificateError(f'{where}, "skip": source {short_text(key)} is not a layer index '
                                   f'("0", "1", ... without leading zeros)')
        if len(key) > len(str(l)) or int(key) > l - 2:
            allowed = f"0..{l - 2}" if l >= 2 else "none: layer 1 reads only the input"
            raise CertificateError(f'{where}, "skip": source {short_text(key)} is out of range (allowed: {allowed})')
        k = int(key)
        out.append((k, _matrix(rows, f'{where}, "skip" from {k}', n, widths[k])))
    return tuple(sorted(out, key=itemgetter(0)))


def read_network(doc: Any, where: str) -> Network:
    """Read a network document (``shared/spec/network-format.md``) into a ``Network``."""
    doc = typed(doc, dict, where)
    if doc.get("format") != NETWORK_FORMAT:
        raise CertificateError(f'{where}: "format" must be "{NETWORK_FORMAT}", got {_json_text(doc.get("format"))}')
    if type(doc.get("version")) is not int or doc["version"] != NETWORK_VERSION:
        raise CertificateError(f'{where}: "version" must be {NETWORK_VERSION}, got {_json_text(doc.get("version"))}')
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise CertificateError(f"{where}: unknown key(s) {short_text(sorted(unknown))}")
    d = doc.get("input_dim")
    if type(d) is not int or d < 1:
        raise CertificateError(f'{where}: "input_dim" must be a positive integer, got {_json_text(d)}')
    layer_docs = typed(field(doc, "layers", where), list, f'{where}, "layers"')
    if not layer_docs:
        raise CertificateError(f'{where}: "layers" is empty')
    widths, layers = [d], []
    for l, layer in enumerate(layer_docs, start=1):
        w = f"{where}, layer {l}"
        layer = typed(layer, dict, w)
        unknown = set(layer) - _LAYER_KEYS
        if unknown:
            raise CertificateError(f"{w}: unknown key(s) {short_text(sorted(unknown))}")
        rows = typed(field(layer, "weight", w), list, f'{w}, "weight"')
        if not rows:
            raise CertificateError(f'{w}, "weight": has no rows')
        weight = _matrix(rows, f'{w}, "weight"', None, widths[-1])
        n = weight.nrows()
        bias = numbers(layer.get("bias", [0] * n), f'{w}, "bias"')
        if len(bias) != n:
            raise CertificateError(f'{w}, "bias": has {len(bias)} entries, expected {n}')
        layers.append(Layer(weight, fmpq_mat(n, 1, bias), _skips(layer, w, l, n, widths),
                            _slope(layer, w, hidden=l < len(layer_docs))))
        widths.append(n)
    return Network(d, tuple(layers))


def network_document(net: Any, where: str) -> dict:
    """The JSON document of a network object that has ``input_dim`` and ``layers`` (each with
    ``weight``, ``bias``, ``skip`` and optionally ``slope``), for Python callers who hold one.

    Only the object's data is read (every entry as exact text); the document then goes
    through ``read_network`` like a file.
    """
    try:
        layers = []
        for l, layer in enumerate(net.layers, start=1):
            entry = {"weight": _rows_text(layer.weight), "bias": [str(v) for v in layer.bias.entries()],
                     "skip": {str(k): _rows_text(S) for k, S in layer.skip.items()}}
            slope = getattr(layer, "slope", 0)
            if slope != 0:
                entry["activation"] = {"leaky_relu": str(slope)}
            layers.append(entry)
        return {"format": NETWORK_FORMAT, "version": NETWORK_VERSION, "input_dim": net.input_dim, "layers": layers}
    except (AttributeError, TypeError) as exc:
        raise CertificateError(f"{where}: expected a network (a JSON path, a network document or a "
                               f"Network), got {type(net).__name__} ({_reason(exc)})") from None


def _rows_text(m: fmpq_mat) -> list[list[str]]:
    return [[str(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())]
