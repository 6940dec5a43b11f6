"""The JSON network format (shared/spec/network-format.md) and the .npz format: exact reading,
exact round trips, and precise rejection of invalid input."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from flint import fmpq
from hypothesis import HealthCheck, given, settings

import exactconvex
from exactconvex.network import FormatError, Network, load, network_from_dict, network_to_dict, read_npz, save_json, \
    save_npz
from exactconvex.network.formats import dumps, parse_json_text
from exactconvex.numbers import to_fraction
from strategies import networks, scaled

REPO = Path(__file__).resolve().parent.parent

SPEC_EXAMPLE_TEXT = """{
  "format": "exactconvex.network",
  "version": 1,
  "input_dim": 2,
  "layers": [
    {"weight": [[1, -1], ["1/2", 0], [0, 3]], "bias": [0, "-3/4", 2]},
    {"weight": [[1, 2, 0], [0, -1, 1]], "bias": [0, 1], "skip": {"0": [[0, 1], [1, 0]]}},
    {"weight": [[1, "2.5"]], "bias": [0]}
  ]
}"""


def doc(layers, input_dim=1, **top):
    return {"format": "exactconvex.network", "version": 1, "input_dim": input_dim, "layers": layers, **top}


def from_text(text: str) -> Network:
    return network_from_dict(parse_json_text(text))


def weights(net: Network, l: int) -> list[list[Fraction]]:
    W = net.layers[l - 1].weight
    return [[to_fraction(W[i, j]) for j in range(W.ncols())] for i in range(W.nrows())]


def biases(net: Network, l: int) -> list[Fraction]:
    b = net.layers[l - 1].bias
    return [to_fraction(b[i, 0]) for i in range(b.nrows())]


# ----- exact reading -------------------------------------------------------------------------

def test_json_decimals_are_the_decimals_they_spell():
    text = json.dumps(doc([{"weight": [[1, 2, 3, 4, 5, 6, 7]], "bias": [0]}], input_dim=7))
    text = text.replace("[[1, 2, 3, 4, 5, 6, 7]]", '[[0.1, "1e-9", "-3/4", "0.125", -2.5e-3, 1E40, 12]]')
    net = from_text(text)
    assert weights(net, 1) == [[Fraction(1, 10), Fraction(1, 10**9), Fraction(-3, 4), Fraction(1, 8),
                                Fraction(-1, 400), Fraction(10**40), Fraction(12)]]
    assert weights(net, 1)[0][0] != Fraction(0.1)  # not the nearest binary float


def test_json_big_integers_exact():
    big = 10**40 + 1
    net = from_text(json.dumps(doc([{"weight": [[big]], "bias": [-big]}])))
    assert weights(net, 1) == [[big]] and biases(net, 1) == [-big]


def test_json_numbers_beyond_pythons_int_digit_limit(tmp_path):
    big = 10**5000 + 1  # more digits than Python's int() and str() accept by default
    big_text = "1" + "0" * 4999 + "1"
    text = json.dumps(doc([{"weight": [[1]], "bias": [0]}])).replace('"bias": [0]', f'"bias": [{"9" * 5000}]')
    assert biases(from_text(text), 1) == [10**5000 - 1]
    net = network_from_dict(doc([{"weight": [[f"1/{big_text}"]], "bias": [big_text]}]))
    assert weights(net, 1) == [[Fraction(1, big)]] and biases(net, 1) == [big]
    save_json(net, tmp_path / "big.json")
    assert load(tmp_path / "big.json") == net
    save_npz(net, tmp_path / "big.npz")
    assert load(tmp_path / "big.npz") == net


def test_spec_example_reads_as_written():
    net = from_text(SPEC_EXAMPLE_TEXT)
    assert net.widths == [2, 3, 2, 1]
    assert weights(net, 1) == [[1, -1], [Fraction(1, 2), 0], [0, 3]]
    assert biases(net, 1) == [0, Fraction(-3, 4), 2]
    assert list(net.layers[1].skip) == [0]
    assert weights(net, 3) == [[1, Fraction(5, 2)]]
    assert net == load(REPO / "examples" / "networks" / "spec_example.json")


def test_bias_may_be_omitted():
    net = network_from_dict(doc([{"weight": [[1], [2]]}, {"weight": [[1, 1]]}]))
    assert biases(net, 1) == [0, 0] and biases(net, 2) == [0]


def test_optional_top_level_keys_accepted():
    net = network_from_dict(doc([{"weight": [[1]]}], name="id", description="identity", metadata={"a": 1}))
    assert net.evaluate([3]) == (3,)


def test_one_layer_network_is_valid():
    net = network_from_dict(doc([{"weight": [[2, -1]], "bias": ["1/2"]}], input_dim=2))
    assert net.depth == 1 and net.evaluate([1, 1]) == (fmpq(3, 2),)


def test_public_api_reexports():
    assert exactconvex.network_from_dict is network_from_dict
    assert exactconvex.FormatError is FormatError
    assert issubclass(FormatError, ValueError)


# ----- invalid input: each kind the spec lists names the layer, the field, the problem -------------

GOOD = doc([{"weight": [[1, -1], [2, 0]], "bias": [0, 1]},
            {"weight": [[1, 1]], "bias": [0], "skip": {"0": [[1, 0]]}}], input_dim=2)


def mutated(change):
    d = copy.deepcopy(GOOD)
    change(d)
    return d


INVALID = {
    "no format": (lambda d: d.pop("format"), ["format"]),
    "bad format": (lambda d: d.update(format="onnx"), ["format", "onnx"]),
    "no version": (lambda d: d.pop("version"), ["version"]),
    "bad version": (lambda d: d.update(version=2), ["version", "2"]),
    "version true": (lambda d: d.update(version=True), ["version"]),
    "version string": (lambda d: d.update(version="1"), ["version"]),
    "input_dim zero": (lambda d: d.update(input_dim=0), ["input_dim"]),
    "input_dim missing": (lambda d: d.pop("input_dim"), ["input_dim"]),
    "no layers": (lambda d: d.update(layers=[]), ["layers"]),
    "unknown top key": (lambda d: d.update(activation="relu"), ["activation"]),
    "weight columns": (lambda d: d["layers"][1].update(weight=[[1, 1, 1]]), ["layer 2", "weight", "3", "2"]),
    "ragged weight": (lambda d: d["layers"][0]["weight"][1].append(5), ["layer 1", "weight", "row 1"]),
    "weight missing": (lambda d: d["layers"][0].pop("weight"), ["layer 1", "weight"]),
    "weight empty": (lambda d: d["layers"][0].update(weight=[]), ["layer 1", "weight"]),
    "weight not rows": (lambda d: d["layers"][0].update(weight=[1, 2]), ["layer 1", "weight"]),
    "bias length": (lambda d: d["layers"][0].update(bias=[0]), ["layer 1", "bias", "1", "2"]),
    "bias not list": (lambda d: d["layers"][0].update(bias=0), ["layer 1", "bias"]),
    "skip shape cols": (lambda d: d["layers"][1]["skip"].update({"0": [[1, 0, 0]]}), ["layer 2", "skip", "0"]),
    "skip shape rows": (lambda d: d["layers"][1]["skip"].update({"0": [[1, 0], [0, 1]]}), ["layer 2", "skip"]),
    "skip source out of range": (lambda d: d["layers"][1].update(skip={"1": [[1, 1]]}), ["layer 2", "skip", "1",
                                                                                          "range"]),
    "skip in layer 1": (lambda d: d["layers"][0].update(skip={"0": [[1, 0], [0, 1]]}), ["layer 1", "skip"]),
    "skip negative source": (lambda d: d["layers"][1].update(skip={"-1": [[1, 1]]}), ["layer 2", "skip", "-1"]),
    "skip not object": (lambda d: d["layers"][1].update(skip=[[1, 0]]), ["layer 2", "skip"]),
    "unknown layer key": (lambda d: d["layers"][0].update(dropout="1/2"), ["layer 1", "dropout"]),
    "string abc": (lambda d: d["layers"][1]["weight"][0].__setitem__(1, "abc"), ["layer 2", "weight", "abc"]),
    "one over zero": (lambda d: d["layers"][0]["bias"].__setitem__(1, "1/0"), ["layer 1", "bias", "1/0"]),
    "true": (lambda d: d["layers"][0]["weight"][0].__setitem__(0, True), ["layer 1", "weight"]),
    "null": (lambda d: d["layers"][1]["bias"].__setitem__(0, None), ["layer 2", "bias"]),
    "nested list": (lambda d: d["layers"][1]["bias"].__setitem__(0, [1]), ["layer 2", "bias"]),
    "null in skip": (lambda d: d["layers"][1]["skip"]["0"][0].__setitem__(0, None), ["layer 2", "skip"]),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_documents_rejected_precisely(name):
    change, words = INVALID[name]
    network_from_dict(GOOD)  # the unmodified document is fine
    with pytest.raises(FormatError) as err:
        network_from_dict(mutated(change))
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_literals_rejected_where_they_stand(literal):
    text = json.dumps(GOOD).replace('"bias": [0, 1]', f'"bias": [0, {literal}]')
    assert literal in text
    with pytest.raises(FormatError) as err:
        from_text(text)
    assert "layer 1" in str(err.value) and "bias" in str(err.value) and literal in str(err.value)


@pytest.mark.parametrize("text", ["", "{", "[1, 2", "not json", '{"format": "exactconvex.network",}'])
def test_not_json(text):
    with pytest.raises(FormatError, match="JSON"):
        from_text(text)


@pytest.mark.parametrize("text, key", [
    ('{"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [{"weight": [[1]], '
     '"bias": [0], "bias": [5]}]}', "bias"),
    ('{"format": "exactconvex.network", "version": 1, "version": 1, "input_dim": 1, "layers": [{"weight": [[1]]}]}',
     "version"),
    ('{"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [{"weight": [[1]]}, '
     '{"weight": [[1]], "skip": {"0": [[1]], "0": [[2]]}}]}', "0"),
])
def test_duplicate_keys_refused_not_guessed(text, key):
    with pytest.raises(FormatError, match=f'"{key}" appears twice'):
        from_text(text)


def test_top_level_not_an_object():
    with pytest.raises(FormatError, match="object"):
        from_text("[1, 2, 3]")


def test_files(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        load(tmp_path / "missing.json")
    with pytest.raises(FormatError, match="directory"):
        exactconvex.network.read_json(tmp_path)
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match="JSON"):
        load(tmp_path / "binary.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(FormatError, match="JSON"):
        load(tmp_path / "bad.json")


# ----- exact round trips ------------------------------------------------------------------------

ROUND_TRIP_NETS = networks(d_range=(1, 3), depth_range=(1, 4), width_range=(1, 3), skips=True, outputs=(1, 3),
                           extreme=True)


@settings(max_examples=scaled(60), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROUND_TRIP_NETS)
def test_json_round_trip_exact(tmp_path, net):
    path = tmp_path / "net.json"
    save_json(net, path)
    back = load(path)
    assert back == net
    assert network_to_dict(back) == network_to_dict(net)
    # the text itself parses back to the same network, through plain json too
    assert from_text(dumps(net)) == net
    assert network_from_dict(json.loads(json.dumps(network_to_dict(net)))) == net


@settings(max_examples=scaled(40), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROUND_TRIP_NETS)
def test_npz_round_trip_exact(tmp_path, net):
    path = tmp_path / "net.npz"
    save_npz(net, path)
    assert read_npz(path) == net
    assert load(path) == net


def test_written_json_follows_the_spec(tmp_path):
    net = from_text(SPEC_EXAMPLE_TEXT)
    data = network_to_dict(net)
    assert data["format"] == "exactconvex.network" and data["version"] == 1 and data["input_dim"] == 2
    assert set(data) == {"format", "version", "input_dim", "layers"}
    assert data["layers"][0]["weight"][1][0] == "1/2"
    assert data["layers"][2]["weight"][0][1] == "5/2"
    assert data["layers"][1]["skip"] == {"0": [[0, 1], [1, 0]]}
    for layer in data["layers"]:
        assert set(layer) <= {"weight", "bias", "skip"}


def test_written_huge_integers_are_strings():
    net = Network.from_lists(1, [{"weight": [[10**40]], "bias": [2**53]}])
    layer = network_to_dict(net)["layers"][0]
    assert layer["weight"] == [[str(10**40)]] and layer["bias"] == [str(2**53)]


# ----- .npz input written by other tools -------------------------------------------------------

def test_npz_float_arrays_read_exactly(tmp_path):
    W1 = np.array([[0.1, -0.5], [0.25, 1.0]], dtype=np.float32)
    b1 = np.array([0.3, 0.0], dtype=np.float64)
    W2 = np.array([[1, -2]], dtype=np.int64)
    np.savez(tmp_path / "f.npz", W1=W1, b1=b1, W2=W2)
    net = load(tmp_path / "f.npz")
    assert weights(net, 1) == [[Fraction(float(v)) for v in row] for row in W1]
    assert biases(net, 1) == [Fraction(0.3), 0]
    assert weights(net, 2) == [[1, -2]] and biases(net, 2) == [0]


def test_npz_string_arrays_and_skips(tmp_path):
    np.savez(tmp_path / "s.npz", W1=np.array([["1/3", "0.1"]]), b1=np.array(["-1e-9"]),
             W2=np.array([["2"]]), S2_0=np.array([["1", "-1"]]), input_dim=np.array(2))
    net = load(tmp_path / "s.npz")
    assert weights(net, 1) == [[Fraction(1, 3), Fraction(1, 10)]]
    assert biases(net, 1) == [Fraction(-1, 10**9)]
    assert list(net.layers[1].skip) == [0]
    # h = ReLU(1/3 * 3 + 1/10 * 0 - 10^-9) = 1 - 10^-9; f = 2 h + (1 * 3 - 1 * 0)
    assert net.evaluate([3, 0]) == (fmpq(5) - fmpq(2, 10**9),)


@pytest.mark.parametrize("arrays, words", [
    ({"b1": np.array([1.0])}, ["W1"]),
    ({"W1": np.array([[1.0]]), "X": np.array([1])}, ["X"]),
    ({"W1": np.array([[1.0, 2.0]]), "W2": np.array([[1.0, 2.0]])}, ["layer 2", "weight"]),
    ({"W1": np.array([[np.nan]])}, ["layer 1", "W1"]),
    ({"W1": np.array([["abc"]])}, ["layer 1", "W1", "abc"]),
    ({"W1": np.array([[1.0]]), "b1": np.array([1.0, 2.0])}, ["layer 1", "bias"]),
    ({"W1": np.array([[1.0]]), "S3_0": np.array([[1.0]])}, ["S3_0"]),
    ({"W1": np.array([[True]])}, ["layer 1", "W1"]),
])
def test_npz_invalid(tmp_path, arrays, words):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(FormatError) as err:
        load(tmp_path / "bad.npz")
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_npz_not_a_zip(tmp_path):
    (tmp_path / "junk.npz").write_text("hello")
    with pytest.raises(FormatError, match="npz"):
        load(tmp_path / "junk.npz")
