"""ONNX models in and out by their graph (the optional extra ``onnx``).

Reading (:func:`read_onnx`, :func:`from_onnx`): the graph's nodes are read in their order
(ONNX stores them topologically sorted) with the value model of ``graph.py``.  Supported on
values that depend on the input: ``Gemm`` (``transA`` = 0, ``transB``, ``alpha``, ``beta``),
``MatMul`` by a constant, ``Add``, ``Sub``, ``Mul`` and ``Div`` by constants (a division by c
is the exact multiplication by 1/c), ``Neg``, ``Relu``, ``LeakyRelu``, ``PRelu`` (constant
slopes), ``Identity``, ``Dropout`` (inference), ``Flatten`` / ``Reshape`` / ``Squeeze`` /
``Unsqueeze`` that keep the (batch, features) form, ``Concat``, ``Slice`` and ``Gather`` of
features, ``BatchNormalization`` in inference mode (its scale read as in the PyTorch bridge:
the float64 value of scale / sqrt(var + epsilon), noted in ``net.notes``).  Initializers and
``Constant`` nodes are constants; nodes whose inputs are all constant are computed by the
ONNX reference evaluator in float64.  Anything else is refused naming the operator and the
node.  Attributes are read as the exact values of the floats stored in the file (ONNX stores
``alpha`` of LeakyRelu as a float32: ``0.01`` there is 0.00999999977648258209228515625).

Every import is compared with the model's own forward pass: the model converted to float64
(initializers, constants, input and output types) and run by onnxruntime, or by
``onnx.reference.ReferenceEvaluator`` where onnxruntime is missing or lacks a float64
kernel; only when neither runs the float64 copy is the model run as it is, in float32.

Writing (:func:`save_onnx`): one ``Gemm`` per layer (``transB`` = 1, weights as
initializers), one more ``Gemm`` per skip connection added to it, ``Relu`` for ReLU layers;
LeakyReLU layers as ``LeakyRelu`` in float32 files, as ``PRelu`` with the slope as a float64
initializer in float64 files (``alpha`` of LeakyRelu is a float32, and onnxruntime has no
float64 LeakyRelu kernel).  Opset 17 (supported by every onnxruntime
since 1.13), IR version 8; the file passes ``onnx.checker.check_model``.  Exact where every
number is representable in the chosen type, as for ``to_torch``.
"""

from __future__ import annotations

import os

from flint import fmpq, fmpq_mat

from ..network.formats import FormatError, write_atomically
from ..network.model import Network
from ..numbers import to_q
from .graph import (Affine, GraphReader, GraphState, build_network, compare, comparison_note, exact_matrix,
                    exact_vector, first_line, network_floats, precision_name, trailing_activation_check)

__all__ = ["read_onnx", "from_onnx", "save_onnx", "OPSET", "IR_VERSION"]

OPSET = 17
IR_VERSION = 8


def _onnx():
    try:
        import onnx
    except ImportError:
        raise FormatError("reading or writing ONNX models needs the onnx package: pip install 'exactconvex[onnx]'"
                          ) from None
    return onnx


_EXACT_FOLDS = {"Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather",
                "Neg", "Abs", "Relu", "Shape", "Constant", "ConstantOfShape", "Max", "Min", "Clip", "Expand", "Cast"}


class _OnnxReader(GraphReader):
    def __init__(self, model, where: str):
        super().__init__(where)
        self.onnx = _onnx()
        self.model = model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)

    # --- naming and refusing ---
    @staticmethod
    def place(node) -> str:
        return f"node '{node.name}'" if node.name else f"the {node.op_type} node writing {list(node.output)}"

    def refuse(self, node, reason: str):
        raise FormatError(f"{self.where}: {reason}, at {self.place(node)} ({node.op_type})")

    def unsupported(self, node, detail: str = ""):
        extra = f" ({detail})" if detail else ""
        self.refuse(node, f"cannot read the operator {node.op_type}{extra}: it is not an affine map or a ReLU / "
                          f"LeakyReLU of values that depend on the input, so it has no exact (Leaky)ReLU network")

    def attrs(self, node) -> dict:
        helper = self.onnx.helper
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    # --- constants ---
    def exact(self, node, array, what: str) -> fmpq_mat:
        import numpy as np

        a = np.asarray(array)
        where = f"{self.where}: {what} at {self.place(node)}"
        if a.dtype.kind == "b" or a.dtype.kind == "c":
            self.refuse(node, f"{what} has the type {a.dtype}, not real numbers")
        if a.dtype.kind == "f":
            a = a.astype(np.float64)
        if a.ndim == 2:
            return exact_matrix(a.tolist(), where) if a.shape[0] else fmpq_mat(0, a.shape[1])
        if a.ndim <= 1:
            return exact_vector(a.reshape(-1).tolist(), where)
        self.refuse(node, f"{what} has shape {a.shape}, expected a matrix or a vector")

    def per_sample(self, node, value, width: int, rank: int, what: str) -> tuple[list, int]:
        import numpy as np

        a = np.asarray(value)
        return self.per_sample_entries(node, a, a.shape, width, rank, what)

    def affine(self, node, value, what: str = "this input") -> Affine:
        return super().affine(node, value, what)

    # --- the walk ---
    def read(self) -> Network:
        onnx = self.onnx
        from onnx import numpy_helper

        graph = self.model.graph
        env: dict = {}
        for init in graph.initializer:
            env[init.name] = numpy_helper.to_array(init)
        inputs = [i for i in graph.input if i.name not in env]
        if len(inputs) != 1:
            raise FormatError(f"{self.where}: the model has {len(inputs)} inputs; exactconvex reads models with "
                              f"exactly one input tensor of shape (batch, d)")
        x = inputs[0]
        dims = x.type.tensor_type.shape.dim
        if len(dims) != 2 or not dims[1].HasField("dim_value") or dims[1].dim_value < 1:
            shown = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
            raise FormatError(f"{self.where}: the input '{x.name}' has the shape {shown}; exactconvex reads "
                              f"models whose input has the shape (batch, d) with d fixed")
        self.state = GraphState(dims[1].dim_value)
        env[x.name] = self.state.input()
        for node in graph.node:
            if node.domain not in ("", "ai.onnx"):
                self.refuse(node, f"the operator {node.domain}.{node.op_type} is not a standard ONNX operator")
            args = [env[name] if name else None for name in node.input]
            missing = [name for name in node.input if name and name not in env]
            if missing:
                self.refuse(node, f"the input {missing[0]!r} is not computed before this node")
            if node.op_type == "Constant":
                results = [self.constant(node)]
            elif not any(isinstance(a, Affine) for a in args):
                results = self.fold(node, args)
            else:
                handler = getattr(self, f"op_{node.op_type}", None)
                if handler is None:
                    self.unsupported(node)
                results = handler(node, args, self.attrs(node))
                if not isinstance(results, (list, tuple)):
                    results = [results]
            for name, value in zip(node.output, results):
                if name:
                    env[name] = value
        if len(graph.output) != 1:
            raise FormatError(f"{self.where}: the model has {len(graph.output)} outputs; exactconvex reads models "
                              f"with one output tensor of shape (batch, m) or (batch,)")
        out = trailing_activation_check(self.where, env.get(graph.output[0].name), "a Gemm / MatMul")
        del onnx
        return build_network(self.state, out)

    def constant(self, node):
        import numpy as np
        from onnx import numpy_helper

        attrs = {a.name: a for a in node.attribute}
        if "value" in attrs:
            return numpy_helper.to_array(attrs["value"].t)
        helper = self.onnx.helper
        for key, conv in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                          ("value_ints", np.int64)):
            if key in attrs:
                return np.array(helper.get_attribute_value(attrs[key]), dtype=conv)
        self.refuse(node, "a Constant of a kind that is not a number tensor")

    def fold(self, node, args):
        """A node on constants only: computed by the ONNX reference evaluator, floats in float64."""
        import numpy as np
        from onnx.reference import ReferenceEvaluator

        if node.op_type in ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                            "Bernoulli"):
            self.refuse(node, f"the operator {node.op_type} draws random numbers")
        wide = [None if a is None else (a.astype(np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a))
                for a in args]
        feeds = {name: a for name, a in zip(node.input, wide) if name}
        node64 = node
        if node.op_type == "Cast":
            node64 = self.onnx.helper.make_node("Identity", list(node.input), list(node.output), name=node.name)
        try:
            results = ReferenceEvaluator(node64).run(None, feeds)
        except Exception as exc:
            self.refuse(node, f"cannot compute the constant {node.op_type} ({first_line(exc)})")
        if node.op_type not in _EXACT_FOLDS and any(np.asarray(r).dtype.kind == "f" for r in results):
            self.note_rounded_fold(("fold", node.op_type, node.name), node.op_type, node)
        return results

    # --- affine operators ---
    def op_Gemm(self, node, args, attrs):
        A, B = args[0], args[1]
        C = args[2] if len(args) > 2 else None
        alpha, beta = to_q(float(attrs.get("alpha", 1.0))), to_q(float(attrs.get("beta", 1.0)))
        if not isinstance(A, Affine) or isinstance(B, Affine) or isinstance(C, Affine) or attrs.get("transA", 0):
            self.refuse(node, "a Gemm is affine here only as (value depending on the input, not transposed) times "
                              "a constant matrix")
        import numpy as np

        Bm = np.asarray(B)
        if attrs.get("transB", 0):
            Bm = Bm.T
        if Bm.ndim != 2 or Bm.shape[0] != A.width:
            self.refuse(node, f"a Gemm of a (batch, {A.width}) value with a matrix of shape {Bm.shape}")
        out = A.left_mul(self.exact(node, Bm, "the matrix B").transpose()).scale(alpha)
        if C is not None:
            entries, n = self.per_sample(node, C, out.width, 2, "the matrix C")
            out = out.add_const(self.column(entries, out.width, beta))
        return out

    def op_MatMul(self, node, args, attrs):
        import numpy as np

        A, B = args
        if not isinstance(A, Affine) or isinstance(B, Affine) or A.rank != 2:
            self.refuse(node, "a MatMul is affine here only as (batch, n) value depending on the input times a "
                              "constant")
        Bm = np.asarray(B)
        if Bm.ndim == 2 and Bm.shape[0] == A.width:
            return A.left_mul(self.exact(node, Bm, "the matrix").transpose())
        if Bm.ndim == 1 and Bm.shape[0] == A.width:
            return A.left_mul(self.exact(node, Bm, "the vector").transpose()).with_rank(1)
        self.refuse(node, f"a MatMul of a (batch, {A.width}) value with a constant of shape {Bm.shape}")

    def op_Add(self, node, args, attrs):
        return self.combine(node, args[0], args[1], fmpq(1))

    def op_Sub(self, node, args, attrs):
        return self.combine(node, args[0], args[1], fmpq(-1))

    def op_Sum(self, node, args, attrs):
        out = args[0]
        for a in args[1:]:
            out = self.combine(node, out, a, fmpq(1))
        return out

    def op_Mul(self, node, args, attrs):
        return self.multiply(node, *args)

    def op_Div(self, node, args, attrs):
        return self.divide(node, *args)

    def op_Neg(self, node, args, attrs):
        return self.affine(node, args[0]).scale(fmpq(-1))

    # --- activations ---
    def op_Relu(self, node, args, attrs):
        return self.activation(node, args[0], [fmpq(0)])

    def op_LeakyRelu(self, node, args, attrs):
        return self.activation(node, args[0], [to_q(float(attrs.get("alpha", 0.01)))])

    def op_PRelu(self, node, args, attrs):
        import numpy as np

        x = self.affine(node, args[0])
        slope = args[1]
        if isinstance(slope, Affine):
            self.refuse(node, "a PRelu slope that depends on the input")
        s = np.asarray(slope)
        if s.size not in (1, x.width) or (s.ndim == 2 and s.shape[0] != 1) or s.ndim > 2:
            self.refuse(node, f"a PRelu slope of shape {s.shape} on a (batch, {x.width}) value")
        return self.activation(node, x, list(self.exact(node, s.reshape(-1), "the PRelu slope").entries()))

    # --- identities and shapes ---
    def op_Identity(self, node, args, attrs):
        return self.affine(node, args[0]).kept()

    def op_Dropout(self, node, args, attrs):
        import numpy as np

        training = args[2] if len(args) > 2 else None
        if isinstance(training, Affine) or (training is not None and bool(np.asarray(training))):
            self.refuse(node, "Dropout in training mode is random")
        if len(node.output) > 1 and node.output[1]:
            self.refuse(node, "the mask output of Dropout is used")
        return [self.affine(node, args[0]).kept()]

    def op_Flatten(self, node, args, attrs):
        x = self.affine(node, args[0])
        axis = attrs.get("axis", 1)
        if axis not in (1, -1) or x.rank != 2:
            self.refuse(node, f"a Flatten with axis={axis} mixes samples and features")
        return x.kept()

    def op_Reshape(self, node, args, attrs):
        import numpy as np

        x = self.affine(node, args[0])
        shape = [int(v) for v in np.asarray(args[1]).reshape(-1)]
        if len(shape) == 2 and shape[0] in (0, -1) and shape[1] in (x.width, -1) and shape != [-1, -1]:
            return x.kept().with_rank(2)
        if len(shape) == 1 and shape[0] in (-1, 0) and x.width == 1:
            return x.kept().with_rank(1)
        self.refuse(node, f"a Reshape of a (batch, {x.width}) value to {shape}")

    def _axes(self, node, args, attrs):
        import numpy as np

        if len(args) > 1 and args[1] is not None:
            return [int(v) for v in np.asarray(args[1]).reshape(-1)]
        return list(attrs.get("axes", []))

    def op_Squeeze(self, node, args, attrs):
        x = self.affine(node, args[0])
        axes = self._axes(node, args, attrs)
        if x.rank == 2 and x.width == 1 and [a % 2 for a in axes] in ([1], []):
            return x.kept().with_rank(1)
        self.refuse(node, f"a Squeeze of axes {axes} of a (batch, {x.width}) value")

    def op_Unsqueeze(self, node, args, attrs):
        x = self.affine(node, args[0])
        axes = self._axes(node, args, attrs)
        if x.rank == 1 and axes in ([1], [-1]):
            return x.kept().with_rank(2)
        self.refuse(node, f"an Unsqueeze of axes {axes} of a value of rank {x.rank}")

    def op_Concat(self, node, args, attrs):
        if not all(isinstance(p, Affine) and p.rank == 2 for p in args):
            self.refuse(node, "a Concat of a constant block with values that depend on the input")
        if attrs.get("axis") not in (1, -1):
            self.refuse(node, f"a Concat along axis {attrs.get('axis')} (only the features, axis 1, keep samples "
                              f"apart)")
        return Affine.concat(args, self.state.source_widths)

    def op_Slice(self, node, args, attrs):
        import numpy as np

        x = self.affine(node, args[0])
        starts, ends = [np.asarray(a).reshape(-1).tolist() for a in args[1:3]]
        axes = np.asarray(args[3]).reshape(-1).tolist() if len(args) > 3 and args[3] is not None else \
            list(range(len(starts)))
        steps = np.asarray(args[4]).reshape(-1).tolist() if len(args) > 4 and args[4] is not None else [1] * len(starts)
        index = list(range(x.width))
        for s, e, ax, st in zip(starts, ends, axes, steps):
            ax = ax % x.rank
            if ax == 0:
                if s == 0 and st == 1 and e >= 2 ** 62:
                    continue
                self.refuse(node, "a Slice over the samples (batch dimension)")
            index = [index[i] for i in range(*slice(int(s), int(min(e, 2 ** 62)), int(st)).indices(len(index)))]
        return x.rows(index, self.state.source_widths)

    def op_Gather(self, node, args, attrs):
        import numpy as np

        x = self.affine(node, args[0])
        idx = np.asarray(args[1])
        if isinstance(args[1], Affine) or x.rank != 2 or attrs.get("axis", 0) % 2 != 1 or idx.ndim > 1:
            self.refuse(node, "a Gather outside the features")
        rows = [int(i) % x.width for i in idx.reshape(-1)]
        out = x.rows(rows, self.state.source_widths)
        return out.with_rank(1) if idx.ndim == 0 else out

    def op_BatchNormalization(self, node, args, attrs):
        import numpy as np

        x = self.affine(node, args[0])
        scale, bias, mean, var = args[1:5]
        if attrs.get("training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
            self.refuse(node, "BatchNormalization in training mode uses the statistics of the batch")
        if any(isinstance(v, Affine) for v in (scale, bias, mean, var)) or x.rank != 2:
            self.refuse(node, "BatchNormalization with parameters that depend on the input")
        eps = float(attrs.get("epsilon", 1e-5))
        scale64 = np.asarray(scale, dtype=np.float64).reshape(-1) / np.sqrt(
            np.asarray(var, dtype=np.float64).reshape(-1) + eps)
        if scale64.size != x.width:
            self.refuse(node, f"BatchNormalization over {scale64.size} features on a value of width {x.width}")
        s = list(self.exact(node, scale64, "the scale / sqrt(var + epsilon)").entries())
        mu = list(self.exact(node, np.asarray(mean).reshape(-1), "the mean").entries())
        beta = list(self.exact(node, np.asarray(bias).reshape(-1), "the bias").entries())
        self.note(("bn", node.name),
                  f"BatchNormalization at {self.place(node)}: its scale / sqrt(var + epsilon) is irrational in "
                  f"general; the exact network uses the float64 value of that scale (computed in float64, with "
                  f"epsilon the float32 stored in the file) read as an exact binary fraction, and the shift "
                  f"B - mean * scale exactly from it, so it equals the model up to that rounding")
        shift = fmpq_mat(x.width, 1, [b - m * c for b, m, c in zip(beta, mu, s)])
        return [x.scale_rows(s).add_const(shift)]


# ----- running the model -------------------------------------------------------------------------

def _to_double(model):
    """A copy of the model computing in float64: float initializers, constants, inputs, outputs and
    intermediate types become double, casts to float32 casts to float64."""
    import copy

    import numpy as np
    from onnx import TensorProto, numpy_helper

    m = copy.deepcopy(model)
    g = m.graph
    for i, init in enumerate(list(g.initializer)):
        if init.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float64),
                                                              init.name))
    for node in g.node:
        for a in node.attribute:
            if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64), a.t.name))
            if node.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.DOUBLE
        if node.op_type == "Constant" and any(a.name in ("value_float", "value_floats") for a in node.attribute):
            raise ValueError("Constant with value_float(s)")
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.DOUBLE
    return m


def _batch_size(model) -> int | None:
    inits = {i.name for i in model.graph.initializer}
    x = next(i for i in model.graph.input if i.name not in inits)
    dim = x.type.tensor_type.shape.dim[0]
    return dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None


def _input_precision(model) -> str:
    from onnx import TensorProto

    inits = {i.name for i in model.graph.initializer}
    x = next(i for i in model.graph.input if i.name not in inits)
    et = x.type.tensor_type.elem_type
    return {TensorProto.DOUBLE: "float64", TensorProto.FLOAT: "float32"}.get(et, "other")


def _session_runner(model, dtype_name: str, engine: str):
    """run(X) with onnxruntime or the reference evaluator, in chunks of a fixed batch size."""
    import numpy as np

    inits = {i.name for i in model.graph.initializer}
    x_name = next(i.name for i in model.graph.input if i.name not in inits)
    batch = _batch_size(model)
    if engine == "onnxruntime":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])

        def call(x):
            return session.run(None, {x_name: x})[0]
    else:
        from onnx.reference import ReferenceEvaluator

        evaluator = ReferenceEvaluator(model)

        def call(x):
            return evaluator.run(None, {x_name: x})[0]

    np_dtype = np.float64 if dtype_name == "float64" else np.float32

    def run(X):
        X = np.asarray(X, dtype=np_dtype)
        step = batch or len(X)
        outs = []
        for i in range(0, len(X), step):
            chunk = X[i:i + step]
            n = len(chunk)
            if n < step:
                chunk = np.concatenate([chunk, np.zeros((step - n, X.shape[1]), dtype=np_dtype)])
            out = np.asarray(call(chunk), dtype=np.float64).reshape(len(chunk), -1)[:n]
            outs.append(out)
        return np.concatenate(outs)
    return run


def _compare(net: Network, model, where: str) -> dict:
    attempts = []
    try:
        double = _to_double(model)
    except Exception as exc:
        double = None
        attempts.append(f"float64 copy: {first_line(exc)}")
    plans = []
    if double is not None:
        plans += [(double, "float64", "onnxruntime"), (double, "float64", "reference")]
    original = _input_precision(model)
    if original in ("float32", "float64"):
        plans += [(model, original, "onnxruntime"), (model, original, "reference")]
    for m, precision, engine in plans:
        try:
            run = _session_runner(m, precision, engine)
            run([[0.0] * net.input_dim])  # a model that cannot run fails here, not inside the comparison
        except Exception as exc:
            attempts.append(f"{precision} with {engine}: {first_line(exc)}")
            continue
        summary = compare(net, run, precision, where)
        summary["engine"] = engine
        return summary
    raise FormatError(f"{where}: the model could not be run to compare it with the exact network "
                      f"({'; '.join(attempts)}); pip install onnxruntime")


# ----- entry points --------------------------------------------------------------------------------

def from_onnx(model, where: str = "the ONNX model") -> Network:
    """The exact network of an ``onnx.ModelProto``, read by its graph and compared with its forward pass.

    Examples
    --------
    >>> import onnx
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> W = numpy_helper.from_array(__import__("numpy").array([[1.0, -1.0]]), "W")
    >>> graph = helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
    ...                            helper.make_node("LeakyRelu", ["z"], ["h"], alpha=0.5),
    ...                            helper.make_node("Sub", ["h", "x1"], ["y"])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 2])],
    ...     [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 1])],
    ...     [W, numpy_helper.from_array(__import__("numpy").array(1.0), "x1")])
    >>> net = from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8))
    >>> net.widths, net.slopes, net.evaluate([1, 3])
    ([2, 1, 1], [1/2], (-2,))
    >>> net.provenance["comparison"]["precision"], net.provenance["comparison"]["points"]
    ('float64', 112)
    """
    onnx = _onnx()
    if not isinstance(model, onnx.ModelProto):
        raise FormatError(f"expected an onnx.ModelProto, got {type(model).__name__}")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise FormatError(f"{where} is not a valid ONNX model ({first_line(exc)})") from None
    reader = _OnnxReader(model, where)
    net = reader.read()
    summary = _compare(net, model, where)
    net.notes = list(reader.state.notes)
    net.provenance = {"source": where, "comparison": summary, "comparison_note": comparison_note(summary)}
    return net


def read_onnx(path) -> Network:
    """An ``.onnx`` file (see the module docstring)."""
    onnx = _onnx()
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FormatError(f"{p}: no such file")
    try:
        model = onnx.load(p)
    except Exception as exc:
        raise FormatError(f"{p} is not a readable ONNX file ({first_line(exc)})") from None
    return from_onnx(model, p)


def save_onnx(net: Network, path, dtype="float64", rounding=None) -> None:
    """Write the network as an ONNX model (opset 17) that ``onnx.checker`` accepts.

    Parameters
    ----------
    net : Network
    path : file to write (atomically)
    dtype : "float64" (default) or "float32" (also numpy / torch dtypes)
    rounding : None or "nearest"
        None: every number must be exactly representable in ``dtype`` (checked exactly),
        otherwise ``FormatError``; "nearest": round, with a ``RoundingWarning`` giving the
        largest absolute change.

    Examples
    --------
    >>> import os, tempfile, onnx
    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]], "slope": "1/4"}, {"weight": [[1, 1]]}])
    >>> path = os.path.join(tempfile.mkdtemp(), "abs.onnx")
    >>> save_onnx(net, path)
    >>> [node.op_type for node in onnx.load(path).graph.node]
    ['Gemm', 'PRelu', 'Gemm', 'Identity']
    >>> read_onnx(path) == net
    True
    """
    onnx = _onnx()
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    precision = precision_name(dtype)
    np_dtype = np.float64 if precision == "float64" else np.float32
    elem = TensorProto.DOUBLE if precision == "float64" else TensorProto.FLOAT
    floats, report = network_floats(net, precision, rounding)
    widths = net.widths
    inits, nodes = [], []

    def init(name, values, shape):
        inits.append(numpy_helper.from_array(np.array(values, dtype=np_dtype).reshape(shape), name))
        return name

    h = {0: "x"}
    for l, (layer, fl) in enumerate(zip(net.layers, floats), start=1):
        w = init(f"layer{l}.weight", fl["weight"], (widths[l], widths[l - 1]))
        b = init(f"layer{l}.bias", fl["bias"], (widths[l],))
        z = f"z{l}" if not fl["skip"] else f"z{l}_main"
        nodes.append(helper.make_node("Gemm", [h[l - 1], w, b], [z], name=f"layer{l}", transB=1))
        for i, (k, rows) in enumerate(fl["skip"].items()):
            s = init(f"layer{l}.skip_from{k}", rows, (widths[l], widths[k]))
            t = f"z{l}_from{k}"
            nodes.append(helper.make_node("Gemm", [h[k], s], [t], name=f"layer{l}_skip_from{k}", transB=1))
            total = f"z{l}" if i == len(fl["skip"]) - 1 else f"z{l}_sum{i}"
            nodes.append(helper.make_node("Add", [z, t], [total], name=f"layer{l}_add_from{k}"))
            z = total
        if l < net.depth:
            out = f"h{l}"
            s = layer.slope
            if s == 0:
                nodes.append(helper.make_node("Relu", [z], [out], name=f"act{l}"))
            elif precision == "float32":
                nodes.append(helper.make_node("LeakyRelu", [z], [out], name=f"act{l}", alpha=float(fl["slope"])))
            else:  # LeakyRelu's alpha is a float32 and onnxruntime has no float64 LeakyRelu: a typed PRelu
                p = init(f"act{l}.slope", [fl["slope"]], (1,))
                nodes.append(helper.make_node("PRelu", [z, p], [out], name=f"act{l}"))
            h[l] = out
        else:
            nodes.append(helper.make_node("Identity", [z], ["y"], name="output"))
    graph = helper.make_graph(nodes, "exactconvex_network",
                              [helper.make_tensor_value_info("x", elem, ["batch", net.input_dim])],
                              [helper.make_tensor_value_info("y", elem, ["batch", net.num_outputs])],
                              initializer=inits)
    model = helper.make_model(graph, producer_name="exactconvex", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {"exactconvex.precision": precision,
                                   "exactconvex.max_abs_rounding": str(report["max_abs_change_exact"])})
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    write_atomically(path, lambda fh: fh.write(data))
