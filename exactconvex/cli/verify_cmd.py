"""``exactconvex verify CERT.json [--network NET] [--json]`` (contract: ``shared/spec/cli.md``).

Exit 0 if the certificate is valid (the summary on stdout), 1 if it is invalid
("invalid certificate: <reason>" on stderr).  Unreadable input raises ``CertificateError``,
which the main program reports on stderr with exit 2.
"""

from __future__ import annotations

import json
import sys

from . import verify

EXIT_VALID, EXIT_INVALID = 0, 1


def add_parser(subparsers):
    """Register the ``verify`` subcommand on an argparse subparsers object."""
    s = subparsers.add_parser(
        "verify", help="check a certificate with exact arithmetic",
        description="Check a certificate exactly, independently of how it was made. "
                    "Exit 0 if valid, 1 if invalid (with the first reason found), 2 if unreadable.")
    s.add_argument("certificate", metavar="CERT.json", help="the certificate to check")
    s.add_argument("--network", metavar="NET", help="the embedded network must equal this network exactly")
    s.add_argument("--json", action="store_true", help='print one JSON object {"valid", "claim", "reason"}')
    s.set_defaults(run=run)
    return s


def run(args) -> int:
    result = verify(args.certificate, network=args.network)
    if args.json:
        print(json.dumps({"valid": result.valid, "claim": result.claim, "reason": result.reason}))
    elif result.valid:
        print(result.reason)
    if not result.valid:
        print(f"invalid certificate: {result.reason}", file=sys.stderr)
    return EXIT_VALID if result.valid else EXIT_INVALID
