"""``exactconvex conditions``: the path-lifting convexity conditions, of a network or of an architecture.

    exactconvex conditions NET [--json | --latex] [--output K] [--max-regions N] [--timeout S] [--quiet]
    exactconvex conditions --arch D,N1,...,M [--skip L:K ...] [--distinct] [--json | --latex] [--output K]

With NET: the conditions realized on the facets of the network's region graph, each with its
exact value; exit 0 if they all hold (the output is convex), 1 if one fails.  With --arch:
the symbolic family of the architecture (input dimension, hidden widths, outputs), exit 0.
Bad input exits 2 (``UsageError`` and the format errors are turned into one sentence on
stderr by ``cli.main``); a bound that stops the work exits 2 with no answer.  sympy and the
region graph are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json

from .common import (EXIT_NO, EXIT_YES, Progress, UsageError, add_bounds, add_network_options, bounds, check_bounds,
                     limit_reached, load_network)

__all__ = ["add_parser", "run", "parse_arch", "parse_skip"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``conditions`` subcommand on an argparse subparsers object."""
    s = subparsers.add_parser(
        "conditions", help="path-lifting convexity conditions (exit 0 if all hold, 1 if one fails)",
        description="The convexity conditions of the path-lifting: for every hidden neuron and every downstream "
                    "activation pattern realized on a facet where it switches, 'the sum of the active path "
                    "products from the neuron to the output is >= 0'. With NET, the conditions of that network "
                    "with their exact values (exit 0 if all hold, 1 if one fails); with --arch, the symbolic "
                    "family of an architecture.")
    s.add_argument("network", metavar="NET", nargs="?", help="a network file (see network-format.md)")
    s.add_argument("--arch", metavar="D,N1,...,M",
                   help="an architecture instead of a network: input dimension, hidden widths, outputs (2,3,3,1)")
    s.add_argument("--skip", action="append", default=[], metavar="L:K",
                   help="with --arch: a skip connection from layer K into layer L (0 is the input, hidden layers are "
                        "1, 2, ..., the output comes last); repeat for several")
    s.add_argument("--distinct", action="store_true",
                   help="with --arch: list each distinct non-trivial condition once, with where it comes from")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--latex", action="store_true", help="print a LaTeX array")
    s.add_argument("--full", action="store_true",
                   help="with NET: write every condition and every expression in full (text and LaTeX summarise "
                        "long sums and show at most a few conditions per neuron; --json is always full)")
    s.add_argument("--output", type=int, default=0,
                   help="which output the conditions are about (default 0, the first)")
    add_network_options(s)
    add_bounds(s)
    s.set_defaults(run=run)
    return s


def parse_arch(text: str) -> tuple[int, list[int], int]:
    """``"2,3,3,1"`` -> (d, hidden widths, outputs) = (2, [3, 3], 1); ValueError when malformed.

    >>> parse_arch("2,3,3,1")
    (2, [3, 3], 1)
    """
    parts = text.split(",")
    values = [int(v) for v in parts] if all(v.isascii() and v.isdigit() and len(v) <= 9 for v in parts) else []
    if len(values) < 2 or any(v < 1 for v in values):
        raise ValueError(f"--arch {_short(text)!r} is not an architecture: expected at least two comma-separated positive "
                         "integers D,N1,...,M (input dimension, hidden widths, number of outputs), as in 2,3,3,1")
    return values[0], values[1:-1], values[-1]


def parse_skip(text: str) -> tuple[int, int]:
    """``"3:0"`` -> (3, 0): a skip into layer 3 from layer 0 (the input).

    >>> parse_skip("3:0")
    (3, 0)
    """
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        raise ValueError(f"--skip {_short(text)!r} is not a skip: write L:K for a connection from layer K into "
                         "layer L, as in 3:0")
    return int(parts[0]), int(parts[1])


def _short(text: str) -> str:
    from ..numbers import shorten

    return shorten(text)


def run(args) -> int:
    """Run ``exactconvex conditions`` with parsed arguments; returns the exit code."""
    check_bounds(args)
    if args.network is not None and args.arch is not None:
        raise UsageError("give either a network file NET or an architecture with --arch, not both.")
    if args.network is None and args.arch is None:
        raise UsageError("give a network file NET or an architecture with --arch D,N1,...,M (as in --arch 2,3,3,1).")
    if args.arch is not None:
        if args.full:
            raise UsageError("--full goes with a network file NET; the conditions of an architecture are always "
                             "written in full.")
        if args.state_dict_activation is not None:
            raise UsageError("--state-dict-activation goes with a network file NET, not with --arch.")
        return _run_arch(args)
    if args.skip or args.distinct:
        raise UsageError("--skip and --distinct go with --arch; a network file already fixes its skips.")
    return _run_network(args)


def _run_arch(args) -> int:
    from ..pathlifting import conditions_for_architecture

    try:
        d, hidden, outputs = parse_arch(args.arch)
        skips = [parse_skip(s) for s in args.skip]
        if not 0 <= args.output < outputs:
            raise ValueError(f"--output {args.output} does not exist (the architecture has {outputs} outputs)")
        family = conditions_for_architecture(d, hidden, skips, outputs=outputs, output=args.output,
                                             distinct=args.distinct)
    except ValueError as exc:
        text = str(exc)
        raise UsageError(text if text.endswith(".") else text + ".") from None
    if args.json:
        print(json.dumps(family.to_json()))
    elif args.latex:
        print(family.to_latex())
    else:
        print(family.to_text())
    return EXIT_YES


def _run_network(args) -> int:
    import time

    from ..graph import LimitReached
    from ..pathlifting import conditions
    from ..pathlifting.printers import report_json, report_latex, report_text

    net = load_network(args.network, args)
    if not 0 <= args.output < net.num_outputs:
        raise UsageError(f"--output {args.output} does not exist (the network has {net.num_outputs} outputs, "
                         "numbered from 0)")
    progress = Progress(not args.quiet)
    limits = bounds(args)
    # --timeout bounds everything: the region graph, the conditions, and writing them down
    deadline = None if limits["timeout"] is None else time.perf_counter() + limits["timeout"]
    try:
        report = conditions(net, args.output, progress=progress, **limits)
        if args.json:
            text = json.dumps(report_json(report, deadline=deadline))
        elif args.latex:
            text = report_latex(report, full=args.full, deadline=deadline)
        else:
            text = report_text(report, full=args.full, deadline=deadline)
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, prefix="no answer", all_hold=None) from None
    finally:
        progress.close()
    print(text)
    return EXIT_YES if report.all_hold else EXIT_NO
