"""The ONNX bridge (exactconvex/bridges/onnx.py): ONNX graphs read operator by operator, every
import compared with the model run in float64, refusals naming the operator and the node, and
``save_onnx`` writing files that onnx.checker accepts and that read back unchanged.

Every test takes the ``onnx`` fixture below: skipped (with how to install it) when the onnx
package is missing, failed under CI=true, where the ONNX bridge must be exercised (as the
``torch`` fixture of tests/conftest.py does for PyTorch).
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest

import exactconvex
from exactconvex import FormatError, Network, load
from exactconvex.numbers import to_fraction
from strategies import run_cli

ONNX_HINT = "pip install 'exactconvex[onnx]' (the onnx and onnxruntime packages)"


@pytest.fixture(scope="session")
def onnx():
    """The ``onnx`` module; skip (or, under CI=true, fail) when it cannot be imported."""
    try:
        import onnx as onnx_module
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but onnx cannot be imported ({exc}); the ONNX tests must run in CI: {ONNX_HINT}",
                        pytrace=False)
        pytest.skip(f"onnx is not installed; to run these tests, {ONNX_HINT}")
    return onnx_module


def make_model(onnx, nodes, inits, d, m, double=False, opset=17):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    elem = TensorProto.DOUBLE if double else TensorProto.FLOAT
    dtype = np.float64 if double else np.float32
    tensors = [numpy_helper.from_array(np.array(v, dtype=dtype if not name.startswith("i_") else np.int64), name)
               for name, v in inits.items()]
    graph = helper.make_graph(nodes, "test", [helper.make_tensor_value_info("x", elem, ["N", d])],
                              [helper.make_tensor_value_info("y", elem, ["N", m])], initializer=tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def write(onnx, model, path):
    onnx.save(model, str(path))
    return path


A = [[1, -2], [0.5, 3], [-1, 0.25]]
C = [1, 2, 3]
B = [[1, 0], [-2, 0.5], [0.75, 1]]
CONST = [0.5, 1]
FACTOR = [2, -1]
E = [[1, -3]]
F = [[0.5], [-1]]


def hand_model(onnx, **replace):
    from onnx import helper

    nodes = [
        helper.make_node("Gemm", ["x", "A", "C"], ["g"], name="gemm", transB=1, alpha=2.0, beta=0.5),
        helper.make_node("LeakyRelu", ["g"], ["h"], name="leaky", alpha=0.25),
        helper.make_node("MatMul", ["h", "B"], ["t"], name="matmul"),
        helper.make_node("Constant", [], ["c"], name="const", value=helper.make_tensor("cv", 1, [2], CONST)),
        helper.make_node("Sub", ["t", "c"], ["u"], name="sub"),
        helper.make_node("Div", ["u", "four"], ["v"], name="div"),
        helper.make_node("Mul", ["v", "factor"], ["w"], name="mul"),
        helper.make_node("Flatten", ["w"], ["f"], name="flatten", axis=1),
        helper.make_node("Identity", ["f"], ["i"], name="identity"),
        helper.make_node("Relu", ["i"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "E"], ["o1"], name="out_gemm", transB=1),
        helper.make_node("MatMul", ["x", "F"], ["o2"], name="passthrough"),
        helper.make_node("Add", ["o1", "o2"], ["y"], name="sum"),
    ]
    nodes = [replace.get(n.name, n) for n in nodes]
    inits = {"A": A, "C": C, "B": B, "four": 4.0, "factor": FACTOR, "E": E, "F": F}
    return make_model(onnx, nodes, inits, 2, 1)


def hand_network() -> Network:
    A2 = [[2 * Fraction(v) for v in row] for row in A]
    C2 = [Fraction(v, 2) for v in C]
    BT = [[Fraction(B[j][i]) for j in range(3)] for i in range(2)]
    W2 = [[Fraction(FACTOR[i]) * v / 4 for v in BT[i]] for i in range(2)]
    b2 = [-Fraction(FACTOR[i]) * Fraction(CONST[i]) / 4 for i in range(2)]
    return Network.from_lists(2, [
        {"weight": A2, "bias": C2, "slope": Fraction(1, 4)},
        {"weight": W2, "bias": b2},
        {"weight": E, "skip": {0: [[Fraction(F[0][0]), Fraction(F[1][0])]]}},
    ])


def test_operators_read_exactly(onnx, tmp_path):
    net = load(write(onnx, hand_model(onnx), tmp_path / "hand.onnx"))
    assert net == hand_network()
    assert net.provenance["comparison"]["precision"] == "float64"
    assert net.provenance["comparison"]["points"] >= 64 and net.notes == []


@pytest.mark.parametrize("op, expected", [
    ("Tanh", "Tanh.*node 'act'"), ("Sigmoid", "Sigmoid.*node 'act'"), ("Softplus", "Softplus.*node 'act'"),
    ("Elu", "Elu.*node 'act'"),
])
def test_nonlinear_operators_are_refused_by_name(onnx, tmp_path, op, expected):
    from onnx import helper

    model = hand_model(onnx, leaky=helper.make_node(op, ["g"], ["h"], name="act"))
    with pytest.raises(FormatError, match=expected):
        load(write(onnx, model, tmp_path / "bad.onnx"))


def test_other_refusals(onnx, tmp_path):
    from onnx import helper

    relu6 = helper.make_node("Clip", ["g", "zero", "six"], ["h"], name="relu6")
    model = hand_model(onnx, leaky=relu6)
    model.graph.initializer.extend([onnx.numpy_helper.from_array(__import__("numpy").array(v, dtype="float32"), n)
                                    for n, v in (("zero", 0.0), ("six", 6.0))])
    with pytest.raises(FormatError, match="Clip.*node 'relu6'"):
        load(write(onnx, model, tmp_path / "relu6.onnx"))
    square = helper.make_node("Mul", ["v", "v"], ["w"], name="square")
    with pytest.raises(FormatError, match="product of two values.*node 'square'"):
        load(write(onnx, hand_model(onnx, mul=square), tmp_path / "square.onnx"))
    transposed = helper.make_node("Gemm", ["x", "A", "C"], ["g"], name="gemm", transA=1, transB=1)
    with pytest.raises(FormatError, match="Gemm.*node 'gemm'"):
        load(write(onnx, hand_model(onnx, gemm=transposed), tmp_path / "transA.onnx"))
    trailing = [helper.make_node("Gemm", ["x", "A", "C"], ["g"], name="gemm", transB=1),
                helper.make_node("Relu", ["g"], ["y"], name="last_relu")]
    model = make_model(onnx, trailing, {"A": A, "C": C}, 2, 3)
    with pytest.raises(FormatError, match="node 'last_relu'.*trailing activation"):
        load(write(onnx, model, tmp_path / "trailing.onnx"))
    r = run_cli("info", tmp_path / "trailing.onnx")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "trailing activation" in r.stderr
    (tmp_path / "junk.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(FormatError, match="junk.onnx"):
        load(tmp_path / "junk.onnx")


def test_batchnormalization_is_read_with_a_note(onnx, tmp_path):
    from onnx import helper

    nodes = [helper.make_node("Gemm", ["x", "A", "C"], ["g"], name="gemm", transB=1),
             helper.make_node("BatchNormalization", ["g", "s", "b", "mean", "var"], ["n"], name="bn", epsilon=1e-5),
             helper.make_node("Relu", ["n"], ["h"], name="relu"),
             helper.make_node("Gemm", ["h", "E3"], ["y"], name="out", transB=1)]
    inits = {"A": A, "C": C, "s": [1.5, 0.5, 2], "b": [0, 1, -1], "mean": [0.25, -1, 2], "var": [1, 2, 0.5],
             "E3": [[1, 1, -1]]}
    net = load(write(onnx, make_model(onnx, nodes, inits, 2, 1), tmp_path / "bn.onnx"))
    assert net.hidden_widths == [3] and any("BatchNormalization" in n and "float64" in n for n in net.notes)


def test_save_onnx_round_trip_checker_and_exactness(onnx, tmp_path):
    from exactconvex.bridges import save_onnx
    from exactconvex.bridges.graph import RoundingWarning

    net = hand_network()
    path = tmp_path / "net.onnx"
    save_onnx(net, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert load(path) == net
    save_onnx(net, tmp_path / "net32.onnx", dtype="float32")
    model32 = onnx.load(str(tmp_path / "net32.onnx"))
    assert {n.op_type for n in model32.graph.node} >= {"Gemm", "LeakyRelu", "Relu", "Add"}
    assert load(tmp_path / "net32.onnx") == net
    third = Network.from_lists(1, [{"weight": [["1/3"]], "slope": "1/3"}, {"weight": [[1]]}])
    with pytest.raises(FormatError, match="not exactly representable in float64"):
        save_onnx(third, tmp_path / "third.onnx")
    assert not (tmp_path / "third.onnx").exists()
    with pytest.warns(RoundingWarning, match="largest absolute change"):
        save_onnx(third, tmp_path / "third.onnx", rounding="nearest")
    back = load(tmp_path / "third.onnx")
    assert to_fraction(back.slopes[0]) == Fraction(float(Fraction(1, 3)))


def test_float64_file_runs_in_onnxruntime(onnx, tmp_path):
    ort = pytest.importorskip("onnxruntime") if os.environ.get("CI") != "true" else __import__("onnxruntime")
    import numpy as np

    from exactconvex.bridges import save_onnx

    net = hand_network()
    save_onnx(net, tmp_path / "net.onnx")
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    xs = [[0.5, -3.0], [2.0, 1.25], [-7.0, 0.0]]
    out = session.run(None, {"x": np.array(xs)})[0]
    assert out.dtype == np.float64
    assert [Fraction(v) for v in out[:, 0]] == [to_fraction(net.evaluate(x)[0]) for x in xs]
    assert load(tmp_path / "net.onnx").provenance["comparison"]["engine"] == "onnxruntime"


def test_leaky_model_onnx_cli_exit_1_with_exact_witness(torch, onnx, tmp_path):
    from test_torch import assert_witness_violates_convexity, leaky_by_hand, leaky_model

    path = tmp_path / "leaky.onnx"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(leaky_model(torch), (torch.zeros(1, 1),), str(path), dynamo=False)
    assert load(path) == exactconvex.from_torch(leaky_model(torch))
    r = run_cli("check", "--json", path)
    assert r.returncode == 1, r.stderr
    assert_witness_violates_convexity(json.loads(r.stdout)["witness"], leaky_by_hand)


def test_constant_subgraphs_are_computed(onnx, tmp_path):
    from onnx import helper

    # the weight is A^T computed in the graph by a Gemm with transA on constants (folded, exact)
    nodes = [helper.make_node("Gemm", ["A", "I3"], ["At"], name="transpose_by_gemm", transA=1),
             helper.make_node("MatMul", ["x3", "At"], ["y"], name="use")]
    model = make_model(onnx, nodes, {"A": A, "I3": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, 2, 3)
    model.graph.input[0].name = "x3"
    net = load(write(onnx, model, tmp_path / "fold.onnx"))
    assert net == Network.from_lists(2, [{"weight": A}])  # x @ A^T: the weight of the layer is A
