"""The commands ``info``, ``check`` and ``regions`` (contract: ``shared/spec/cli.md``).

Index convention of every message: layers are numbered from 1 (layer 0 is the input x), a
neuron by its 0-based index within its layer, outputs from 0 ("neuron 0 of layer 1",
"output 0").
"""

from __future__ import annotations

import json
import time

from ..decide.rules import METHODS  # the rule registry's names (a light import: no numpy, no flint)
from .common import (EXIT_NO, EXIT_YES, Progress, UsageError, add_bounds, add_network_options, allow_negative_values,
                     bounds, box_json, box_option, check_outputs, jobs_option, limit_reached, load_network, witness_text,
                     write_certificate, write_output)

__all__ = ["add_parsers", "run_info", "run_check", "run_regions"]


def _activation_text(slope) -> str:
    return "relu" if slope == 0 else f"leaky_relu:{slope}"


def _import_report(net) -> dict:
    """What the door said about an imported model: the comparison with its forward pass and
    every place where the exact network is not the model itself (e.g. BatchNorm's scale)."""
    report = {}
    provenance = getattr(net, "provenance", None)
    if provenance:
        report["provenance"] = provenance
    notes = getattr(net, "notes", None)
    if notes:
        report["notes"] = list(notes)
    return report


def _print_import_report(net) -> None:
    report = _import_report(net)
    if "provenance" in report:
        print(f"imported from:   {report['provenance'].get('source', '?')}; "
              f"{report['provenance'].get('comparison_note', '')}".rstrip("; "))
    for note in report.get("notes", []):
        print(f"note:            {note}")


def run_info(args) -> int:
    """``exactconvex info NET``: the architecture (exit 0)."""
    net = load_network(args.network, args)
    skips = [{"into_layer": l, "from": k} for l, layer in enumerate(net.layers, 1) for k in layer.skip]
    activations = [_activation_text(layer.slope) for layer in net.layers[:-1]]
    info = {"input_dim": net.input_dim, "hidden_widths": net.hidden_widths, "outputs": net.num_outputs,
            "depth": net.depth, "skips": skips, "activations": activations, "parameters": net.parameter_count(),
            "icnn": net.is_icnn(), **_import_report(net)}
    if args.json:
        print(json.dumps(info))
        return EXIT_YES
    print(f"input dimension: {net.input_dim}")
    print(f"hidden widths:   {', '.join(map(str, net.hidden_widths)) or '(none: affine network)'}")
    if any(a != "relu" for a in activations):
        print("activations:     " + ", ".join(f"layer {l}: {a}" for l, a in enumerate(activations, 1)))
    print(f"outputs:         {net.num_outputs}")
    if skips:
        print("skips:           " + ", ".join(f"{s['from']} -> {s['into_layer']}" for s in skips))
    else:
        print("skips:           none")
    print(f"parameters:      {net.parameter_count()}")
    print(f"ICNN structure:  {'yes' if net.is_icnn() else 'no'} "
          "(all weights from hidden layers into later layers and the output are >= 0)")
    _print_import_report(net)
    return EXIT_YES


def run_check(args) -> int:
    """``exactconvex check NET``: exit 0 convex, 1 not convex (with an exact witness)."""
    from ..decide import LimitReached, Undecided, check, witness_json
    from ..network import network_to_dict
    from ..numbers import q_str

    box = box_option(args.box)
    net = load_network(args.network, args)
    check_outputs(args, [("--cert", args.cert)])
    progress = Progress(not args.quiet)
    t0 = time.perf_counter()
    try:
        verdict = check(net, method=args.method, certificate=args.cert is not None, progress=progress,
                        box=box, jobs=jobs_option(args), **bounds(args))
    except LimitReached as exc:
        on_rd = getattr(exc, "on_rd", None)
        if box is not None and on_rd is not None:  # decided on R^d, the box left undecided
            raise limit_reached(exc, progress, args, prefix=f"no verdict on the box {box.text(net.input_dim)} (on all "
                                f"of R^{net.input_dim}: {'convex' if on_rd.convex else 'not convex'})",
                                convex=None, method=args.method, box=box_json(box), convex_rd=on_rd.convex) from None
        raise limit_reached(exc, progress, args, convex=None, method=args.method) from None
    except Undecided as exc:
        raise UsageError(f"no verdict: {exc}.") from None
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    concave = verdict.concave  # the region graph's concave facets (None when it was not built)
    report = {"convex": verdict.convex, "method": verdict.method, "regions": verdict.regions,
              "seconds": round(seconds, 6), "facets": verdict.facets,
              "outputs": [{"output": o.output, "convex": o.convex, "method": o.method,
                           **({"witness": witness_json(o.witness), "violation": q_str(o.violation)}
                              if o.witness else {}),
                           **({"concave_facets": {"count": concave.per_output[o.output][0],
                                                  "regions": concave.per_output[o.output][1]}}
                              if concave is not None else {})}
                          for o in verdict.outputs],
              "concave_facets": None if concave is None else concave.to_json(), **_import_report(net)}
    if verdict.witness is not None:
        report["witness"] = witness_json(verdict.witness)
        report["violation"] = q_str(verdict.violation)  # f(lambda x + (1-lambda) y) - chord, exact
    if box is not None:  # "convex" answers the box question (as the exit code does); convex_rd: all of R^d
        report.update(box=box_json(box), convex_box=verdict.convex, convex_rd=verdict.on_rd.convex)
        if verdict.on_rd.witness is not None:
            report["witness_rd"] = witness_json(verdict.on_rd.witness)
    if args.cert is not None:
        try:
            report["certificate"] = write_certificate(verdict.certificate, args.cert, args, network_to_dict(net),
                                                      progress=progress)
        finally:
            progress.close()
    if args.json:
        print(json.dumps(report))
    else:
        d = net.input_dim
        if box is not None and verdict.convex:
            print(f"convex on the box {box.text(d)} (method: {verdict.method}; "
                  f"{'convex' if verdict.on_rd.convex else 'not convex'} on all of R^{d}"
                  + (f"; {verdict.regions} regions" if verdict.regions is not None else "") + ")")
        elif box is not None:
            print(f"NOT convex on the box {box.text(d)} (method: {verdict.method})")
            print("witness in the box, checked by exact evaluation: " + witness_text(report["witness"]))
            print(_violation_text(verdict.violation))
        elif verdict.convex:
            print(f"convex on all of R^{net.input_dim} (method: {verdict.method}"
                  + (f", {verdict.regions} regions, {verdict.facets} facets" if verdict.regions is not None else "")
                  + ")")
        else:
            print(f"NOT convex (method: {verdict.method})")
            print("witness, checked by exact evaluation: " + witness_text(report["witness"]))
            print(_violation_text(verdict.violation))
        if concave is not None and not verdict.convex:
            print("concave facets of the region graph: " + concave.text())
        _print_import_report(net)
        if args.cert is not None:
            c = report["certificate"]
            print(f"certificate: {c['path']} ({c['bytes']} bytes, verified against {args.network} "
                  f"in {c['verify_seconds']:.3f} s)")
    return EXIT_YES if verdict.convex else EXIT_NO


def _violation_text(amount) -> str:
    from ..numbers import readable

    return (f"violation: f(lambda x + (1 - lambda) y) - (lambda f(x) + (1 - lambda) f(y)) = {readable(amount)} > 0"
            + ("" if readable(amount) == str(amount) else " (exact in --json)"))


def run_regions(args) -> int:
    """``exactconvex regions NET``: the exact region graph of one output (exit 0)."""
    from ..graph import LimitReached, min_bend, regions, summary, to_graphml

    net = load_network(args.network, args)
    if not 0 <= args.output < net.num_outputs:
        raise UsageError(f"--output {args.output} does not exist (the network has {net.num_outputs} outputs, "
                         f"numbered from 0)")
    check_outputs(args, [("--graphml", args.graphml)])
    progress = Progress(not args.quiet)
    try:
        G = regions(net, args.output, progress=progress, jobs=jobs_option(args), **bounds(args))
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, prefix="incomplete region graph") from None
    finally:
        progress.close()
    mb = min_bend(G)
    shape = summary(G)
    report = {"regions": G.number_of_nodes(), "facets": G.number_of_edges(),
              "min_bend": None if mb is None else str(mb), "output": args.output,
              "seconds": round(G.graph["seconds"], 6), "concave_facets": shape.concave_facets,
              "regions_at_concave_facets": shape.regions_at_concave}
    if args.graphml:
        report["graphml"] = write_output(args.graphml, lambda fh: to_graphml(G, fh), args, "--graphml")
    if args.json:
        print(json.dumps(report))
    else:
        from ..numbers import readable

        print(f"{report['regions']} full-dimensional regions, {report['facets']} facets, "
              f"smallest bend {'none (no facet)' if mb is None else readable(mb)} (output {args.output})")
        if shape.concave_facets:
            print(f"{shape.concave_facets} concave facets (bend < 0), bordering {shape.regions_at_concave} regions: "
                  f"output {args.output} is not convex")
    return EXIT_YES


def add_jobs(s, certificate: bool = False) -> None:
    also = ", and check a certificate of 2,000 regions or more with them" if certificate else ""
    s.add_argument("--jobs", type=int, default=1, metavar="N",
                   help=f"explore the region graph on N processes{also} (default 1; 0: one per CPU; the same graph "
                        "and certificate)")


def add_parsers(sub) -> None:
    """Register ``info``, ``check`` and ``regions`` on an argparse subparsers object."""
    s = sub.add_parser("info", help="print the architecture of a network")
    s.add_argument("network", metavar="NET")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    add_network_options(s)
    s.set_defaults(run=run_info)

    s = sub.add_parser("check", help="decide convexity exactly (exit 0 convex, 1 not convex)")
    s.add_argument("network", metavar="NET")
    s.add_argument("--cert", metavar="OUT.json",
                   help="write a certificate of the verdict (verified against NET before it is written)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--method", default="auto", choices=METHODS)
    s.add_argument("--box", metavar="A,B",
                   help="decide convexity on the box [A, B]^d instead of R^d (exact numbers A < B, such as "
                        "-100,100): a witness inside the box, or a certificate that covers it")
    allow_negative_values(s)  # --box -100,100
    add_network_options(s)
    add_bounds(s)
    add_jobs(s, certificate=True)
    s.set_defaults(run=run_check)

    s = sub.add_parser("regions", help="build the exact region adjacency graph")
    s.add_argument("network", metavar="NET")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--graphml", metavar="OUT", help="write the graph as GraphML (exact values as strings)")
    s.add_argument("--output", type=int, default=0, help="which output's pieces and bends (default 0, the first)")
    add_network_options(s)
    add_bounds(s)
    add_jobs(s)
    s.set_defaults(run=run_regions)
