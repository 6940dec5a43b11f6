"""What a verdict says to people: the size of its violation, the concave facets, short reprs.

* ``violation(net, witness)``: f(lambda x + (1 - lambda) y) - (lambda f(x) + (1 - lambda) f(y)) of
  a witness, exactly (> 0 for every witness ``check`` gives);
* ``concave_facets(net, arrangement)``: how many facets of the region graph bend the wrong way
  (bend < 0, for some output) and how many regions they border: how much of the input space the
  non-convexity touches;
* ``verdict_repr``, ``verdict_html``, ``verdict_latex``: a verdict in a few lines, however large its
  certificate (notebooks print these; the certificate stays in ``Verdict.certificate``).

Numbers are exact in the objects and in ``--json``; the text here shows them ``readable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flint import fmpq

from ..numbers import approximate, readable

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["violation", "ConcaveFacets", "concave_facets", "point_summary", "witness_summary", "verdict_repr",
           "verdict_html", "verdict_latex"]

MAX_COORDINATES = 8  # coordinates of a point shown in a summary


def violation(net: Network, witness: dict) -> fmpq:
    """f_k(lambda x + (1 - lambda) y) - (lambda f_k(x) + (1 - lambda) f_k(y)) for the witness's output k.

    >>> from exactconvex import Network
    >>> net = Network.from_lists(1, [{"weight": [[1], [-1]]}, {"weight": [[-1, -1]]}])  # -|x|
    >>> violation(net, {"output": 0, "x": (fmpq(-1),), "y": (fmpq(1),), "lambda": fmpq(1, 2)})
    1
    """
    k, lam = witness["output"], fmpq(witness["lambda"])
    x, y = witness["x"], witness["y"]
    middle = tuple(lam * a + (1 - lam) * b for a, b in zip(x, y))
    return net.evaluate(middle)[k] - (lam * net.evaluate(x)[k] + (1 - lam) * net.evaluate(y)[k])


@dataclass(frozen=True)
class ConcaveFacets:
    """Facets with a negative bend (for some output) and the regions they border.

    ``count`` of ``facets`` facets, bordering ``regions`` of ``total_regions`` regions; per output
    (``per_output[k]``) the same two counts for that output alone.
    """

    count: int
    facets: int
    regions: int
    total_regions: int
    per_output: tuple = field(default=())

    @property
    def share(self) -> fmpq:
        """The concave facets' share of all facets (exact)."""
        return fmpq(self.count, self.facets) if self.facets else fmpq(0)

    @property
    def region_share(self) -> fmpq:
        """The share of the regions that border a concave facet (exact)."""
        return fmpq(self.regions, self.total_regions) if self.total_regions else fmpq(0)

    def to_json(self) -> dict:
        """Counts, and the shares as floats rounded to 4 digits (the counts are the exact data)."""
        return {"count": self.count, "facets": self.facets, "share": round(float(self.share), 4),
                "regions": self.regions, "total_regions": self.total_regions,
                "region_share": round(float(self.region_share), 4)}

    def text(self) -> str:
        """``12 of 1024 facets are concave (1.2%); they border 20 of the 529 regions (3.8%)``."""
        if not self.facets:
            return "no facets (a single region)"
        if not self.count:
            return f"none of the {self.facets} facets is concave"
        are = "is" if self.count == 1 else "are"
        return (f"{self.count} of {self.facets} facets {are} concave ({_percent(self.share)}); they border "
                f"{self.regions} of the {self.total_regions} regions ({_percent(self.region_share)})")


def _percent(share: fmpq) -> str:
    value = float(share) * 100
    if 0 < value < 0.1:
        return "<0.1%"
    if 99.9 < value < 100:
        return ">99.9%"
    return f"{value:.1f}%"


def no_concave_facets(net: Network, arrangement) -> ConcaveFacets:
    """``concave_facets`` of an arrangement whose outputs are all proven convex: a convex output
    bends nonnegatively across every facet (``proofs/facet-bends.md``), so none is concave and no
    bend needs computing again."""
    facets = sum(1 for r in arrangement.regions for f in r.facets if f.neighbor >= r.id)
    return ConcaveFacets(0, facets, 0, len(arrangement.regions), tuple((0, 0) for _ in range(net.num_outputs)))


def concave_facets(net: Network, arrangement) -> ConcaveFacets:
    """The concave facets of an explored arrangement (``exactconvex.graph.explore``), over every output.

    >>> from exactconvex import Network
    >>> from exactconvex.graph import explore
    >>> net = Network.from_lists(2, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])  # relu(x1) - relu(x2)
    >>> c = concave_facets(net, explore(net))
    >>> c.count, c.facets, c.regions, c.total_regions
    (2, 4, 4, 4)
    """
    from ..graph import bend, edge_normal, switching_neurons

    regs = arrangement.regions
    outputs = range(net.num_outputs)
    facets = 0
    touched: set = set()
    count = 0
    per_output = [[0, set()] for _ in outputs]
    for r in regs:
        for f in r.facets:
            if f.neighbor < r.id:
                continue
            facets += 1
            other = regs[f.neighbor]
            normal = edge_normal(net, r, other, switching_neurons(r, other))
            concave = False
            for k in outputs:
                if bend(r, other, normal, k) < 0:
                    concave = True
                    per_output[k][0] += 1
                    per_output[k][1].update((r.id, other.id))
            if concave:
                count += 1
                touched.update((r.id, other.id))
    return ConcaveFacets(count, facets, len(touched), len(regs),
                         tuple((n, len(rs)) for n, rs in per_output))


def point_summary(p, limit: int = MAX_COORDINATES) -> str:
    """An exact point for people: readable coordinates, at most ``limit`` of them.

    >>> point_summary([fmpq(1, 2)] * 6, limit=4)
    '(1/2, 1/2, 1/2, 1/2, ... 6 coordinates)'
    """
    shown = [readable(fmpq(v) if not isinstance(v, fmpq) else v) if not isinstance(v, str) else _readable_text(v)
             for v in list(p)[:limit]]
    more = f", ... {len(p)} coordinates" if len(p) > limit else ""
    return "(" + ", ".join(shown) + more + ")"


def _readable_text(text: str) -> str:
    from ..numbers import to_q

    return readable(to_q(text))


def witness_summary(witness: dict, amount=None) -> str:
    """A violation witness in one readable sentence (exact points in ``--json``), with the size
    of the violation when known."""
    lam = witness["lambda"]
    lam = _readable_text(lam) if isinstance(lam, str) else readable(lam)
    text = (f"output {witness['output']}: f(lambda x + (1 - lambda) y) > lambda f(x) + (1 - lambda) f(y) "
            f"with x = {point_summary(witness['x'])}, y = {point_summary(witness['y'])}, lambda = {lam}")
    if amount is not None:
        text += f"; it exceeds the chord by {readable(amount)}"
    return text


# ----- reprs ----------------------------------------------------------------------------------------

def _where(v) -> str:
    box = getattr(v, "box", None)
    d = getattr(v, "input_dim", None)
    if box is not None:
        return f"on the box {box.text(d)}" if d is not None else "on the box"
    return f"on all of R^{d}" if d is not None else "on all of R^d"


def _counts(v) -> str:
    parts = [f"method: {v.method}"]
    if v.regions is not None:
        parts.append(f"{v.regions} regions" + (f", {v.facets} facets" if v.facets is not None else ""))
    return "; ".join(parts)


def _certificate_line(v) -> str | None:
    cert = v.certificate
    if cert is None:
        return None
    graph = cert.get("region_graph") if isinstance(cert, dict) else None
    size = f", {len(graph['regions'])} regions" if isinstance(graph, dict) and "regions" in graph else ""
    return f"certificate: claim {cert.get('claim', '?')}{size} (use .certificate)"


def verdict_lines(v) -> list[str]:
    """The few lines of ``verdict_repr``, without the brackets."""
    lines = [("convex " if v.convex else "NOT convex ") + f"{_where(v)} ({_counts(v)}, {v.seconds:.3g} s)"]
    if v.witness is not None:
        lines.append("witness: " + witness_summary(v.witness, getattr(v, "violation", None)))
    concave = getattr(v, "concave", None)
    if concave is not None:
        lines.append("concave facets: " + concave.text())
    on_rd = getattr(v, "on_rd", None)
    if on_rd is not None:
        lines.append(f"on all of R^d: {'convex' if on_rd.convex else 'not convex'} (.on_rd)")
    line = _certificate_line(v)
    if line:
        lines.append(line)
    if len(v.outputs) > 1:
        lines.append("outputs: " + ", ".join(f"{o.output} {'convex' if o.convex else 'NOT convex'} ({o.method})"
                                             for o in v.outputs[:8])
                     + (f", ... {len(v.outputs)} outputs" if len(v.outputs) > 8 else ""))
    return lines


def verdict_repr(v) -> str:
    """A verdict in a few lines, whatever the size of its certificate."""
    return "<Verdict: " + "\n ".join(verdict_lines(v)) + ">"


def verdict_html(v) -> str:
    """A verdict for notebooks: its lines as a small HTML block."""
    from html import escape

    lines = verdict_lines(v)
    colour = "#070" if v.convex else "#c00"
    head = f"<b style='color:{colour}'>{escape(lines[0].split(' (')[0])}</b> ({escape(lines[0].split(' (', 1)[1])}"
    return "<div>" + head + "".join(f"<br>{escape(line)}" for line in lines[1:]) + "</div>"


def verdict_latex(v) -> str:
    """A verdict in LaTeX (a notebook's ``_repr_latex_``): the answer and the size of the violation."""
    where = _where(v).replace("R^", r"\mathbb{R}^")
    text = (r"\text{" + ("convex " if v.convex else "not convex ") + "}" + where.replace("on all of ", r"\text{on all of }")
            .replace("on the box ", r"\text{on the box }"))
    amount = getattr(v, "violation", None)
    if v.witness is not None and amount is not None:
        mantissa, _, exponent = approximate(amount).partition("e")
        value = mantissa if not exponent else rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        sign = "=" if readable(amount) == str(amount) else r"\approx"
        value = str(amount) if sign == "=" else value
        text += (r",\quad f(\lambda x + (1-\lambda) y) - \lambda f(x) - (1-\lambda) f(y) " + sign + " " + value
                 + " > 0")
    return "$" + text + "$"
