"""The commands ``convexify`` and ``margin`` (contract: ``shared/spec/cli.md``).

``exactconvex convexify NET -o OUT.json [--norm linf|l1] [--cert CERT.json] [--json]``: the network
with NET's hidden layers and the nearest convex output layer (weights from hidden units; the
output bias and the skip from the input are kept).  The certificate (claim "nearest_convex") is
built and verified with the independent checker against NET every time, before OUT is
written; ``--cert`` keeps it.  Exit 0 when OUT was written.

``exactconvex margin NET [--json]``: the linf margin of convexity (negative: minus the distance
to convexity) and the expressivity of the cone of convex output layers against the ICNN orthant.
Exit 0 when NET is convex, 1 when it is not (like ``check``).
"""

from __future__ import annotations

import json

from .common import (EXIT_NO, EXIT_YES, Progress, UsageError, add_bounds, add_network_options, bounds, check_outputs,
                     limit_reached, load_network, point_text, verify_certificate, write_certificate, write_text)

__all__ = ["add_parsers", "run_convexify", "run_margin"]

_MODEL_SUFFIXES = (".npz", ".pt", ".pth", ".pt2", ".onnx")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _approx(value) -> str:
    """An exact value and, when it is not a short integer or fraction, its decimal approximation."""
    from ..numbers import shorten

    text = shorten(str(value))
    if value.q == 1 or len(text) <= 12:
        return text
    try:
        return f"{text} (about {float(value):.6g})"
    except OverflowError:
        return text


def run_convexify(args) -> int:
    """``exactconvex convexify NET -o OUT``: exit 0 when OUT (and ``--cert``) was written."""
    from ..convexify import convexify
    from ..graph import LimitReached
    from ..network import network_to_dict
    from ..network.formats import dumps

    if args.output.lower().endswith(_MODEL_SUFFIXES):
        raise UsageError(f"-o {args.output}: the convexified network is written in the exact network JSON format; "
                         f"give a .json file name")
    net = load_network(args.network, args)
    check_outputs(args, [("-o", args.output), ("--cert", args.cert)])
    progress = Progress(not args.quiet)
    try:
        result = convexify(net, args.norm, progress=progress, **bounds(args))
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, distance=None, norm=args.norm, convex_before=None) from None
    finally:
        progress.close()
    cert = result.certificate()
    given = network_to_dict(net)
    verify_seconds = verify_certificate(cert, given, args.cert or args.output)  # nothing unproven is written
    report = result.summary()
    written = write_text(args.output, dumps(result.network) + "\n", args, "-o")
    report["output_file"] = {"path": args.output, "bytes": written["bytes"], "replaced": written["replaced"]}
    if args.cert is not None:
        report["certificate"] = write_certificate(cert, args.cert, args, given, verified_in=verify_seconds)
    if args.json:
        print(json.dumps(report))
        return EXIT_YES
    if result.convex_before:
        print(f"already convex on all of R^{net.input_dim}: distance 0, {args.output} is the network unchanged")
    else:
        print(f"wrote {args.output}: the nearest convex output layer, at {args.norm} distance "
              f"{_approx(result.distance)} from the network's (weights from hidden units; hidden layers, output "
              f"bias and input skips unchanged)")
        for o in result.outputs:
            if not o.convex_before:
                changed = sum(1 for a, b in zip(o.theta0, o.theta) if a != b)
                print(f"  output {o.output}: distance {_approx(o.distance)}, {changed} of {len(o.theta)} weights "
                      f"changed; optimal: multipliers on {_count(len(o.multipliers), 'facet')} ({o.how})")
    print(f"region graph: {_count(report['regions'], 'region')}, {_count(report['facets'], 'facet')}; proof verified "
          f"against {args.network} in {verify_seconds:.3f} s")
    if args.cert is not None:
        print(f"certificate: {args.cert} ({report['certificate']['bytes']} bytes)")
    return EXIT_YES


def run_margin(args) -> int:
    """``exactconvex margin NET``: exit 0 when NET is convex, 1 when not (the margin is then negative)."""
    from ..convexify import margin
    from ..graph import LimitReached

    net = load_network(args.network, args)
    progress = Progress(not args.quiet)
    try:
        m = margin(net, with_expressivity=not args.no_expressivity, progress=progress, **bounds(args))
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, convex=None, margin=None) from None
    finally:
        progress.close()
    report = m.summary()
    if args.json:
        print(json.dumps(report))
        return EXIT_YES if m.convex else EXIT_NO
    if m.convex and m.margin is None:
        print("convex, with an unbounded margin: no facet bend depends on the output weights, every output layer "
              "is convex")
    elif m.convex:
        worst = min((o for o in m.outputs if o.margin is not None), key=lambda o: o.margin)
        f = m.facet(worst.facet)
        print(f"convex, with linf margin {_approx(m.margin)}: every output layer whose weights from hidden units are "
              f"within it is convex, and no larger radius has that property")
        print(f"  attained at output {worst.output}, on the facet of neuron {f.neuron[1]} of layer {f.neuron[0]} "
              f"through {point_text(f.point)} (region {f.region}, facet {f.facet})")
    else:
        print(f"NOT convex: linf distance to convexity {_approx(m.distance)} (margin {_approx(m.margin)}; "
              f"exactconvex convexify gives the nearest convex output layer)")
    x = m.expressivity
    if x is not None:
        if not x.orthant_in_cone:
            p, e = x.orthant_witness
            f = m.facet(e)
            print(f"ICNN orthant: not inside the cone of convex output layers: {p} alone (every other weight 0) "
                  f"bends negatively across the facet of neuron {f.neuron[1]} of layer {f.neuron[0]}")
        elif x.strictly_larger:
            print("ICNN orthant: the cone of convex output layers is strictly larger; a convex output row with a "
                  "negative weight: " + point_text(x.beyond_orthant))
        else:
            print("ICNN orthant: the cone of convex output layers is exactly the orthant (weights >= 0)")
    if x is not None and x.beyond_orthant is not None and not x.orthant_in_cone:
        print("  a convex output row with a negative weight: " + point_text(x.beyond_orthant))
    print(f"region graph: {_count(report['regions'], 'region')}, {_count(report['facets'], 'facet')}, "
          f"{_count(len(report['weights']), 'weight')} per output row")
    return EXIT_YES if m.convex else EXIT_NO


def add_parsers(sub) -> None:
    """Register ``convexify`` and ``margin`` on an argparse subparsers object."""
    s = sub.add_parser("convexify", help="the nearest convex output layer, exact and proven optimal (exit 0 when "
                                         "written)")
    s.add_argument("network", metavar="NET")
    s.add_argument("-o", "--output", required=True, metavar="OUT.json", help="where to write the convexified network")
    s.add_argument("--norm", default="linf", choices=["linf", "l1"],
                   help="distance over the output weights from hidden units (default linf)")
    s.add_argument("--cert", metavar="CERT.json", help="write the certificate (claim nearest_convex), verified "
                                                       "against NET before it is written")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    add_network_options(s)
    add_bounds(s)
    s.set_defaults(run=run_convexify)

    s = sub.add_parser("margin", help="how far the output layer can move and stay convex (exit 0 convex, 1 not)")
    s.add_argument("network", metavar="NET")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--no-expressivity", action="store_true",
                   help="skip the comparison of the cone of convex output layers with the ICNN orthant")
    add_network_options(s)
    add_bounds(s)
    s.set_defaults(run=run_margin)
