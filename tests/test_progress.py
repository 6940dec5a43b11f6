"""Progress (issue 14, item 4): tqdm bars on a terminal for every long phase, nothing in a pipe or
with --quiet, and the same progress for Python callers.

The command line is run with stderr on a pseudo-terminal (``pty``), as a person sees it, and with
stderr a pipe, as a script sees it.  ``EXACTCONVEX_PROGRESS_DELAY=0`` shows a bar at once (by default
a phase must last about a second before its bar appears), so that small networks suffice.
"""

from __future__ import annotations

import io
import os
import select
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from exactconvex import Network, check
from exactconvex.network import save_json
from exactconvex.progress import ProgressBars, as_progress, phase_of

REPO = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = REPO / "examples" / "networks" / "spec_example.json"

pty = pytest.importorskip("pty")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")


def two_layer(tmp_path) -> Path:
    """A convex network of two hidden layers (ICNN structure, but the regions method is forced)."""
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1], [1, 1], [1, -1]], "bias": [0, 1, -1, 2]},
                                 {"weight": [[1, 1, 0, 0], [0, 0, 1, 1]], "bias": [-1, 0]},
                                 {"weight": [[1, 2]]}])
    path = tmp_path / "net.json"
    save_json(net, path)
    return path


def run_on_terminal(*args, delay: str = "0", columns: int = 100) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout a pipe: (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))  # a terminal's size
    env = dict(os.environ, EXACTCONVEX_PROGRESS_DELAY=delay)
    proc = subprocess.Popen([sys.executable, "-m", "exactconvex", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("no output from the command for 120 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=120), out, b"".join(chunks).decode(errors="replace")


def run_in_pipe(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXACTCONVEX_PROGRESS_DELAY="0")
    return subprocess.run([sys.executable, "-m", "exactconvex", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


def test_check_shows_every_phase_on_a_terminal(tmp_path):
    net = two_layer(tmp_path)
    code, out, term = run_on_terminal("check", net, "--method", "regions", "--cert", tmp_path / "c.json")
    assert code == 0, term
    assert "convex on all of R^2" in out
    # one bar per phase: the region graph, the certificate, its checking
    for phase in ("regions:", "certificate:", "checking certificate:"):
        assert phase in term, term
    assert "100%" in term and "Traceback" not in term


@pytest.mark.parametrize("command", [["regions"], ["conditions"], ["check", "--method", "regions"]])
def test_no_progress_in_a_pipe_or_with_quiet(tmp_path, command):
    net = two_layer(tmp_path)
    piped = run_in_pipe(*command, net)
    assert piped.returncode in (0, 1), piped.stderr
    assert piped.stderr == ""  # stderr is a pipe: not a character of progress
    code, out, term = run_on_terminal(*command, net, "--quiet")
    assert code == piped.returncode and out == piped.stdout
    assert term == ""  # --quiet on a terminal: nothing either


@pytest.mark.parametrize("columns", [100, 0])  # 0: a terminal that does not say its width
def test_conditions_shows_its_phases_on_a_terminal(tmp_path, columns):
    code, out, term = run_on_terminal("conditions", two_layer(tmp_path), columns=columns)
    assert code == 0, term
    assert "regions:" in term and "conditions:" in term, term
    assert max(len(line.split("\r")[-1]) for line in term.splitlines()) <= max(columns, 80)


def test_no_bar_for_short_phases_by_default(tmp_path):
    # the default delay (about a second): a small network's phases end before any bar appears
    code, _, term = run_on_terminal("check", two_layer(tmp_path), "--method", "regions", delay="30")
    assert code == 0 and term == ""


def test_python_callers_get_bars_or_their_callable():
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]]}, ])
    calls = []
    v = check(net, method="regions", progress=lambda done, found: calls.append((done, found)))
    assert v.convex and calls and calls[-1] == (v.regions, v.regions)
    assert [d for d, _ in calls] == list(range(1, v.regions + 1))
    stream = io.StringIO()
    bars = ProgressBars(file=stream, delay=0)
    v = check(net, method="regions", certificate=True, progress=bars)
    text = stream.getvalue()
    assert "regions:" in text and "certificate:" in text and f"{v.regions}/{v.regions}" in text
    assert as_progress(None) is None and as_progress(False) is None and isinstance(as_progress(True), ProgressBars)
    with pytest.raises(TypeError):
        as_progress("yes")
    assert phase_of(calls.append, "certificate") is None  # a plain callable follows the region graph only


def test_progress_true_reaches_stderr(capsys):
    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]]}])
    bars = ProgressBars(delay=0)  # what progress=True makes (outside a notebook: text on stderr)
    check(net, method="regions", progress=bars)
    bars.close()
    assert "regions:" in capsys.readouterr().err


def test_verify_shows_the_checking_on_a_terminal(tmp_path):
    net = two_layer(tmp_path)
    cert = tmp_path / "c.json"
    assert run_in_pipe("check", net, "--method", "regions", "--cert", cert).returncode == 0
    code, out, term = run_on_terminal("verify", cert, "--network", net)
    assert code == 0 and "every output is convex" in out
    assert "checking certificate:" in term and "100%" in term, term
    code, out, term = run_on_terminal("verify", cert, "--quiet")
    assert code == 0 and term == ""
    piped = run_in_pipe("verify", cert)
    assert piped.returncode == 0 and piped.stderr == ""


def test_progress_true_in_every_entry_point(capsys):
    from exactconvex.graph import regions
    from exactconvex.pathlifting import conditions

    net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]]}])
    # True makes bars (shown after a second: nothing here, and no error), and they are closed again
    assert regions(net, progress=True).number_of_nodes() == 4
    assert check(net, method="regions", certificate=True, progress=True).convex
    assert conditions(net, progress=True).all_hold
    assert capsys.readouterr().err == ""
