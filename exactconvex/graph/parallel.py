"""The region graph on several processes: regions handed out as they are found, merged in order.

``explore(net, jobs=N)`` lands here.  The serial search processes region ids 0, 1, 2, ... in
order and gives a new id to each pattern the first time a facet leads to it; the new region's
interior point is computed from that facet (its point and outward normal) and the region's own
constraints.  A region's work depends only on the region itself and the facet that found it, so
here N worker processes do it: for each region, its local maps (a rank-one update of its
parent's, which the same worker holds), its interior point (from the facet that found it, as in
the serial run), then ``explore._facets_and_neighbours`` with every neighbour reported by
pattern only.  The coordinator merges the results in region order and assigns ids exactly as
the serial loop does.  Hence the same regions, ids, facets and certificates, byte for byte.

There is no barrier between breadth-first levels: a region is handed to a worker as soon as the
merge has given it an id (its parent and facet are known then), while the regions before it may
still be in work.  Region ids grow with their parent's id (parents are merged in order), which
tells a worker which local maps it may drop.

Only what the merge and the certificate need crosses process boundaries, as Python integers
(python-flint matrices do not pickle): patterns as bytes, rationals as flat lists of numerators
and denominators (``_integers``), per region its point, facets, Farkas data and output
gradients.  A worker keeps
the local maps and facets of the regions it processed, so a child found there is sent back to
it as (id, parent, facet number) alone.  A worker with nothing left to do takes (steals) regions
queued for another: it gets the pattern and the facet as integers and rebuilds the maps from the
pattern.  The coordinator's regions compute their local maps and rows when asked
(``LazyRegion``): from their parent's, like the serial run, when those are at hand, otherwise
from their pattern.  The first few regions, until enough are waiting, are processed by the
coordinator itself, complete, as in the serial run; so is everything for the first tenth of a
second (``SERIAL_SECONDS``: a search done by then is not worth starting processes for; starting
them costs 10-15 ms, and the regions waiting then are rebuilt from their patterns.  Half a second,
as before, left one core idle for that long: median of 5 runs each, d3 32x32 3.62 -> 3.45 s, d4
16x16 3.05 -> 2.81 s, d6 6x6 1.72 -> 1.56 s, d3 10x10 0.37 -> 0.36 s).  When the pool starts
changes nothing in the result.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing as mp
import time
import traceback
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait

from flint import fmpq

from ..network import Network
from .explore import (Arrangement, Facet, LazyRegion, Region, _facets_and_neighbours, _first_region, _process_next,
                      _Graph, _point_across, constraint_rows, old_objects_frozen, rows_after_flip)

__all__ = ["explore_parallel"]

CHUNK = 12  # most regions per message: large enough to amortise the transfer, small enough to balance
DEPTH = 2  # messages in flight per worker: none waits for the coordinator
SERIAL_LEVEL = 16  # until this many regions wait, the coordinator explores alone
SERIAL_SECONDS = 0.1  # and for this long: a search done by then is not worth starting processes for


def _integers(values) -> list[int]:
    """Rationals as one flat list [p0, q0, p1, q1, ...] of Python integers, the one form in which
    rationals cross between processes here (half the time of a pair per value to make, and half
    the time to pickle: a region's facets at d6); ``_rationals`` reads it back."""
    out = [0] * (2 * len(values))
    out[0::2] = [int(v.p) for v in values]
    out[1::2] = [int(v.q) for v in values]
    return out


def _rationals(numbers: list[int]) -> list:
    return list(map(fmpq, numbers[0::2], numbers[1::2]))


def _point(numbers: list[int]) -> tuple:
    return tuple(_rationals(numbers))


# ----- the workers -------------------------------------------------------------------------------

def _process(net: Network, basis, task, held: dict) -> tuple:
    """One region (``task``, see ``_worker``): (facet patterns as bytes, data for ``_merge``).

    ``held`` maps the ids of the regions this worker processed to (local maps, facets as
    (neuron, point, outward, pattern, along), (neurons, rows)); the region's own entry is added."""
    kind, rid = task[0], task[1]
    if kind == "point":  # found by the coordinator, which computed its interior point
        pattern, x = tuple(task[2]), _point(task[3])
        local = net.local_affine(pattern)
        neurons, rows, _, zero = constraint_rows(net, local)
    else:
        if kind == "child":  # across facet k of a parent processed here
            parent_local, parent_facets, parent_rows = held[task[2]]
            neuron, p, outward, pattern, along = parent_facets[task[3]]
            local = None if along else net.flip_local(parent_local, neuron)
        else:  # "stolen": the parent was processed by another worker; its maps from the pattern
            _, _, _, pattern, neuron, numbers, along = task  # numbers: the facet's point, then its normal
            values, d = _rationals(numbers), net.input_dim
            pattern, p, outward = tuple(pattern), tuple(values[:d]), tuple(values[d:])
            local = None if along else net.local_affine(pattern)
        if along:  # the serial run's construction (``_facets_and_neighbours``)
            local = net.pattern_along(p, outward)[1]
        if kind == "child" and not along:  # as the serial run: the parent's rows up to the flip's layer
            neurons, rows, zero = rows_after_flip(net, *parent_rows, neuron, local)
        else:
            neurons, rows, _, zero = constraint_rows(net, local)
        x = _point_across(rows, p, outward)
        if x is None:
            l, j = net.hidden_neurons[neuron]
            raise AssertionError(f"no interior point across the facet of neuron {j} of layer {l} of region {task[2]}")
    region = Region(rid, pattern, x, local, neurons, rows, has_zero=zero)
    found = _facets_and_neighbours(net, basis, region, None)
    held[rid] = (local, found, (region.neurons, region.rows))
    facets = ([f[0] for f in found], [f[4] for f in found],  # neurons, alongs; points and normals:
              _integers([v for _, p, outward, _, _ in found for v in (*p, *outward)]))  # 2d values per facet
    redundant = [(n, support, _integers([*lam, mu])) for n, support, lam, mu in region.redundant]  # mu last
    G, g = local.output
    outputs = [_integers(G.entries()[k * G.ncols():(k + 1) * G.ncols()] + [g[k, 0]]) for k in range(G.nrows())]
    keys = [bytes(pattern) for _, _, _, pattern, _ in found]
    return keys, (_integers(x) if kind != "point" else None, zero, facets, redundant, region.implied, outputs)


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
    chunk id, results).  A task is ("point", id, pattern, interior point), ("child", id, parent,
    facet number) or ("stolen", id, parent, pattern, neuron, the facet's point and normal, along),
    rationals as ``_integers``; the maps of regions below ``forget below`` are dropped first."""
    _one_blas_thread()
    gc.freeze()  # what the worker inherited is never its garbage: its collections scan only its own objects
    held: dict = {}
    try:
        while True:
            message = conn.recv()
            if message[0] == "stop":
                return
            _, chunk, tasks, forget = message
            for rid in [r for r in held if r < forget]:
                del held[rid]
            conn.send(("done", chunk, [_process(net, basis, task, held) for task in tasks]))
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

    def lost(self, w: int) -> BrokenProcessPool:
        """The error to raise when worker w stopped without answering: the system killed it (for lack of
        memory, say).  The standard library's name for it, which the command line reports as such."""
        proc = self.procs[w]
        proc.join(timeout=1)
        code = proc.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return BrokenProcessPool(f"worker {w + 1} of {len(self.procs)} of the parallel exploration stopped abruptly "
                                 f"({how})")

    def send(self, w: int, message) -> None:
        try:
            self.conns[w].send(message)
        except OSError:  # its end of the pipe is closed: the worker is gone
            raise self.lost(w) from None

    def receive(self, w: int):
        try:
            return self.conns[w].recv()
        except (EOFError, OSError):
            raise self.lost(w) from None

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

class _FoundRegion(LazyRegion):
    """A ``LazyRegion`` that knows the facet that found it: when its local maps are asked for
    and its parent's are at hand (bends and certificates ask in region order, parents first),
    they are the serial run's rank-one update of the parent's (``flip_local``: 0.03-0.4 ms against
    0.6-0.9 ms for ``local_affine`` at d2 128x128 and d3 32x32), otherwise they come from the
    pattern."""

    @property
    def local(self):
        value = self.__dict__.get("_local")
        if value is None:
            found = self.__dict__.get("_found")
            parent = found and found[0].__dict__.get("_local" if isinstance(found[0], LazyRegion) else "local")
            value = self._net.flip_local(parent, found[1]) if parent is not None else self._net.local_affine(self.pattern)
            self.__dict__["_local"] = value
        return value

    @local.setter
    def local(self, value) -> None:
        self.__dict__["_local"] = value


def _merge(graph: _Graph, region: Region, result, worker: int, state: "_State") -> None:
    """Record one worker result for ``region``, adding its new neighbours in facet order."""
    keys, (point, zero, facets, redundant, implied, outputs) = result
    if point is not None:
        region.interior_point = _point(point)
    region.has_zero = zero
    region.redundant = []
    for n, support, numbers in redundant:  # the multipliers, then the constant
        values = _rationals(numbers)
        region.redundant.append((n, support, values[:-1], values[-1]))
    region.implied = implied
    outputs = [_rationals(row) for row in outputs]  # per output: its gradient, then its offset
    region.__dict__["_gradients"] = {k: tuple(row[:-1]) for k, row in enumerate(outputs)}
    region.__dict__["_offsets"] = [row[-1] for row in outputs]
    by_key, regions, net = state.by_key, graph.regions, state.net
    out = region.facets
    neurons, alongs, numbers = facets
    values, d = _rationals(numbers), net.input_dim
    for k, (key, neuron, along) in enumerate(zip(keys, neurons, alongs)):
        p, outward = tuple(values[2 * d * k:2 * d * k + d]), tuple(values[2 * d * k + d:2 * d * (k + 1)])
        nid = by_key.get(key)
        if nid is None:
            graph.check_room()
            nid = len(regions)
            new = _FoundRegion(net, nid, tuple(key), None, None, None, None)
            if not along:  # its pattern is the region's with the facet's neuron flipped
                new.__dict__["_found"] = (region, neuron)
            regions.append(new)
            by_key[key] = nid
            state.found(nid, region.id, k, neuron, p, outward, along, worker)
        out.append(Facet(neuron, p, nid, outward))
    graph.done += 1
    if graph.progress is not None:
        graph.progress(graph.done, len(regions))


class _State:
    """The coordinator's view of the regions not processed yet: who holds their parents, and the
    queue of regions waiting for each worker."""

    def __init__(self, net: Network, jobs: int, regions: list, start: int):
        self.net, self.regions = net, regions
        self.by_key = {bytes(r.pattern): r.id for r in regions}
        self.queues = [deque() for _ in range(jobs)]  # per worker, ids waiting (increasing)
        self.origin: dict[int, tuple] = {}  # id -> (parent, facet number, neuron, point, outward, along)
        self.owner: dict[int, int] = {}  # id -> the worker that processed it (and holds its maps)
        for i in range(start, len(regions)):  # found by the coordinator, complete, with their points
            self.queues[i % jobs].append(i)

    def found(self, nid: int, parent: int, k: int, neuron, p, outward, along, worker: int) -> None:
        self.origin[nid] = (parent, k, neuron, p, outward, along)
        self.queues[worker].append(nid)

    def waiting(self) -> int:
        return sum(len(q) for q in self.queues)

    def take(self, w: int, size: int, idle: bool) -> list[int]:
        """Up to ``size`` ids for worker w: its own first, else, when it would be ``idle``
        otherwise, the back of the longest queue (its own may refill while it works)."""
        own = self.queues[w]
        if own:
            return [own.popleft() for _ in range(min(size, len(own)))]
        if not idle:
            return []
        other = max(self.queues, key=len)
        ids = [other.pop() for _ in range(min(size, len(other)))]
        ids.reverse()
        return ids

    def forget_below(self, ids: list[int], merged: int) -> int:
        """Maps below this id are needed by no waiting region (``ids`` are about to be sent), nor
        by a region not merged yet.  Parents grow with their children's ids, so the first waiting
        region of each queue that has a parent (not one found by the coordinator) is enough."""
        bound = merged
        for q in self.queues + [ids]:
            for i in q:  # increasing; the coordinator's few regions come first
                origin = self.origin.get(i)
                if origin is not None:
                    bound = min(bound, origin[0])
                    break
        return bound

    def task(self, i: int, w: int) -> tuple:
        """Region i's task for worker w, which will hold its maps."""
        self.owner[i] = w
        origin = self.origin.pop(i, None)
        if origin is None:  # found by the coordinator
            r = self.regions[i]
            return ("point", i, bytes(r.pattern), _integers(r.interior_point))
        parent, k, neuron, p, outward, along = origin
        if self.owner.get(parent) == w:
            return ("child", i, parent, k)
        return ("stolen", i, parent, bytes(self.regions[i].pattern), neuron, _integers((*p, *outward)), along)


def explore_parallel(net: Network, jobs: int, *, max_regions=None, timeout=None, progress=None) -> Arrangement:
    """``explore`` on ``jobs`` processes (module docstring): the serial run's arrangement."""
    graph = _Graph(net, max_regions, timeout, progress)
    basis = _first_region(net, graph)
    regions = graph.regions
    # the first regions, alone: complete regions, as in the serial run
    while graph.done < len(regions) and (len(regions) - graph.done < SERIAL_LEVEL
                                         or time.perf_counter() - graph.t0 < SERIAL_SECONDS):
        _process_next(net, basis, graph)
    if graph.done == len(regions):
        return Arrangement(net, regions, time.perf_counter() - graph.t0)
    state = _State(net, jobs, regions, graph.done)
    pool = _Pool(net, basis, jobs)
    try:
        inflight = [0] * jobs
        chunks: dict[int, list[int]] = {}
        results: dict[int, tuple] = {}  # region id -> (result, worker)
        numbers = itertools.count()

        def feed(w: int) -> None:
            while inflight[w] < DEPTH:
                waiting = state.waiting()
                if not waiting:
                    return
                # small chunks while few regions wait, so that every worker has some
                ids = state.take(w, max(1, min(CHUNK, waiting // (jobs * DEPTH))), not inflight[w])
                if not ids:
                    return
                forget = state.forget_below(ids, graph.done)
                c = next(numbers)
                chunks[c] = ids
                pool.send(w, ("work", c, [state.task(i, w) for i in ids], forget))
                inflight[w] += 1

        with old_objects_frozen() as settle:  # as in the serial run: merged regions are not rescanned
            while graph.done < len(regions):
                for w in range(jobs):
                    feed(w)
                busy = [pool.conns[w] for w in range(jobs) if inflight[w]]
                if not busy:  # pragma: no cover - every region not merged is waiting, in work or merged
                    raise AssertionError("the parallel exploration lost track of a region")
                for conn in wait(busy):
                    w = pool.conns.index(conn)
                    message = pool.receive(w)
                    if message[0] == "error":
                        raise RuntimeError("a worker of the parallel exploration failed:\n" + message[1])
                    _, c, answer = message
                    inflight[w] -= 1
                    for i, result in zip(chunks.pop(c), answer):
                        results[i] = (result, w)
                for w in range(jobs):  # a worker with nothing left gets work before the merge, not after it
                    if not inflight[w]:
                        feed(w)
                while graph.done in results:  # merge in id order, as far as the results allow
                    graph.check_time()
                    result, w = results.pop(graph.done)
                    _merge(graph, regions[graph.done], result, w, state)
                    settle(graph.done)
    finally:
        pool.close()
    return Arrangement(net, regions, time.perf_counter() - graph.t0)
