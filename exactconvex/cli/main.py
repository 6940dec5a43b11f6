"""The ``exactconvex`` command line (contract: ``shared/spec/cli.md``).

Exit codes: 0 = yes / success, 1 = no, 2 = the input could not be used.  Errors are
printed to stderr as plain sentences, never as a traceback.  Heavy modules are imported
inside the command that needs them, so that the CLI starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

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


def _not_implemented(name: str) -> Callable:
    def run(args) -> int:
        raise UsageError(f"'exactconvex {name}' is not implemented yet.")
    return run


# ----- parser -----------------------------------------------------------------------------

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

    for name, help_text in [("check", "decide convexity exactly"),
                            ("verify", "check a certificate"),
                            ("regions", "build the region adjacency graph"),
                            ("conditions", "path-lifting convexity conditions"),
                            ("equiv", "decide whether two networks compute the same function"),
                            ("to-icnn", "convert a convex one-hidden-layer network to an ICNN"),
                            ("counterexample", "search for convex networks no ICNN of the architecture computes")]:
        s = sub.add_parser(name, help=help_text)
        s.add_argument("args", nargs="*")
        s.set_defaults(run=_not_implemented(name))
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (FormatError, NetworkError, NumberError, UsageError) as exc:
        print(f"exactconvex: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("exactconvex: interrupted", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        return EXIT_YES
