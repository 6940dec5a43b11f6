"""``exactconvex verify CERT [--network F [--network G]] [--json] [--jobs N]`` (contract: ``shared/spec/cli.md``).

Exit 0 if the certificate is valid (its summary on stdout), 1 if it is invalid
("invalid certificate: <reason>" on stderr), 2 if the certificate or a given network cannot be
read.  With ``--json``, one JSON object on stdout in every case: ``{"valid", "claim", "reason",
"regions", "facets"}``, or ``{"valid": null, "error"}`` when nothing could be checked.

Binding (``docs/certificate-format.md``, "Binding"): one ``--network F`` requires the
certificate's embedded ``"network"`` to equal F exactly; two, ``--network F --network G``,
require an ``"equivalent"`` certificate whose ``networks.f`` and ``networks.g`` equal F and G.
The checker reads JSON only: a JSON network file is handed to it as it is, any other model
file (``.npz``, ``.pt``/``.pth``, ``.pt2``, ``.onnx``) is read by the package's loader and
handed over as its JSON document.
"""

from __future__ import annotations

import json
import os

from .common import (EXIT_NO, EXIT_UNUSABLE, EXIT_YES, Progress, UsageError, add_network_options, jobs_option,
                     load_network, say)

__all__ = ["add_parser", "run", "MODEL_EXTENSIONS"]

#: Files the checker does not read itself: the package's loader turns them into JSON documents.
MODEL_EXTENSIONS = (".npz", ".pt", ".pth", ".pt2", ".onnx")


def add_parser(subparsers):
    """Register the ``verify`` subcommand on an argparse subparsers object."""
    s = subparsers.add_parser(
        "verify", help="check a certificate with exact arithmetic",
        description="Check a certificate exactly, independently of how it was made. Exit 0 if valid, 1 if invalid "
                    "(with the first reason found), 2 if unreadable. Binding: with one --network F the network "
                    "embedded in the certificate must equal F exactly; with --network F --network G the certificate "
                    "must claim \"equivalent\" and its networks.f and networks.g must equal F and G exactly. JSON "
                    "networks are read by the checker itself; .npz, .pt/.pth, .pt2 and .onnx files are converted to "
                    "the JSON network format by the package's loader first.")
    s.add_argument("certificate", metavar="CERT", help="the certificate to check (JSON)")
    s.add_argument("--network", metavar="NET", action="append", default=[],
                   help="bind the certificate to this network (give it twice, F then G, for an equivalent "
                        "certificate)")
    s.add_argument("--json", action="store_true",
                   help='print one JSON object {"valid", "claim", "reason", "regions", "facets"} '
                        '(or {"valid": null, "error"} when unreadable)')
    s.add_argument("--quiet", action="store_true", help="no progress report on stderr")
    s.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="share the checks of the region graph among N processes (default 1; 0: one per CPU; the same "
                        "verdict)")
    add_network_options(s)
    s.set_defaults(run=run)
    return s


def _network_argument(path: str, args):
    """What the checker gets for ``--network path``: the path of a JSON file, else its JSON document."""
    if os.path.splitext(path)[1].lower() not in MODEL_EXTENSIONS:
        return path
    from ..network import network_to_dict

    return network_to_dict(load_network(path, args))


def _verify(args, progress=None):
    from ..checker import verify

    if len(args.network) > 2:
        raise UsageError(f"--network is given {len(args.network)} times; give it once (the certificate's network) "
                         "or twice (f and g of an equivalent certificate)")
    given = [_network_argument(path, args) for path in args.network]
    network = None if not given else given[0] if len(given) == 1 else tuple(given)
    return verify(args.certificate, network=network, progress=progress, jobs=jobs_option(args))


def run(args) -> int:
    from ..checker import CertificateError
    from ..network import FormatError, NetworkError
    from ..numbers import NumberError

    progress = Progress(not getattr(args, "quiet", False), what="checking certificate")
    try:
        result = _verify(args, progress)
    except (CertificateError, FormatError, NetworkError, NumberError, UsageError) as exc:
        progress.close()
        say(f"exactconvex: {exc}")
        if args.json:
            print(json.dumps({"valid": None, "error": str(exc)}))
        return EXIT_UNUSABLE
    finally:
        progress.close()  # the bar ends before the answer is printed
    if args.json:
        print(json.dumps({"valid": result.valid, "claim": result.claim, "reason": result.reason,
                          "regions": result.regions, "facets": result.facets}))
    elif result.valid:
        print(result.reason)
    if not result.valid:
        say(f"invalid certificate: {result.reason}")
    return EXIT_YES if result.valid else EXIT_NO
