"""The grid of a sweep: which architectures, how many networks each, drawn how.

A grid SPEC is a list of ``key=value`` parts separated by ``;`` (spaces allowed)::

    d=2;widths=8x8,16x16;count=1000;init=torch;seed=0
    d=3;depth=2..10;width=2..10;count=5000
    paper-depth;count=1000            (a preset, then keys that override it)

Keys:

``d``        input dimension(s): ``2``, ``2,3``, ``2..10`` (ranges are inclusive)
``widths``   hidden widths of each architecture, layers joined by ``x``: ``8x8,16x16,4x4x4``
``width``    with ``depth``: every architecture of ``depth`` hidden layers of equal ``width``
``depth``    number(s) of hidden layers, for ``width`` (give either ``widths`` or both of these)
``outputs``  number(s) of outputs (default 1)
``count``    networks per cell (required, unless a preset gives it)
``init``     ``torch`` (default: PyTorch's nn.Linear initialisation in float32, read exactly),
             ``icnn`` (the same networks with every weight out of a hidden layer made >= 0),
             ``int`` or ``int:K`` (integers in [-K, K], default K = 3); several: ``torch,icnn``
``seed``     a nonnegative integer (default 0)
``box``      ``A,B`` (exact numbers A < B, e.g. ``box=-100,100``): also decide convexity on the box
             [A, B]^d (rows get ``"convex_box"``); not part of the cells, the networks stay the same

Cells are the product d x architecture x outputs x init, in that order (``depth`` before
``width``), and network n of a cell (n = 0 .. count-1) is drawn from a random stream that
depends on (seed, d, hidden widths, outputs, n) only: raising ``count`` later adds networks
and keeps the first ones.  Presets (the three grids of the paper's experiments, seed 0):

``paper-2d``     d=2; two hidden layers of width 1, 2, 4, ..., 512; count=100
``paper-depth``  d=3; depth 2..10 x width 2..10; count=5000
``paper-dim``    d=2..10 x width 2..10; depth 2; count=5000
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..network import Network
from .generate import icnn_structured, int_network, network_rng, torch_network

__all__ = ["SweepError", "Cell", "GridSpec", "parse_grid", "PRESETS", "INIT_NAMES"]

INIT_NAMES = ("torch", "icnn", "int")
DEFAULT_INT_BOUND = 3
MAX_NETWORKS = 10**9  # a guard against typos such as count=10000000000

PRESETS = {
    "paper-2d": "d=2;width=1,2,4,8,16,32,64,128,256,512;depth=2;count=100;init=torch;seed=0",
    "paper-depth": "d=3;depth=2..10;width=2..10;count=5000;init=torch;seed=0",
    "paper-dim": "d=2..10;width=2..10;depth=2;count=5000;init=torch;seed=0",
}

_KEYS = ("d", "widths", "width", "depth", "outputs", "count", "init", "seed", "box")


class SweepError(ValueError):
    """A sweep cannot start: a bad grid spec, missing inputs, a results file that is not one..."""


@dataclass(frozen=True)
class Cell:
    """One cell of a grid: an architecture, an initialisation and a seed.

    Examples
    --------
    >>> cell = Cell(2, (8, 8), 1, "torch", 0)
    >>> cell.network_id(17), cell.architecture
    ('d2-8x8-torch-seed0-000017', 'd2 8x8')
    >>> cell.network(17) == cell.network(17)
    True
    """

    input_dim: int
    hidden: tuple[int, ...]
    outputs: int
    init: str  # "torch", "icnn" or "int:K"
    seed: int

    @property
    def architecture(self) -> str:
        """``"d2 8x8"`` (and ``" m3"`` for three outputs)."""
        return f"d{self.input_dim} {'x'.join(map(str, self.hidden))}" + (
            f" m{self.outputs}" if self.outputs != 1 else "")

    def network_id(self, n: int) -> str:
        """The id of network n: readable, unique in a results file and safe as a file name."""
        outputs = f"-m{self.outputs}" if self.outputs != 1 else ""
        return (f"d{self.input_dim}-{'x'.join(map(str, self.hidden))}{outputs}-{self.init.replace(':', '')}"
                f"-seed{self.seed}-{n:06d}")

    def network(self, n: int) -> Network:
        """Network n of this cell (the same in every process, whatever the count)."""
        rng = network_rng(self.seed, self.input_dim, self.hidden, self.outputs, n)
        if self.init == "torch":
            return torch_network(rng, self.input_dim, self.hidden, self.outputs)
        if self.init == "icnn":
            return icnn_structured(torch_network(rng, self.input_dim, self.hidden, self.outputs))
        return int_network(rng, self.input_dim, self.hidden, self.outputs, bound=int(self.init.split(":")[1]))


@dataclass(frozen=True)
class GridSpec:
    """A parsed grid: its cells (in order) and the count of networks per cell.

    ``text`` is the canonical spec (every key written out), which parses back to the same grid.
    """

    cells: tuple[Cell, ...]
    count: int
    text: str
    box: tuple[str, str] | None = None  # the box [A, B]^d as exact strings (key box=A,B), or None

    def __len__(self) -> int:
        return len(self.cells) * self.count

    def items(self) -> Iterator[tuple[Cell, int]]:
        """(cell, n) for every network, in the canonical order (cells in order, then n)."""
        for cell in self.cells:
            for n in range(self.count):
                yield cell, n


def _ints(value: str, key: str, minimum: int) -> list[int]:
    out: list[int] = []
    for part in value.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a > b:
                raise SweepError(f"grid key {key}: the range {part} is empty (write the smaller bound first)")
            if b - a > 100000:
                raise SweepError(f"grid key {key}: the range {part} is too long")
            out.extend(range(a, b + 1))
        elif re.fullmatch(r"\d+", part):
            out.append(int(part))
        else:
            raise SweepError(f"grid key {key}: {part!r} is not a nonnegative integer or a range a..b")
    for v in out:
        if v < minimum:
            raise SweepError(f"grid key {key}: {v} is below the minimum {minimum}")
    return list(dict.fromkeys(out))  # repeated values would repeat cells: keep each once, in order


def _architectures(value: str) -> list[tuple[int, ...]]:
    archs = []
    for part in value.split(","):
        part = part.strip()
        if not re.fullmatch(r"\d+(\s*x\s*\d+)*", part):
            raise SweepError(f"grid key widths: {part!r} is not a list of hidden widths such as 8x8 or 4x4x4")
        arch = tuple(int(w) for w in part.split("x"))
        if any(w < 1 for w in arch):
            raise SweepError(f"grid key widths: {part!r} has a hidden layer of width 0")
        archs.append(arch)
    return list(dict.fromkeys(archs))


def _inits(value: str) -> list[str]:
    inits = []
    for part in value.split(","):
        part = part.strip()
        m = re.fullmatch(r"int(?::(\d+))?", part)
        if m:
            bound = int(m.group(1)) if m.group(1) is not None else DEFAULT_INT_BOUND
            if bound < 1:
                raise SweepError("grid key init: int:K needs K >= 1")
            inits.append(f"int:{bound}")
        elif part in ("torch", "icnn"):
            inits.append(part)
        else:
            raise SweepError(f"grid key init: {part!r} is not one of torch, icnn, int, int:K")
    return list(dict.fromkeys(inits))


def _parts(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    preset = None
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        if "=" not in part:
            if part not in PRESETS:
                raise SweepError(f"grid spec: {part!r} is neither key=value nor a preset "
                                 f"(presets: {', '.join(PRESETS)}; keys: {', '.join(_KEYS)})")
            if preset is not None:
                raise SweepError("grid spec: give at most one preset")
            preset = part
            continue
        key, value = (s.strip() for s in part.split("=", 1))
        if key not in _KEYS:
            raise SweepError(f"grid spec: unknown key {key!r} (keys: {', '.join(_KEYS)})")
        if key in values:
            raise SweepError(f"grid spec: the key {key} is given twice")
        if not value:
            raise SweepError(f"grid spec: the key {key} has no value")
        values[key] = value
    if preset is not None:
        base = _parts(PRESETS[preset])
        if "widths" in values:  # an explicit architecture list replaces the preset's width x depth
            base.pop("width", None)
            base.pop("depth", None)
        if "width" in values or "depth" in values:
            base.pop("widths", None)
        values = {**base, **values}
    return values


def parse_grid(text: str, seed: int | None = None) -> GridSpec:
    """Parse a grid SPEC (syntax in the module docstring); ``seed`` is used when the spec has none.

    Raises ``SweepError`` with a message that names the key and the problem.

    Examples
    --------
    >>> g = parse_grid("d=2,3;widths=4x4;count=10;init=torch,icnn")
    >>> len(g), [c.network_id(0) for c in g.cells][:2]
    (40, ['d2-4x4-torch-seed0-000000', 'd2-4x4-icnn-seed0-000000'])
    >>> g.text
    'd=2,3;widths=4x4;outputs=1;count=10;init=torch,icnn;seed=0'
    >>> len(parse_grid("paper-depth;count=2"))
    162
    """
    if not isinstance(text, str) or not text.strip():
        raise SweepError("the grid spec is empty; example: d=2;widths=8x8,16x16;count=1000;init=torch;seed=0")
    values = _parts(text)
    if "d" not in values:
        raise SweepError("grid spec: the input dimension d is missing (e.g. d=2 or d=2..10)")
    if "count" not in values:
        raise SweepError("grid spec: count (networks per cell) is missing (e.g. count=1000)")
    ds = _ints(values["d"], "d", 1)
    if "widths" in values:
        if "width" in values or "depth" in values:
            raise SweepError("grid spec: give either widths=... or width=... with depth=..., not both")
        archs = _architectures(values["widths"])
    elif "width" in values and "depth" in values:
        archs = [(w,) * depth for depth in _ints(values["depth"], "depth", 1) for w in _ints(values["width"], "width", 1)]
    elif "width" in values or "depth" in values:
        raise SweepError("grid spec: width=... needs depth=... (the number of hidden layers), and the other way round")
    else:
        raise SweepError("grid spec: the architectures are missing (widths=8x8,16x16 or width=2..10;depth=2)")
    outputs = _ints(values.get("outputs", "1"), "outputs", 1)
    counts = _ints(values["count"], "count", 1)
    if len(counts) != 1:
        raise SweepError("grid spec: count is one number (networks per cell)")
    count = counts[0]
    inits = _inits(values.get("init", "torch"))
    if "seed" in values:
        seeds = _ints(values["seed"], "seed", 0)
        if len(seeds) != 1:
            raise SweepError("grid spec: seed is one nonnegative integer")
        if seed is not None and seed != seeds[0]:
            raise SweepError(f"the grid spec says seed={seeds[0]} and --seed says {seed}: give the seed once")
        seed = seeds[0]
    seed = 0 if seed is None else int(seed)
    if seed < 0:
        raise SweepError("the seed must be a nonnegative integer")
    cells = tuple(Cell(d, arch, m, init, seed) for d in ds for arch in archs for m in outputs for init in inits)
    if len(cells) * count > MAX_NETWORKS:
        raise SweepError(f"the grid holds {len(cells) * count} networks, more than {MAX_NETWORKS}")
    box = None
    if "box" in values:
        from ..graph.box import parse_box
        from ..numbers import q_str

        try:
            parsed = parse_box(values["box"])
        except ValueError as exc:
            raise SweepError(f"grid key box: {exc}") from None
        box = (q_str(parsed.lower), q_str(parsed.upper))
    canonical = ";".join([
        "d=" + ",".join(map(str, ds)),
        "widths=" + ",".join("x".join(map(str, a)) for a in archs),
        "outputs=" + ",".join(map(str, outputs)),
        f"count={count}",
        "init=" + ",".join(i if i != f"int:{DEFAULT_INT_BOUND}" else "int" for i in inits),
        f"seed={seed}",
    ])
    if box is not None:
        canonical += f";box={box[0]},{box[1]}"
    return GridSpec(cells, count, canonical, box)
