"""The command line keeps its contract in every situation (issue 11, "Trust").

* Exit codes never lie: a closed stdout never changes the code the verdict decided.
* ``--json`` always prints one JSON object: also at a limit (``"status": "limit"``) and on
  bad input (``"error"``), with exit 2.
* Bounds are checked (``--timeout nan`` is refused) and reading the network counts toward
  ``--timeout``.
* Every file written is written atomically, never over an input of the command, never
  through a symlink, and a replaced file is reported.
* Every certificate written is verified against the networks the user gave first.

Each test is built from a reproducer of the issue.  Subprocess tests run the CLI the way
scripts do; in-process tests call ``cli.main.main`` (faster, and able to break things)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exactconvex.cli import main as cli
from strategies import run_cli

REPO = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = REPO / "examples" / "networks" / "spec_example.json"  # not convex
ABS = REPO / "examples" / "networks" / "abs.json"  # convex (|x|)


def closed_pipe(*args, timeout=120) -> tuple[int, str]:
    """Run the CLI with stdout a pipe whose read end is closed at once; (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "exactconvex", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def shell_pipe(command: str) -> tuple[int, str]:
    """``exactconvex ARGS | true`` in a shell; (the CLI's exit code, its stderr)."""
    script = f"{sys.executable} -m exactconvex {command} | true; echo \"${{PIPESTATUS[0]}}\" >&2"
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    *err, code = r.stderr.rstrip("\n").split("\n")
    return int(code), "\n".join(err)


def invalid_certificate(tmp_path) -> Path:
    """A well-formed certificate that is wrong: it claims |x| is not convex."""
    cert = {"format": "exactconvex.certificate", "version": 1, "claim": "not_convex",
            "network": json.loads(ABS.read_text()), "witness": {"output": 0, "x": ["1"], "y": ["-1"], "lambda": "1/2"}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cert))
    return path


def run_main(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ----- exit codes never lie ----------------------------------------------------------------------

def test_check_of_a_non_convex_network_into_a_closed_pipe_exits_1():
    # reproducer: `exactconvex check examples/networks/spec_example.json | true` exited 0
    code, err = closed_pipe("check", SPEC_EXAMPLE)
    assert code == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err
    code, err = shell_pipe(f"check {SPEC_EXAMPLE}")
    assert code == 1 and "Traceback" not in err, err
    code, err = closed_pipe("check", "--json", SPEC_EXAMPLE)
    assert code == 1 and "Traceback" not in err, err


def test_verify_of_an_invalid_certificate_into_a_closed_pipe_exits_1(tmp_path):
    # reproducer: `verify bad.json --json | head -c 0` exited 0 ("valid")
    bad = invalid_certificate(tmp_path)
    assert run_cli("verify", bad).returncode == 1
    for args in (("verify", bad, "--json"), ("verify", bad)):
        code, err = closed_pipe(*args)
        assert code == 1, err
        assert "Traceback" not in err
    code, err = shell_pipe(f"verify {bad} --json")
    assert code == 1, err


def test_json_at_a_limit_prints_json_and_exits_2():
    r = run_cli("check", SPEC_EXAMPLE, "--method", "regions", "--max-regions", "1", "--json")
    assert r.returncode == 2, r.stderr
    report = json.loads(r.stdout)
    assert report["status"] == "limit" and report["convex"] is None
    assert isinstance(report["regions_processed"], int) and report["regions_found"] >= 1
    assert report["seconds"] >= 0 and "limit" in report["error"]
    assert "Traceback" not in r.stderr and r.stderr.strip()
    code, err = closed_pipe("check", SPEC_EXAMPLE, "--method", "regions", "--max-regions", "1", "--json")
    assert code == 2 and "Traceback" not in err


def test_a_closed_pipe_keeps_a_yes(tmp_path):
    code, err = closed_pipe("check", ABS, "--json")
    assert code == 0, err
    code, err = closed_pipe("info", SPEC_EXAMPLE)
    assert code == 0, err


def test_a_write_that_fails_in_the_middle_keeps_the_verdicts_code(monkeypatch, capsys):
    """stdout breaks at the first write (before the interpreter's final flush): still exit 1."""

    class Broken:
        def __init__(self):
            self.writes = 0

        def write(self, text):
            self.writes += 1
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    broken = Broken()
    monkeypatch.setattr(sys, "stdout", broken)
    assert cli.main(["check", str(SPEC_EXAMPLE)]) == 1
    assert broken.writes == 1  # after the first failure nothing else is tried
    assert sys.stdout is broken
    assert cli.main(["check", str(ABS), "--json"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_full_disk_on_stdout_is_reported_but_keeps_the_code(monkeypatch, capsys):
    class Full:
        def write(self, text):
            raise OSError(28, "No space left on device")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Full())
    assert cli.main(["check", str(SPEC_EXAMPLE)]) == 1
    assert "No space left on device" in capsys.readouterr().err


# ----- --json always prints one JSON object -----------------------------------------------------

JSON_COMMANDS = {
    "info": ["info", "{net}", "--json"],
    "check": ["check", "{net}", "--json"],
    "regions": ["regions", "{net}", "--json"],
    "conditions": ["conditions", "{net}", "--json"],
    "equiv": ["equiv", "{net}", "{net}", "--json"],
    "to-icnn": ["to-icnn", "{net}", "-o", "{tmp}/out.json", "--json"],
    "verify": ["verify", "{net}", "--json"],
}


@pytest.mark.parametrize("command", sorted(JSON_COMMANDS))
def test_json_error_on_bad_input(tmp_path, command):
    missing = tmp_path / "missing.json"
    args = [a.format(net=missing, tmp=tmp_path) for a in JSON_COMMANDS[command]]
    r = run_cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "missing.json" in json.loads(r.stdout)["error"]
    assert len(r.stdout.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr and "missing.json" in r.stderr


@pytest.mark.parametrize("command", ["check", "regions", "conditions", "equiv", "to-icnn"])
def test_json_error_on_bad_arguments(tmp_path, command, capsys):
    args = [a.format(net=ABS, tmp=tmp_path) for a in JSON_COMMANDS[command]] + ["--timeout", "nan"]
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert "--timeout" in json.loads(out)["error"] and "nan" in err


def test_json_error_for_counterexample_and_no_verdict(tmp_path, capsys):
    code, out, _ = run_main(capsys, "counterexample", "--arch", "1,x,1", "-o", tmp_path / "c.json", "--json")
    assert code == 2 and "--arch" in json.loads(out)["error"]
    code, out, _ = run_main(capsys, "check", SPEC_EXAMPLE, "--method", "icnn", "--json")  # undecidable by that rule
    assert code == 2 and "no verdict" in json.loads(out)["error"]


@pytest.mark.parametrize("command, verdict_key", [("regions", None), ("conditions", "all_hold"),
                                                  ("equiv", "equivalent")])
def test_json_at_a_limit_for_other_commands(capsys, command, verdict_key):
    args = [a.format(net=SPEC_EXAMPLE, tmp="") for a in JSON_COMMANDS[command]] + ["--max-regions", "1"]
    code, out, err = run_main(capsys, *args)
    assert code == 2, err
    report = json.loads(out)
    assert report["status"] == "limit" and "regions_processed" in report and "seconds" in report
    if verdict_key:
        assert report[verdict_key] is None


# ----- bounds -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "-inf"),
                                           ("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "1e999"),
                                           ("--timeout", "abc"), ("--max-regions", "0"), ("--max-regions", "-3"),
                                           ("--max-regions", "2.5"), ("--max-regions", "\u0663")])
def test_bounds_are_refused_clearly(capsys, option, value):
    # reproducer: `--timeout nan` was accepted
    code, out, err = run_main(capsys, "check", ABS, f"{option}={value}")
    assert code == 2 and out == ""
    assert option in err and ("positive" in err or "expected" in err), err
    assert "Traceback" not in err


def test_reading_counts_toward_the_timeout(monkeypatch, capsys):
    """A reader that never finishes is interrupted by --timeout (no verdict, exit 2)."""
    import time

    import exactconvex.network as network

    def slow_load(path, **kwargs):
        time.sleep(60)

    monkeypatch.setattr(network, "load", slow_load)
    t0 = time.perf_counter()
    code, out, err = run_main(capsys, "check", ABS, "--timeout", "0.3", "--json")
    assert code == 2 and time.perf_counter() - t0 < 30
    report = json.loads(out)
    assert report["status"] == "limit" and "reading" in report["error"] and "--timeout" in report["error"]


# ----- --state-dict-activation ----------------------------------------------------------------------

@pytest.mark.parametrize("command", ["info", "check", "regions", "conditions", "equiv", "to-icnn"])
def test_state_dict_activation_is_passed_to_the_loader(monkeypatch, capsys, tmp_path, command):
    import exactconvex.network as network

    seen = []
    real = network.load

    def load(path, **kwargs):
        seen.append(kwargs)
        return real(path)

    monkeypatch.setattr(network, "load", load)
    args = [a.format(net=ABS, tmp=tmp_path) for a in JSON_COMMANDS[command]]
    run_main(capsys, *args, "--state-dict-activation", "leaky_relu:1/100")
    assert seen and all(kw == {"state_dict_activation": "leaky_relu:1/100"} for kw in seen)
    seen.clear()
    run_main(capsys, *args)
    assert seen and all(kw == {} for kw in seen)  # passed only when given


@pytest.mark.parametrize("value", ["tanh", "leaky_relu", "leaky_relu:", "leaky_relu:+1/2", "leaky_relu:1/0",
                                   "relu:0", "leaky_relu:0.5.5", "RELU"])
def test_state_dict_activation_is_checked(capsys, value):
    code, out, err = run_main(capsys, "check", ABS, "--state-dict-activation", value, "--json")
    assert code == 2
    assert "--state-dict-activation" in json.loads(out)["error"] and "leaky_relu:S" in err


# ----- output safety ----------------------------------------------------------------------------------

def _network_copy(tmp_path, source=SPEC_EXAMPLE, name="net.json") -> Path:
    path = tmp_path / name
    path.write_bytes(source.read_bytes())
    return path


def test_check_refuses_to_write_its_certificate_over_the_network(tmp_path):
    # reproducer: `check net.json --cert net.json` destroyed the network
    net = _network_copy(tmp_path)
    before = net.read_bytes()
    r = run_cli("check", net, "--cert", net)
    assert r.returncode == 2 and "input" in r.stderr and "refusing" in r.stderr, r.stderr
    assert net.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.json"]


@pytest.mark.parametrize("alias", ["symlink", "hardlink", "dotted"])
def test_the_input_is_recognised_under_another_name(tmp_path, capsys, alias):
    net = _network_copy(tmp_path)
    before = net.read_bytes()
    other = tmp_path / "other.json"
    if alias == "symlink":
        other.symlink_to(net)
    elif alias == "hardlink":
        os.link(net, other)
    else:
        other = tmp_path / "." / "sub" / ".." / "net.json"
        (tmp_path / "sub").mkdir()
    code, _, err = run_main(capsys, "check", net, "--cert", other)
    assert code == 2 and ("input" in err or "symbolic link" in err), err
    assert net.read_bytes() == before


def test_no_output_goes_through_a_symlink(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "cert.json"
    link.symlink_to(target)
    code, _, err = run_main(capsys, "check", ABS, "--cert", link)
    assert code == 2 and "symbolic link" in err
    assert target.read_text() == "keep me" and link.is_symlink()
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    code, _, err = run_main(capsys, "check", ABS, "--cert", dangling)
    assert code == 2 and "symbolic link" in err


@pytest.mark.parametrize("where", ["directory", "device", "missing folder"])
def test_outputs_that_are_not_files_are_refused(tmp_path, capsys, where):
    path = {"directory": tmp_path, "device": Path("/dev/null"),
            "missing folder": tmp_path / "no" / "such" / "cert.json"}[where]
    code, out, err = run_main(capsys, "check", ABS, "--cert", path, "--json")
    assert code == 2 and json.loads(out)["error"]
    assert "Traceback" not in err
    assert not (tmp_path / "no").exists()


def test_a_replaced_file_is_reported(tmp_path, capsys):
    cert = tmp_path / "cert.json"
    code, _, err = run_main(capsys, "check", ABS, "--cert", cert)
    assert code == 0 and "replaced" not in err and json.loads(cert.read_text())["claim"] == "convex"
    code, _, err = run_main(capsys, "check", SPEC_EXAMPLE, "--cert", cert)
    assert code == 1 and f"replaced {cert}" in err
    assert json.loads(cert.read_text())["claim"] == "not_convex"
    code, out, err = run_main(capsys, "check", SPEC_EXAMPLE, "--cert", cert, "--json")
    assert json.loads(out)["certificate"]["replaced"] is True


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, capsys, monkeypatch):
    # reproducer: a failed write left a truncated file in place of the old one
    cert = tmp_path / "cert.json"
    cert.write_text("the old certificate")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    code, _, err = run_main(capsys, "check", SPEC_EXAMPLE, "--cert", cert)
    assert code == 2 and "No space left on device" in err and "old file was left" in err
    assert cert.read_text() == "the old certificate"
    assert os.listdir(tmp_path) == ["cert.json"]


def test_to_icnn_output_safety(tmp_path, capsys):
    net = _network_copy(tmp_path, ABS, "abs.json")
    before = net.read_bytes()
    code, _, err = run_main(capsys, "to-icnn", net, "-o", net)
    assert code == 2 and "input" in err and net.read_bytes() == before
    code, _, err = run_main(capsys, "to-icnn", net, "-o", tmp_path / "x.json", "--cert", tmp_path / "x.json")
    assert code == 2 and "same file" in err and not (tmp_path / "x.json").exists()
    code, _, err = run_main(capsys, "to-icnn", net, "-o", tmp_path / "icnn.json", "--cert", tmp_path / "c.json")
    assert code == 0, err
    code, _, err = run_main(capsys, "to-icnn", net, "-o", tmp_path / "icnn.json", "--cert", tmp_path / "c.json")
    assert code == 0 and f"replaced {tmp_path / 'icnn.json'}" in err and f"replaced {tmp_path / 'c.json'}" in err


def test_regions_graphml_output_safety(tmp_path, capsys):
    net = _network_copy(tmp_path)
    before = net.read_bytes()
    code, _, err = run_main(capsys, "regions", net, "--graphml", net)
    assert code == 2 and net.read_bytes() == before
    out = tmp_path / "g.graphml"
    code, _, err = run_main(capsys, "regions", net, "--graphml", out)
    assert code == 0 and out.read_text().startswith("<?xml")
    assert sorted(os.listdir(tmp_path)) == ["g.graphml", "net.json"]


def test_equiv_refuses_either_input_as_certificate(tmp_path, capsys):
    f = _network_copy(tmp_path, ABS, "f.json")
    g = _network_copy(tmp_path, ABS, "g.json")
    for target in (f, g):
        code, _, err = run_main(capsys, "equiv", f, g, "--cert", target)
        assert code == 2 and "input" in err and target.read_bytes() == ABS.read_bytes()


# ----- binding: certificates are verified against what the user gave ---------------------------------

def test_written_certificates_verify_against_the_given_files(tmp_path, capsys):
    f = _network_copy(tmp_path, ABS, "f.json")
    g = _network_copy(tmp_path, ABS, "g.json")
    code, _, err = run_main(capsys, "equiv", f, g, "--cert", tmp_path / "eq.json")
    assert code == 0, err
    assert run_main(capsys, "verify", tmp_path / "eq.json", "--network", f, "--network", g)[0] == 0
    code, _, err = run_main(capsys, "check", SPEC_EXAMPLE, "--cert", tmp_path / "nc.json")
    assert code == 1
    assert run_main(capsys, "verify", tmp_path / "nc.json", "--network", SPEC_EXAMPLE)[0] == 0
    assert run_main(capsys, "verify", tmp_path / "nc.json", "--network", ABS)[0] == 1


def test_a_certificate_about_another_network_is_never_written(tmp_path, capsys, monkeypatch):
    """A bug that writes a different network into a (self-consistent) certificate is caught."""
    import exactconvex.decide as decide
    from exactconvex.network import Network

    real_check = decide.check

    def check_of_another_network(net, **kwargs):
        other = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[1, 2]]}])  # convex, not |x|
        return real_check(other, **kwargs)

    monkeypatch.setattr(decide, "check", check_of_another_network)
    cert = tmp_path / "cert.json"
    code, out, err = run_main(capsys, "check", ABS, "--cert", cert, "--json")
    assert code == 2 and "internal error" in err and "does not verify" in err
    assert "error" in json.loads(out)
    assert not cert.exists() and os.listdir(tmp_path) == []


def test_an_equivalence_certificate_with_f_and_g_swapped_is_never_written(tmp_path, capsys, monkeypatch):
    import exactconvex.icnn as icnn

    real = icnn.equivalent
    monkeypatch.setattr(icnn, "equivalent", lambda f, g, **kw: real(g, f, **kw))
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"format": "exactconvex.network", "version": 1, "input_dim": 1,
                             "layers": [{"weight": [[-1], [1]]}, {"weight": [[1, 1]]}]}))  # |x|, written another way
    code, _, err = run_main(capsys, "equiv", f, ABS, "--cert", tmp_path / "eq.json")
    assert code == 2 and "does not verify" in err and not (tmp_path / "eq.json").exists()


def test_counterexample_certificate_is_verified_and_written(tmp_path, capsys):
    out = tmp_path / "ce.json"
    code, stdout, err = run_main(capsys, "counterexample", "--arch", "1,2,1,1", "--skips", "all", "--budget", "30",
                                 "-o", out, "--json")
    assert code == 0, err
    assert json.loads(stdout)["certificate"]["valid"] is True
    assert run_main(capsys, "verify", out)[0] == 0


# ----- unbounded and malformed reads through the CLI ---------------------------------------------------

def test_dev_zero_and_fifo_are_refused_at_once(tmp_path):
    # reproducers: `check /dev/zero` grew to 23 GB; a FIFO blocked forever
    r = run_cli("check", "/dev/zero", timeout=60)
    assert r.returncode == 2 and "regular file" in r.stderr
    fifo = tmp_path / "net.json"
    os.mkfifo(fifo)
    r = run_cli("check", fifo, "--json", timeout=60)
    assert r.returncode == 2 and "FIFO" in json.loads(r.stdout)["error"]


def test_malformed_npz_never_an_internal_error(tmp_path, capsys):
    import numpy as np

    cases = {
        "dim.npz": dict(W1=np.ones((1, 1)), W2=np.ones((1, 1)), input_dim=np.array(2.5)),
        "empty.npz": dict(W1=np.zeros((0, 2))),
        "objects.npz": dict(W1=np.array([[None]], dtype=object)),
        "skip.npz": {"W1": np.ones((1, 1)), "W2": np.ones((1, 1)), "S2_" + "7" * 4400: np.ones((1, 1))},
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
    (tmp_path / "corrupt.npz").write_bytes((tmp_path / "dim.npz").read_bytes()[:100])
    for name in [*cases, "corrupt.npz"]:
        code, _, err = run_main(capsys, "check", tmp_path / name)
        assert code == 2, (name, err)
        assert "internal error" not in err and "allow_pickle" not in err and len(err) < 400, (name, err)


def test_huge_literals_give_short_messages(tmp_path, capsys):
    doc = json.loads(ABS.read_text())
    doc["layers"][1]["weight"][0][0] = "+" + "9" * 1_000_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    code, _, err = run_main(capsys, "info", path)
    assert code == 2 and "layer 2" in err and len(err) < 400
    doc["layers"][1]["weight"][0][0] = 1
    doc["layers"][1]["skip"] = {"\u0660": [[1]]}
    path.write_text(json.dumps(doc))
    code, _, err = run_main(capsys, "info", path)
    assert code == 2 and "skip" in err


# ----- index convention --------------------------------------------------------------------------------

def test_messages_number_outputs_from_zero(capsys):
    code, _, err = run_main(capsys, "regions", ABS, "--output", "1")
    assert code == 2 and "--output 1 does not exist" in err and "numbered from 0" in err
    code, out, _ = run_main(capsys, "check", SPEC_EXAMPLE)
    assert code == 1 and "output 0:" in out


# ----- structure: one shared module, no cycles between command modules ----------------------------

def test_command_modules_import_only_the_shared_module():
    import ast

    cli_dir = REPO / "exactconvex" / "cli"
    for path in sorted(cli_dir.glob("*.py")):
        if path.name in ("main.py", "__init__.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in (None, "common"), f"{path.name} imports .{node.module}"
                if node.module is None:
                    assert all(alias.name == "common" for alias in node.names), path.name
