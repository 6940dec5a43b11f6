"""PyTorch models in and out by their graph (the optional extra ``torch``).

Reading a model: ``torch.export``, not ``torch.fx.symbolic_trace``
--------------------------------------------------------------------
:func:`from_torch` captures the module with ``torch.export.export`` and reads the ATen graph
of the program; a program with in-place operations is first functionalized
(``run_decompositions({})``: no decomposition, in-place operations replaced by their functional
forms).  Why ``torch.export`` and not ``torch.fx.symbolic_trace``:

* **one reader for modules and files**: a ``.pt2`` file *is* an exported program, so modules
  and ``.pt2`` files go through the same graph reader and read to the same network;
* **in-place operations are read right**: after functionalization the graph's data flow is
  the real one.  ``symbolic_trace`` records ``y = lin(x); z = relu_inplace(y); y + z`` as
  ``y + relu(y)``, although ``y`` was overwritten (it is ``2 relu(y)``);
* **sound capture**: export runs the whole ``forward`` and fails on what it cannot capture
  (data-dependent control flow such as ``if x.sum() > 0``), instead of tracing one path;
  ATen operations have one precise meaning each, while fx leaves every leaf module and
  every Python function to interpretation;
* the graph still says where every node comes from (``nn_module_stack``: module path and
  type, and the source line), so refusals name the module, e.g. ``module 'net.3' (Tanh)``.

The price: export needs an example input.  When none is given, the input dimension d is
found by running the module on the ``meta`` device (no computation, no side effects; a copy on
the CPU when the meta device cannot run it) with each candidate d (the ``in_features`` of its
Linear layers, the ``num_features`` of its BatchNorm layers, the sizes of its 2-D parameters):
exactly one must fit, otherwise pass ``example_input``.

The graph is read in execution order (the order ``forward`` uses the modules, not the order
they were registered in), see ``graph.py`` for how values become layers.  Supported:
``linear``, ``addmm``, ``mm``/``matmul`` by a constant matrix, ``+``, ``-`` (also with
``alpha``), ``*`` and ``/`` by constants (a division by c is the exact multiplication by 1/c),
negation, ``relu``, ``leaky_relu``, ``prelu``, ``clamp(min=0)``, BatchNorm in eval mode,
eval-mode dropout, clones, views and flattens that keep the (batch, features) shape, slices
and ``select`` of features, ``cat`` of features, sums and means over the features.
Operations on constants only (e.g. ``W.clamp(min=0)`` or ``softplus(W)`` of a parameter)
are computed by PyTorch in float64 and their result read exactly; the ones that may round
are listed in ``net.notes``.  Everything else that touches a value depending on the input
is refused with a ``FormatError`` naming the operation and its place in the model.

Numbers: float weights are read as their exact binary values; a Python float in the graph
(a LeakyReLU slope, a constant factor) as the exact value of the double.

BatchNorm in eval mode: y = gamma (x - mean) / sqrt(var + eps) + beta.  The scale
gamma / sqrt(var + eps) is irrational in general: the exact network uses its float64 value,
computed in float64 from the stored parameters and read as an exact binary fraction, and
the shift beta - mean * scale exactly from that scale.  So the exact network equals the model
up to that one rounding (relative 2^-53 per scale); ``net.notes`` says so.

Every import is compared with the model's own forward pass (``graph.compare``).

Writing a model: :func:`to_torch` returns a ``torch.fx.GraphModule``
---------------------------------------------------------------------
A ``GraphModule`` (class name ``ExactNetwork``) made of plain ``nn.Linear``, ``nn.ReLU`` and
``nn.LeakyReLU`` modules wired by a generated ``forward`` (``model.code`` shows it):
``z_l = layer{l}(h_{l-1}) + skip{l}_from{k}(h_k) + ...``.  Why this form: it is an ordinary
``nn.Module`` that needs nothing but PyTorch (``torch.save(model, f)`` pickles the generated
code with it, so ``torch.load(f, weights_only=False)`` works where exactconvex is not
installed), it can be trained further, exported (``torch.export.export``) and traced, it
expresses every network (skips, LeakyReLU slopes, several outputs), and reading it back gives
the same exact network.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import operator
import os
import warnings
from typing import Mapping

from flint import fmpq, fmpq_mat

from ..network.formats import FormatError
from ..network.model import Network
from ..numbers import NumberError, to_q
from .graph import (Affine, GraphReader, GraphState, RoundingWarning, build_network, compare, comparison_note,
                    exact_matrix, exact_vector, first_line, network_floats, precision_name,
                    trailing_activation_check)

__all__ = ["from_torch", "read_exported_program", "from_state_dict", "read_torch", "read_pt2", "to_torch",
           "parse_state_dict_activation", "SAVE_WITH_GRAPH_HINT", "RoundingWarning"]

SAVE_WITH_GRAPH_HINT = (
    "save a model that carries its graph instead: "
    "torch.export.save(torch.export.export(model.eval(), (torch.zeros(1, d),)), 'model.pt2') or "
    "torch.onnx.export(model.eval(), (torch.zeros(1, d),), 'model.onnx', dynamo=False)")


def _torch():
    try:
        import torch
    except ImportError:
        raise FormatError("reading or writing PyTorch models needs PyTorch: pip install 'exactconvex[torch]' "
                          "(the CPU build: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
                          ) from None
    return torch


@contextlib.contextmanager
def _quiet():
    """torch.export prints graphs and warnings while it works: keep the user's terminal clean."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


# ----- reading an exported program ----------------------------------------------------------

#: Operations on constants whose result is exact (data movement, sign, clamping).
_EXACT_FOLDS = {"t", "permute", "transpose", "view", "reshape", "_unsafe_view", "clone", "detach", "alias",
                "unsqueeze", "squeeze", "expand", "contiguous", "neg", "slice", "select", "cat", "stack",
                "lift_fresh_copy", "flatten", "clamp", "clamp_min", "clamp_max", "relu", "abs", "index_select",
                "flip", "zeros", "ones", "zeros_like", "ones_like", "full", "full_like", "scalar_tensor",
                "getitem", "unbind", "split", "chunk", "narrow", "_to_copy", "to", "copy", "empty_like",
                "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge"}

_IDENTITY_OPS = {"clone", "alias", "detach", "contiguous", "lift_fresh_copy", "_to_copy", "to", "copy"}
_RESHAPE_OPS = {"view", "reshape", "_unsafe_view", "flatten", "unflatten", "unsqueeze", "squeeze", "expand",
                "view_as", "reshape_as", "expand_as", "squeeze_copy", "unsqueeze_copy", "view_copy", "alias_copy"}
_DROPOUT_OPS = {"dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout"}


class _ProgramReader(GraphReader):
    """Walks the functional ATen graph of an ExportedProgram, node by node in execution order."""

    def __init__(self, ep, where: str):
        super().__init__(where)
        self.ep = ep
        self.torch = _torch()
        self.batch = None
        self._exact_cache: dict = {}

    # --- naming places and refusing ---
    def place(self, node) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        entries = list(stack.values())
        text = ""
        if entries:
            path, typ = entries[-1]
            tname = getattr(typ, "__name__", None) or str(typ).rsplit(".", 1)[-1].strip("'>")
            path = str(path)
            text = f"module '{path}' ({tname})" if path else f"the forward of {tname}"
        else:
            text = "the model's forward"
        code = self.user_code(node)
        if code:
            text += f", code: {code}"
        return f"{text} (graph node '{node.name}')"

    @staticmethod
    def user_code(node) -> str | None:
        """The source line of the model that made this node (the innermost frame outside PyTorch)."""
        trace = node.meta.get("stack_trace")
        if not trace:
            return None
        lines = [ln.strip() for ln in str(trace).strip().splitlines() if ln.strip()]
        found = None
        for i, line in enumerate(lines):
            if line.startswith("File ") and i + 1 < len(lines) and not lines[i + 1].startswith("File "):
                path = line.split('"')[1] if '"' in line else ""
                if f"{os.sep}torch{os.sep}" not in path:
                    found = lines[i + 1][:120]
        return found

    def module_type(self, node) -> str | None:
        stack = node.meta.get("nn_module_stack") or {}
        entries = list(stack.values())
        if not entries or not str(entries[-1][0]):
            return None
        typ = entries[-1][1]
        return getattr(typ, "__name__", None) or str(typ).rsplit(".", 1)[-1].strip("'>")

    @staticmethod
    def opname(node) -> str:
        target = node.target
        packet = getattr(target, "overloadpacket", None)
        if packet is not None:
            return packet.__name__
        return getattr(target, "__name__", str(target))

    def refuse(self, node, reason: str):
        raise FormatError(f"{self.where}: {reason}, at {self.place(node)}")

    def unsupported(self, node, detail: str = ""):
        op = self.opname(node)
        mtype = self.module_type(node)
        if mtype and mtype.lower() != op.lower():
            name = f"{mtype} (aten.{op})"  # ReLU6 is aten.hardtanh: say both
        else:
            name = mtype or f"{op} (aten.{op})"
        extra = f" ({detail})" if detail else ""
        self.refuse(node, f"cannot read the operation {name}{extra}: it is not an affine map or a ReLU / "
                          f"LeakyReLU of values that depend on the input, so it has no exact (Leaky)ReLU "
                          f"network")

    # --- constants ---
    def exact(self, node, tensor, what: str) -> fmpq_mat:
        """An exact matrix (2-D) or column (1-D or scalar) of a constant tensor."""
        torch = self.torch
        key = id(tensor)
        hit = self._exact_cache.get(key)
        if hit is not None and hit[0] is tensor:
            return hit[1]
        if isinstance(tensor, (int, float)):
            m = exact_vector([tensor], f"{self.where}: {what} at {self.place(node)}")
        else:
            t = tensor.detach().cpu()
            if t.is_floating_point():
                t = t.double()
            elif t.dtype == torch.bool or t.is_complex():
                self.refuse(node, f"{what} has the type {t.dtype}, not real numbers")
            where = f"{self.where}: {what} at {self.place(node)}"
            if t.dim() == 2:
                m = exact_matrix(t.tolist(), where) if t.shape[0] else fmpq_mat(0, t.shape[1])
            elif t.dim() <= 1:
                m = exact_vector(t.reshape(-1).tolist(), where)
            else:
                self.refuse(node, f"{what} has shape {tuple(t.shape)}, expected a matrix or a vector")
        self._exact_cache[key] = (tensor, m)
        return m

    def per_sample(self, node, value, width: int, rank: int, what: str) -> tuple[list, int]:
        """A constant broadcast against a (batch, width) value: its per-sample entries and the
        broadcast width.  Scalars, (n,), (1, n) and (1,) broadcast; anything that would vary
        over the batch or mix samples is refused."""
        torch = self.torch
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [to_q(value)], 1
        if not isinstance(value, torch.Tensor):
            self.refuse(node, f"{what} is a {type(value).__name__}, not a number or a tensor")
        return self.per_sample_entries(node, value, tuple(value.shape), width, rank, what)

    # --- affine values ---
    def sample_shape(self, node) -> tuple[int, int]:
        """(rank, width) of the node's result, which must be (batch, n) or (batch,)."""
        val = node.meta.get("val")
        shape = tuple(getattr(val, "shape", ()))
        if len(shape) == 2 and str(shape[0]) == str(self.batch) and isinstance(shape[1], int):
            return 2, shape[1]
        if len(shape) == 1 and str(shape[0]) == str(self.batch):
            return 1, 1
        self.refuse(node, f"the result has the shape {list(shape)}; exactconvex reads models whose values "
                          f"keep the form (batch, features)")

    # --- the walk ---
    def read(self) -> Network:
        torch = self.torch
        ep = self.ep
        constants: dict = {}
        user_inputs = []
        for spec in ep.graph_signature.input_specs:
            kind = spec.kind.name
            name = getattr(spec.arg, "name", None)
            if kind in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR"):
                target = spec.target
                if target in ep.state_dict:
                    constants[name] = ep.state_dict[target]
                elif target in ep.constants:
                    constants[name] = ep.constants[target]
                else:
                    raise FormatError(f"{self.where}: the program has no value for its {kind.lower()} {target!r}")
            elif kind == "USER_INPUT":
                user_inputs.append(spec)
            else:
                raise FormatError(f"{self.where}: the program has an input of kind {kind} ({name}); "
                                  f"exactconvex reads programs with one input tensor and parameters")
        if len(user_inputs) != 1 or not hasattr(user_inputs[0].arg, "name") or \
                type(user_inputs[0].arg).__name__ != "TensorArgument":
            raise FormatError(f"{self.where}: the model takes {len(user_inputs)} inputs; exactconvex reads models "
                              f"with exactly one input tensor of shape (batch, d)")
        x_name = user_inputs[0].arg.name
        env: dict = {}
        out_value = None
        for node in ep.graph.nodes:
            if node.op == "placeholder":
                if node.name == x_name:
                    shape = tuple(getattr(node.meta.get("val"), "shape", ()))
                    if len(shape) != 2 or not isinstance(shape[1], int):
                        raise FormatError(f"{self.where}: the model's input has the shape {list(shape)}; "
                                          f"exactconvex reads models whose input has the shape (batch, d)")
                    self.batch = shape[0]
                    self.state = GraphState(shape[1])
                    env[node] = self.state.input()
                else:
                    env[node] = constants.get(node.name)
            elif node.op == "call_function":
                args = torch.fx.node.map_arg(node.args, lambda n: env[n])
                kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: env[n])
                env[node] = self.call(node, args, kwargs)
            elif node.op == "output":
                outs = node.args[0]
                outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
                user = [o for o, spec in zip(outs, ep.graph_signature.output_specs)
                        if spec.kind.name == "USER_OUTPUT"]
                if len(user) != 1:
                    raise FormatError(f"{self.where}: the model returns {len(user)} values; exactconvex reads "
                                      f"models that return one tensor of shape (batch, m) or (batch,)")
                out_value = env[user[0]] if isinstance(user[0], torch.fx.Node) else user[0]
                out_node = user[0]
            else:
                raise FormatError(f"{self.where}: cannot read the graph node '{node.name}' ({node.op}): "
                                  f"control flow and submodule calls are not supported")
        if self.state is None:
            raise FormatError(f"{self.where}: the program has no input")
        out_value = trailing_activation_check(self.where, out_value, "a Linear layer")
        del out_node
        return build_network(self.state, out_value)

    def call(self, node, args, kwargs):
        torch = self.torch
        flat = []
        torch.utils._pytree.tree_map(lambda v: flat.append(v), (args, kwargs))
        if not any(isinstance(v, Affine) for v in flat):
            return self.fold(node, args, kwargs)
        if node.target is operator.getitem:
            return args[0][args[1]]
        op = self.opname(node)
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            if op in _IDENTITY_OPS:
                return self.op_identity(node, args, kwargs)
            if op in _RESHAPE_OPS:
                return self.op_reshape(node, args, kwargs)
            if op in _DROPOUT_OPS:
                return self.op_dropout(node, args, kwargs)
            self.unsupported(node)
        result = handler(node, args, kwargs)
        if isinstance(result, Affine):
            self.check_width(node, result)
        return result

    def check_width(self, node, value: Affine) -> None:
        """The value read must have the shape the program records for this node (a misreading would
        be caught by the comparison too, but here it is named where it happens)."""
        shape = tuple(getattr(node.meta.get("val"), "shape", None) or ())
        if not shape:
            return
        rank, width = (2, shape[1]) if len(shape) == 2 else (1, 1)
        if len(shape) > 2 or value.rank != rank or (isinstance(width, int) and value.width != width):
            raise FormatError(f"{self.where}: the value read at {self.place(node)} has {value.width} features "
                              f"(rank {value.rank}), the program says shape {list(shape)}; this is a bug in "
                              f"exactconvex's reader, please report it")

    def fold(self, node, args, kwargs):
        """An operation on constants only: computed by PyTorch, float tensors in float64."""
        torch = self.torch
        target = node.target
        if hasattr(target, "tags") and torch.Tag.nondeterministic_seeded in target.tags:
            self.refuse(node, f"the operation {self.opname(node)} draws random numbers")

        def widen(v):
            if isinstance(v, torch.Tensor) and v.is_floating_point() and v.dtype != torch.float64:
                return v.detach().double()
            return v

        args64 = torch.utils._pytree.tree_map(widen, args)
        kwargs64 = torch.utils._pytree.tree_map(widen, kwargs)
        if "dtype" in kwargs64 and kwargs64["dtype"] in (torch.float32, torch.float16, torch.bfloat16):
            kwargs64 = dict(kwargs64, dtype=torch.float64)
        try:
            with torch.no_grad():
                result = target(*args64, **kwargs64)
        except Exception as exc:
            self.refuse(node, f"cannot compute the constant {self.opname(node)} ({first_line(exc)})")
        op = self.opname(node)
        if op not in _EXACT_FOLDS and isinstance(result, torch.Tensor) and result.is_floating_point():
            self.note_rounded_fold(("fold", op, self.place(node)), op, node)
        return result

    # --- affine operations ---
    def op_linear(self, node, args, kwargs):
        x = self.affine(node, args[0])
        W = args[1]
        b = args[2] if len(args) > 2 else kwargs.get("bias")
        if isinstance(W, Affine) or isinstance(b, Affine):
            self.refuse(node, "a Linear whose weight or bias depends on the input is not affine")
        if W.dim() != 2 or W.shape[1] != x.width or x.rank != 2:
            self.refuse(node, f"a Linear weight of shape {tuple(W.shape)} on a value of width {x.width}")
        out = x.left_mul(self.exact(node, W, "the weight"))
        if b is not None:
            out = out.add_const(self.exact(node, b.reshape(-1), "the bias"))
        return out

    def op_addmm(self, node, args, kwargs):
        bias, m1, m2 = args[0], args[1], args[2]
        beta, alpha = to_q(kwargs.get("beta", 1)), to_q(kwargs.get("alpha", 1))
        if not isinstance(m1, Affine) or isinstance(m2, Affine) or isinstance(bias, Affine):
            self.refuse(node, "a matrix product is affine only as (value depending on the input) @ constant")
        out = self.op_mm(node, (m1, m2), {}).scale(alpha)
        entries, n = self.per_sample(node, bias, out.width, 2, "the added bias")
        return out.add_const(self.column(entries, out.width, beta))

    def op_mm(self, node, args, kwargs):
        a, b = args[0], args[1]
        if not isinstance(a, Affine) or isinstance(b, Affine) or a.rank != 2:
            self.refuse(node, "a matrix product is affine only as (batch, n) value depending on the input "
                              "@ constant matrix")
        if b.dim() == 2 and b.shape[0] == a.width:
            return a.left_mul(self.exact(node, b, "the matrix").transpose())
        if b.dim() == 1 and b.shape[0] == a.width:
            return a.left_mul(self.exact(node, b, "the vector").transpose()).with_rank(1)
        self.refuse(node, f"a product of a (batch, {a.width}) value with a constant of shape {tuple(b.shape)}")

    op_matmul = op_mm

    def _combine(self, node, a, b, alpha, sign):
        """a + sign * alpha * b, either of them constant."""
        return self.combine(node, a, b, to_q(alpha) * sign)

    def op_add(self, node, args, kwargs):
        return self._combine(node, args[0], args[1], kwargs.get("alpha", 1), 1)

    def op_sub(self, node, args, kwargs):
        return self._combine(node, args[0], args[1], kwargs.get("alpha", 1), -1)

    def op_rsub(self, node, args, kwargs):
        return self._combine(node, args[1], args[0], kwargs.get("alpha", 1), -1)

    def op_mul(self, node, args, kwargs):
        return self.multiply(node, args[0], args[1])

    def op_div(self, node, args, kwargs):
        if kwargs.get("rounding_mode") is not None:
            self.refuse(node, f"a division with rounding_mode={kwargs['rounding_mode']!r} is not affine")
        return self.divide(node, args[0], args[1])

    def op_neg(self, node, args, kwargs):
        return self.affine(node, args[0]).scale(fmpq(-1))

    # --- activations ---
    def op_relu(self, node, args, kwargs):
        return self.activation(node, args[0], [fmpq(0)])

    def op_leaky_relu(self, node, args, kwargs):
        s = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
        return self.activation(node, args[0], [to_q(float(s))])

    def op_prelu(self, node, args, kwargs):
        w = args[1]
        if isinstance(w, Affine):
            self.refuse(node, "a PReLU slope that depends on the input")
        x = self.affine(node, args[0])
        entries = list(self.exact(node, w.reshape(-1), "the PReLU slope").entries())
        if len(entries) not in (1, x.width):
            self.refuse(node, f"a PReLU with {len(entries)} slopes on {x.width} features")
        return self.activation(node, x, entries)

    def op_clamp(self, node, args, kwargs):
        lo = args[1] if len(args) > 1 else kwargs.get("min")
        hi = args[2] if len(args) > 2 else kwargs.get("max")
        if hi is None and isinstance(lo, (int, float)) and lo == 0:
            return self.op_relu(node, args[:1], {})
        self.unsupported(node, f"min={lo}, max={hi}; only clamp(min=0), which is ReLU, is piecewise linear "
                               f"with one kink at 0")

    def op_clamp_min(self, node, args, kwargs):
        return self.op_clamp(node, (args[0], args[1]), {})

    # --- identities and shapes ---
    def op_identity(self, node, args, kwargs):
        x = self.affine(node, args[0])
        src = node.args[0]
        dtype_in = getattr(src.meta.get("val"), "dtype", None) if hasattr(src, "meta") else None
        dtype_out = getattr(node.meta.get("val"), "dtype", None)
        if dtype_in is not None and dtype_out is not None and dtype_in != dtype_out:
            self.refuse(node, f"a conversion from {dtype_in} to {dtype_out} rounds, it is not affine")
        return x.kept()

    def op_reshape(self, node, args, kwargs):
        x = self.affine(node, args[0])
        rank, width = self.sample_shape(node)
        if width != x.width:
            self.refuse(node, f"a reshape of {x.width} features into {width}")
        return x.kept().with_rank(rank)

    def op_dropout(self, node, args, kwargs):
        train = args[2] if len(args) > 2 else kwargs.get("train", False)
        if train:
            self.refuse(node, "Dropout in training mode is random: call model.eval() before reading the model")
        return self.affine(node, args[0]).kept()

    def op_native_dropout(self, node, args, kwargs):
        train = args[2] if len(args) > 2 else kwargs.get("train")
        if train or train is None:
            self.refuse(node, "Dropout in training mode is random: call model.eval() before reading the model")
        return (self.affine(node, args[0]).kept(), None)

    def op_slice(self, node, args, kwargs):
        x = self.affine(node, args[0])
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        start = args[2] if len(args) > 2 else kwargs.get("start")
        end = args[3] if len(args) > 3 else kwargs.get("end")
        step = args[4] if len(args) > 4 else kwargs.get("step", 1)
        dim = dim + x.rank if dim < 0 else dim
        if dim == 0:
            rank, width = self.sample_shape(node)
            if (start in (None, 0)) and step == 1 and str(self.sample_batch(node)) == str(self.batch):
                return x.kept()
            self.refuse(node, "a slice over the samples (batch dimension)")
        if x.rank != 2 or dim != 1:
            self.refuse(node, f"a slice along dimension {dim}")
        index = list(range(*slice(start, end, step).indices(x.width)))
        return x.rows(index, self.state.source_widths)

    def sample_batch(self, node):
        shape = tuple(getattr(node.meta.get("val"), "shape", ()))
        return shape[0] if shape else None

    def op_select(self, node, args, kwargs):
        x = self.affine(node, args[0])
        dim, index = args[1], args[2]
        dim = dim + x.rank if dim < 0 else dim
        if x.rank != 2 or dim != 1:
            self.refuse(node, "selecting samples (along the batch dimension)")
        index = index + x.width if index < 0 else index
        return x.rows([index], self.state.source_widths).with_rank(1)

    def op_index_select(self, node, args, kwargs):
        x = self.affine(node, args[0])
        dim, index = args[1], args[2]
        dim = dim + x.rank if dim < 0 else dim
        if x.rank != 2 or dim != 1 or isinstance(index, Affine):
            self.refuse(node, "index_select outside the features")
        idx = [int(i) % x.width for i in index.reshape(-1).tolist()]
        return x.rows(idx, self.state.source_widths)

    def op_cat(self, node, args, kwargs):
        parts = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not all(isinstance(p, Affine) and p.rank == 2 for p in parts):
            self.refuse(node, "cat of a constant block with values that depend on the input")
        if dim not in (1, -1):
            self.refuse(node, f"cat along dimension {dim} (only the features, dimension 1, keep samples apart)")
        return Affine.concat(parts, self.state.source_widths)

    def _reduce(self, node, args, kwargs, mean: bool):
        x = self.affine(node, args[0])
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        dims = [dims] if isinstance(dims, int) else list(dims or [])
        if x.rank != 2 or [d % 2 for d in dims] != [1]:
            self.refuse(node, f"{self.opname(node)} over dimensions {dims} mixes samples")
        c = fmpq(1, x.width) if mean else fmpq(1)
        out = x.left_mul(fmpq_mat(1, x.width, [c] * x.width))
        return out if keepdim else out.with_rank(1)

    def op_sum(self, node, args, kwargs):
        return self._reduce(node, args, kwargs, mean=False)

    def op_mean(self, node, args, kwargs):
        return self._reduce(node, args, kwargs, mean=True)

    # --- BatchNorm ---
    def batch_norm(self, node, x, weight, bias, mean, var, eps):
        torch = self.torch
        x = self.affine(node, x)
        if any(isinstance(v, Affine) for v in (weight, bias, mean, var)):
            self.refuse(node, "BatchNorm parameters that depend on the input")
        if mean is None or var is None:
            self.refuse(node, "BatchNorm without running statistics uses the statistics of the batch "
                              "(track_running_stats=False): not a function of one sample")
        if x.rank != 2:
            self.refuse(node, "BatchNorm on a (batch,) value")
        var64 = var.detach().double().reshape(-1)
        gamma64 = weight.detach().double().reshape(-1) if weight is not None else torch.ones_like(var64)
        scale64 = gamma64 / torch.sqrt(var64 + float(eps))
        if scale64.numel() != x.width:
            self.refuse(node, f"BatchNorm over {scale64.numel()} features on a value of width {x.width}")
        scale = list(self.exact(node, scale64, "the BatchNorm scale gamma/sqrt(var+eps)").entries())
        mu = list(self.exact(node, mean.reshape(-1), "the BatchNorm running mean").entries())
        beta = list(self.exact(node, bias.reshape(-1), "the BatchNorm bias").entries()) if bias is not None \
            else [fmpq(0)] * x.width
        shift = fmpq_mat(x.width, 1, [b - m * s for b, m, s in zip(beta, mu, scale)])
        self.note(("bn", node.name),
                  f"BatchNorm at {self.place(node)}: its scale gamma/sqrt(running_var + eps) is irrational in "
                  f"general; the exact network uses the float64 value of that scale (computed in float64) read "
                  f"as an exact binary fraction, and the shift beta - mean * scale exactly from it, so it equals "
                  f"the model up to that rounding (relative 2^-53 per scale)")
        return x.scale_rows(scale).add_const(shift)

    def op_batch_norm(self, node, args, kwargs):
        x, w, b, mean, var, training, _momentum, eps = args[:8]
        if training:
            self.refuse(node, "BatchNorm in training mode uses the statistics of the batch: call model.eval() "
                              "before reading the model")
        return self.batch_norm(node, x, w, b, mean, var, eps)

    def op__native_batch_norm_legit_no_training(self, node, args, kwargs):
        x, w, b, mean, var, _momentum, eps = args[:7]
        return (self.batch_norm(node, x, w, b, mean, var, eps), None, None)

    def op_native_batch_norm(self, node, args, kwargs):
        x, w, b, mean, var, training, _momentum, eps = args[:8]
        if training:
            self.refuse(node, "BatchNorm in training mode uses the statistics of the batch: call model.eval() "
                              "before reading the model")
        return (self.batch_norm(node, x, w, b, mean, var, eps), None, None)

    def op__native_batch_norm_legit_functional(self, node, args, kwargs):
        self.refuse(node, "BatchNorm in training mode uses the statistics of the batch: call model.eval() "
                          "before reading the model")

    op__native_batch_norm_legit = op__native_batch_norm_legit_functional


def _functional(ep, where: str):
    """The program with in-place operations replaced by their functional forms (the graph's data
    flow is then the real one); programs without in-place operations are already functional."""
    if not any(node.op == "call_function" and getattr(getattr(node.target, "_schema", None), "is_mutable", False)
               for node in ep.graph.nodes):
        return ep  # functionalizing costs about a second: only when needed
    try:
        with _quiet():
            return ep.run_decompositions({})
    except Exception as exc:
        raise FormatError(f"{where}: the program could not be functionalized by torch.export "
                          f"({first_line(exc)})") from None


def _program_network(ep, where: str) -> tuple[Network, list]:
    reader = _ProgramReader(_functional(ep, where), where)
    net = reader.read()
    return net, reader.state.notes


def _finish(net: Network, notes: list, summary: dict, source: str) -> Network:
    net.notes = list(notes)
    net.provenance = {"source": source, "comparison": summary, "comparison_note": comparison_note(summary)}
    return net


def _runner(torch, module, dtype, batch=None):
    """run(X) for graph.compare: the module's outputs at the rows of X, in ``dtype``."""
    def run(X):
        import numpy as np

        xs = torch.as_tensor(np.asarray(X), dtype=dtype)
        outs = []
        step = batch if isinstance(batch, int) and batch > 0 else len(xs)
        with torch.no_grad():
            for i in range(0, len(xs), step):
                chunk = xs[i:i + step]
                n = len(chunk)
                if n < step:  # a program exported for a fixed batch size: pad the last chunk
                    chunk = torch.cat([chunk, torch.zeros((step - n,) + tuple(chunk.shape[1:]), dtype=dtype)])
                out = module(chunk)
                if isinstance(out, (tuple, list)):
                    if len(out) != 1:
                        raise FormatError(f"the model returns {len(out)} values")
                    out = out[0]
                out = out.detach().to(torch.float64).reshape(len(chunk), -1)[:n]
                outs.append(out)
        return torch.cat(outs).numpy()
    return run


def _compare_module(torch, net, module, where, input_dtype, batch=None) -> dict:
    """Compare with the module's forward pass: a float64 copy if it runs, else the module as it is."""
    try:
        with _quiet():
            double = copy.deepcopy(module).double()
            summary = compare(net, _runner(torch, double, torch.float64, batch), "float64", where)
        return summary
    except FormatError as exc:
        if "does not compute what the model computes" in str(exc):
            raise
        failure = exc
    except Exception as exc:  # the copy or the float64 run failed: compare in the model's own precision
        failure = exc
    if input_dtype not in (torch.float32,):
        raise FormatError(f"{where}: the model could not be run in float64 to compare it with the exact network "
                          f"({first_line(failure)})")
    try:
        with _quiet():
            return compare(net, _runner(torch, module, torch.float32, batch), "float32", where)
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{where}: the model's forward pass failed while comparing it with the exact network "
                          f"({first_line(exc)})") from None


def read_exported_program(ep, where: str = "the exported program") -> Network:
    """The exact network of a ``torch.export.ExportedProgram``, compared with the program's forward pass.

    Examples
    --------
    >>> import torch
    >>> ep = torch.export.export(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
    ...                                              torch.nn.Linear(3, 1)), (torch.zeros(1, 2),))
    >>> read_exported_program(ep).widths
    [2, 3, 1]
    """
    torch = _torch()
    net, notes = _program_network(ep, where)
    x_val = None
    for node in ep.graph.nodes:
        if node.op == "placeholder" and any(spec.kind.name == "USER_INPUT" and getattr(spec.arg, "name", None)
                                            == node.name for spec in ep.graph_signature.input_specs):
            x_val = node.meta.get("val")
    batch = x_val.shape[0] if x_val is not None else None
    batch = batch if isinstance(batch, int) else None
    try:
        with _quiet():
            module = ep.module()
    except Exception as exc:
        raise FormatError(f"{where}: cannot build the program's module to run it ({first_line(exc)})") from None
    summary = _compare_module(torch, net, module, where, getattr(x_val, "dtype", torch.float32), batch)
    return _finish(net, notes, summary, where)


def _input_dim(torch, module) -> int:
    """d such that the module runs on (2, d) inputs, found on the meta device (see the module docstring)."""
    candidates = sorted({m.in_features for m in module.modules() if isinstance(m, torch.nn.Linear)} |
                        {m.num_features for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)} |
                        {n for p in module.parameters() if p.dim() == 2 for n in p.shape})
    if not candidates:
        raise FormatError(f"cannot tell the input dimension of {type(module).__name__} (it has no Linear layer): "
                          f"pass example_input=torch.zeros(1, d)")
    try:
        with _quiet():
            meta = copy.deepcopy(module).to("meta")
    except Exception as exc:
        raise FormatError(f"cannot tell the input dimension of {type(module).__name__} ({first_line(exc)}): "
                          f"pass example_input=torch.zeros(1, d)") from None
    dtype = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)
    fits = []
    for device, copy_ in (("meta", meta), ("cpu", None)):
        if device == "cpu":  # the meta device cannot run data-dependent code: a real run of a copy
            try:
                with _quiet():
                    copy_ = copy.deepcopy(module)
            except Exception:
                break
        for d in candidates:
            try:
                with _quiet(), torch.no_grad():
                    copy_(torch.zeros(2, d, dtype=dtype, device=device))
                fits.append(d)
            except Exception:
                continue
        if fits:
            break
    if len(fits) != 1:
        found = "no candidate input dimension" if not fits else f"several input dimensions ({fits})"
        raise FormatError(f"cannot tell the input dimension of {type(module).__name__}: {found} fit(s) its "
                          f"layers; pass example_input=torch.zeros(1, d)")
    return fits[0]


def from_torch(model, example_input=None) -> Network:
    """The exact network of a PyTorch model, read from its graph (``torch.export``).

    Parameters
    ----------
    model : torch.nn.Module or torch.export.ExportedProgram
        Any module whose ``forward`` is built from affine maps and ReLU / LeakyReLU (see the
        module docstring); an ``ExportedProgram`` is read as it is.
    example_input : torch.Tensor, optional
        An input of shape (batch, d) for ``torch.export``; by default d is found from the
        model's layers.

    Returns
    -------
    Network
        With ``net.notes`` (what is not exact, e.g. BatchNorm scales) and ``net.provenance``
        (the comparison with the model's forward pass).  Raises ``FormatError`` for anything
        else, naming the operation and where it is.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.LeakyReLU(0.5), torch.nn.Linear(2, 1))
    >>> net = from_torch(model)
    >>> net.slopes, net.provenance["comparison"]["points"]
    ([1/2], 112)
    >>> from_torch(torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)))
    Traceback (most recent call last):
        ...
    exactconvex.network.formats.FormatError: Sequential: cannot read the operation Tanh: ... at module '1' (Tanh)...
    """
    torch = _torch()
    if isinstance(model, Mapping):
        raise FormatError("a state_dict holds only tensors and does not say which activation sits between its "
                          "layers: pass the module itself, or use exactconvex.bridges.from_state_dict(state, "
                          "'relu' or 'leaky_relu:S'); or " + SAVE_WITH_GRAPH_HINT)
    if isinstance(model, torch.export.ExportedProgram):
        return read_exported_program(model)
    if not isinstance(model, torch.nn.Module):
        raise FormatError(f"expected a torch.nn.Module or a torch.export.ExportedProgram, got {type(model).__name__}")
    name = type(model).__name__
    if example_input is None:
        d = _input_dim(torch, model)
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
        example_input = torch.zeros(2, d, dtype=dtype)
    if not isinstance(example_input, torch.Tensor) or example_input.dim() != 2:
        raise FormatError(f"example_input must be a tensor of shape (batch, d), got "
                          f"{getattr(example_input, 'shape', type(example_input).__name__)}")
    try:
        with _quiet():
            ep = torch.export.export(model, (example_input,), strict=False)
    except Exception as exc:
        raise FormatError(f"{name}: torch.export could not capture the model's forward ({type(exc).__name__}: "
                          f"{first_line(exc)}); data-dependent control flow and operations on non-tensor data "
                          f"are not supported") from None
    net, notes = _program_network(ep, name)
    summary = _compare_module(torch, net, model, name, example_input.dtype)
    return _finish(net, notes, summary, f"the module {name} (torch.export)")


# ----- state_dicts (bare tensors) -------------------------------------------------------------

def parse_state_dict_activation(text) -> fmpq:
    """The slope declared by ``relu`` or ``leaky_relu:S`` (S an exact number: ``1/2``, ``0.01`` = 1/100).

    >>> parse_state_dict_activation("leaky_relu:1/2")
    1/2
    """
    if isinstance(text, str) and text.strip() == "relu":
        return fmpq(0)
    if isinstance(text, str) and text.startswith("leaky_relu:"):
        try:
            return to_q(text[len("leaky_relu:"):])
        except NumberError as exc:
            raise FormatError(f"state_dict activation {text!r}: {exc}") from None
    raise FormatError(f"state_dict activation {text!r}: expected 'relu' or 'leaky_relu:S' with S an exact number "
                      f"(for example leaky_relu:1/2 or leaky_relu:0.01)")


def _chain_order(state: Mapping, where: str) -> list:
    groups: dict[str, dict] = {}
    for key, value in state.items():
        prefix, _, name = str(key).rpartition(".")
        if name not in ("weight", "bias"):
            raise FormatError(f"{where}: unexpected entry {key!r}: a state_dict read with a declared activation "
                              f"may hold only Linear weights and biases; " + SAVE_WITH_GRAPH_HINT)
        groups.setdefault(prefix, {})[name] = value
    # a state_dict lists modules in registration order; numbered prefixes inside one container
    # ("0", "2", ... of a Sequential) are sorted by number, named ones kept in the order given
    prefixes = list(groups)
    split = [p.rpartition(".") for p in prefixes]
    if all(t.isdigit() for _, _, t in split) and len({h for h, _, _ in split}) == 1:
        prefixes.sort(key=lambda p: int(p.rpartition(".")[2]))
    params = []
    for prefix in prefixes:
        g = groups[prefix]
        if "weight" not in g:
            raise FormatError(f"{where}: {prefix!r} has a bias but no weight")
        params.append((prefix, g["weight"], g.get("bias")))
    if not params:
        raise FormatError(f"{where}: no Linear weights found")
    return params


def from_state_dict(state: Mapping, activation, where: str = "state_dict") -> Network:
    """A bare state_dict read as a chain of Linear layers with the declared activation between them.

    ``activation`` is ``"relu"`` or ``"leaky_relu:S"`` (or the slope itself).  The layers are
    taken in the state_dict's order (numbered Sequential entries by number); their shapes must
    chain.  The result is compared with the same chain computed by PyTorch in float64.

    Examples
    --------
    >>> import torch
    >>> sd = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)).state_dict()
    >>> from_state_dict(sd, "leaky_relu:1/2").slopes
    [1/2]
    """
    torch = _torch()
    slope = parse_state_dict_activation(activation) if isinstance(activation, str) else to_q(activation)
    params = _chain_order(state, where)
    state_ = GraphState(0)
    value = None
    weights = []
    for i, (prefix, w, b) in enumerate(params):
        if not isinstance(w, torch.Tensor) or w.dim() != 2 or (b is not None and (
                not isinstance(b, torch.Tensor) or b.dim() != 1 or b.shape[0] != w.shape[0])):
            raise FormatError(f"{where}: {prefix!r} is not a Linear layer (weight {tuple(getattr(w, 'shape', ()))}, "
                              f"bias {tuple(getattr(b, 'shape', ())) if b is not None else None})")
        if i == 0:
            state_ = GraphState(int(w.shape[1]))
            value = state_.input()
        elif w.shape[1] != value.width:
            raise FormatError(f"{where}: {prefix!r} takes {w.shape[1]} inputs but the layer before it ("
                              f"{params[i - 1][0]!r}) has {value.width} outputs: the tensors do not form a chain "
                              f"in this order; " + SAVE_WITH_GRAPH_HINT)
        if i > 0:
            value = state_.activation(value, [slope] * value.width, f"the activation after {params[i - 1][0]!r}")
        W = exact_matrix(w.detach().double().tolist(), f"{where}: {prefix}.weight")
        value = value.left_mul(W)
        if b is not None:
            value = value.add_const(exact_vector(b.detach().double().tolist(), f"{where}: {prefix}.bias"))
        weights.append((w, b))
    net = build_network(state_, value)

    def chain(x):
        h = x
        for i, (w, b) in enumerate(weights):
            if i > 0:
                h = torch.where(h > 0, h, h * float(slope))
            h = torch.nn.functional.linear(h, w.double(), None if b is None else b.double())
        return h

    summary = compare(net, _runner(torch, chain, torch.float64), "float64", where)
    act = "ReLU" if slope == 0 else f"LeakyReLU({slope})"
    return _finish(net, [f"{where} holds only tensors: read as a chain of Linear layers with {act} between "
                         f"consecutive ones, as declared"], summary, where)


# ----- files ---------------------------------------------------------------------------------------

def read_torch(path, state_dict_activation=None) -> Network:
    """A ``.pt`` / ``.pth`` file: a bare state_dict, opened with ``weights_only=True``.

    It does not carry its graph, so it is refused unless ``state_dict_activation`` declares the
    activation (``"relu"`` or ``"leaky_relu:S"``).
    """
    torch = _torch()
    p = os.fspath(path)
    if state_dict_activation is not None:
        parse_state_dict_activation(state_dict_activation)  # a bad declaration is reported first
    try:
        with _quiet():
            obj = torch.load(p, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise FormatError(f"{p}: no such file") from None
    except Exception as exc:  # torch raises many types for bad files
        raise FormatError(f"{p} is not a loadable PyTorch weights file (only state_dicts load with "
                          f"weights_only=True, a pickled module would run arbitrary code): {first_line(exc)}; "
                          + SAVE_WITH_GRAPH_HINT) from None
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise FormatError(f"{p}: expected a state_dict (names to tensors), got {type(obj).__name__}; "
                          + SAVE_WITH_GRAPH_HINT)
    if state_dict_activation is None:
        raise FormatError(f"{p} holds only tensors (a state_dict): it does not say which activation sits between "
                          f"its layers, and exactconvex does not guess. Declare it with --state-dict-activation "
                          f"relu or --state-dict-activation leaky_relu:S (Python: load(path, "
                          f"state_dict_activation=...)), or " + SAVE_WITH_GRAPH_HINT)
    return from_state_dict(obj, state_dict_activation, p)


def read_pt2(path) -> Network:
    """A ``.pt2`` file written by ``torch.export.save``: read by its graph and compared with its forward pass."""
    torch = _torch()
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FormatError(f"{p}: no such file")
    try:
        with _quiet():
            ep = torch.export.load(p)
    except Exception as exc:
        raise FormatError(f"{p} is not a program saved by torch.export.save ({first_line(exc)})") from None
    return read_exported_program(ep, p)


# ----- back out ------------------------------------------------------------------------------------

def to_torch(net: Network, dtype=None, rounding=None):
    """A plain PyTorch module computing the network (float64 by default).

    Parameters
    ----------
    net : Network
    dtype : torch.float64 (default) or torch.float32
    rounding : None or "nearest"
        None: every weight, bias, skip and slope must be exactly representable in ``dtype``
        (checked exactly), otherwise ``FormatError``.  "nearest": round each to the nearest
        value; a ``RoundingWarning`` and ``model.meta["exactconvex"]`` give the largest
        absolute change.

    Returns
    -------
    torch.fx.GraphModule
        Class ``ExactNetwork``, made of ``nn.Linear`` (``layer{l}``, ``skip{l}_from{k}``),
        ``nn.ReLU`` / ``nn.LeakyReLU`` (``act{l}``); it loads without exactconvex.

    Examples
    --------
    >>> import torch
    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1]], "slope": "1/2"}, {"weight": [[1]], "skip": {0: [[1]]}}])
    >>> model = to_torch(net)
    >>> model(torch.tensor([[-2.0]], dtype=torch.float64)).item()
    -3.0
    >>> from_torch(model) == net
    True
    """
    torch = _torch()
    precision = precision_name(dtype)
    tdtype = torch.float64 if precision == "float64" else torch.float32
    floats, report = network_floats(net, precision, rounding)
    root = torch.nn.Module()
    graph = torch.fx.Graph()
    h = {0: graph.placeholder("x")}
    widths = net.widths
    for l, (layer, fl) in enumerate(zip(net.layers, floats), start=1):
        lin = torch.nn.Linear(widths[l - 1], widths[l], dtype=tdtype)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(fl["weight"], dtype=tdtype).reshape(widths[l], widths[l - 1]))
            lin.bias.copy_(torch.tensor(fl["bias"], dtype=tdtype))
        root.add_module(f"layer{l}", lin)
        z = graph.call_module(f"layer{l}", (h[l - 1],))
        for k, rows in fl["skip"].items():
            name = f"skip{l}_from{k}"
            skip = torch.nn.Linear(widths[k], widths[l], bias=False, dtype=tdtype)
            with torch.no_grad():
                skip.weight.copy_(torch.tensor(rows, dtype=tdtype).reshape(widths[l], widths[k]))
            root.add_module(name, skip)
            z = graph.call_function(operator.add, (z, graph.call_module(name, (h[k],))))
        if l < net.depth:
            act = torch.nn.ReLU() if layer.slope == 0 else torch.nn.LeakyReLU(fl["slope"])
            root.add_module(f"act{l}", act)
            h[l] = graph.call_module(f"act{l}", (z,))
        else:
            graph.output(z)
    model = torch.fx.GraphModule(root, graph, class_name="ExactNetwork")
    model.meta["exactconvex"] = report
    return model
