"""The commands ``equiv``, ``to-icnn`` and ``counterexample`` (contract: ``shared/spec/cli.md``).

Exit codes: 0 = yes (equivalent / converted / counterexample found), 1 = no (the networks
differ / the network is not convex / nothing found within the budget), 2 = unusable input or
no verdict within the bounds.  Every certificate is verified by the independent checker
against the networks it speaks about (the ones the user gave, and the ICNN written) before it
is written; one that fails is never written.
"""

from __future__ import annotations

import json
import time

from .common import (EXIT_NO, EXIT_YES, Progress, UsageError, add_bounds, add_network_options, bounds,
                     check_outputs, limit_reached, load_network, point_text, positive_seconds, verify_certificate,
                     witness_text, write_certificate, write_text)

__all__ = ["add_parsers", "run_equiv", "run_to_icnn", "run_counterexample"]


# ----- equiv --------------------------------------------------------------------------------------

def run_equiv(args) -> int:
    """``exactconvex equiv F G``: exit 0 when they compute the same function, 1 with a point where they differ."""
    from ..graph import LimitReached
    from ..icnn import equivalent
    from ..network import network_to_dict

    f, g = load_network(args.f, args), load_network(args.g, args)
    if f.input_dim != g.input_dim:
        raise UsageError(f"the networks have different input dimensions ({f.input_dim} and {g.input_dim})")
    if f.num_outputs != g.num_outputs:
        raise UsageError(f"the networks have different numbers of outputs ({f.num_outputs} and {g.num_outputs})")
    check_outputs(args, [("--cert", args.cert)])
    progress = Progress(not args.quiet)
    try:
        r = equivalent(f, g, certificate=args.cert is not None, progress=progress, **bounds(args))
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, equivalent=None) from None
    finally:
        progress.close()
    report = {"equivalent": r.equivalent, "regions": r.regions, "seconds": round(r.seconds, 6)}
    if not r.equivalent:
        report.update({"point": [str(v) for v in r.point], "output": r.output,
                       "f": str(r.f_value), "g": str(r.g_value)})
    elif args.cert is not None:
        try:
            report["certificate"] = write_certificate(r.certificate, args.cert, args,
                                                      (network_to_dict(f), network_to_dict(g)), progress=progress)
        finally:
            progress.close()
    if args.json:
        print(json.dumps(report))
    elif r.equivalent:
        print(f"equivalent: f and g compute the same function on all of R^{f.input_dim} "
              f"(f - g is 0 on each of the {r.regions} regions of its region graph)")
        if "certificate" in report:
            print(f"certificate: {args.cert} ({report['certificate']['bytes']} bytes, verified against "
                  f"{args.f} and {args.g})")
    else:
        from ..numbers import readable

        print(f"NOT equivalent: at x = {point_text(r.point)}, output {r.output}: f(x) = {readable(r.f_value)}, "
              f"g(x) = {readable(r.g_value)}, f(x) - g(x) = {readable(r.f_value - r.g_value)} (exact values: --json)")
        if args.cert is not None:
            print(f"no certificate written to {args.cert}: the differing point above is the proof")
    return EXIT_YES if r.equivalent else EXIT_NO


# ----- to-icnn ------------------------------------------------------------------------------------

def run_to_icnn(args) -> int:
    """``exactconvex to-icnn NET -o OUT``: exit 0 with an equal ICNN written, 1 if NET is not convex."""
    from ..graph import LimitReached
    from ..icnn import NotConvexError, to_icnn
    from ..network import network_to_dict
    from ..network.formats import dumps

    net = load_network(args.network, args)
    if net.depth != 2:
        raise UsageError(f"to-icnn needs a network with exactly one hidden layer (this one has {net.depth - 1})")
    check_outputs(args, [("-o", args.output), ("--cert", args.cert)])
    t0 = time.perf_counter()
    progress = Progress(not args.quiet)  # the region graph of f - g, then the checking of the certificate
    try:
        conv = to_icnn(net, certificate=True, progress=progress, **bounds(args))
    except NotConvexError as exc:
        from ..decide import witness_json

        progress.close()
        w = witness_json(exc.witness)
        if args.json:
            print(json.dumps({"convex": False, "witness": w}))
        else:
            print(f"NOT convex, so no ICNN computes it; witness, checked by exact evaluation: {witness_text(w)}")
        return EXIT_NO
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, prefix="no proof of equality", convex=None) from None
    icnn = conv.network
    # the certificate of equality binds the ICNN written to the network given: checked before
    # anything is written, whether or not --cert asks for it to be kept
    pair = (network_to_dict(net), network_to_dict(icnn))
    try:
        verify_seconds = verify_certificate(conv.certificate, pair, args.cert or args.output, progress)
    finally:
        progress.close()
    written = write_text(args.output, dumps(icnn) + "\n", args, "-o")
    report = {"convex": True, "output": args.output, "width": icnn.hidden_widths[0], "icnn": icnn.is_icnn(),
              "equivalent": conv.equivalence.equivalent, "regions": conv.equivalence.regions,
              "seconds": round(time.perf_counter() - t0, 6), "replaced": written["replaced"]}
    if args.cert is not None:
        report["certificate"] = write_certificate(conv.certificate, args.cert, args, pair,
                                                  verified_in=verify_seconds)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"wrote {args.output}: an ICNN of width {report['width']} (output weights >= 0, the affine part "
              f"through the input skip), equal to the network on all of R^{net.input_dim} "
              f"(checked on the {report['regions']} regions of their difference)")
        if args.cert is not None:
            print(f"certificate of equality: {args.cert} ({report['certificate']['bytes']} bytes, verified)")
    return EXIT_YES


# ----- counterexample -----------------------------------------------------------------------------

def _arch(text: str) -> list[int]:
    from ..numbers import shorten

    parts = text.split(",")
    if not all(x.isascii() and x.isdigit() and len(x) <= 9 for x in parts):
        raise UsageError(f"--arch {shorten(text)!r}: expected comma-separated widths such as 1,3,2,1")
    arch = [int(x) for x in parts]
    if len(arch) < 3 or any(n < 1 for n in arch):
        raise UsageError(f"--arch {text}: expected 1,n1,...,nk,1 with positive widths")
    if arch[0] != 1 or arch[-1] != 1:
        raise UsageError(f"--arch {text}: the search is over one input and one output (1,n1,...,nk,1); a line "
                     "restriction of any network is such a network, so this covers every input dimension")
    return arch


def run_counterexample(args) -> int:
    """``exactconvex counterexample --arch ... -o CERT``: exit 0 with a verified certificate, 1 if none found."""
    from ..icnn import not_representable_certificate, search_counterexample
    from ..network import network_to_dict

    arch = _arch(args.arch)
    check_outputs(args, [("-o", args.output)])
    res = search_counterexample(arch, seed=args.seed, budget=args.budget, skips=args.skips,
                                grid_max=args.grid_max)
    report = res.summary()
    if res.found:
        note = (f"found by the {res.phase} phase of `exactconvex counterexample --arch {args.arch} --skips "
                f"{args.skips} --seed {args.seed}` in {res.seconds:.2f} s")
        cert = not_representable_certificate(res.network)
        cert["search"] = note
        report["certificate"] = write_certificate(cert, args.output, args, network_to_dict(res.network), option="-o")
    if args.json:
        print(json.dumps(report))
    elif res.found:
        print(f"counterexample for hidden widths {tuple(res.widths[1:-1])} (skips: {args.skips}): a convex network "
              f"with {res.kinks} kinks on a line, more than the ICNN bound {res.bound}; found in "
              f"{res.seconds:.2f} s ({res.phase} phase, {res.screened} candidates screened)")
        print(f"certificate: {args.output} ({report['certificate']['bytes']} bytes, verified)")
    else:
        print(res.note)
    return EXIT_YES if res.found else EXIT_NO


# ----- registration -------------------------------------------------------------------------------

def add_parsers(subparsers) -> None:
    """Register ``equiv``, ``to-icnn`` and ``counterexample`` on an argparse subparsers object."""

    s = subparsers.add_parser("equiv", help="decide whether two networks compute the same function",
                              description="Decide exactly whether F and G compute the same function on all of "
                                          "R^d. Exit 0 if they do, 1 if not (a rational point where they differ "
                                          "is printed), 2 if unusable.")
    s.add_argument("f", metavar="F")
    s.add_argument("g", metavar="G")
    s.add_argument("--cert", metavar="OUT.json",
                   help="when equivalent, write a certificate (claim equivalent), verified against F and G first")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    add_network_options(s)
    add_bounds(s)
    s.set_defaults(run=run_equiv)

    s = subparsers.add_parser("to-icnn", help="convert a convex one-hidden-layer network to an ICNN",
                              description="Write an ICNN of the same width (output weights >= 0, the affine part "
                                          "through the input skip) computing exactly the same function, proven "
                                          "by the equivalence check. Exit 0 on success, 1 if the network is not "
                                          "convex (with a witness), 2 if unusable or not one hidden layer.")
    s.add_argument("network", metavar="NET")
    s.add_argument("-o", "--output", metavar="OUT", required=True, help="where to write the ICNN (JSON)")
    s.add_argument("--cert", metavar="CERT.json", help="write the certificate of equality (claim equivalent)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    add_network_options(s)
    add_bounds(s)
    s.set_defaults(run=run_to_icnn)

    s = subparsers.add_parser("counterexample",
                              help="search for convex networks no ICNN of the architecture computes",
                              description="Search small rational weights for a convex network of architecture "
                                          "1,n1,...,nk,1 with more kinks on a line than n1 + 2(n2 + ... + nk), "
                                          "the most any ICNN of those widths has. Exit 0 when found (certificate "
                                          "written), 1 when not found within the budget.")
    s.add_argument("--arch", required=True, metavar="1,N1,N2,1", help="the widths, input and output 1")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0); the search is deterministic")
    s.add_argument("--budget", type=positive_seconds, default=60.0, metavar="SECONDS",
                   help="time budget (default 60)")
    s.add_argument("--skips", choices=["none", "input", "all"], default="none",
                   help="connections of the searched networks: none (plain, default), input (the ICNN "
                        "connections: skips from the input), all (skips from every earlier layer)")
    s.add_argument("--grid-max", type=int, default=2_000_000, metavar="N",
                   help="run the exhaustive {-1,0,1} grid first when it has at most N networks")
    s.add_argument("-o", "--output", metavar="CERT", required=True, help="where to write the certificate")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(run=run_counterexample)
