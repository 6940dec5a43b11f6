"""The commands ``convexify`` and ``margin`` (contract: shared/spec/cli.md), run as users run them."""

from __future__ import annotations

import json

import pytest
from flint import fmpq

from exactconvex import Network, check, load, verify
from exactconvex.convexify import convexify
from exactconvex.network import save_json
from exactconvex.sweep.generate import network_rng, torch_network
from strategies import run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("convexify")
    nets = {"random": torch_network(network_rng(0, 2, [4, 4], 1, 0), 2, [4, 4]),
            "concave": Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, -2]]}]),
            "convex": Network.from_lists(1, [{"weight": [[1], [2]]}, {"weight": [[1, 1]]}])}
    paths = {}
    for name, net in nets.items():
        paths[name] = d / f"{name}.json"
        save_json(net, paths[name])
    return d, nets, paths


def test_convexify_writes_the_nearest_convex_network_and_a_verified_certificate(files):
    d, nets, paths = files
    out, cert = d / "out.json", d / "cert.json"
    p = run_cli("convexify", paths["random"], "-o", out, "--cert", cert, "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    expected = convexify(nets["random"])
    assert report["distance"] == str(expected.distance) and report["norm"] == "linf"
    assert report["convex_before"] is False and report["outputs"][0]["distance"] == str(expected.distance)
    assert load(out) == expected.network and check(load(out)).convex
    assert verify(str(cert), network=str(paths["random"])).valid
    p = run_cli("verify", cert, "--network", paths["random"])
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli("verify", cert, "--network", paths["concave"])
    assert p.returncode == 1


def test_l1_norm_and_human_output(files):
    d, nets, paths = files
    p = run_cli("convexify", paths["concave"], "-o", d / "l1.json", "--norm", "l1")
    assert p.returncode == 0, p.stderr
    assert "l1 distance 1 from" in p.stdout  # one group: bend -1, coefficients |c_j| = 1: l1 distance 1 / max |c_j|
    assert load(d / "l1.json").layers[-1].weight.entries() in ([fmpq(2), fmpq(-2)], [fmpq(1), fmpq(-1)])


def test_convex_network_is_written_unchanged(files):
    d, nets, paths = files
    p = run_cli("convexify", paths["convex"], "-o", d / "same.json", "--json")
    assert p.returncode == 0
    report = json.loads(p.stdout)
    assert report["distance"] == "0" and report["convex_before"] is True
    assert load(d / "same.json") == nets["convex"]


def test_bad_input_exits_2_without_traceback(files):
    d, nets, paths = files
    for args in (["--norm", "l2", "-o", d / "x.json"], ["-o", paths["concave"]], ["-o", d / "x.onnx"], []):
        p = run_cli("convexify", paths["concave"], *args)
        assert p.returncode == 2 and "Traceback" not in p.stderr, (args, p.stderr)
    p = run_cli("convexify", d / "missing.json", "-o", d / "x.json", "--json")
    assert p.returncode == 2 and "error" in json.loads(p.stdout)
    p = run_cli("margin", d / "missing.json")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_convexify_limit_is_reported(files):
    d, nets, paths = files
    p = run_cli("convexify", paths["random"], "-o", d / "lim.json", "--max-regions", "2", "--json")
    assert p.returncode == 2
    report = json.loads(p.stdout)
    assert report["status"] == "limit" and report["distance"] is None
    assert not (d / "lim.json").exists()


def test_margin_exit_codes_and_json(files):
    d, nets, paths = files
    p = run_cli("margin", paths["convex"], "--json")
    assert p.returncode == 0
    report = json.loads(p.stdout)
    assert report["convex"] is True and report["margin"] == "1" and report["outputs"][0]["facet"]["neuron"] == [1, 0]
    x = report["expressivity"]
    assert x["strictly_larger"] is True and any(fmpq(v) < 0 for v in x["beyond_orthant"])
    p = run_cli("margin", paths["concave"], "--json")
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert report["convex"] is False and report["margin"] == "-1/2" and report["distance"] == "1/2"
    p = run_cli("margin", paths["random"])
    assert p.returncode == 1 and "NOT convex" in p.stdout and "ICNN orthant" in p.stdout
    p = run_cli("margin", paths["random"], "--no-expressivity", "--json")
    assert "expressivity" not in json.loads(p.stdout)
