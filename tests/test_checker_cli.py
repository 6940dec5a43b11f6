"""``exactconvex verify CERT [--network F [--network G]] [--json]``: exit codes, JSON, binding.

Exit 0 valid, 1 invalid, 2 unreadable; ``--json`` prints one JSON object in every case (also
``{"valid": null, "error": ...}`` when nothing could be checked); a closed stdout never
changes the exit code.  Model files other than JSON are converted by the package's loader.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exactconvex import equivalent, network_from_dict, save_npz
from strategies import run_cli

ABS = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
       "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]}
NEG_ABS = {**ABS, "layers": [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}]}
LEAKY = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
         "layers": [{"weight": [[1]], "activation": {"leaky_relu": "1/2"}}, {"weight": [[1]]}]}
RELU_FORM = {"format": "exactconvex.network", "version": 1, "input_dim": 1,
             "layers": [{"weight": [[1]]}, {"weight": [["1/2"]], "skip": {"0": [["1/2"]]}}]}
ABS_REGIONS = [{"pattern": ["10"], "interior_point": ["1"], "facets": [{"neuron": [1, 0], "point": ["0"], "neighbor": 1}]},
               {"pattern": ["01"], "interior_point": ["-1"], "facets": [{"neuron": [1, 1], "point": ["0"], "neighbor": 0}]}]


def cert(network, regions=ABS_REGIONS):
    return {"format": "exactconvex.certificate", "version": 1, "claim": "convex", "network": network,
            "proofs": [{"output": 0, "method": "regions"}], "region_graph": {"regions": regions}}


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, obj in (("good", cert(ABS)), ("bad", cert(NEG_ABS)), ("abs", ABS), ("neg", NEG_ABS), ("leaky", LEAKY),
                      ("relu_form", RELU_FORM)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(obj))
    paths["eq"] = tmp_path / "eq.json"
    paths["eq"].write_text(json.dumps(equivalent(network_from_dict(LEAKY), network_from_dict(RELU_FORM)).certificate))
    paths["garbage"] = tmp_path / "garbage.json"
    paths["garbage"].write_text("{not json")
    paths["abs_npz"] = tmp_path / "abs.npz"
    save_npz(network_from_dict(ABS), paths["abs_npz"])
    paths["leaky_npz"] = tmp_path / "leaky.npz"
    save_npz(network_from_dict(LEAKY), paths["leaky_npz"])
    return paths


def test_exit_codes_and_output(files):
    r = run_cli("verify", files["good"])
    assert r.returncode == 0 and "every output is convex" in r.stdout and r.stderr == ""
    r = run_cli("verify", files["bad"])
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("invalid certificate: region 0, facet 0: output 0")
    for path in (files["garbage"], files["good"].parent / "missing.json", files["good"].parent):
        r = run_cli("verify", path)
        assert r.returncode == 2 and r.stderr.startswith("exactconvex: ") and "Traceback" not in r.stderr


def test_json_in_every_case(files):
    r = run_cli("verify", files["good"], "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"valid": True, "claim": "convex", "regions": 2, "facets": 1,
                                    "reason": "every output is convex (regions: outputs [0]; region graph: 2 regions, "
                                              "1 facets)"}
    r = run_cli("verify", files["bad"], "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["valid"] is False and "bends by -2" in out["reason"]
    for args in ((files["garbage"],), (files["good"], "--network", files["garbage"]),
                 (files["good"], "--network", files["abs"], "--network", files["abs"], "--network", files["abs"])):
        r = run_cli("verify", *args, "--json")
        out = json.loads(r.stdout)
        assert r.returncode == 2 and out["valid"] is None and out["error"] and set(out) == {"valid", "error"}


def test_binding_to_one_network(files):
    assert run_cli("verify", files["good"], "--network", files["abs"]).returncode == 0
    r = run_cli("verify", files["good"], "--network", files["neg"])
    assert r.returncode == 1 and "differs from the given network (layer 2, weight)" in r.stderr
    assert run_cli("verify", files["good"], "--network", files["abs_npz"]).returncode == 0  # converted by the loader
    r = run_cli("verify", files["good"], "--network", files["leaky_npz"], "--json")
    assert r.returncode == 1 and "differs" in json.loads(r.stdout)["reason"]


def test_binding_to_two_networks(files):
    r = run_cli("verify", files["eq"], "--network", files["leaky"], "--network", files["relu_form"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["claim"] == "equivalent"
    assert run_cli("verify", files["eq"], "--network", files["leaky_npz"], "--network", files["relu_form"]).returncode == 0
    r = run_cli("verify", files["eq"], "--network", files["relu_form"], "--network", files["leaky"])
    assert r.returncode == 1 and "networks.f differs from the first given network" in r.stderr
    r = run_cli("verify", files["good"], "--network", files["abs"], "--network", files["abs"])
    assert r.returncode == 1 and "two networks were given, but the certificate claims 'convex'" in r.stderr


def test_closed_stdout_keeps_the_exit_code(files):
    for name, code in (("good", 0), ("bad", 1)):
        script = (f"{sys.executable} -m exactconvex verify {files[name]} --json | head -c 0; "
                  "exit ${PIPESTATUS[0]}")
        assert subprocess.run(["bash", "-c", script], capture_output=True, timeout=120).returncode == code


def test_run_in_process(files, capsys):
    import argparse

    from exactconvex.cli import verify_cmd

    parser = argparse.ArgumentParser(prog="exactconvex")
    verify_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["verify", str(files["good"]), "--network", str(files["abs"])])
    assert args.run(args) == 0 and "convex" in capsys.readouterr().out
    args = parser.parse_args(["verify", str(files["garbage"]), "--json"])
    assert args.run(args) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["valid"] is None and err.startswith("exactconvex: ")
