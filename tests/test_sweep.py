"""Sweeps: networks and verdicts cross process boundaries, engines agree, runs resume, grids are deterministic.

The engine tests compare whole rows (everything but timings) between a serial run, ``jobs=2``
and a Dask ``LocalCluster`` of two worker processes on 200 generated networks.  The Dask test
takes the ``dask_distributed`` fixture: skipped without ``distributed``, except under ``CI=true``,
where a missing Dask fails it (CI must exercise the Dask path).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exactconvex import Network
from exactconvex.checker import verify
from exactconvex.decide import check
from exactconvex.network import read_json
from exactconvex.numbers import to_q
from exactconvex.sweep import (Cell, SweepError, clopper_pearson, icnn_structured, int_network, parse_grid,
                               read_results, sweep, torch_network)
from exactconvex.sweep.results import ResultsFile
from strategies import scaled

# 200 networks: two architectures x two initialisations x 50; verdicts by search, regions, and both answers
SPEC_200 = "d=2,3;widths=3x3x3;count=50;init=torch,int"
TIMINGS = ("seconds", "verify_seconds")


def without_timings(rows):
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


def grid_ids(spec):
    g = parse_grid(spec)
    return [cell.network_id(n) for cell, n in g.items()]


@pytest.fixture(scope="session")
def dask_distributed():
    """``distributed``; skip (or, under CI=true, fail) when it cannot be imported."""
    try:
        import distributed
    except ImportError as exc:
        hint = "pip install 'exactconvex[dask]' (dask[distributed])"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but dask.distributed cannot be imported ({exc}); the Dask test must run in CI: "
                        f"{hint}", pytrace=False)
        pytest.skip(f"dask.distributed is not installed; to run this test, {hint}")
    return distributed


@pytest.fixture(scope="module")
def serial_200(tmp_path_factory):
    path = tmp_path_factory.mktemp("serial") / "results.jsonl"
    summary = sweep(grid=SPEC_200, results=path)
    return summary, read_results(path)


# ----- networks and verdicts travel --------------------------------------------------------------

def _verdict_kinds():
    """Networks whose verdicts take each road: search witness, region graph (convex, not ICNN), ICNN, one layer."""
    nets = {"icnn": Cell(2, (3, 3), 1, "icnn", 0).network(0), "one-layer": Cell(2, (4,), 1, "torch", 0).network(0),
            "search": Cell(2, (3, 3), 1, "torch", 0).network(0)}
    cell = Cell(2, (2, 2, 2), 1, "int:3", 0)
    for n in range(200):  # the first convex network of this cell that is not ICNN-structured
        net = cell.network(n)
        v = check(net)
        if v.convex and not net.is_icnn() and v.method == "regions":
            nets["regions"] = net
            break
    assert "regions" in nets, "no convex non-ICNN network among 200: the generator changed"
    return nets


def test_networks_and_verdicts_cross_process_boundaries_unchanged():
    nets = _verdict_kinds()
    local = {k: check(net, certificate=True) for k, net in nets.items()}
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                      else "spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:  # a fresh interpreter: nothing shared but the pickle
        remote = {k: pool.submit(check, net, "auto", True).result() for k, net in nets.items()}
        echoed = {k: pool.submit(_identity, net).result() for k, net in nets.items()}
    assert {k: v.method for k, v in remote.items()}["regions"] == "regions"
    for k in nets:
        assert echoed[k] == nets[k] and echoed[k] is not nets[k]
        assert dataclasses.replace(remote[k], seconds=0) == dataclasses.replace(local[k], seconds=0), k
        assert remote[k].certificate == local[k].certificate
        assert verify(remote[k].certificate, nets[k]).valid
    w = remote["search"].witness
    assert not remote["search"].convex and all(isinstance(v, fmpq) for v in (*w["x"], *w["y"], w["lambda"]))
    assert remote["regions"].convex and remote["regions"].regions > 1


def _identity(x):
    return x


# ----- the grid ------------------------------------------------------------------------------------

def test_grid_spec_syntax_and_errors():
    g = parse_grid("d=2..3; depth=2,3; width=4 ; count=7; init=torch,int:2; seed=5")
    assert [c.hidden for c in g.cells[:4]] == [(4, 4), (4, 4), (4, 4, 4), (4, 4, 4)]
    assert [c.init for c in g.cells[:2]] == ["torch", "int:2"] and len(g) == 2 * 2 * 2 * 7
    assert g.cells[0].network_id(3) == "d2-4x4-torch-seed5-000003"
    assert parse_grid(g.text) == g
    assert len(parse_grid("paper-2d")) == 1000 and parse_grid("paper-dim;count=3").count == 3
    assert parse_grid("paper-2d;widths=8x8").cells[0].hidden == (8, 8)
    assert parse_grid("d=2;widths=4x4;count=1", seed=9).cells[0].seed == 9
    bad = {"d=2;widths=4x4": "count", "widths=4x4;count=3": "input dimension", "d=2;count=3": "architectures",
           "d=2;widths=4x4;width=3;depth=2;count=1": "either", "d=2;width=3;count=1": "depth",
           "d=3..2;widths=4;count=1": "empty", "d=2;widths=4x0;count=1": "width 0", "d=2;widths=4;count=1;x=2": "unknown",
           "d=2;widths=4;count=1;init=relu": "init", "d=2;widths=4;count=1;count=2": "twice", "d=2;widths=4;count=0": "minimum",
           "nonsense": "preset", "": "empty", "d=2;widths=4;count=1;seed=-1": "nonnegative"}
    for spec, words in bad.items():
        with pytest.raises(SweepError, match=words):
            parse_grid(spec)
    with pytest.raises(SweepError, match="once"):
        parse_grid("d=2;widths=4;count=1;seed=1", seed=2)


@settings(max_examples=scaled(25))
@given(st.integers(0, 2**40), st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3),
       st.integers(1, 2), st.sampled_from(["torch", "icnn", "int:3", "int:1"]), st.integers(0, 30))
def test_network_n_depends_only_on_seed_architecture_and_n(seed, d, hidden, outputs, init, n):
    spec = (f"d={d};widths={'x'.join(map(str, hidden))};outputs={outputs};init={init};seed={seed}")
    small, large = parse_grid(spec + f";count={n + 1}"), parse_grid(spec + f";count={n + 40}")
    assert small.cells == large.cells
    cell = small.cells[0]
    assert cell.network(n) == large.cells[0].network(n) == Cell(d, tuple(hidden), outputs, init, seed).network(n)
    assert cell.network_id(n) == grid_ids(spec + f";count={n + 40}")[n]
    assert parse_grid(small.text) == small


def test_generators_torch_init_icnn_pairing_and_integers(torch):
    cell = Cell(3, (5, 7), 2, "torch", 1)
    net = cell.network(4)
    assert net.widths == [3, 5, 7, 2]
    for layer, fan_in in zip(net.layers, [3, 5, 7]):
        bound = 1 / np.sqrt(fan_in)
        for v in (*layer.weight.entries(), *layer.bias.entries()):
            f = float(int(v.p)) / float(int(v.q))
            assert abs(f) <= bound and float(np.float32(f)) == f  # a float32, read exactly
            assert int(v.q) & (int(v.q) - 1) == 0  # dyadic: the exact binary value
    # PyTorch's own nn.Linear bound is the one reproduced: kaiming_uniform_(a=sqrt(5)) -> 1/sqrt(fan_in)
    fan_in = 7
    gain = torch.nn.init.calculate_gain("leaky_relu", np.sqrt(5))
    assert abs(gain * np.sqrt(3 / fan_in) - 1 / np.sqrt(fan_in)) < 1e-12
    lin = torch.nn.Linear(fan_in, 1000)
    assert float(lin.weight.detach().abs().max()) <= 1 / np.sqrt(fan_in) and float(lin.weight.detach().abs().max()) > 0.9 / np.sqrt(fan_in)
    # icnn network n is the torch network n with |weights| out of hidden layers
    paired = Cell(3, (5, 7), 2, "icnn", 1).network(4)
    assert paired == icnn_structured(net) and paired.is_icnn() and not net.is_icnn()
    assert paired.layers[0].weight == net.layers[0].weight and paired.layers[2].bias == net.layers[2].bias
    ints = Cell(2, (6, 6), 1, "int:2", 0).network(0)
    values = {int(v) for layer in ints.layers for v in (*layer.weight.entries(), *layer.bias.entries())}
    assert values <= set(range(-2, 3)) and len(values) >= 4
    assert torch_network(np.random.default_rng(0), 2, [3]) != int_network(np.random.default_rng(0), 2, [3])


@settings(max_examples=scaled(60))
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
                  elements=st.floats(width=32, allow_nan=False, allow_infinity=False)))
def test_float32_arrays_are_read_exactly(values):
    from exactconvex.sweep.generate import _float32_matrix

    m = _float32_matrix(values)
    assert m.entries() == [fmpq(*float(v).as_integer_ratio()) for v in values.ravel()]
    assert (m.nrows(), m.ncols()) == (values.shape[0], 1 if values.ndim == 1 else values.shape[1])


def test_clopper_pearson_matches_scipy():
    from scipy.stats import binomtest

    for k, n in [(0, 10), (3, 100), (50, 100), (100, 100), (1, 5000)]:
        expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        lo, hi = clopper_pearson(k, n)
        assert abs(lo - expected.low) < 1e-9 and abs(hi - expected.high) < 1e-9


# ----- engines agree ------------------------------------------------------------------------------

def test_serial_sweep_rows(serial_200):
    summary, rows = serial_200
    assert [r["network"] for r in rows] == grid_ids(SPEC_200)  # sorted into grid order
    assert summary.networks == summary.computed == 200 and summary.undecided == 0
    assert summary.convex + summary.not_convex == 200 and summary.convex > 0 and summary.not_convex > 0
    assert {r["method"] for r in rows} >= {"search", "regions"}
    for r in rows[:20] + rows[-20:]:
        assert set(r) >= {"network", "convex", "method", "regions", "seconds", "architecture", "icnn_structure"}
        cell = Cell(r["input_dim"], tuple(r["hidden_widths"]), r["outputs"], r["init"], r["seed"])
        assert cell.network_id(r["index"]) == r["network"]
        assert r["convex"] == check(cell.network(r["index"])).convex
        if r["convex"] is False:  # the exact witness in the row shows it
            x, y = ([to_q(v) for v in r["witness"][k]] for k in ("x", "y"))
            lam = to_q(r["witness"]["lambda"])
            net = cell.network(r["index"])
            mid = net.evaluate([lam * a + (1 - lam) * b for a, b in zip(x, y)])[0]
            assert mid > lam * net.evaluate(x)[0] + (1 - lam) * net.evaluate(y)[0]


def test_jobs_2_gives_the_serial_rows(serial_200, tmp_path):
    out = tmp_path / "r.jsonl"
    summary = sweep(grid=SPEC_200, results=out, jobs=2)
    assert summary.engine == "2 local processes" and summary.computed == 200
    assert without_timings(read_results(out)) == without_timings(serial_200[1])


def test_dask_local_cluster_gives_the_serial_rows(serial_200, tmp_path, dask_distributed):
    out = tmp_path / "r.jsonl"
    summary = sweep(grid=SPEC_200, results=out, dask="local", jobs=2)
    assert summary.engine == "Dask LocalCluster of 2 worker processes" and summary.computed == 200
    assert without_timings(read_results(out)) == without_timings(serial_200[1])


def test_missing_dask_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from exactconvex.cli.main import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = main(["sweep", "--grid", "d=2;widths=3;count=2", "-o", str(tmp_path / "r.jsonl"), "--dask", "local"])
    assert code == 2
    assert "pip install 'exactconvex[dask]'" in capsys.readouterr().err


class _KillsItsWorker(Network):
    """A network that ends the worker process receiving it (its unpickling is ``os._exit(9)``), as the
    system's out-of-memory killer would end a worker deciding a huge network."""

    def __reduce__(self):
        return os._exit, (9,)


def test_a_worker_killed_by_one_network_costs_only_that_row(tmp_path):
    good = {f"n{i}": Cell(2, (3, 3), 1, "torch", 0).network(i) for i in range(6)}
    killer = _KillsItsWorker(2, good["n0"].layers)
    nets = {**dict(list(good.items())[:3]), "killer": killer, **dict(list(good.items())[3:])}
    summary = sweep(nets, results=tmp_path / "r.jsonl", jobs=2, chunk=3)
    rows = {r["network"]: r for r in read_results(tmp_path / "r.jsonl")}
    assert list(rows) == list(nets) and summary.computed == 7
    assert rows["killer"]["convex"] is None and rows["killer"]["error"].startswith("worker died")
    assert all(rows[k]["convex"] is check(net).convex for k, net in good.items())
    assert summary.errors == {"worker died": 1}


# ----- resuming -----------------------------------------------------------------------------------

def test_resume_skips_done_rows_and_recomputes_none_of_them(tmp_path):
    out = tmp_path / "r.jsonl"
    first = sweep(grid="d=2;widths=3x3;count=30;init=torch", results=out)
    before = out.read_text().splitlines()
    second = sweep(grid="d=2;widths=3x3;count=50;init=torch", results=out)
    after = out.read_text().splitlines()
    assert (first.computed, second.computed, second.skipped, second.networks) == (30, 20, 30, 50)
    assert after[:30] == before  # byte for byte, timings included: not decided again
    third = sweep(grid="d=2;widths=3x3;count=50;init=torch", results=out, jobs=2)
    assert third.computed == 0 and out.read_text().splitlines() == after and third.engine == "nothing to do"


def test_broken_last_lines_are_dropped_and_redone(tmp_path):
    out = tmp_path / "r.jsonl"
    spec = "d=2;widths=3x3;count=12;init=int"
    sweep(grid=spec, results=out)
    full = out.read_text()
    lines = full.splitlines()
    out.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    s = sweep(grid=spec, results=out)
    assert s.computed == 1 and "half-written" in s.notes[0]
    assert without_timings(read_results(out)) == without_timings([json.loads(line) for line in lines])
    out.write_text("\n".join(lines[:-1]) + "\n{garbage\n")  # a broken complete last line
    s = sweep(grid=spec, results=out)
    assert s.computed == 1 and "broken last line" in s.notes[0] and len(read_results(out)) == 12
    out.write_text("{garbage\n" + "\n".join(lines[1:]) + "\n")  # not a results file: left alone
    with pytest.raises(SweepError, match="line 1, is not a result row"):
        sweep(grid=spec, results=out)
    assert out.read_text().startswith("{garbage\n")


def test_a_results_file_is_locked_while_a_sweep_writes_it(tmp_path):
    with ResultsFile(tmp_path / "r.jsonl"):
        with pytest.raises(SweepError, match="another sweep"):
            sweep(grid="d=2;widths=3;count=2", results=tmp_path / "r.jsonl")


def test_killed_sweep_resumes_to_the_same_rows(tmp_path):
    spec = "d=2;widths=3x3x3;count=150;init=torch,int"
    reference = tmp_path / "reference.jsonl"
    sweep(grid=spec, results=reference)
    out = tmp_path / "r.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "exactconvex", "sweep", "--grid", spec, "-o", str(out),
                             "--jobs", "2", "--chunk", "3", "--quiet"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.002)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its fork server and its workers: our own group
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep ended before it could be killed"
    written = out.read_bytes().count(b"\n")
    assert 20 <= written < 300
    resumed = sweep(grid=spec, results=out)
    assert resumed.skipped >= 20 and resumed.computed == 300 - resumed.skipped and resumed.networks == 300
    assert without_timings(read_results(out)) == without_timings(read_results(reference))


def test_retry_undecided_rows(tmp_path):
    out = tmp_path / "r.jsonl"
    spec = "d=2;widths=3x3;count=6;init=icnn"
    s = sweep(grid=spec, results=out, method="regions", max_regions=2)
    rows = read_results(out)
    assert s.undecided == 6 and s.errors == {"limit": 6}
    assert all(r["convex"] is None and r["error"].startswith("limit: ") for r in rows)
    assert sweep(grid=spec, results=out, method="regions").computed == 0  # null rows count as done
    s = sweep(grid=spec, results=out, method="regions", retry_undecided=True)
    rows = read_results(out)
    assert s.computed == 6 and s.convex == 6 and len(rows) == 6 and all(r["convex"] for r in rows)


# ----- certificates, export, files -------------------------------------------------------------------

def test_certificates_and_exported_networks(tmp_path):
    out, certs, export = tmp_path / "r.jsonl", tmp_path / "certs", tmp_path / "nets"
    spec = "d=2;widths=2x2x2;count=40;init=int"
    s = sweep(grid=spec, results=out, certs=certs, export=export, certs_for="convex-not-icnn")
    rows = read_results(out)
    wanted = [r for r in rows if r["convex"] and not r["icnn_structure"]]
    assert wanted and s.convex_not_icnn == len(wanted)
    assert sorted(os.listdir(certs)) == sorted(r["network"] + ".json" for r in wanted)
    for r in wanted:
        cert = json.loads(open(r["certificate"]).read())
        net = read_json(export / (r["network"] + ".json"))
        assert verify(cert, net).valid and cert["claim"] == "convex"
    cell = parse_grid(spec).cells[0]
    assert len(os.listdir(export)) == 40
    for n in (0, 39):
        assert read_json(export / f"{cell.network_id(n)}.json") == cell.network(n)
    # anyone can rerun the exported files: the same verdicts
    files_out = tmp_path / "files.jsonl"
    sweep([str(export / "*.json")], results=files_out, jobs=2)
    by_file = {os.path.basename(r["network"])[:-5]: r["convex"] for r in read_results(files_out)}
    assert by_file == {r["network"]: r["convex"] for r in rows}
    # asking for every certificate later decides again only the rows whose certificate is missing
    s2 = sweep(grid=spec, results=out, certs=certs)
    assert s2.computed == 40 - len(wanted) and len(os.listdir(certs)) == 40


def test_files_with_an_unreadable_one_get_rows(tmp_path):
    good = tmp_path / "a.json"
    good.write_text(json.dumps({"format": "exactconvex.network", "version": 1, "input_dim": 1,
                                "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]}))
    (tmp_path / "b.json").write_text("{not json")
    s = sweep([str(tmp_path / "*.json")], results=tmp_path / "r.jsonl")
    rows = read_results(tmp_path / "r.jsonl")
    assert [os.path.basename(r["network"]) for r in rows] == ["a.json", "b.json"]
    assert rows[0]["convex"] is True and rows[1]["convex"] is None and rows[1]["error"].startswith("unreadable")
    assert s.errors == {"unreadable": 1}


def test_cli_sweep_and_its_errors(tmp_path, cli, capsys):
    out = tmp_path / "r.jsonl"
    r = cli("sweep", "--grid", "d=2;widths=3x3;count=10;init=torch,icnn", "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["networks"] == 20 and summary["convex"] >= 10 and r.stderr == ""  # no bar in a pipe
    assert len(read_results(out)) == 20
    r = cli("sweep", "--grid", "d=2;widths=3x3;count=10;init=torch,icnn", "-o", out)
    assert r.returncode == 0 and "0 decided now" in r.stdout and "20 already there" in r.stdout
    from exactconvex.cli.main import main

    for args, words in [(["--grid", "d=2;widths=3;count=1;oops=1"], "unknown key"),
                        ([], "nothing to sweep"), (["a.json", "--grid", "d=2;widths=3;count=1"], "not both"),
                        ([str(tmp_path / "none*.json")], "no file matches"),
                        (["--grid", "d=2;widths=3;count=1", "--jobs", "-1"], "jobs"),
                        ([str(tmp_path / "r.jsonl"), "--export", str(tmp_path / "x")], "goes with --grid"),
                        (["--grid", "d=2;widths=3;count=1", "--timeout", "0"], "timeout")]:
        assert main(["sweep", *args, "-o", str(tmp_path / "other.jsonl")]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (args, err)


def test_the_package_is_callable_like_its_function(tmp_path):
    import exactconvex
    import exactconvex.sweep as module

    s = module(grid="d=1;widths=2;count=3", results=tmp_path / "r.jsonl")
    assert s.networks == s.computed == 3
    assert exactconvex.sweep is module and callable(exactconvex.sweep) and module.sweep is sweep
