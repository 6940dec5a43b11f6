"""`exactconvex info` through the real command line (subprocess, `python -m exactconvex`):
valid networks, and every kind of invalid input the format spec lists, each rejected with
exit code 2 and a one-line reason naming the layer and field, never a traceback."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from strategies import run_cli

REPO = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = REPO / "examples" / "networks" / "spec_example.json"

GOOD = {"format": "exactconvex.network", "version": 1, "input_dim": 2,
        "layers": [{"weight": [[1, -1], [2, 0]], "bias": [0, 1]},
                   {"weight": [[1, 1]], "bias": [0], "skip": {"0": [[1, 0]]}}]}


def good_text() -> str:
    return json.dumps(GOOD)


def with_change(change) -> str:
    d = copy.deepcopy(GOOD)
    change(d)
    return json.dumps(d)


def value_in_layer2_weight(literal: str) -> str:
    """The GOOD document with layer 2's weight[0][1] replaced by a raw JSON literal."""
    text = good_text()
    old = '"weight": [[1, 1]]'
    assert old in text
    return text.replace(old, f'"weight": [[1, {literal}]]')


# name: (file text, words that the message must contain)
CASES = {
    "bad format": (with_change(lambda d: d.update(format="onnx")), ["format"]),
    "missing format": (with_change(lambda d: d.pop("format")), ["format"]),
    "bad version": (with_change(lambda d: d.update(version=2)), ["version"]),
    "missing version": (with_change(lambda d: d.pop("version")), ["version"]),
    "weight columns": (with_change(lambda d: d["layers"][1].update(weight=[[1, 1, 1]])), ["layer 2", "weight"]),
    "bias length": (with_change(lambda d: d["layers"][0].update(bias=[0, 1, 2])), ["layer 1", "bias"]),
    "skip shape": (with_change(lambda d: d["layers"][1]["skip"].update({"0": [[1, 0, 0]]})), ["layer 2", "skip"]),
    "skip source out of range": (with_change(lambda d: d["layers"][1].update(skip={"1": [[1, 1]]})),
                                 ["layer 2", "skip", "range"]),
    "NaN": (value_in_layer2_weight("NaN"), ["layer 2", "weight", "NaN"]),
    "Infinity": (value_in_layer2_weight("Infinity"), ["layer 2", "weight", "Infinity"]),
    "-Infinity": (value_in_layer2_weight("-Infinity"), ["layer 2", "weight", "Infinity"]),
    "abc": (value_in_layer2_weight('"abc"'), ["layer 2", "weight", "abc"]),
    "1/0": (value_in_layer2_weight('"1/0"'), ["layer 2", "weight", "1/0"]),
    "true": (value_in_layer2_weight("true"), ["layer 2", "weight", "true"]),
    "null": (value_in_layer2_weight("null"), ["layer 2", "weight", "null"]),
    "unknown key in a layer": (with_change(lambda d: d["layers"][0].update(dropout="1/2")),
                               ["layer 1", "dropout"]),
    "activation on the last layer": (with_change(lambda d: d["layers"][1].update(activation="relu")),
                                     ["layer 2", "activation"]),
    "lenient number": (value_in_layer2_weight('"+3"'), ["layer 2", "weight", "+3"]),
    "spaced fraction": (value_in_layer2_weight('" 1 / 7 "'), ["layer 2", "weight", "1 / 7"]),
    "negative denominator": (value_in_layer2_weight('"1/-2"'), ["layer 2", "weight", "1/-2"]),
    "newline": (value_in_layer2_weight('"3\\n"'), ["layer 2", "weight"]),
    "skip key 00": (with_change(lambda d: d["layers"][1].update(skip={"00": [[1, 0]]})), ["layer 2", "skip", "00"]),
    "skip key arabic zero": (with_change(lambda d: d["layers"][1].update(skip={"\u0660": [[1, 0]]})),
                             ["layer 2", "skip"]),
    "duplicate key": (good_text().replace('"bias": [0, 1]', '"bias": [0, 1], "bias": [2, 3]'), ["bias", "twice"]),
    "not JSON": ('{"format": "exactconvex.network", "version": 1,', ["JSON"]),
    "empty file": ("", ["JSON"]),
}


def assert_rejected(result: subprocess.CompletedProcess, words, json_output: bool = False):
    """Exit 2, one sentence on stderr naming ``words``; stdout empty, or with --json one JSON
    object ``{"error": <the same sentence>}``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    message = result.stderr.strip()
    assert message, "no reason given on stderr"
    assert len(message.splitlines()) == 1, message
    if json_output:
        assert len(result.stdout.splitlines()) == 1
        assert "exactconvex: " + json.loads(result.stdout)["error"] == message
    else:
        assert result.stdout == ""
    for word in words:
        assert word.lower() in message.lower(), (word, message)


@pytest.mark.parametrize("name", list(CASES))
def test_info_rejects_invalid_input(tmp_path, name):
    text, words = CASES[name]
    path = tmp_path / "net.json"
    path.write_text(text)
    assert_rejected(run_cli("info", path), words)


@pytest.mark.parametrize("name", list(CASES))
def test_info_json_rejects_invalid_input(tmp_path, name):
    text, words = CASES[name]
    path = tmp_path / "net.json"
    path.write_text(text)
    assert_rejected(run_cli("info", "--json", path), words, json_output=True)


def test_info_missing_file(tmp_path):
    missing = tmp_path / "nowhere.json"
    assert_rejected(run_cli("info", missing), ["nowhere.json", "no such file"])


def test_info_directory(tmp_path):
    assert_rejected(run_cli("info", tmp_path), ["directory"])


def test_info_binary_file(tmp_path):
    path = tmp_path / "net.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    assert_rejected(run_cli("info", path), ["JSON"])


def test_bad_arguments_exit_2_without_traceback():
    for args in (["info"], ["no-such-command"], ["info", "--bogus", str(SPEC_EXAMPLE)], []):
        r = run_cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_info_human_summary():
    r = run_cli("info", SPEC_EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = r.stdout
    assert "input dimension: 2" in out
    assert "3, 2" in out  # hidden widths
    assert "0 -> 2" in out  # the skip from the input into layer 2
    assert "ICNN" in out


def test_info_json_keys():
    r = run_cli("info", "--json", SPEC_EXAMPLE)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert set(info) >= {"input_dim", "hidden_widths", "outputs", "depth", "skips", "parameters", "icnn"}
    assert info["input_dim"] == 2
    assert info["hidden_widths"] == [3, 2]
    assert info["outputs"] == 1
    assert info["depth"] == 3
    assert info["skips"] == [{"into_layer": 2, "from": 0}]
    assert info["parameters"] == 24
    assert info["icnn"] is False


def test_info_json_icnn_and_affine(tmp_path):
    r = run_cli("info", "--json", REPO / "examples" / "networks" / "abs.json")
    info = json.loads(r.stdout)
    assert r.returncode == 0 and info["icnn"] is True and info["hidden_widths"] == [2] and info["skips"] == []
    affine = tmp_path / "affine.json"
    affine.write_text(json.dumps({"format": "exactconvex.network", "version": 1, "input_dim": 3,
                                  "layers": [{"weight": [["0.1", "1e-9", "-3/4"], [1, 2, 3]]}]}))
    r = run_cli("info", "--json", affine)
    info = json.loads(r.stdout)
    assert r.returncode == 0 and info["hidden_widths"] == [] and info["outputs"] == 2 and info["depth"] == 1
    r = run_cli("info", affine)
    assert r.returncode == 0 and "affine" in r.stdout


def test_info_on_numbers_with_thousands_of_digits(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(value_in_layer2_weight("1" + "0" * 5000).replace('"bias": [0]', f'"bias": ["1/{"3" * 5000}"]'))
    r = run_cli("info", "--json", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["icnn"] is True


def test_info_reads_npz(tmp_path):
    from exactconvex import load, save_npz
    save_npz(load(SPEC_EXAMPLE), tmp_path / "net.npz")
    r = run_cli("info", "--json", tmp_path / "net.npz")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["skips"] == [{"into_layer": 2, "from": 0}]


def test_python_dash_m_and_version():
    r = subprocess.run([sys.executable, "-m", "exactconvex", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "exactconvex" in r.stdout
    r = subprocess.run([sys.executable, "-m", "exactconvex", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "info" in r.stdout


def test_console_script_if_installed():
    script = Path(sys.executable).parent / "exactconvex"
    if not script.exists():
        script = shutil.which("exactconvex")
        if script is None:
            pytest.skip("the exactconvex console script is not installed next to this interpreter")
    r = subprocess.run([str(script), "info", "--json", str(SPEC_EXAMPLE)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["input_dim"] == 2


def test_ci_runs_exactly_the_readme_test_command():
    """CI must prove what a new user gets: .ci/run holds README's test command verbatim."""
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    ci = open(os.path.join(root, ".ci", "run"), encoding="utf-8").read()
    commands = [c.strip() for c in re.findall(r"```bash\n(.*?)```", readme, re.S) if "pytest" in c]
    assert len(commands) == 1, "README must hold exactly one test command"
    assert commands[0] in [line.strip() for line in ci.splitlines()]


def test_internal_errors_are_reported_without_a_traceback(monkeypatch, capsys):
    from exactconvex.cli import main as cli

    def broken(args):
        raise AssertionError("an impossible case")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: _with_run(parser, broken))
    monkeypatch.delenv("EXACTCONVEX_DEBUG", raising=False)
    assert cli.main(["info", "x.json"]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "impossible case" in err and "Traceback" not in err


def _with_run(parser, run):
    parse = parser.parse_args

    def parse_args(argv=None):
        args = parse(argv)
        args.run = run
        return args

    parser.parse_args = parse_args
    return parser


def test_info_names_the_activations(tmp_path):
    doc = copy.deepcopy(GOOD)
    doc["layers"][0]["activation"] = {"leaky_relu": "1/2"}
    path = tmp_path / "leaky.json"
    path.write_text(json.dumps(doc))
    r = run_cli("info", "--json", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["activations"] == ["leaky_relu:1/2"]
    r = run_cli("info", path)
    assert "layer 1: leaky_relu:1/2" in r.stdout
    r = run_cli("info", "--json", SPEC_EXAMPLE)
    assert json.loads(r.stdout)["activations"] == ["relu", "relu"]


def test_messages_stay_short_whatever_the_input(tmp_path):
    """No message carries a huge word whole, whichever reader produced it (a safety net in main)."""
    doc = copy.deepcopy(GOOD)
    doc["layers"][0]["k" * 1_000_000] = 1
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    r = run_cli("info", "--json", path)
    assert r.returncode == 2 and len(r.stderr) < 400 and "1000000 characters" in r.stderr
    assert len(json.loads(r.stdout)["error"]) < 400
