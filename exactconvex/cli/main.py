"""The ``exactconvex`` command line (contract: ``shared/spec/cli.md``).

Exit codes: 0 = yes / success, 1 = no, 2 = the input could not be used.  Errors are
printed to stderr as plain sentences, never as a traceback.  Heavy modules are imported
inside the command that needs them, so that the CLI starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..checker import CertificateError
from ..network import FormatError, Network, NetworkError, load
from ..numbers import NumberError

EXIT_YES, EXIT_NO, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Input or arguments that cannot be used (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one plain sentence, exit 2, like every other bad input
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNUSABLE, f"exactconvex: error: {message}\n")


def _load(path: str) -> Network:
    return load(path)


# ----- commands ------------------------------------------------------------------------

def cmd_info(args) -> int:
    net = _load(args.network)
    skips = [{"into_layer": l, "from": k} for l, layer in enumerate(net.layers, 1) for k in layer.skip]
    info = {"input_dim": net.input_dim, "hidden_widths": net.hidden_widths, "outputs": net.num_outputs,
            "depth": net.depth, "skips": skips, "parameters": net.parameter_count(), "icnn": net.is_icnn()}
    if args.json:
        print(json.dumps(info))
        return EXIT_YES
    print(f"input dimension: {net.input_dim}")
    print(f"hidden widths:   {', '.join(map(str, net.hidden_widths)) or '(none: affine network)'}")
    print(f"outputs:         {net.num_outputs}")
    if skips:
        print("skips:           " + ", ".join(f"{s['from']} -> {s['into_layer']}" for s in skips))
    else:
        print("skips:           none")
    print(f"parameters:      {net.parameter_count()}")
    print(f"ICNN structure:  {'yes' if net.is_icnn() else 'no'} "
          "(all weights from hidden layers into later layers and the output are >= 0)")
    return EXIT_YES


class Progress:
    """A one-line progress report on stderr, shown only on a terminal and after about a second."""

    def __init__(self, enabled: bool, what: str = "regions"):
        import time

        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.last = 0.0
        self.what = what
        self.shown = False

    def __call__(self, done: int, found: int) -> None:
        if not self.enabled:
            return
        import time

        now = time.perf_counter() - self.start
        if now > 1.0 and now - self.last > 0.2:
            self.last = now
            self.shown = True
            sys.stderr.write(f"\r{self.what}: {done} processed, {found} found, {now:.1f} s ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _bounds(args) -> dict:
    if args.max_regions is not None and args.max_regions < 1:
        raise UsageError("--max-regions must be a positive integer")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return {"max_regions": args.max_regions, "timeout": args.timeout}


def write_certificate(cert: dict, path: str, compact: bool = False) -> dict:
    """Check ``cert`` with the independent checker, then write it; returns a small report.

    A certificate the checker rejects is never handed out (that would be a bug: exit 2).
    """
    import time

    from ..checker import verify

    t0 = time.perf_counter()
    result = verify(cert)
    seconds = time.perf_counter() - t0
    if not result.valid:
        raise UsageError(f"internal error: the certificate for {path} does not verify ({result.reason}); "
                         "please report this input")
    text = json.dumps(cert, separators=(",", ":")) if compact else json.dumps(cert, indent=1)
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write the certificate to {path}: {exc.strerror}") from None
    return {"path": path, "bytes": len(text) + 1, "valid": True, "verify_seconds": round(seconds, 6)}


def point_text(p) -> str:
    """An exact point as "(p1, p2, ...)"."""
    return "(" + ", ".join(str(v) for v in p) + ")"


def _witness_text(w: dict) -> str:
    pt = point_text
    return (f"output {w['output']}: f(lambda x + (1 - lambda) y) > lambda f(x) + (1 - lambda) f(y) "
            f"with x = {pt(w['x'])}, y = {pt(w['y'])}, lambda = {w['lambda']}")


def cmd_check(args) -> int:
    import time

    from ..decide import LimitReached, Undecided, check, witness_json

    net = _load(args.network)
    progress = Progress(not args.quiet)
    t0 = time.perf_counter()
    try:
        verdict = check(net, method=args.method, certificate=args.cert is not None, progress=progress,
                        **_bounds(args))
    except LimitReached as exc:
        raise UsageError(f"no verdict: {exc}. Nothing was proven; raise the bound to go further.") from None
    except Undecided as exc:
        raise UsageError(f"no verdict: {exc}.") from None
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    report = {"convex": verdict.convex, "method": verdict.method, "regions": verdict.regions,
              "seconds": round(seconds, 6), "facets": verdict.facets,
              "outputs": [{"output": o.output, "convex": o.convex, "method": o.method,
                           **({"witness": witness_json(o.witness)} if o.witness else {})}
                          for o in verdict.outputs]}
    if verdict.witness is not None:
        report["witness"] = witness_json(verdict.witness)
    if args.cert is not None:
        report["certificate"] = write_certificate(verdict.certificate, args.cert)
    if args.json:
        print(json.dumps(report))
    else:
        if verdict.convex:
            print(f"convex on all of R^{net.input_dim} (method: {verdict.method}"
                  + (f", {verdict.regions} regions" if verdict.regions is not None else "") + ")")
        else:
            print(f"NOT convex (method: {verdict.method})")
            print("witness, checked by exact evaluation: " + _witness_text(report["witness"]))
        if args.cert is not None:
            c = report["certificate"]
            print(f"certificate: {c['path']} ({c['bytes']} bytes, verified in {c['verify_seconds']:.3f} s)")
    return EXIT_YES if verdict.convex else EXIT_NO


def cmd_regions(args) -> int:
    from ..graph import LimitReached, min_bend, regions, to_graphml

    net = _load(args.network)
    if not 0 <= args.output < net.num_outputs:
        raise UsageError(f"--output {args.output} does not exist (the network has {net.num_outputs} outputs)")
    progress = Progress(not args.quiet)
    try:
        G = regions(net, args.output, progress=progress, **_bounds(args))
    except LimitReached as exc:
        raise UsageError(f"incomplete region graph: {exc}") from None
    finally:
        progress.close()
    mb = min_bend(G)
    report = {"regions": G.number_of_nodes(), "facets": G.number_of_edges(),
              "min_bend": None if mb is None else str(mb), "output": args.output,
              "seconds": round(G.graph["seconds"], 6)}
    if args.graphml:
        try:
            to_graphml(G, args.graphml)
        except OSError as exc:
            raise UsageError(f"cannot write {args.graphml}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['regions']} full-dimensional regions, {report['facets']} facets, "
              f"smallest bend {report['min_bend']} (output {args.output})")
    return EXIT_YES


# ----- parser -----------------------------------------------------------------------------

def _add_bounds(s) -> None:
    s.add_argument("--max-regions", type=int, metavar="N", help="stop (exit 2, no verdict) after N regions")
    s.add_argument("--timeout", type=float, metavar="S", help="stop (exit 2, no verdict) after S seconds")
    s.add_argument("--quiet", action="store_true", help="no progress report on stderr")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="exactconvex",
                description="Decide exactly whether a ReLU network is convex on all of R^d, with certificates.")
    from .. import __version__
    p.add_argument("--version", action="version", version=f"exactconvex {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("info", help="print the architecture of a network")
    s.add_argument("network", metavar="NET")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(run=cmd_info)

    s = sub.add_parser("check", help="decide convexity exactly (exit 0 convex, 1 not convex)")
    s.add_argument("network", metavar="NET")
    s.add_argument("--cert", metavar="OUT.json", help="write a certificate of the verdict")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--method", default="auto", choices=["auto", "icnn", "one-layer", "search", "regions"])
    _add_bounds(s)
    s.set_defaults(run=cmd_check)

    s = sub.add_parser("regions", help="build the exact region adjacency graph")
    s.add_argument("network", metavar="NET")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--graphml", metavar="OUT", help="write the graph as GraphML (exact values as strings)")
    s.add_argument("--output", type=int, default=0, help="which output's pieces and bends (default 0)")
    _add_bounds(s)
    s.set_defaults(run=cmd_regions)

    from . import verify_cmd

    verify_cmd.add_parser(sub)
    from . import conditions_cmd

    conditions_cmd.add_parser(sub)

    from . import icnn_cmds

    icnn_cmds.add_parsers(sub)
    from . import sweep_cmd
    sweep_cmd.add_parser(sub)
    from . import plot_cmd
    plot_cmd.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (FormatError, NetworkError, NumberError, UsageError, CertificateError) as exc:
        print(f"exactconvex: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("exactconvex: interrupted", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        return EXIT_YES
    except MemoryError:
        print("exactconvex: out of memory; bound the work with --max-regions or --timeout", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:  # a bug: say so plainly; EXACTCONVEX_DEBUG=1 shows the traceback
        import os

        if os.environ.get("EXACTCONVEX_DEBUG"):
            raise
        print(f"exactconvex: internal error ({type(exc).__name__}: {exc}). No verdict was given. "
              "Please report this input; set EXACTCONVEX_DEBUG=1 to see the traceback.", file=sys.stderr)
        return EXIT_UNUSABLE
