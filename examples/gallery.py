"""Make the gallery of pictures in docs/gallery/ with one command.

    python examples/gallery.py [--out docs/gallery] [--dpi 100]

Every picture is drawn exactly (``exactconvex.plot``): regions are the exact polygons of the
region graph, facets are coloured by their exact bend (concave kinks thick and red), and a
witness of non-convexity, checked by exact evaluation, is marked where there is one.

* ``spec-example.png`` / ``spec-example-surface.png``: ``examples/networks/spec_example.json``
  (d = 2, not convex: three concave facets on the line x1 = 3/2), as regions and as a surface;
* ``icnn.png``: an input-convex network (weights out of hidden layers >= 0): convex, no red;
* ``convex-not-icnn.png``: a convex network with negative weights after the first layer,
  c(x1 + x2/2) + c(x2 - x1) for the 1-3-2-1 counterexample c of ``proofs/``: convex, no red;
* ``counterexample-1-3-2-1.png``: that counterexample itself (d = 1), the graph of f with its
  8 kinks, one more than any ICNN of hidden widths (3, 2) can have;
* ``plane-through-3d.png``: a plane through a d = 3 LeakyReLU network with an input skip,
  drawn as the exact 2-D network f(p + a u + b v);
* ``line-through-3d.png``: a line through the same network (d = 1 graph, concave kinks in red).

Each picture can be redrawn with the command line, e.g.
``exactconvex plot examples/networks/spec_example.json -o spec.png``; the script prints what it
wrote and what each picture shows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # run from a checkout without installing

from exactconvex import Network, check, load, network_from_dict  # noqa: E402
from exactconvex.network.restrict import restrict_to_line  # noqa: E402
from exactconvex.plot import plot_regions, save_figure  # noqa: E402

SPEC_EXAMPLE = os.path.join(ROOT, "examples", "networks", "spec_example.json")
COUNTEREXAMPLE = os.path.join(ROOT, "proofs", "certificates", "counterexample-1-3-2-1-plain.json")


def icnn() -> Network:
    """An ICNN with d = 2, hidden widths (5, 3): first layer free, every later weight from a hidden
    layer >= 0, the input entering later layers through skips of any sign."""
    return Network.from_lists(2, [
        {"weight": [[1, 0], [0, 1], [1, 1], [1, -2], [-2, 1]], "bias": [0, -1, 1, 0, 2]},
        {"weight": [[1, 0, 1, 0, "1/2"], [0, 2, 0, 1, 0], ["1/2", 1, 0, 0, 1]], "bias": [-1, 0, -3],
         "skip": {"0": [[-1, 1], [1, 0], [0, -2]]}},
        {"weight": [[1, 1, 2]], "bias": [0], "skip": {"0": [[1, -1]]}},
    ])


def counterexample() -> Network:
    with open(COUNTEREXAMPLE, encoding="utf-8") as fh:
        return network_from_dict(json.load(fh)["network"])


def convex_not_icnn() -> Network:
    """c(x1 + x2/2) + c(x2 - x1), c the 1-3-2-1 counterexample: two copies side by side.  Convex (a
    sum of convex functions of affine maps), with negative weights from the first hidden layer."""
    c = counterexample()
    W1 = [row[0] for row in _rows(c.layers[0].weight)]
    b1 = [row[0] for row in _rows(c.layers[0].bias)]
    W2, b2 = _rows(c.layers[1].weight), [row[0] for row in _rows(c.layers[1].bias)]
    W3, b3 = _rows(c.layers[2].weight)[0], c.layers[2].bias[0, 0]
    directions = [(1, "1/2"), (-1, 1)]
    from exactconvex import to_q

    first = [[w * to_q(d0), w * to_q(d1)] for d0, d1 in directions for w in W1]
    zero = [0] * len(W1)
    second = [list(r) + zero for r in W2] + [zero + list(r) for r in W2]
    return Network.from_lists(2, [
        {"weight": first, "bias": b1 + b1},
        {"weight": second, "bias": b2 + b2},
        {"weight": [list(W3) + list(W3)], "bias": [2 * b3]},
    ])


def _rows(m):
    return [[m[i, j] for j in range(m.ncols())] for i in range(m.nrows())]


def three_d() -> Network:
    """A d = 3 network, hidden widths (5, 3), LeakyReLU of slope 1/10 in the first layer, an input skip."""
    return Network.from_lists(3, [
        {"weight": [[1, -1, 0], [0, 1, 1], [1, 1, -1], [-1, 0, 2], [2, -1, 1]], "bias": [0, -1, "1/2", 1, -2],
         "slope": "1/10"},
        {"weight": [[1, -1, 1, 0, "1/2"], [-1, 2, 0, 1, 0], [0, 1, -2, 1, 1]], "bias": [1, 0, "-1/2"],
         "skip": {"0": [[0, 1, 0], [1, 0, -1], [0, 0, 1]]}},
        {"weight": [[1, -1, 2]], "bias": [0]},
    ])


PLANE = ([0, 0, 0], [1, 0, 0], [0, 1, 1])
LINE = ([-3, -2, -1], [1, 1, "1/2"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "gallery"), help="folder for the pictures")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    def write(fig, name: str, what: str) -> None:
        path = os.path.join(args.out, name)
        save_figure(fig, path, dpi=args.dpi)
        print(f"{path} ({os.path.getsize(path) // 1024} KiB): {what}")

    spec = load(SPEC_EXAMPLE)
    write(plot_regions(spec, name="spec_example.json"), "spec-example.png",
          f"spec example, convex: {check(spec).convex}")
    write(plot_regions(spec, surface=True, name="spec_example.json", window="-3,4,-3,5"),
          "spec-example-surface.png", "its graph over [-3, 4] x [-3, 5]")

    net = icnn()
    assert net.is_icnn()
    write(plot_regions(net, name="an ICNN (hidden weights >= 0)"), "icnn.png",
          f"ICNN, convex: {check(net).convex}")

    net = convex_not_icnn()
    assert not net.is_icnn()
    write(plot_regions(net, name="c(x1 + x2/2) + c(x2 - x1), not an ICNN"), "convex-not-icnn.png",
          f"convex non-ICNN network, convex: {check(net).convex}")

    net = counterexample()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.6))
    whole, zoom = fig.subplots(1, 2)
    plot_regions(net, ax=whole, name="counterexample 1-3-2-1 of proofs/")
    plot_regions(net, ax=zoom, window="-1/2,9/5", legend=False,
                 title="zoom on [-1/2, 9/5]: kinks at -1/3, 0, 3/5, 1, 4/3, 3/2, 8/5")
    write(fig, "counterexample-1-3-2-1.png", f"the d = 1 counterexample, convex: {check(net).convex}")

    net = three_d()
    fig = plot_regions(net, plane=PLANE, name="a d = 3 LeakyReLU network")
    write(fig, "plane-through-3d.png", "a plane through a d = 3 network: " + fig.axes[0].get_title().splitlines()[-1])
    p, u = LINE
    fig = plot_regions(restrict_to_line(net, p, u), name="the d = 3 network on the line p + t u",
                       title=None)
    fig.axes[0].set_xlabel("t")
    fig.axes[0].set_title(f"the d = 3 network on the line p + t u, p = ({', '.join(map(str, p))}), "
                          f"u = ({', '.join(map(str, u))})\n" + fig.axes[0].get_title().splitlines()[-1], fontsize=10)
    write(fig, "line-through-3d.png", "a line through it: " + fig.axes[0].get_title().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
