"""The exact (Leaky)ReLU network model (semantics of ``shared/spec/network-format.md``).

Layer l (1-based) computes z_l = W_l h_{l-1} + sum_k S_{l,k} h_k + b_l, with h_0 = x,
h_l = sigma_l(z_l) for hidden layers and f(x) = z_L for the last one, where sigma_l is the
LeakyReLU of slope s_l: sigma(z) = z for z > 0 and s_l z for z <= 0 (s_l = 0 is ReLU, the
default).  Weights and slopes are python-flint ``fmpq``, so evaluation and local affine maps
are exact.

Hidden neurons are numbered in topological order (layer by layer); an *activation
pattern* is a tuple of 0/1 over them, with the convention "on" iff z > 0.  Where a pattern
holds, an on neuron passes its pre-activation and an off neuron s_l times it (geometry
notes, section 8): the regions are those of ReLU, only the local maps change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from flint import fmpq, fmpq_mat

from ..numbers import to_q

__all__ = ["Layer", "Network", "LocalAffine", "NetworkError"]


class NetworkError(ValueError):
    """A network is not well formed (shapes, skip sources...)."""


def _matrix(rows: Sequence[Sequence], ncols: int | None = None) -> fmpq_mat:
    rows = [list(r) for r in rows]
    nrows = len(rows)
    if ncols is None:
        ncols = len(rows[0]) if rows else 0
    flat = [to_q(v) for r in rows for v in r]
    return fmpq_mat(nrows, ncols, flat)


def _column(values: Sequence) -> fmpq_mat:
    return fmpq_mat(len(values), 1, [to_q(v) for v in values])


def _matrix_state(m: fmpq_mat) -> tuple:
    """An exact, picklable state of a matrix (python-flint matrices do not pickle)."""
    return m.nrows(), m.ncols(), [(int(v.p), int(v.q)) for v in m.entries()]


def _matrix_from_state(state: tuple) -> fmpq_mat:
    nrows, ncols, entries = state
    return fmpq_mat(nrows, ncols, [fmpq(p, q) for p, q in entries])


def _layer_from_state(weight, bias, skip, slope) -> "Layer":
    return Layer(_matrix_from_state(weight), _matrix_from_state(bias),
                 {k: _matrix_from_state(S) for k, S in skip}, fmpq(*slope))


def _rows(m: fmpq_mat) -> list[list[fmpq]]:
    return [[m[i, j] for j in range(m.ncols())] for i in range(m.nrows())]


@dataclass(frozen=True)
class Layer:
    """One layer: ``weight`` (n_l x n_{l-1}), ``bias`` (n_l x 1), ``skip`` {source k: S (n_l x n_k)}
    and, for a hidden layer, the ``slope`` s of its LeakyReLU (0: ReLU; always 0 on the output layer)."""

    weight: fmpq_mat
    bias: fmpq_mat
    skip: Mapping[int, fmpq_mat] = field(default_factory=dict)
    slope: fmpq = fmpq(0)

    @property
    def width(self) -> int:
        return self.weight.nrows()

    @property
    def activation(self) -> str:
        """``"relu"`` or ``"leaky_relu:S"`` (S exact)."""
        return "relu" if self.slope == 0 else f"leaky_relu:{self.slope}"

    def activate(self, z: fmpq) -> fmpq:
        """sigma(z): z where z > 0, slope * z where z <= 0."""
        return z if z > 0 else self.slope * z

    def __reduce__(self):  # exact pickling, so that networks cross process boundaries unchanged
        return _layer_from_state, (_matrix_state(self.weight), _matrix_state(self.bias),
                                   [(k, _matrix_state(S)) for k, S in self.skip.items()],
                                   (int(self.slope.p), int(self.slope.q)))

    @classmethod
    def from_lists(cls, weight, bias=None, skip=None, slope=None) -> "Layer":
        w = _matrix(weight)
        b = _column(bias) if bias is not None else fmpq_mat(w.nrows(), 1)
        s = {int(k): _matrix(v) for k, v in (skip or {}).items()}
        return cls(w, b, dict(sorted(s.items())), to_q(slope) if slope is not None else fmpq(0))


@dataclass(frozen=True)
class LocalAffine:
    """The affine maps valid where a given pattern holds.

    ``pre[l]`` = (G, g): z_l(x) = G x + g for layer l = 1..L (index 0 unused, None);
    the last entry is the output map.
    """

    pattern: tuple[int, ...]
    pre: list

    @property
    def output(self) -> tuple[fmpq_mat, fmpq_mat]:
        return self.pre[-1]


class Network:
    """A ReLU network with exact rational weights.

    Parameters
    ----------
    input_dim : int
        d, the input dimension.
    layers : sequence of Layer
        L >= 1 layers; all but the last are ReLU layers, the last is the linear output.

    Examples
    --------
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])
    >>> net.evaluate(["-3/2"])
    (3/2,)
    """

    def __init__(self, input_dim: int, layers: Sequence[Layer]):
        self.input_dim = int(input_dim)
        self.layers = list(layers)
        self._validate()
        self.hidden_neurons: list[tuple[int, int]] = [
            (l, j) for l in range(1, len(self.layers)) for j in range(self.layers[l - 1].width)]
        self._offsets = [0]
        for l in range(1, len(self.layers)):
            self._offsets.append(self._offsets[-1] + self.layers[l - 1].width)

    # ----- construction -------------------------------------------------------------
    @classmethod
    def from_lists(cls, input_dim: int, layers: Iterable[Mapping]) -> "Network":
        """Build from plain lists: ``[{"weight": rows, "bias": [...], "skip": {k: rows}, "slope": s}, ...]``
        (``slope``: the LeakyReLU slope of a hidden layer, 0 = ReLU when absent)."""
        return cls(input_dim, [Layer.from_lists(L["weight"], L.get("bias"), L.get("skip"), L.get("slope"))
                               for L in layers])

    def _validate(self) -> None:
        if self.input_dim < 1:
            raise NetworkError("input_dim must be a positive integer")
        if not self.layers:
            raise NetworkError("a network needs at least one layer")
        widths = [self.input_dim]
        for l, layer in enumerate(self.layers, start=1):
            if layer.weight.ncols() != widths[-1]:
                raise NetworkError(f"layer {l}: weight has {layer.weight.ncols()} columns, expected {widths[-1]}")
            if layer.width < 1:
                raise NetworkError(f"layer {l}: weight has no rows")
            if layer.bias.nrows() != layer.width or layer.bias.ncols() != 1:
                raise NetworkError(f"layer {l}: bias has {layer.bias.nrows()} entries, expected {layer.width}")
            for k, s in layer.skip.items():
                if not 0 <= k <= l - 2:
                    raise NetworkError(f"layer {l}: skip source {k} is out of range (0..{l - 2})")
                if s.nrows() != layer.width or s.ncols() != widths[k]:
                    raise NetworkError(f"layer {l}: skip from {k} has shape ({s.nrows()}, {s.ncols()}), "
                                       f"expected ({layer.width}, {widths[k]})")
            if l == len(self.layers) and layer.slope != 0:
                raise NetworkError(f"layer {l}: the output layer is linear and has no activation")
            widths.append(layer.width)

    # ----- shape --------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def widths(self) -> list[int]:
        """[d, n_1, ..., n_L]."""
        return [self.input_dim] + [layer.width for layer in self.layers]

    @property
    def hidden_widths(self) -> list[int]:
        return [layer.width for layer in self.layers[:-1]]

    @property
    def slopes(self) -> list[fmpq]:
        """The LeakyReLU slope of every hidden layer (0 = ReLU)."""
        return [layer.slope for layer in self.layers[:-1]]

    @property
    def is_relu(self) -> bool:
        """True when every hidden layer is a plain ReLU layer."""
        return all(s == 0 for s in self.slopes)

    def neuron_slope(self, i: int) -> fmpq:
        """The slope of flat hidden neuron i's activation."""
        return self.layers[self.hidden_neurons[i][0] - 1].slope

    @property
    def num_outputs(self) -> int:
        return self.layers[-1].width

    @property
    def num_hidden(self) -> int:
        return len(self.hidden_neurons)

    def neuron_index(self, layer: int, j: int) -> int:
        """Position of hidden neuron j of layer ``layer`` (1-based) in topological order."""
        return self._offsets[layer - 1] + j

    def parameter_count(self) -> int:
        n = 0
        for layer in self.layers:
            n += layer.weight.nrows() * layer.weight.ncols() + layer.width
            n += sum(s.nrows() * s.ncols() for s in layer.skip.values())
        return n

    def is_icnn(self) -> bool:
        """ICNN structure: every weight from a hidden layer (into later layers and the output) is >= 0,
        and every activation is convex (slope <= 1), nondecreasing too (0 <= slope) from layer 2 on,
        where it acts on a convex function that need not be affine (geometry notes, section 8)."""
        for l, layer in enumerate(self.layers, start=1):
            if l < self.depth and (layer.slope > 1 or (l >= 2 and layer.slope < 0)):
                return False
            if l >= 2 and any(v < 0 for v in layer.weight.entries()):
                return False
            for k, s in layer.skip.items():
                if k >= 1 and any(v < 0 for v in s.entries()):
                    return False
        return True

    # ----- evaluation ---------------------------------------------------------------
    def _point(self, x) -> fmpq_mat:
        values = list(x) if not isinstance(x, fmpq_mat) else [x[i, 0] for i in range(x.nrows())]
        if len(values) != self.input_dim:
            raise NetworkError(f"point has {len(values)} coordinates, expected {self.input_dim}")
        return fmpq_mat(self.input_dim, 1, [to_q(v) for v in values])

    def forward(self, x) -> tuple[list[fmpq_mat], list[fmpq_mat]]:
        """Pre-activations z_1..z_L and post-activations h_0..h_{L-1} at x (exact column vectors)."""
        h = [self._point(x)]
        zs = []
        for l, layer in enumerate(self.layers, start=1):
            z = layer.weight * h[l - 1] + layer.bias
            for k, s in layer.skip.items():
                z += s * h[k]
            zs.append(z)
            if l < self.depth:
                h.append(fmpq_mat(z.nrows(), 1, [layer.activate(v) for v in z.entries()]))
        return zs, h

    def evaluate(self, x) -> tuple[fmpq, ...]:
        """Exact outputs at the rational point x (ints, strings, Fractions or fmpq)."""
        zs, _ = self.forward(x)
        return tuple(zs[-1].entries())

    def __call__(self, x) -> tuple[fmpq, ...]:
        return self.evaluate(x)

    def preactivations(self, x) -> list[fmpq]:
        """Pre-activation of every hidden neuron at x, in topological order."""
        zs, _ = self.forward(x)
        return [v for z in zs[:-1] for v in z.entries()]

    def pattern(self, x) -> tuple[int, ...]:
        """Activation pattern at x: 1 where z > 0, 0 where z <= 0."""
        return tuple(1 if v > 0 else 0 for v in self.preactivations(x))

    def split_pattern(self, pattern: Sequence[int]) -> list[tuple[int, ...]]:
        """A flat pattern cut into one tuple per hidden layer."""
        return [tuple(pattern[self._offsets[l - 1]:self._offsets[l]]) for l in range(1, self.depth)]

    def local_affine(self, pattern: Sequence[int]) -> LocalAffine:
        """Exact affine maps z_l(x) = G_l x + g_l of every layer where ``pattern`` holds."""
        pattern = tuple(int(s) for s in pattern)
        if any(s not in (0, 1) for s in pattern):
            raise NetworkError("a pattern holds only 0 (off) and 1 (on)")
        if len(pattern) != self.num_hidden:
            raise NetworkError(f"pattern has {len(pattern)} entries, expected {self.num_hidden}")
        pre = self._affine_walk(lambda l, G, g: pattern[self._offsets[l - 1]:self._offsets[l]])
        return LocalAffine(pattern, pre)

    def flip_local(self, local: LocalAffine, neuron: int) -> LocalAffine:
        """``local_affine`` of the pattern with one neuron flipped, as an update of ``local``.

        Flipping neuron j of layer l changes h_l by +-(1 - s_l) e_j r (r = its row (G_l[j], g_l[j]),
        + when it turns on, - when off, s_l the layer's LeakyReLU slope) and leaves every other
        state alone, so every later layer changes by a rank-one term u r: u follows the weights
        through the unchanged states (matrix-vector products instead of matrix products).
        """
        l, j = self.hidden_neurons[neuron]
        pattern = list(local.pattern)
        pattern[neuron] = 1 - pattern[neuron]
        G, g = local.pre[l]
        row = fmpq_mat(1, self.input_dim, [G[j, c] for c in range(self.input_dim)])
        offset = g[j, 0]
        width = self.layers[l - 1].width
        jump = (1 - self.layers[l - 1].slope) * (1 if pattern[neuron] else -1)
        change = {l: None}  # layer l's change is jump * e_j: its products are columns, read off
        pre = list(local.pre)
        for k in range(l + 1, self.depth + 1):
            layer = self.layers[k - 1]
            u = None
            for src, S in [(k - 1, layer.weight)] + list(layer.skip.items()):
                if src == l:
                    term = self._column(k, src, j) * jump
                elif src in change:
                    term = S * change[src]
                else:
                    continue
                u = term if u is None else u + term
            Gk, gk = pre[k]
            pre[k] = (Gk + u * row, gk + u * offset)
            if k < self.depth:
                states = pattern[self._offsets[k - 1]:self._offsets[k]]
                change[k] = fmpq_mat(layer.width, 1, [v if on else layer.slope * v
                                                      for v, on in zip(u.entries(), states)])
        return LocalAffine(tuple(pattern), pre)

    def _column(self, k: int, src: int, j: int) -> fmpq_mat:
        """Column j of the matrix from layer ``src`` into layer k (its weight or a skip), cached:
        a flip's first change is a multiple of it (an n x 1 product would cost a full n x n one)."""
        cache = self.__dict__.setdefault("_column_cache", {})
        key = (k, src, j)
        column = cache.get(key)
        if column is None:
            layer = self.layers[k - 1]
            M = layer.weight if src == k - 1 else layer.skip[src]
            column = cache[key] = fmpq_mat(M.nrows(), 1, [M[i, j] for i in range(M.nrows())])
        return column

    def __getstate__(self):  # the column cache holds flint matrices, which do not pickle
        state = dict(self.__dict__)
        state.pop("_column_cache", None)
        return state

    def pattern_along(self, point, direction) -> tuple[tuple[int, ...], LocalAffine]:
        """The pattern just past ``point`` in ``direction`` (at point + eps*direction, eps -> 0+).

        Walks the layers in order, each neuron's affine map taken under the pattern already
        decided upstream: on iff (z(point), slope along direction) is lexicographically > 0.
        A neuron with z = 0 and zero slope is constant zero just past the point (geometry
        notes, section 5), hence off.  Returns the pattern and its local affine maps.
        """
        p = self._point(point)
        v = self._point(direction)
        states: list[int] = []

        def decide(l, G, g):
            z = G * p + g
            slope = G * v
            layer_states = tuple(1 if (z[j, 0] > 0 or (z[j, 0] == 0 and slope[j, 0] > 0)) else 0
                                 for j in range(G.nrows()))
            states.extend(layer_states)
            return layer_states

        pre = self._affine_walk(decide)
        return tuple(states), LocalAffine(tuple(states), pre)

    def _affine_walk(self, decide) -> list:
        """Affine maps (G_l, g_l) of z_l for l = 1..L, with ReLU states chosen by decide(l, G, g)."""
        d = self.input_dim
        eye = fmpq_mat(d, d)
        for i in range(d):
            eye[i, i] = 1
        H = [(eye, fmpq_mat(d, 1))]  # h_l = A x + a, per layer
        pre: list = [None]
        for l, layer in enumerate(self.layers, start=1):
            G = layer.weight * H[l - 1][0]
            g = layer.weight * H[l - 1][1] + layer.bias
            for k, s in layer.skip.items():
                G += s * H[k][0]
                g += s * H[k][1]
            pre.append((G, g))
            if l < self.depth:
                states = decide(l, G, g)
                eG, eg = G.entries(), g.entries()
                s = layer.slope  # an off neuron passes s times its pre-activation
                A = fmpq_mat(layer.width, d, [v if states[i // d] else s * v for i, v in enumerate(eG)])
                a = fmpq_mat(layer.width, 1, [v if on else s * v for v, on in zip(eg, states)])
                H.append((A, a))
        return pre

    # ----- derived networks -----------------------------------------------------------
    def negate(self) -> "Network":
        """The network computing -f."""
        return self.scale_outputs(-1)

    def scale_outputs(self, c) -> "Network":
        c = to_q(c)
        last = self.layers[-1]
        new_last = Layer(last.weight * c, last.bias * c, {k: s * c for k, s in last.skip.items()})
        return Network(self.input_dim, self.layers[:-1] + [new_last])

    def select_output(self, k: int) -> "Network":
        """The single-output network computing output k (0-based)."""
        if not 0 <= k < self.num_outputs:
            raise NetworkError(f"output {k} does not exist (the network has {self.num_outputs})")
        last = self.layers[-1]

        def row(m):
            return fmpq_mat(1, m.ncols(), [m[k, j] for j in range(m.ncols())])

        new_last = Layer(row(last.weight), row(last.bias), {s: row(m) for s, m in last.skip.items()})
        return Network(self.input_dim, self.layers[:-1] + [new_last])

    def difference(self, other: "Network") -> "Network":
        """One network computing f - g (same input dimension and number of outputs)."""
        return combine([self, other], [1, -1])

    # ----- comparison and display ---------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, Network):
            return NotImplemented
        if self.input_dim != other.input_dim or self.depth != other.depth:
            return False
        for a, b in zip(self.layers, other.layers):
            if a.weight.nrows() != b.weight.nrows() or a.weight != b.weight or a.bias != b.bias:
                return False
            if set(a.skip) != set(b.skip) or any(a.skip[k] != b.skip[k] for k in a.skip):
                return False
            if a.slope != b.slope:
                return False
        return True

    def __hash__(self):
        return hash((self.input_dim, tuple(self.widths)))

    def __repr__(self) -> str:
        skips = [(l, k) for l, layer in enumerate(self.layers, 1) for k in layer.skip]
        slopes = "" if self.is_relu else f", slopes={[str(s) for s in self.slopes]}"
        return f"Network(widths={self.widths}" + (f", skips={skips}" if skips else "") + slopes + ")"


def combine(nets: Sequence[Network], coefficients: Sequence) -> Network:
    """One network computing sum_i c_i f_i from the hidden layers of all f_i.

    Side by side when every hidden layer index that several networks have carries one slope in
    all of them (always so for ReLU networks): hidden layer l holds net 0's neurons of layer l,
    then net 1's, ...  Networks of different depths are aligned at the input, and a shallower
    network's output layer enters the common output layer through skips.

    Otherwise the layers could not share one activation, so the networks are *stacked*: net 0's
    hidden layers come first, then net 1's, ...; the first hidden layer of a stacked network reads
    x through a skip from the input, its other connections keep their sources shifted by its
    offset.  Either way all-zero skips are dropped.  The checker rebuilds f - g with the same rule
    (docs/certificate-format.md, claim "equivalent").

    Examples
    --------
    >>> f = Network.from_lists(1, [{"weight": [[1]]}, {"weight": [[1]]}])
    >>> g = Network.from_lists(1, [{"weight": [[1]], "slope": "1/2"}, {"weight": [[1]]}])
    >>> h = combine([f, g], [1, -1])
    >>> h.hidden_widths, h.evaluate([-2])
    ([1, 1], (1,))
    """
    if not nets:
        raise NetworkError("nothing to combine")
    d, m = nets[0].input_dim, nets[0].num_outputs
    for n in nets:
        if n.input_dim != d or n.num_outputs != m:
            raise NetworkError("networks to combine need the same input dimension and number of outputs")
    cs = [to_q(c) for c in coefficients]
    slopes_at: dict[int, set] = {}
    for n in nets:
        for l, s in enumerate(n.slopes, start=1):
            slopes_at.setdefault(l, set()).add(s)
    side_by_side = all(len(v) == 1 for v in slopes_at.values())
    # place[i, l] = (target layer, first row there) of net i's layer l (0: the input)
    place: dict[tuple[int, int], tuple[int, int]] = {}
    hidden: list[list] = []  # per target hidden layer: [width, slope]
    base = 0
    for i, n in enumerate(nets):
        place[i, 0] = (0, 0)
        for l in range(1, n.depth):
            t = l if side_by_side else base + l
            while len(hidden) < t:
                hidden.append([0, n.layers[l - 1].slope])
            place[i, l] = (t, hidden[t - 1][0])
            hidden[t - 1][0] += n.layers[l - 1].width
        base += n.depth - 1
    L = len(hidden) + 1
    width = [d] + [w for w, _ in hidden] + [m]
    mats = [(fmpq_mat(width[t], width[t - 1]), fmpq_mat(width[t], 1), {}) for t in range(1, L + 1)]
    for i, n in enumerate(nets):
        for l, layer in enumerate(n.layers, start=1):
            output = l == n.depth
            t, row0 = (L, 0) if output else place[i, l]
            scale = cs[i] if output else fmpq(1)
            W, b, skips = mats[t - 1]
            for src, block in [(l - 1, layer.weight)] + list(layer.skip.items()):
                ts, col0 = place[i, src]
                mat = W if ts == t - 1 else skips.setdefault(ts, fmpq_mat(width[t], width[ts]))
                for r in range(block.nrows()):
                    for c in range(block.ncols()):
                        if block[r, c] != 0:
                            mat[row0 + r, col0 + c] += block[r, c] * scale
            for r in range(layer.width):
                b[row0 + r, 0] += layer.bias[r, 0] * scale
    layers = []
    for t, (W, b, skips) in enumerate(mats, start=1):
        skips = {k: S for k, S in sorted(skips.items()) if any(v != 0 for v in S.entries())}
        layers.append(Layer(W, b, skips, hidden[t - 1][1] if t < L else fmpq(0)))
    return Network(d, layers)
