"""The region graph on several processes: breadth-first levels, merged in order.

``explore(net, jobs=N)`` lands here.  The serial search processes region ids 0, 1, 2, ... in
order and gives a new id to each pattern the first time a facet leads to it; the new region's
interior point is computed from that facet (its point and outward normal) and the region's own
constraints.  Here one BFS level (the regions added while the previous level was merged) is
cut into chunks that N worker processes handle: for each region, its local maps (a rank-one
update of its parent's, which the same worker holds), its interior point (from the facet that
found it, as in the serial run), then ``explore._facets_and_neighbours`` with every neighbour
reported by pattern only.  A region's result depends only on the region itself, so it is the
serial result; the coordinator merges results in region order and assigns ids exactly as the
serial loop does.  Hence the same regions, ids, facets and certificates, byte for byte.

Only what the merge and the certificate need crosses process boundaries, as Python integers
(python-flint matrices do not pickle): patterns as bytes, rationals as (numerator,
denominator), per region its points, facets, Farkas data and output gradients.  The
coordinator's regions compute their local maps and rows from their pattern when asked
(``LazyRegion``).  A chunk goes to the worker that processed its regions' parents (which holds
their local maps); an idle worker takes another's chunk and rebuilds the maps from patterns.
Small levels, at the start, are processed by the coordinator itself.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import traceback
from multiprocessing.connection import wait

from flint import fmpq

from ..network import Network
from .explore import (Arrangement, Facet, LazyRegion, Region, _facets_and_neighbours, _first_region,
                      _Graph, _point_across, constraint_rows)

__all__ = ["explore_parallel"]

CHUNK = 12  # regions per message: large enough to amortise the transfer, small enough to balance
SERIAL_LEVEL = 16  # until a level has this many regions, the coordinator explores alone


def _q_out(v: fmpq) -> tuple[int, int]:
    return int(v.p), int(v.q)


def _point_out(p) -> tuple:
    return tuple((int(v.p), int(v.q)) for v in p)


def _point_in(p) -> tuple:
    return tuple(fmpq(a, b) for a, b in p)


# ----- the workers -------------------------------------------------------------------------------

def _process(net: Network, basis, task, locals_: dict) -> tuple:
    """One region of a level: (interior point, has_zero, facets, redundant, implied, outputs)."""
    rid, pattern, point, origin = task
    pattern = tuple(pattern)
    if origin is not None:  # found across a facet of its parent: the serial run's construction
        parent, neuron, p, outward, along = origin
        p, outward = _point_in(p), _point_in(outward)
        parent_local = locals_.get(parent)
        if along:
            local = net.pattern_along(p, outward)[1]
        elif parent_local is not None:
            local = net.flip_local(parent_local, neuron)
        else:  # another worker holds the parent: the same maps, from the pattern
            local = net.local_affine(pattern)
        neurons, rows, _, zero = constraint_rows(net, local)
        x = _point_across(rows, p, outward)
        if x is None:
            l, j = net.hidden_neurons[neuron]
            raise AssertionError(f"no interior point across the facet of neuron {j} of layer {l} of region {parent}")
    else:
        local = net.local_affine(pattern)
        neurons, rows, _, zero = constraint_rows(net, local)
        x = _point_in(point)
    locals_[rid] = local
    region = Region(rid, pattern, x, local, neurons, rows, has_zero=zero)
    found = _facets_and_neighbours(net, basis, region, None)
    facets = [(neuron, _point_out(p), _point_out(outward), bytes(pat), along) for neuron, p, outward, pat, along in found]
    redundant = [(n, list(support), [_q_out(v) for v in lam], _q_out(mu)) for n, support, lam, mu in region.redundant]
    G, g = local.output
    outputs = [[_q_out(G[k, j]) for j in range(G.ncols())] + [_q_out(g[k, 0])] for k in range(G.nrows())]
    return _point_out(x) if origin is not None else None, zero, facets, redundant, region.implied, outputs


def _one_blas_thread() -> None:
    """Ask every OpenBLAS loaded in this process for one thread.  The matrices here are tiny; a
    forked child's OpenBLAS thread pool (inherited half-alive from the parent) made numpy's small
    products 3-10x slower in the workers.  Best effort: nothing happens where the call is missing."""
    import ctypes

    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line and line.rstrip().endswith(".so")
                     or "openblas" in line and ".so." in line}
    except OSError:
        return
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads",
                     "openblas_set_num_threads64_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(1))
                break


def _worker(conn, net: Network, basis) -> None:
    """Serve chunks until told to stop: ("work", chunk id, tasks, forget below) answers ("done",
    chunk id, results); local maps of regions below ``forget below`` are dropped."""
    _one_blas_thread()
    locals_: dict = {}
    try:
        while True:
            message = conn.recv()
            if message[0] == "stop":
                return
            _, chunk, tasks, forget = message
            for rid in [r for r in locals_ if r < forget]:
                del locals_[rid]
            conn.send(("done", chunk, [_process(net, basis, task, locals_) for task in tasks]))
    except (EOFError, KeyboardInterrupt):  # the coordinator went away
        return
    except BaseException:  # every failure reaches the coordinator, which raises it
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass


class _Pool:
    def __init__(self, net: Network, basis, jobs: int):
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        self.conns, self.procs = [], []
        for _ in range(jobs):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(theirs, net, basis), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop",))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join()


# ----- the coordinator ---------------------------------------------------------------------------

class _ParallelGraph(_Graph):
    """``_Graph`` whose new regions are ``LazyRegion``s, with where each was found."""

    def __init__(self, net, *args):
        super().__init__(*args)
        self.net = net
        self.origin: dict[int, tuple] = {}  # region id -> (parent, neuron, point, outward, along)
        self.found_in = None  # the facet being merged, for add()

    def add(self, pattern, point, local, neurons, rows, zero) -> int:
        if self.found_in is None:  # the coordinator's own levels: complete regions
            return super().add(pattern, point, local, neurons, rows, zero)
        self.check_room()
        regions = self.regions
        rid = len(regions)
        regions.append(LazyRegion(self.net, rid, pattern, None, None, None, None, has_zero=zero))
        self.by_pattern[pattern] = rid
        self.origin[rid] = self.found_in
        return rid


def _merge_result(graph: _ParallelGraph, region: Region, result, worker: int, owner: dict) -> None:
    point, zero, facets, redundant, implied, outputs = result
    if point is not None:
        region.interior_point = _point_in(point)
    region.has_zero = zero
    region.redundant = [(n, support, [fmpq(*v) for v in lam], fmpq(*mu)) for n, support, lam, mu in redundant]
    region.implied = implied
    region.__dict__["_gradients"] = {k: tuple(fmpq(*v) for v in row[:-1]) for k, row in enumerate(outputs)}
    region.__dict__["_offsets"] = [fmpq(*row[-1]) for row in outputs]
    for neuron, p, outward, pattern, along in facets:
        pattern = tuple(pattern)
        p, outward = _point_in(p), _point_in(outward)
        nid = graph.by_pattern.get(pattern)
        if nid is None:
            graph.found_in = (region.id, neuron, p, outward, along)
            nid = graph.add(pattern, None, None, None, None, False)
            owner[nid] = worker
        region.facets.append(Facet(neuron, p, nid, outward))
    graph.done += 1
    if graph.progress is not None:
        graph.progress(graph.done, len(graph.regions))


def explore_parallel(net: Network, jobs: int, *, max_regions=None, timeout=None, progress=None) -> Arrangement:
    """``explore`` on ``jobs`` processes (module docstring): the serial run's arrangement."""
    graph = _ParallelGraph(net, max_regions, timeout, progress)
    basis = _first_region(net, graph)
    regions = graph.regions
    # the first levels, alone: complete regions, as in the serial run
    while graph.done < len(regions) and len(regions) - graph.done < SERIAL_LEVEL:
        level_end = len(regions)
        while graph.done < level_end:
            graph.check_time()
            region = regions[graph.done]
            graph.merge(region, _facets_and_neighbours(net, basis, region, graph.by_pattern))
    if graph.done == len(regions):
        return Arrangement(net, regions, time.perf_counter() - graph.t0)
    pool = _Pool(net, basis, jobs)
    owner: dict[int, int] = {}  # region id -> the worker that holds its parent's local maps
    try:
        level_start = graph.done
        previous_start = 0
        while graph.done < len(regions):
            level_end = len(regions)

            def task(r: Region):
                origin = graph.origin.get(r.id)
                if origin is None:
                    return r.id, bytes(r.pattern), _point_out(r.interior_point), None
                parent, neuron, p, outward, along = origin
                return r.id, bytes(r.pattern), None, (parent, neuron, _point_out(p), _point_out(outward), along)

            # chunks per worker, by who holds the parents; ids in order within each
            queues: list[list[list[int]]] = [[] for _ in range(jobs)]
            by_worker: list[list[int]] = [[] for _ in range(jobs)]
            for i in range(level_start, level_end):
                w = owner.pop(i, None)
                by_worker[(i - level_start) % jobs if w is None else w].append(i)
            chunks: list[list[int]] = []
            for w, ids in enumerate(by_worker):
                for a in range(0, len(ids), CHUNK):
                    queues[w].append(len(chunks))
                    chunks.append(ids[a:a + CHUNK])
            for q in queues:
                q.reverse()
            inflight = [0] * jobs
            results: dict[int, tuple] = {}  # region id -> (result, worker)

            def feed(w: int) -> None:  # two chunks in flight per worker: none waits for the coordinator
                while inflight[w] < 2:
                    q = queues[w] if queues[w] else max(queues, key=len)  # an idle worker steals
                    if not q:
                        return
                    c = q.pop()
                    pool.conns[w].send(("work", c, [task(regions[i]) for i in chunks[c]], previous_start))
                    inflight[w] += 1

            for w in range(jobs):
                feed(w)
            next_id = level_start
            while next_id < level_end:
                ready = wait([pool.conns[w] for w in range(jobs) if inflight[w]])
                for conn in ready:
                    w = pool.conns.index(conn)
                    message = conn.recv()
                    if message[0] == "error":
                        raise RuntimeError("a worker of the parallel exploration failed:\n" + message[1])
                    _, c, answer = message
                    inflight[w] -= 1
                    for i, result in zip(chunks[c], answer):
                        results[i] = (result, w)
                    feed(w)
                while next_id in results:  # merge in id order, as far as the results allow
                    graph.check_time()
                    result, w = results.pop(next_id)
                    _merge_result(graph, regions[next_id], result, w, owner)
                    next_id += 1
            previous_start, level_start = level_start, level_end
    finally:
        pool.close()
    return Arrangement(net, regions, time.perf_counter() - graph.t0)
