"""The checker's own strict reader (``exactconvex/checker/reader.py``): JSON, numbers, networks.

Everything here is decided by the format documents (``shared/spec/network-format.md``,
``docs/certificate-format.md``), not by the package's reader: the checker must refuse what
they forbid, and read exactly what they allow.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest
from flint import fmpq, fmpz
from hypothesis import given, strategies as st

from exactconvex.checker import CertificateError, verify
from exactconvex.checker import reader
from exactconvex.checker.reader import (json_document, network_document, number, parse_json_text, read_json_file,
                                        read_network, short, short_text, typed)


def net(d, layers, **top):
    return {"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers, **top}


ABS = net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}])


# ----- numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    (3, fmpq(3)), (-7, fmpq(-7)), ("3", fmpq(3)), ("-3/4", fmpq(-3, 4)), ("6/8", fmpq(3, 4)), ("007", fmpq(7)),
    ("-0", fmpq(0)), ("0.125", fmpq(1, 8)), ("1e-9", fmpq(1, 10**9)), ("-2.5E+3", fmpq(-2500)), ("2.50e1", fmpq(25)),
    ("1e100000", fmpq(10**100000)), ("1e-0000003", fmpq(1, 1000)),
    ("1e" + "0" * 5000 + "2", fmpq(100)), ("-5e-" + "0" * 5000, fmpq(-5)), ("3" * 5000, fmpq(fmpz("3" * 5000))),
    ("1/" + "7" * 5000, fmpq(1, fmpz("7" * 5000))), ("0." + "0" * 4999 + "1", fmpq(1, 10**5000)),
])
def test_numbers_read_exactly(text, value):
    assert number(text, "x") == value


@pytest.mark.parametrize("text", [
    "1/-2", " 1 / 7 ", "1 /7", "+3", "3\n", " 3", "1/0", "-1/0", "0/0", "NaN", "nan", "Infinity", "inf", "", "-", "/",
    "1/2/3", "1.", ".5", "-.5", "e5", "1e", "1e+", "1.5/2", "0x10", "1_000", "\u0663", "1\u0660", "½", "1e100001",
    "1e-100001", "1e1000000000", "3/4 ", "--3",
])
def test_numbers_outside_the_grammar_are_unreadable(text):
    with pytest.raises(CertificateError, match="x: .* is not an exact number"):
        number(text, "x")


@pytest.mark.parametrize("value, shown", [(True, "true"), (False, "false"), (None, "null"), ([1], "a list"),
                                          ({"a": 1}, "an object"), (0.5, "0.5")])
def test_values_that_are_not_numbers(value, shown):
    with pytest.raises(CertificateError, match=f"x: expected an exact number, got {shown}"):
        number(value, "x")


def test_json_literals_are_exact():
    doc = parse_json_text('[0.1, 1e400, -2.5e-3, 1E2, ' + "9" * 5000 + ', -0.0]', "t")
    assert [number(v, "x") for v in doc] == [fmpq(1, 10), fmpq(10**400), fmpq(-1, 400), fmpq(100),
                                             fmpq(fmpz("9" * 5000)), fmpq(0)]
    assert doc[0] == "0.1" and type(doc[2]).__name__ == "_JsonDecimal"
    with pytest.raises(CertificateError, match="expected an integer, got 1e400"):
        typed(doc[1], int, "x")  # a decimal is never an index, even a whole one
    with pytest.raises(CertificateError, match="expected a string, got 0.1"):
        typed(doc[0], str, "x")
    with pytest.raises(CertificateError, match="expected an integer, got 99999999999999...\\(5000 digits\\)"):
        typed(doc[4], int, "x")  # an integer literal too long for Python's int()


@given(st.fractions())
def test_every_fraction_reads_back(q):
    assert number(f"{q.numerator}/{q.denominator}", "x") == fmpq(q.numerator, q.denominator)
    assert number(str(q), "x") == fmpq(q.numerator, q.denominator)


@given(st.booleans(), st.integers(0, 10**30), st.text("0123456789", max_size=20), st.integers(-400, 400),
       st.sampled_from(["", "e", "E", "e+"]))
def test_every_decimal_literal_reads_exactly(negative, whole, fraction, exponent, e):
    if e == "e+" and exponent < 0:
        e = "e"
    text = f"{'-' if negative else ''}{whole}{'.' + fraction if fraction else ''}{e}{exponent if e else ''}"
    expected = Fraction(int(f"{whole}{fraction}"), 10 ** len(fraction)) * Fraction(10) ** (exponent if e else 0)
    expected = -expected if negative else expected
    assert number(text, "x") == fmpq(expected.numerator, expected.denominator)


# ----- JSON ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ('{"a": 1, "a": 2}', 'the key .a. appears twice'), ('[{"x": {"y": 1, "y": 1}}]', "appears twice"),
    ('{"a": NaN}', "NaN is not a JSON value"), ('[Infinity]', "Infinity is not a JSON value"),
    ('[-Infinity]', "-Infinity is not a JSON value"), ("{not json", "is not valid JSON"), ("", "is not valid JSON"),
    ("[1] [2]", "is not valid JSON"), ("\ufeff{}", "is not valid JSON"), ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),
    ("{'a': 1}", "is not valid JSON"), ('{"a": 01}', "is not valid JSON"),
])
def test_json_strictness(text, message):
    with pytest.raises(CertificateError, match=message):
        parse_json_text(text, "the text")


def test_files(tmp_path):
    good = tmp_path / "n.json"
    good.write_text(json.dumps(ABS))
    assert read_network(read_json_file(good, "network"), "network").outputs == 1
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "\xe9"}')
    for path, message in ((tmp_path / "missing.json", "cannot be read"), (tmp_path, "is not a regular file"),
                          (latin, "not a UTF-8 text file")):
        with pytest.raises(CertificateError, match=message):
            read_json_file(path, "network")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(CertificateError, match="is not a regular file"):
        read_json_file(fifo, "network")
    with pytest.raises(CertificateError, match="is not a regular file"):
        verify("/dev/zero")  # would never end


def test_size_cap(tmp_path, monkeypatch):
    path = tmp_path / "n.json"
    path.write_text(json.dumps(ABS))
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", os.path.getsize(path))
    read_json_file(path, "network")
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", os.path.getsize(path) - 1)
    with pytest.raises(CertificateError, match=f"is larger than {os.path.getsize(path) - 1} bytes"):
        read_json_file(path, "network")


def test_python_values_are_read_as_their_json_text():
    cyclic: dict = {}
    cyclic["self"] = cyclic
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert json_document({"a": [1, "1/2", 0.25]}, "v") == {"a": [1, "1/2", "0.25"]}
    for bad, message in (({"a": fmpq(1, 2)}, "not JSON serializable"), ({"a": {1, 2}}, "not JSON serializable"),
                         ({"a": float("nan")}, "not JSON compliant"), ({"a": float("inf")}, "not JSON compliant"),
                         (cyclic, "Circular reference"), (deep, "recursion")):
        with pytest.raises(CertificateError, match=f"v is not a JSON document .*{message}"):
            json_document(bad, "v")


# ----- networks -------------------------------------------------------------------------------------

def test_activations():
    def layers(activation, where=0):
        ls = [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]
        ls[where]["activation"] = activation
        return net(1, ls)

    assert read_network(ABS, "n").layers[0].slope == 0
    assert read_network(layers("relu"), "n").layers[0].slope == 0
    assert read_network(layers({"leaky_relu": "1/100"}), "n").layers[0].slope == fmpq(1, 100)
    assert read_network(layers({"leaky_relu": -2}), "n").layers[0].slope == -2
    assert read_network(json_document(layers({"leaky_relu": 0.5}), "n"), "n").layers[0].slope == fmpq(1, 2)
    for bad, message in (("tanh", 'must be "relu" or'), ("RELU", "must be"), ({"leaky_relu": "x"}, "not an exact"),
                         ({"leaky_relu": None}, "expected an exact number, got null"), ({"leaky": 1}, "must be"),
                         ({"leaky_relu": 1, "extra": 2}, "must be"), (5, "got 5"), (None, "got null"),
                         ([], "got a list"), ({}, "got an object")):
        with pytest.raises(CertificateError, match=message):
            read_network(layers(bad), "n")
    for activation in ("relu", {"leaky_relu": 0}):  # the output layer is linear, whatever is written
        with pytest.raises(CertificateError, match="layer 2: the output layer is linear"):
            read_network(layers(activation, where=1), "n")


def test_skip_sources():
    def with_skip(key, rows=((1, 1),), into=2):
        ls = [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}, {"weight": [[1]]}]
        ls[into]["skip"] = {key: [list(r) for r in rows]} if into == 2 else {key: [[1], [1]]}
        return net(1, ls)

    assert read_network(with_skip("1"), "n").layers[2].skip[0][0] == 1
    assert read_network(with_skip("0", rows=((3,),)), "n").layers[2].skip[0][0] == 0
    for key, message in (("00", "not a layer index"), ("01", "not a layer index"), ("\u0660", "not a layer index"),
                         ("-1", "not a layer index"), ("1.0", "not a layer index"), (" 1", "not a layer index"),
                         ("", "not a layer index"), ("2", "out of range \\(allowed: 0..1\\)"),
                         ("9" * 5000, "out of range"), ("1" + "0" * 4400, "out of range")):
        with pytest.raises(CertificateError, match=message) as info:
            read_network(with_skip(key), "n")
        assert len(str(info.value)) < 200
    with pytest.raises(CertificateError, match="layer 1 reads only the input"):
        read_network(with_skip("0", into=0), "n")
    with pytest.raises(CertificateError, match='"skip" from 0: row 0 has 2 entries, expected 1'):
        read_network(with_skip("0", rows=((1, 1),)), "n")
    with pytest.raises(CertificateError, match='"skip" from 0: has 2 rows, expected 1'):
        read_network(with_skip("0", rows=((1,), (1,))), "n")
    two = with_skip("1")
    two["layers"][2]["skip"]["0"] = [[5]]  # sources are sorted, whatever the order in the file
    assert [k for k, _ in read_network(two, "n").layers[2].skip] == [0, 1]


@pytest.mark.parametrize("change, message", [
    (lambda n: n.update(format="exactconvex.certificate"), '"format" must be "exactconvex.network"'),
    (lambda n: n.update(version=2), '"version" must be 1'), (lambda n: n.update(version=True), '"version" must be 1'),
    (lambda n: n.update(version="1"), '"version" must be 1'), (lambda n: n.update(input_dim=0), "positive integer"),
    (lambda n: n.update(input_dim=True), "positive integer"), (lambda n: n.update(input_dim="1"), "positive integer"),
    (lambda n: n.update(layers=[]), '"layers" is empty'), (lambda n: n.update(layers={}), "expected a list"),
    (lambda n: n.pop("layers"), 'missing key "layers"'), (lambda n: n.update(extra=1), "unknown key\\(s\\)"),
    (lambda n: n["layers"][0].update(weights=[[1]]), "layer 1: unknown key"),
    (lambda n: n["layers"][0].pop("weight"), 'layer 1: missing key "weight"'),
    (lambda n: n["layers"][0].update(weight=[]), '"weight": has no rows'),
    (lambda n: n["layers"][0].update(weight=[[1, 2]]), "row 0 has 2 entries, expected 1"),
    (lambda n: n["layers"][0].update(weight=[1]), "expected a list, got 1"),
    (lambda n: n["layers"][0].update(weight="w"), "expected a list"),
    (lambda n: n["layers"][0].update(bias=[0]), '"bias": has 1 entries, expected 2'),
    (lambda n: n["layers"][0].update(bias=[0, "1/0"]), "bias.*\\[1\\]: '1/0' is not an exact number"),
    (lambda n: n["layers"][0].update(skip=[]), '"skip": expected a JSON object'),
    (lambda n: n["layers"].__setitem__(0, "layer"), "layer 1: expected a JSON object"),
    (lambda n: n["layers"][1].update(weight=[[1, True]]), "\\[0\\]\\[1\\]: expected an exact number, got true"),
])
def test_malformed_networks(change, message):
    doc = json.loads(json.dumps(ABS))
    change(doc)
    with pytest.raises(CertificateError, match=message):
        read_network(doc, "network")


def test_network_values_not_spelling_decide_equality():
    a = read_network(ABS, "a")
    spelled = net(1, [{"weight": [["1"], ["-2/2"]], "bias": ["0", 0.0]}, {"weight": [["1.0", "10e-1"]], "bias": [0]}],
                  name="abs", description="|x|", metadata={"anything": [None]})
    assert read_network(json_document(spelled, "b"), "b") == a
    other = json.loads(json.dumps(ABS))
    other["layers"][0]["activation"] = {"leaky_relu": 0}  # a slope of 0 is ReLU
    assert read_network(other, "c") == a
    assert read_network(net(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 2]]}]), "d") != a


def test_network_objects_are_read_through_their_data():
    from exactconvex.network import Network, network_from_dict

    leaky = json.loads(json.dumps(ABS))
    leaky["layers"][0]["activation"] = {"leaky_relu": "1/3"}
    leaky["layers"].insert(1, {"weight": [[1, 2]], "bias": ["1/7"]})
    leaky["layers"][2] = {"weight": [[1]], "skip": {"0": [[-1]], "1": [[2, 0]]}}
    obj = network_from_dict(leaky)
    assert isinstance(obj, Network)
    assert read_network(network_document(obj, "o"), "o") == read_network(leaky, "l")
    with pytest.raises(CertificateError, match="o: expected a network .* got int"):
        network_document(3, "o")


# ----- messages ---------------------------------------------------------------------------------------

def test_short():
    assert short(fmpq(-3, 4)) == "-3/4"
    assert short("7" * 60) == "7" * 60
    assert short("7" * 61) == "77777777777777...(61 digits)"
    assert short("-" + "7" * 70) == "-77777777777777...(70 digits)"
    assert short("1" * 30 + "/" + "3" * 40) == "11111111111111...(30 digits)/33333333333333...(40 digits)"
    assert short("1" * 10 + "/" + "3" * 55) == "1111111111/33333333333333...(55 digits)"
    assert short_text("x" * 100) == "'" + "x" * 36 + "..."
    assert short_text("ab") == "'ab'"
