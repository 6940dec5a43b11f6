"""The sweep loop: what is left to do, chunks sized to the work, rows streamed to the results file."""

from __future__ import annotations

import glob
import math
import os
import sys
import time
from collections import deque
from typing import Mapping, Sequence

from ..network import Network
from .results import ResultsFile
from .spec import GridSpec, SweepError, parse_grid
from .summary import SweepSummary, summarize
from .worker import (CERTS_FOR, Options, export_text, file_name, grid_fields, grid_metadata, wants_certificate)

__all__ = ["sweep"]

TASK_SECONDS = 0.25  # work per task: scheduling (~0.1 ms local, ~1 ms Dask) stays below 1 %
MAX_CHUNK = 500
FIRST_CHUNK = 2  # tiny first tasks measure the cost per network


class _Progress:
    """A tqdm bar on stderr (a one-line counter without tqdm), only when asked and on a terminal."""

    def __init__(self, enabled: bool, total: int, initial: int):
        self.bar = None
        self.line = None
        if not enabled or not sys.stderr.isatty():
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self.line = (total, initial, time.monotonic())
            return
        self.bar = tqdm(total=total, initial=initial, unit="net", desc="sweep", file=sys.stderr,
                        dynamic_ncols=True, mininterval=0.2, smoothing=0.05)

    def update(self, n: int, counts: tuple) -> None:
        text = f"convex {counts[0]}, not {counts[1]}, undecided {counts[2]}"
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(n)
        elif self.line is not None:
            total, done, start = self.line
            done += n
            self.line = (total, done, start)
            sys.stderr.write(f"\rsweep: {done}/{total} networks ({text}), {time.monotonic() - start:.0f} s ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.line is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _expand(paths: Sequence, skip_dirs: list[str], results: str) -> list[tuple[str, str]]:
    """(name as given, absolute path) of every file, globs expanded (sorted), each file once."""
    seen, out = set(), []
    skip = [os.path.abspath(d) + os.sep for d in skip_dirs]
    results_abs = os.path.abspath(results)
    for raw in paths:
        text = os.fspath(raw)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            matches = [m for m in matches if os.path.isfile(m)]
            if not matches:
                raise SweepError(f"no file matches {text}")
        else:
            if not os.path.exists(text):
                raise SweepError(f"{text}: no such file")
            if os.path.isdir(text):
                raise SweepError(f"{text} is a folder; give its files, e.g. '{os.path.join(text, '*.json')}'")
            matches = [text]
        for m in matches:
            absolute = os.path.abspath(m)
            # never sweep the sweep's own outputs (a glob such as out/**/*.json may reach them)
            if absolute == results_abs or any(absolute.startswith(s) for s in skip):
                continue
            if absolute not in seen:
                seen.add(absolute)
                out.append((m, absolute))
    if not out:
        raise SweepError("no network files to sweep")
    return out


def _check_file_names(names: list[str], what: str) -> None:
    seen: dict[str, str] = {}
    for name in names:
        f = file_name(name)
        if f in seen:
            raise SweepError(f"{seen[f]} and {name} would both be written as {f} in the {what} folder; "
                             "rename one of them")
        seen[f] = name


def _stats_of(line: str) -> dict:
    import json

    row = json.loads(line)
    return {"convex": row.get("convex"), "icnn_structure": row.get("icnn_structure"), "method": row.get("method"),
            "seconds": row.get("seconds"), "architecture": row.get("architecture"), "init": row.get("init"),
            "error": row.get("error"), "convex_box": row.get("convex_box"), "box": row.get("box")}


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def sweep(networks: Sequence | Mapping[str, Network] | None = None, *, grid: str | GridSpec | None = None,
          results: str | os.PathLike, jobs: int | None = None, dask=None, seed: int | None = None,
          method: str = "auto", timeout: float | None = None, max_regions: int | None = None,
          certs: str | os.PathLike | None = None, certs_for: str = "all", export: str | os.PathLike | None = None,
          retry_undecided: bool = False, chunk: int | None = None, progress: bool | None = None,
          box=None) -> SweepSummary:
    """Decide many networks and write one JSON row per network to ``results`` (JSON lines).

    Parameters
    ----------
    networks : paths or globs of network files, or a mapping {name: Network}
        What to decide (give this or ``grid``).
    grid : a grid spec (``"d=2;widths=8x8,16x16;count=1000;init=torch;seed=0"``, syntax in
        ``exactconvex.sweep.spec``) or a parsed ``GridSpec``.  Networks are generated in the workers.
    results : the JSON-lines file.  Networks that already have a row there are skipped (resume).
    jobs : local worker processes (default 1: this process; 0: one per CPU); with ``dask="local"``,
        the number of Dask workers (default: one per CPU).
    dask : a Dask scheduler address (``"tcp://host:8786"``), a scheduler file, ``"local"``, or a
        ``distributed.Client`` (used, not closed: dask-jobqueue clusters, notebooks).
    seed : the grid's seed when the spec has none (default 0).
    method, timeout, max_regions : as in ``exactconvex.check``, per network.  A network not decided
        within the bounds gets ``"convex": null`` and an ``"error"``.
    certs : a folder; the certificate of each verdict (see ``certs_for``: "all", "convex",
        "not-convex", "convex-not-icnn") is checked by ``exactconvex.verify`` and written there as
        ``<id>.json``.  Rerunning with ``certs`` also decides again the done rows whose certificate
        is missing.
    export : a folder (grids only); every generated network is written there as ``<id>.json``.
    retry_undecided : decide again the networks whose row says ``"convex": null`` (or, with a box,
        ``"convex_box": null``).
    box : (A, B) or "A,B", exact numbers A < B (or the grid key ``box=A,B``): also decide convexity on
        the box [A, B]^d (``check(..., box=...)``).  Rows get ``"box"``, ``"convex_box"`` (true, false
        or null), ``"method_box"`` and the ``"witness_box"`` inside it; ``"convex"``, ``"witness"``
        and certificates stay those of R^d.  Done rows without this box are decided again.  The
        summary counts the networks convex in the box and not on R^d.
    chunk : networks per task (default: sized from the measured cost, about 0.25 s of work per task).
    progress : a progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    SweepSummary
        Counts (convex, not convex, undecided by reason, ICNN-structured), per-cell shares with
        95 % Clopper-Pearson intervals, and what this run computed or skipped.

    Rows hold at least ``network`` (the id, or the file as given), ``convex`` (true, false or null),
    ``method``, ``regions``, ``seconds``, then the architecture (``input_dim``, ``hidden_widths``,
    ``outputs``, ``architecture``), for grids ``init``, ``seed``, ``index``, then ``icnn_structure``,
    ``facets``, the exact ``witness`` of a "not convex", ``certificate`` (its file) and ``error``.
    When the sweep completes, the file is sorted: this sweep's rows in grid order (or file order).

    Examples
    --------
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "results.jsonl")
    >>> s = sweep(grid="d=2;widths=3x3;count=20;init=icnn", results=out)
    >>> s.networks, s.convex, s.computed
    (20, 20, 20)
    >>> sweep(grid="d=2;widths=3x3;count=30;init=icnn", results=out).computed  # the first 20 are done
    10
    """
    t_start = time.perf_counter()
    from ..decide import METHODS

    if (networks is None) == (grid is None):
        raise SweepError("give either networks (files or globs) or a grid spec, not both" if networks is not None
                         else "nothing to sweep: give network files (or globs) or a grid spec")
    if method not in METHODS:
        raise SweepError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if timeout is not None and not timeout > 0:
        raise SweepError("the timeout must be a positive number of seconds")
    if max_regions is not None and max_regions < 1:
        raise SweepError("max_regions must be a positive integer")
    if chunk is not None and chunk < 1:
        raise SweepError("the chunk size must be a positive integer")
    if jobs is not None and jobs < 0:
        raise SweepError("jobs must be a positive integer (or 0 for one per CPU)")
    if certs_for not in CERTS_FOR:
        raise SweepError(f"certs_for must be one of {', '.join(CERTS_FOR)}")
    results = os.fspath(results)
    certs = None if certs is None else os.fspath(certs)
    export = None if export is None else os.fspath(export)
    if export is not None and grid is None:
        raise SweepError("--export writes generated networks: it goes with --grid (files are already files)")
    if seed is not None and grid is None:
        raise SweepError("--seed goes with --grid")

    if box is not None:
        from ..graph.box import parse_box
        from ..numbers import q_str

        try:
            parsed = parse_box(box)
        except ValueError as exc:
            raise SweepError(f"box: {exc}") from None
        box = (q_str(parsed.lower), q_str(parsed.upper))

    # ----- what the sweep is made of, in its canonical order -----
    cells: list = []
    if grid is not None:
        spec = grid if isinstance(grid, GridSpec) else parse_grid(grid, seed)
        if spec.box is not None and box is not None and spec.box != box:
            raise SweepError(f"the grid spec says box={','.join(spec.box)} and --box says {','.join(box)}: "
                             "give the box once")
        box = box or spec.box
        cells = list(spec.cells)
        kind = "grid"
        names = [cell.network_id(n) for cell, n in spec.items()]
        payload = [(ci, n) for ci in range(len(cells)) for n in range(spec.count)]
    elif isinstance(networks, Mapping):
        kind = "objects"
        names = [str(k) for k in networks]
        payload = list(networks.values())
        if not all(isinstance(v, Network) for v in payload):
            raise SweepError("a mapping of networks must map names to Network objects")
    else:
        if isinstance(networks, (str, os.PathLike)):
            networks = [networks]
        kind = "files"
        files = _expand(networks, [d for d in (certs, export) if d], results)
        names = [name for name, _ in files]
        payload = [absolute for _, absolute in files]
    if not names:
        raise SweepError("nothing to sweep")
    if len(set(names)) != len(names):
        raise SweepError("two networks have the same name")
    for folder, what in ((certs, "certificate"), (export, "export")):
        if folder is not None:
            _check_file_names(names, what)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as exc:
                raise SweepError(f"cannot create the {what} folder {folder}: {exc.strerror}") from None
    options = Options(method=method, timeout=timeout, max_regions=max_regions,
                      certificates=certs_for if certs is not None else None, certificate_dir=certs,
                      export=export is not None, box=box)

    def make_task(batch: list[int]) -> tuple:
        if kind != "grid":
            return kind, [(names[i], payload[i]) for i in batch]
        groups: list = []
        for i in batch:
            ci, n = payload[i]
            if groups and groups[-1][0] is cells[ci]:
                groups[-1][1].append(n)
            else:
                groups.append((cells[ci], [n]))
        return kind, groups

    summary = SweepSummary(results=results)
    local_jobs = None
    if dask is None:
        from .engines import ProcessEngine, cpu_count

        local_jobs = 1 if jobs is None else (cpu_count() if jobs == 0 else jobs)
    # a local pool starts now, so that its fork server imports while this process reads the results file
    early = ProcessEngine(local_jobs) if local_jobs is not None and local_jobs > 1 else None
    if dask is not None and not (isinstance(dask, str) and dask == "local") and jobs is not None:
        summary.notes.append("--jobs is ignored with a Dask scheduler: the cluster's workers do the work")
    try:
        _sweep_into(results, names, payload, cells, kind, make_task, options, summary, early, local_jobs,
                    jobs=jobs, dask=dask, chunk=chunk, certs=certs, certs_for=certs_for, export=export,
                    retry_undecided=retry_undecided, progress=progress)
    finally:
        if early is not None:
            early.close(cancel=True)
    summary.seconds = time.perf_counter() - t_start
    return summary


def _sweep_into(results, names, payload, cells, kind, make_task, options, summary, early, local_jobs, *,
                jobs, dask, chunk, certs, certs_for, export, retry_undecided, progress) -> None:
    with ResultsFile(results) as store:
        if store.note:
            summary.notes.append(store.note)
        stats: dict[str, dict] = {}
        todo: deque[int] = deque()
        for i, name in enumerate(names):
            line = store.rows.get(name)
            if line is None:
                todo.append(i)
                continue
            st = _stats_of(line)
            if retry_undecided and (st["convex"] is None or (options.box is not None and st["convex_box"] is None)):
                todo.append(i)
            elif options.box is not None and st["box"] != list(options.box):  # decided without this box
                todo.append(i)
            elif certs is not None and wants_certificate(certs_for, st["convex"], st["icnn_structure"]) \
                    and not os.path.isfile(os.path.join(certs, file_name(name))):
                todo.append(i)
            else:
                stats[name] = st
        summary.skipped = len(names) - len(todo)
        if export is not None:  # done networks whose export is missing (an earlier run without --export)
            for i, name in enumerate(names):
                if name in stats:
                    path = os.path.join(export, file_name(name))
                    if not os.path.isfile(path):
                        cell, n = cells[payload[i][0]], payload[i][1]
                        _write(path, export_text(cell.network(n), name, grid_metadata(cell, n)))
        new_lines: dict[str, str] = {}
        summary.engine = "nothing to do"
        if todo:
            from .engines import DaskEngine, SerialEngine

            engine = early or (DaskEngine(dask, jobs) if dask is not None else SerialEngine())
            _run(engine, todo, names, payload, cells, kind, make_task, options, store, stats, new_lines, summary,
                 chunk=chunk, certs=certs, export=export, progress=progress if progress is not None else True)
        store.finish(names, new_lines)
    summarize(summary, [stats[name] for name in names])


def _died_row(names, payload, cells, kind, i: int, reason: str) -> str:
    import json

    row: dict = {"network": names[i], "convex": None, "method": None, "regions": None, "seconds": None}
    if kind == "grid":
        cell, n = cells[payload[i][0]], payload[i][1]
        row.update(input_dim=cell.input_dim, hidden_widths=list(cell.hidden), outputs=cell.outputs,
                   architecture=cell.architecture, **grid_fields(cell, n))
    row["error"] = f"worker died: {reason}"
    return json.dumps(row)


def _run(engine, todo, names, payload, cells, kind, make_task, options, store, stats, new_lines, summary, *,
         chunk, certs, export, progress) -> None:
    summary.engine = engine.description
    counts = [0, 0, 0]
    for st in stats.values():
        counts[0 if st["convex"] else 1 if st["convex"] is False else 2] += 1
    bar = _Progress(progress, len(names), len(names) - len(todo))
    suspects: deque[int] = deque()  # networks of a task whose worker died: rerun one at a time
    in_flight: dict = {}
    per_network = None  # seconds of worker time per network, a moving estimate

    def record(lines_of: list[tuple[str, str, dict]], files: list[tuple[str, str]]) -> None:
        for path, text in files:  # files first: a row in the results file implies its files are complete
            _write(path, text)
        store.append(line for _, line, _ in lines_of)
        for name, line, st in lines_of:
            new_lines[name] = line
            stats[name] = st
            counts[0 if st["convex"] else 1 if st["convex"] is False else 2] += 1
        summary.computed += len(lines_of)
        bar.update(len(lines_of), tuple(counts))

    try:
        while todo or suspects or in_flight:
            if suspects:
                if not in_flight:
                    i = suspects.popleft()
                    in_flight[engine.submit(make_task([i]), options)] = ([i], True)
            else:
                window = 2 * engine.workers
                while todo and len(in_flight) < window:
                    if chunk is not None:
                        size = chunk
                    elif per_network is None:
                        size = FIRST_CHUNK
                    else:
                        size = max(1, min(MAX_CHUNK, int(TASK_SECONDS / max(per_network, 1e-6)),
                                          math.ceil(len(todo) / window)))
                    batch = [todo.popleft() for _ in range(min(size, len(todo)))]
                    in_flight[engine.submit(make_task(batch), options)] = (batch, False)
            for future in engine.wait(list(in_flight)):
                batch, isolated = in_flight.pop(future)
                try:
                    elapsed, results = future.result()
                except engine.worker_died as exc:
                    # a worker died (killed by the system, out of memory...): its pool is gone, and the
                    # networks it held are decided again one at a time; alone, a network that kills its
                    # worker again gets a row saying so
                    if getattr(future, "generation", None) == getattr(engine, "generation", None):
                        engine.restart()
                    if isolated:
                        lines = [_died_row(names, payload, cells, kind, i, f"{type(exc).__name__}: {exc} "
                                                                           "(out of memory?)") for i in batch]
                        record([(names[i], ln, _stats_of(ln)) for i, ln in zip(batch, lines)], [])
                    else:
                        suspects.extend(batch)
                    continue
                except SweepError:
                    raise
                except Exception as exc:
                    raise SweepError(f"the workers failed ({type(exc).__name__}: {exc}); the {summary.computed} "
                                     "rows written so far are kept: rerun the same command to resume") from None
                cost = elapsed / max(1, len(results))
                per_network = cost if per_network is None else 0.5 * per_network + 0.5 * cost
                files = []
                for r in results:
                    if r.certificate is not None and certs is not None:
                        files.append((os.path.join(certs, file_name(r.network)), r.certificate))
                    if r.exported is not None and export is not None:
                        files.append((os.path.join(export, file_name(r.network)), r.exported))
                record([(r.network, r.line, r.stats) for r in results], files)
    except BaseException:
        engine.close(cancel=True)
        bar.close()
        raise
    engine.close()
    bar.close()
