"""``exactconvex plot``: a picture of the exact linear regions (contract: shared/spec/cli.md).

    exactconvex plot NET -o OUT.(png|svg|pdf) [--window X0,X1,Y0,Y1] [--surface] [--plane "P;U;V"]
                     [--output K] [--dpi N] [--json] [--max-regions N] [--timeout S] [--quiet]

Exit 0 when the picture was written; 2 for input that cannot be used (with one plain sentence on
stderr: ``UsageError`` and the format errors are turned into it by ``cli.main``).  matplotlib
and the region graph are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Draws the exact linear regions of NET's output K. For d = 2: every region as its exact polygon,
filled by affine piece (equal gradient and offset, equal colour), facets coloured by their bend:
convex kinks (bend > 0) thin dark blue, concave kinks (bend < 0, each a proof of non-convexity) thick
red, facets where f does not bend (bend = 0) dotted grey; a witness of non-convexity (x, y and
their chord) is marked when there is one. For d = 1: the graph of f with its kinks, concave ones in
red. For d > 2: give a plane through R^d with --plane; the picture is f on that plane, exactly.
Exit 0 when OUT was written, 2 when the input cannot be used."""

_EPILOG = """\
numbers are exact: integers, fractions p/q or decimals. A value starting with '-' must be attached
with '=' (argparse would take it for an option): --window=-2,2,-1,3 and --plane="-1,0,0;1,0,0;0,1,0".
examples:
  exactconvex plot net.json -o regions.png
  exactconvex plot net.json -o surface.pdf --surface --window=-2,2,-2,2
  exactconvex plot net3d.json -o plane.svg --plane "0,0,1/2;1,0,0;0,1,-1\""""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``plot`` subcommand on an argparse subparsers object."""
    s = subparsers.add_parser("plot", help="draw the exact linear regions, concave facets in red (png, svg, pdf)",
                              description=_DESCRIPTION, epilog=_EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("network", metavar="NET", help="a network file (see network-format.md)")
    s.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="the picture to write: .png, .svg or .pdf (written atomically; never the network file)")
    s.add_argument("--window", metavar="X0,X1,Y0,Y1",
                   help="the part of the plane to draw, exact numbers (X0,X1 for d = 1); default: a window "
                        "containing every vertex of the region complex, every facet and every region")
    s.add_argument("--surface", action="store_true", help="draw the graph of f over the window in 3-D (d = 2)")
    s.add_argument("--plane", metavar='"P;U;V"',
                   help="for d > 2 (required there): draw f(P + a U + b V) over (a, b); P a point, U and V two "
                        "independent directions, each a comma-separated list of d exact numbers, the three "
                        'separated by semicolons, as in "0,0,0;1,0,0;0,1,0"')
    s.add_argument("--output", type=int, default=0, metavar="K", help="which output to draw, 0-based (default 0)")
    s.add_argument("--dpi", type=int, default=100, metavar="N", help="resolution of a png (default 100)")
    s.add_argument("--json", action="store_true", help="print one JSON object describing the picture")
    s.add_argument("--max-regions", type=int, metavar="N", help="stop (exit 2, nothing written) after N regions")
    s.add_argument("--timeout", type=float, metavar="S", help="stop (exit 2, nothing written) after S seconds")
    s.add_argument("--quiet", action="store_true", help="no progress report on stderr")
    from .common import add_network_options

    add_network_options(s)
    s.set_defaults(run=run)
    return s


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def run(args) -> int:
    """Run ``exactconvex plot`` with parsed arguments; returns the exit code."""
    import stat

    from .common import Progress, UsageError, bounds, check_bounds, limit_reached, load_network

    out = args.out
    fmt = os.path.splitext(out)[1].lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise UsageError(f"-o {out}: the picture's file name must end in .png, .svg or .pdf.")
    if os.path.islink(out):
        raise UsageError(f"-o {out} is a symbolic link; refusing to write through it. Give the path of a regular "
                         "file (or remove the link).")
    if os.path.exists(out) and not stat.S_ISREG(os.stat(out).st_mode):
        raise UsageError(f"-o {out} is not a regular file (a directory, device, FIFO or socket); give a file name "
                         f"ending in .{fmt}.")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"-o {out}: the folder {folder} does not exist.")
    check_bounds(args)  # nan, inf, 0 and negative values refused
    if args.dpi < 10 or args.dpi > 2000:
        raise UsageError("--dpi must be between 10 and 2000.")
    net = load_network(args.network, args)  # counts toward --timeout; --state-dict-activation passed on
    if os.path.exists(out) and _same_file(out, args.network):
        raise UsageError(f"-o {out} is the network file itself; refusing to overwrite it with a picture.")
    if not 0 <= args.output < net.num_outputs:
        raise UsageError(f"--output {args.output} does not exist (the network has {net.num_outputs} "
                         f"output{'s' if net.num_outputs != 1 else ''}, numbered from 0).")
    try:
        from ..plot.draw import _figure_class

        _figure_class()
    except ImportError as exc:
        raise UsageError(f"{exc}.") from None

    from ..graph import LimitReached
    from ..network.restrict import parse_plane, restrict_to_plane
    from ..plot.draw import _plane_text, plot_drawing, save_figure
    from ..numbers import q_str
    from ..plot.geometry import focus_window, parse_window, region_drawing

    d = net.input_dim
    plane = None
    drawn = net
    if args.plane is not None:
        if d < 2:
            raise UsageError("--plane needs a network with input dimension at least 2 (this one has d = 1: "
                             "plot draws its graph directly).")
        try:
            plane = parse_plane(args.plane, d)
            drawn = restrict_to_plane(net, *plane)
        except ValueError as exc:
            raise UsageError(_sentence(exc)) from None
    elif d > 2:
        raise UsageError(f"the network has input dimension {d}; plot draws d = 1 or 2 directly. For d > 2 give a "
                         f'plane through R^{d} with --plane "P;U;V" (a point and two directions, each {d} '
                         f'comma-separated exact numbers), for example --plane "{_example_plane(d)}".')
    if args.surface and drawn.input_dim != 2:
        raise UsageError("--surface needs a 2-D picture (d = 2, or --plane); for d = 1 the picture already is "
                         "the graph of f.")
    try:
        window = parse_window(args.window, drawn.input_dim) if args.window is not None else None
    except ValueError as exc:
        raise UsageError(_sentence(exc)) from None

    progress = Progress(not args.quiet)
    geometry = Progress(not args.quiet, what="exact polygons")

    def geometry_progress(done: int, steps: int) -> None:
        progress.close()  # the region graph is complete: end its line (once) before this one
        geometry(done, steps)

    try:
        drawing = region_drawing(drawn, window, args.output, progress=progress,
                                 geometry_progress=geometry_progress, **bounds(args))
    except LimitReached as exc:
        raise limit_reached(exc, progress, args, prefix="no picture") from None
    finally:
        progress.close()
        geometry.close()
    name = os.path.basename(args.network)
    fig = plot_drawing(drawing, surface=args.surface, name=name,
                       plane_text=_plane_text(*plane) if plane is not None else None,
                       axis_names=("a (along u)", "b (along v)") if plane is not None else None)
    try:
        save_figure(fig, out, dpi=args.dpi)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}.") from None
    report = _report(drawing, out, fmt, args, plane)
    focus = focus_window(drawing) if args.window is None else None
    if focus is not None:
        report["focus_window"] = [q_str(v) for v in focus]
    if args.json:
        print(json.dumps(report))
    else:
        window_text = ", ".join(report["window"])
        print(f"wrote {out}: {report['regions']} regions ({report['regions_in_window']} in the window "
              f"[{window_text}]), {report['pieces']} affine pieces, {report['facets']} facets, "
              f"{report['concave_facets']} concave" + (" (in red)" if report["concave_facets"] else ""))
        if focus is not None:
            print("most vertices lie in a much smaller part of the window; to see it: --window=" +
                  ",".join(report["focus_window"]))
    return 0  # exit 0: the picture was written


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text if text.endswith(".") else text + "."


def _example_plane(d: int) -> str:
    zero = ",".join("0" for _ in range(d))
    e1 = ",".join("1" if i == 0 else "0" for i in range(d))
    e2 = ",".join("1" if i == 1 else "0" for i in range(d))
    return f"{zero};{e1};{e2}"


def _report(drawing, out: str, fmt: str, args, plane) -> dict:
    from ..decide import witness_json
    from ..numbers import q_str

    report = {"path": out, "format": fmt, "output": args.output, "input_dim": len(drawing.window) // 2,
              "window": [q_str(v) for v in drawing.window], "surface": bool(args.surface),
              "regions": drawing.regions, "regions_in_window": len(drawing.cells), "pieces": drawing.pieces,
              "facets": drawing.region_facets, "concave_facets": drawing.concave_facets,
              "convex_on_plane" if plane is not None else "convex": drawing.concave_facets == 0,
              "seconds": round(drawing.seconds, 6)}
    if plane is not None:
        report["plane"] = {"point": [q_str(v) for v in plane[0]], "u": [q_str(v) for v in plane[1]],
                           "v": [q_str(v) for v in plane[2]]}
    if drawing.witness is not None:
        w = witness_json(drawing.witness)
        if plane is not None:  # the witness in the coordinates of the original input space
            p, u, v = plane
            for key in ("x", "y"):
                a, b = drawing.witness[key]
                w[key + "_in_plane"] = w[key]
                w[key] = [q_str(pi + a * ui + b * vi) for pi, ui, vi in zip(p, u, v)]
        report["witness"] = w
    return report
