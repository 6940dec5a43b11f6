"""``explore(net, jobs=N)``: the same region graph and byte-identical certificates as one process.

The parallel search (``exactconvex.graph.parallel``) merges BFS levels in region order; these tests
compare it with the serial search on generic, degenerate (integer weights: coincident hyperplanes,
dead neurons, lineality spaces) and LeakyReLU networks, with the pool forced on from the first
level and tiny chunks, so that ordering, stealing and the lazy regions are all exercised.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from flint import fmpq

from exactconvex.certificates.writer import region_graph_json
from exactconvex.checker import verify
from exactconvex.decide import check
from exactconvex.graph import LimitReached, explore, regions
from exactconvex.graph import parallel
from exactconvex.network import Layer, Network, network_to_dict
from exactconvex.sweep.generate import icnn_structured, int_network, torch_network


def leaky(net: Network, slope) -> Network:
    return Network(net.input_dim, [Layer(l.weight, l.bias, l.skip, fmpq(slope) if i < len(net.layers) - 1 else fmpq(0))
                                   for i, l in enumerate(net.layers)])


def with_input_skips(net: Network, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = []
    for i, layer in enumerate(net.layers):
        skip = dict(layer.skip)
        if i >= 1:
            skip[0] = int_network(rng, net.input_dim, [], outputs=layer.width, bound=2).layers[0].weight
        layers.append(Layer(layer.weight, layer.bias, skip, layer.slope))
    return Network(net.input_dim, layers)


NETWORKS = {
    "torch d2 8x8": lambda: torch_network(np.random.default_rng(1), 2, [8, 8]),
    "icnn d3 6x6": lambda: icnn_structured(torch_network(np.random.default_rng(2), 3, [6, 6])),
    "int d2 6x5 (degenerate)": lambda: int_network(np.random.default_rng(3), 2, [6, 5], bound=1),
    "int d3 5x4 (degenerate)": lambda: int_network(np.random.default_rng(4), 3, [5, 4], bound=2),
    "int d3 4x4 lineality": lambda: Network(3, [Layer(l.weight * 1 if i else
                                                      _zero_last_column(l.weight), l.bias, l.skip, l.slope)
                                                for i, l in enumerate(int_network(np.random.default_rng(5), 3, [4, 4],
                                                                                  bound=2).layers)]),
    "leaky d2 7x7": lambda: leaky(torch_network(np.random.default_rng(6), 2, [7, 7]), "1/10"),
    "leaky int d2 5x5 (degenerate)": lambda: leaky(int_network(np.random.default_rng(7), 2, [5, 5], bound=1), "1/4"),
    "skips d3 5x5 two outputs": lambda: with_input_skips(torch_network(np.random.default_rng(8), 3, [5, 5], 2), 9),
}


def _zero_last_column(W):
    from flint import fmpq_mat

    return fmpq_mat(W.nrows(), W.ncols(), [v if (k % W.ncols()) != W.ncols() - 1 else 0
                                            for k, v in enumerate(W.entries())])


def _fingerprint(arr):
    return [(r.id, r.pattern, r.interior_point, [(f.neuron, f.point, f.neighbor, f.outward) for f in r.facets],
             r.redundant, r.implied, r.has_zero) for r in arr.regions]


@pytest.fixture
def eager_pool(monkeypatch):
    """The pool from the first level on, two regions per chunk (ordering and stealing exercised)."""
    monkeypatch.setattr(parallel, "SERIAL_LEVEL", 1)
    monkeypatch.setattr(parallel, "SERIAL_SECONDS", 0)
    monkeypatch.setattr(parallel, "CHUNK", 2)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_parallel_exploration_is_the_serial_one(name, eager_pool):
    net = NETWORKS[name]()
    serial = explore(net)
    both = explore(net, jobs=2)
    assert len(serial.regions) > 3
    assert _fingerprint(both) == _fingerprint(serial)
    # the lazy regions of the parallel run give the serial run's maps and rows when asked
    for a, b in zip(serial.regions, both.regions):
        assert b.local.pre == a.local.pre
        assert b.neurons == a.neurons and b.rows.flat == a.rows.flat
        for k in range(net.num_outputs):
            assert b.output_gradient(k) == a.output_gradient(k) and b.output_offset(k) == a.output_offset(k)
    one = json.dumps(region_graph_json(net, serial)).encode()
    assert json.dumps(region_graph_json(net, both)).encode() == one


@pytest.mark.parametrize("jobs", [2, 3])
def test_certificates_are_byte_identical_and_verify(jobs, eager_pool):
    net = icnn_structured(torch_network(np.random.default_rng(11), 2, [10, 10]))
    a = check(net, method="regions", certificate=True)
    b = check(net, method="regions", certificate=True, jobs=jobs)
    assert json.dumps(b.certificate) == json.dumps(a.certificate)
    assert verify(b.certificate).valid and b.regions == a.regions and b.facets == a.facets


class _NeverHeld(dict):
    def get(self, key, default=None):  # no worker holds any parent: every child is "stolen"
        return None


@pytest.mark.parametrize("how", ["every child stolen", "no stealing", "one region per message"])
def test_children_from_their_parents_maps_or_from_their_patterns(how, eager_pool, monkeypatch):
    """A child is built from its parent's maps (the worker that processed the parent holds them)
    or, when another worker takes it, from its pattern; the window of maps a worker keeps is
    exercised with one region per message and three workers.  Always the serial arrangement."""
    jobs = 2
    if how == "every child stolen":
        init = parallel._State.__init__

        def never_held(self, *args):
            init(self, *args)
            self.owner = _NeverHeld()

        monkeypatch.setattr(parallel._State, "__init__", never_held)
    elif how == "no stealing":
        take = parallel._State.take
        monkeypatch.setattr(parallel._State, "take", lambda self, w, size, idle: take(self, w, size, idle) if self.queues[w] else [])
    else:
        monkeypatch.setattr(parallel, "CHUNK", 1)
        monkeypatch.setattr(parallel, "DEPTH", 1)
        jobs = 3
    for name in ("int d3 5x4 (degenerate)", "leaky d2 7x7", "skips d3 5x5 two outputs"):
        net = NETWORKS[name]()
        assert _fingerprint(explore(net, jobs=jobs)) == _fingerprint(explore(net)), name


class _InProcessWorker:
    """A worker run in this process (``parallel._worker``'s loop, one message at a time), which
    records how many regions' maps it holds."""

    def __init__(self, net, basis):
        self.net, self.basis, self.held, self.answers, self.most = net, basis, {}, [], 0

    def send(self, message):
        if message[0] == "work":
            _, chunk, tasks, forget = message
            for rid in [r for r in self.held if r < forget]:
                del self.held[rid]
            self.answers.append(("done", chunk, [parallel._process(self.net, self.basis, t, self.held) for t in tasks]))
            self.most = max(self.most, len(self.held))

    def recv(self):
        return self.answers.pop(0)


def test_workers_hold_a_window_of_maps(monkeypatch):
    """A worker drops the maps of regions whose children were all handed out: it holds a window
    of the breadth-first search, not the whole graph (and never drops maps it needs: a missing
    parent would raise)."""
    workers = []

    class Pool:
        def __init__(self, net, basis, jobs):
            self.conns = [_InProcessWorker(net, basis) for _ in range(jobs)]
            workers.extend(self.conns)

        def send(self, w, message):
            self.conns[w].send(message)

        def receive(self, w):
            return self.conns[w].recv()

        def close(self):
            pass

    monkeypatch.setattr(parallel, "_Pool", Pool)
    monkeypatch.setattr(parallel, "wait", lambda conns: [c for c in conns if c.answers])
    monkeypatch.setattr(parallel, "SERIAL_SECONDS", 0)  # the pool as soon as 16 regions wait
    net = icnn_structured(torch_network(np.random.default_rng(13), 2, [24, 24]))
    serial, both = explore(net), explore(net, jobs=2)
    assert _fingerprint(both) == _fingerprint(serial)
    assert len(serial.regions) > 250
    most = max(w.most for w in workers)
    assert 0 < most < len(serial.regions) / 4, (most, len(serial.regions))


def test_a_small_graph_is_explored_by_the_coordinator_alone(monkeypatch):
    monkeypatch.setattr(parallel, "_Pool", None)  # no worker is started
    net = NETWORKS["int d2 6x5 (degenerate)"]()
    monkeypatch.setattr(parallel, "SERIAL_LEVEL", 10 ** 6)
    assert _fingerprint(explore(net, jobs=2)) == _fingerprint(explore(net))


def test_a_search_shorter_than_the_serial_start_starts_no_process(monkeypatch):
    monkeypatch.setattr(parallel, "_Pool", None)  # no worker is started
    monkeypatch.setattr(parallel, "SERIAL_LEVEL", 1)  # many regions wait, but not for long
    monkeypatch.setattr(parallel, "SERIAL_SECONDS", 10 ** 6)
    net = NETWORKS["torch d2 8x8"]()
    assert _fingerprint(explore(net, jobs=2)) == _fingerprint(explore(net))


def test_graph_of_the_parallel_run_equals_the_serial_graph(eager_pool):
    net = NETWORKS["leaky int d2 5x5 (degenerate)"]()
    G, H = regions(net), regions(net, jobs=2)
    assert sorted(G.nodes) == sorted(H.nodes)
    assert {(u, v): d for u, v, d in G.edges(data=True)} == {(u, v): d for u, v, d in H.edges(data=True)}
    for n in G.nodes:
        assert G.nodes[n] == H.nodes[n]


def test_limits_stop_the_parallel_run_like_the_serial_one(eager_pool):
    net = NETWORKS["torch d2 8x8"]()
    with pytest.raises(LimitReached) as serial:
        explore(net, max_regions=10)
    with pytest.raises(LimitReached) as both:
        explore(net, max_regions=10, jobs=2)
    assert serial.value.regions_found == both.value.regions_found == 10


def test_progress_reaches_every_region(eager_pool):
    net = NETWORKS["icnn d3 6x6"]()
    seen = []
    arr = explore(net, jobs=2, progress=lambda done, found: seen.append((done, found)))
    assert seen[-1] == (len(arr.regions), len(arr.regions))
    assert [d for d, _ in seen] == list(range(1, len(arr.regions) + 1))


def test_cli_jobs_writes_the_same_certificate(tmp_path):
    net = icnn_structured(torch_network(np.random.default_rng(12), 2, [12, 12]))
    path = tmp_path / "net.json"
    path.write_text(json.dumps(network_to_dict(net)))
    outs = []
    for jobs in ("1", "2", "0"):  # 0: one process per CPU, as sweep --jobs 0
        cert = tmp_path / f"cert{jobs}.json"
        run = subprocess.run([sys.executable, "-m", "exactconvex", "check", str(path), "--method", "regions",
                              "--cert", str(cert), "--jobs", jobs, "--quiet"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outs.append(cert.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    bad = subprocess.run([sys.executable, "-m", "exactconvex", "regions", str(path), "--jobs", "-2"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--jobs must be at least 1, or 0 for one per CPU" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_jobs_0_is_one_process_per_cpu(monkeypatch):
    import argparse

    from exactconvex.cli.common import jobs_option
    from exactconvex.sweep import engines

    monkeypatch.setattr(engines, "cpu_count", lambda: 7)
    assert jobs_option(argparse.Namespace(jobs=0)) == 7 and jobs_option(argparse.Namespace(jobs=3)) == 3


def test_the_coordinator_hands_its_frozen_regions_back_to_the_collector(eager_pool, monkeypatch):
    # the coordinator freezes merged regions as the serial search does, and unfreezes them at the
    # end; a caller's own permanent generation is left alone
    import gc

    from exactconvex.graph import explore as _  # noqa: F401
    serial_module = sys.modules["exactconvex.graph.explore"]
    monkeypatch.setattr(serial_module.old_objects_frozen.__wrapped__, "__defaults__", (2,))  # freeze every 2 regions
    net = NETWORKS["icnn d3 6x6"]()
    gc.unfreeze()
    frozen_during = []
    explore(net, jobs=2, progress=lambda done, found: frozen_during.append(gc.get_freeze_count()))
    assert max(frozen_during) > 0 and gc.get_freeze_count() == 0
    keep = [[object()] for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        explore(net, jobs=2)
        assert gc.get_freeze_count() > frozen // 2 and keep
    finally:
        gc.unfreeze()


def test_the_coordinator_writes_bends_and_certificates_without_the_regions_maps(eager_pool):
    """A ``--jobs`` coordinator gets each region's output gradients from its worker: the verdict's
    bends and the certificate must not compute the regions' local maps again (at d2 256x256 that
    doubled the coordinator's memory, 1.4 -> 2.5 GB)."""
    from exactconvex.decide.rules import _bends_verdict

    net = NETWORKS["icnn d3 6x6"]()  # convex: no negative bend asks for a witness (which needs the maps)
    arrangement = explore(net, jobs=2)
    merged = [r for r in arrangement.regions if "_gradients" in r.__dict__]
    assert len(merged) > len(arrangement.regions) // 2

    def with_maps():
        return [r.id for r in merged if r.__dict__.get("_local") is not None]

    before = with_maps()
    assert len(before) < len(merged) // 4
    assert _bends_verdict(net, arrangement, 0).convex
    region_graph_json(net, arrangement)
    assert with_maps() == before


def _killed_at(region: int):
    """A stand-in for ``parallel._process`` that kills its own process when handed ``region``: the
    system's out-of-memory killer, as a worker sees it (the workers are forked after the patch)."""
    import os
    import signal

    real = parallel._process

    def process(net, basis, task, held):
        if task[1] == region:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(net, basis, task, held)

    return process


def test_a_killed_worker_stops_the_search_with_a_clear_error(eager_pool, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    monkeypatch.setattr(parallel, "_process", _killed_at(20))
    with pytest.raises(BrokenProcessPool, match=r"worker \d of 2 of the parallel exploration stopped abruptly "
                                                r"\(killed by signal 9\)"):
        explore(NETWORKS["torch d2 8x8"](), jobs=2)


def test_the_cli_reports_a_killed_worker_as_such(eager_pool, monkeypatch, tmp_path, capsys):
    from exactconvex.cli import main as cli

    path = tmp_path / "net.json"
    path.write_text(json.dumps(network_to_dict(NETWORKS["torch d2 8x8"]())))
    monkeypatch.setattr(parallel, "_process", _killed_at(20))
    code = cli.main(["check", str(path), "--method", "regions", "--jobs", "2", "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "stopped abruptly (killed by signal 9); no verdict was given" in err and "try fewer --jobs" in err
    assert "internal error" not in err and "Traceback" not in err
    assert "stopped abruptly" in json.loads(out)["error"]
