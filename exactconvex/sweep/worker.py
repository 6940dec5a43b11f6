"""What a worker process does: decide a chunk of networks and return their result rows.

A task names its networks, it does not carry them: grid networks are generated here from
(cell, n), files are read here from their path (on a cluster, the files must be readable at the
same path on the workers), and only networks given as objects in the Python API travel pickled
(exactly, see ``Network``).  Everything that can go wrong with one network becomes that
network's row (``"convex": null`` and an ``"error"``), so a task fails only when the machinery
does (a worker killed by the system, a lost cluster).

Each result carries the row as JSON text already (the parent only writes it), a small summary
for the counts, and on request the certificate (verified here, in parallel) and the network's
JSON text for ``--export``: the parent process writes the files, so workers need no shared disk
for outputs.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from ..network import Network

__all__ = ["Options", "Result", "run_task", "decide_row", "CERTS_FOR", "wants_certificate", "file_name",
           "warm_up", "WARM_MODULES"]

# what deciding imports on first use (the region graph's LP and hull code): imported once per worker
# before any network is timed, so that no row's "seconds" includes an import
WARM_MODULES = ("exactconvex.decide", "exactconvex.checker", "scipy.optimize", "scipy.spatial")

CERTS_FOR = ("all", "convex", "not-convex", "convex-not-icnn")


@dataclass(frozen=True)
class Options:
    """How each network is decided (the bounds of ``check``) and what else to return."""

    method: str = "auto"
    timeout: float | None = None
    max_regions: int | None = None
    certificates: str | None = None  # None, or one of CERTS_FOR: which verdicts get a certificate
    certificate_dir: str | None = None  # where the parent writes them (the rows name the files)
    export: bool = False  # return each generated network's JSON text too
    box: tuple[str, str] | None = None  # also decide convexity on the box [A, B]^d (exact strings A, B)


@dataclass
class Result:
    """One network's outcome: ``line`` is its JSON row; ``stats`` the few fields the summary counts."""

    network: str
    line: str
    stats: dict
    certificate: str | None = None  # the certificate's JSON text, already verified
    exported: str | None = None  # the network's JSON text


def file_name(network: str) -> str:
    """The file name (without directory) of a network's certificate or export: its id made safe.

    "/" becomes "__", characters other than letters, digits, ".", "_" and "-" become "_", and a
    trailing ".json" is dropped before ".json" is added.

    >>> file_name("d2-8x8-torch-seed0-000017"), file_name("./nets/a b.json")
    ('d2-8x8-torch-seed0-000017.json', 'nets__a_b.json')
    """
    name = network[2:] if network.startswith("./") else network
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("/", "__").replace(os.sep, "__"))
    if name.endswith(".json"):
        name = name[:-5]
    return (name or "_") + ".json"


_warm = False


def warm_up() -> None:
    """Import what deciding needs (``WARM_MODULES``), so that the first network is timed fairly."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - then the first use reports it
            pass


def wants_certificate(which: str | None, convex: bool | None, icnn: bool | None) -> bool:
    """Whether a row with this verdict gets a certificate under ``--certs-for which``."""
    if which is None or convex is None:
        return False
    return (which == "all" or (which == "convex" and convex) or (which == "not-convex" and not convex)
            or (which == "convex-not-icnn" and convex and not icnn))


def _architecture(net: Network) -> dict:
    hidden = net.hidden_widths
    arch = f"d{net.input_dim} {'x'.join(map(str, hidden)) or '(affine)'}"
    if net.num_outputs != 1:
        arch += f" m{net.num_outputs}"
    return {"input_dim": net.input_dim, "hidden_widths": hidden, "outputs": net.num_outputs, "architecture": arch}


def decide_row(net: Network, options: Options, name: str, fields: dict) -> tuple[dict, str | None]:
    """Decide ``net`` within the bounds of ``options``; the row (a dict in a fixed key order) and,
    when one is wanted, the verified certificate as JSON text.

    Examples
    --------
    >>> from exactconvex import network_from_dict
    >>> net = network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": 1,
    ...     "layers": [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}]})
    >>> row, cert = decide_row(net, Options(), "abs", {})
    >>> row["network"], row["convex"], row["method"], row["icnn_structure"]
    ('abs', True, 'icnn', True)
    """
    from ..certificates import certificate_text
    from ..decide import LimitReached, Undecided, check, witness_json

    icnn = net.is_icnn()
    row: dict[str, Any] = {"network": name, "convex": None, "method": None, "regions": None, "seconds": None}
    row.update(_architecture(net))
    row.update(fields)
    row["icnn_structure"] = icnn
    certificate = None
    t0 = time.perf_counter()
    try:
        # no certificate is built where none can be wanted (an ICNN under "convex-not-icnn")
        wanted = options.certificates is not None and not (icnn and options.certificates == "convex-not-icnn")
        verdict = check(net, method=options.method, certificate=wanted,
                        max_regions=options.max_regions, timeout=options.timeout, box=options.box)
    except LimitReached as exc:
        row["seconds"] = round(time.perf_counter() - t0, 6)
        row["error"] = f"limit: {exc}"
        on_rd = getattr(exc, "on_rd", None)
        if options.box is not None:
            row.update(box=list(options.box), convex_box=None)
        if on_rd is not None:  # decided on R^d, the bound was hit on the box
            row.update(convex=on_rd.convex, method=on_rd.method)
            if on_rd.witness is not None:
                row["witness"] = witness_json(on_rd.witness)
        return row, None
    except Undecided as exc:
        row["seconds"] = round(time.perf_counter() - t0, 6)
        row["error"] = f"undecided: {exc}"
        return row, None
    on_box, verdict = (verdict, verdict.on_rd) if options.box is not None else (None, verdict)
    row.update(convex=verdict.convex, method=verdict.method, regions=(on_box or verdict).regions,
               seconds=round((on_box or verdict).seconds, 6), facets=(on_box or verdict).facets)
    if net.num_outputs > 1:
        row["output_verdicts"] = [{"output": o.output, "convex": o.convex, "method": o.method}
                                  for o in verdict.outputs]
        if on_box is not None:
            for entry, o in zip(row["output_verdicts"], on_box.outputs):
                entry.update(convex_box=o.convex, method_box=o.method)
    if verdict.witness is not None:
        row["witness"] = witness_json(verdict.witness)
    if on_box is not None:  # the box verdict beside the one on R^d (a certificate is of the latter)
        row.update(box=list(options.box), convex_box=on_box.convex, method_box=on_box.method)
        if on_box.witness is not None:
            row["witness_box"] = witness_json(on_box.witness)
    if wants_certificate(options.certificates, verdict.convex, icnn):
        from ..checker import verify

        t1 = time.perf_counter()
        result = verify(verdict.certificate)
        row["verify_seconds"] = round(time.perf_counter() - t1, 6)
        if not result.valid:  # never hand out a claim whose certificate fails: a bug to report
            row.update(convex=None, error=f"internal error: the certificate does not verify ({result.reason}); "
                                          "please report this network")
        else:
            certificate = certificate_text(verdict.certificate)
            if options.certificate_dir is not None:
                row["certificate"] = os.path.join(options.certificate_dir, file_name(name))
    return row, certificate


def _error_row(name: str, fields: dict, error: str) -> dict:
    row = {"network": name, "convex": None, "method": None, "regions": None, "seconds": None}
    row.update(fields)
    row["error"] = error
    return row


def _stats(row: dict) -> dict:
    return {"convex": row["convex"], "icnn_structure": row.get("icnn_structure"), "method": row["method"],
            "seconds": row["seconds"], "architecture": row.get("architecture"), "init": row.get("init"),
            "error": row.get("error"), "convex_box": row.get("convex_box"), "box": row.get("box")}


def _one(name: str, fields: dict, make, options: Options, export_meta: dict | None) -> Result:
    from ..network import FormatError, NetworkError
    from ..numbers import NumberError

    exported = None
    try:
        net = make()
    except (FormatError, NetworkError, NumberError, OSError) as exc:
        row, cert = _error_row(name, fields, f"unreadable: {exc}"), None
    except Exception as exc:  # noqa: BLE001 - one network's failure must not end the sweep
        row, cert = _error_row(name, fields, f"internal error while reading ({type(exc).__name__}: {exc})"), None
    else:
        try:
            row, cert = decide_row(net, options, name, fields)
        except MemoryError:
            row, cert = _error_row(name, fields, "out of memory (bound the work with --max-regions or --timeout)"), None
        except RecursionError as exc:
            row, cert = _error_row(name, fields, f"internal error (RecursionError: {exc})"), None
        except Exception as exc:  # noqa: BLE001 - recorded in the row; the summary counts them
            row, cert = _error_row(name, fields, f"internal error ({type(exc).__name__}: {exc})"), None
        if export_meta is not None:
            exported = export_text(net, name, export_meta)
    return Result(name, json.dumps(row), _stats(row), cert, exported)


def export_text(net: Network, name: str, metadata: dict) -> str:
    """The network's JSON document (the exact network format) with its id as ``name``."""
    from ..network import network_to_dict

    doc = network_to_dict(net)
    doc["name"] = name
    doc["metadata"] = metadata
    return json.dumps(doc, indent=1) + "\n"


def grid_fields(cell, n: int) -> dict:
    return {"init": cell.init, "seed": cell.seed, "index": n}


def grid_metadata(cell, n: int) -> dict:
    return {"generator": "exactconvex sweep --grid", "architecture": cell.architecture, "init": cell.init,
            "seed": cell.seed, "index": n}


def run_task(task: tuple, options: Options) -> tuple[float, list[Result]]:
    """Decide the networks a task names, in its order: (seconds spent here, their results).

    A task is ``("grid", [(cell, [n, ...]), ...])``, ``("files", [(name, path), ...])`` or
    ``("objects", [(name, network), ...])``.
    """
    global _warm
    if not _warm:
        warm_up()
        _warm = True
    t0 = time.perf_counter()
    kind, groups = task
    results = []
    if kind == "grid":
        for cell, indices in groups:
            for n in indices:
                meta = grid_metadata(cell, n) if options.export else None
                results.append(_one(cell.network_id(n), grid_fields(cell, n), lambda: cell.network(n), options, meta))
    elif kind == "files":
        from ..network import load

        for name, path in groups:
            results.append(_one(name, {}, lambda: load(path), options, None))
    elif kind == "objects":
        for name, net in groups:
            results.append(_one(name, {}, lambda: net, options, None))
    else:  # pragma: no cover - the parent builds the tasks
        raise ValueError(f"unknown task kind {kind!r}")
    return time.perf_counter() - t0, results
