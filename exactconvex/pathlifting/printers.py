"""Text, LaTeX and JSON of the path-lifting conditions, apart from the mathematics.

``conditions.py`` finds the conditions; this module only writes them down.  The objects keep
their ``to_json`` / ``to_text`` / ``to_latex`` methods, which call the functions here:

* ``report_json``, ``report_text``, ``report_latex``: the conditions realized on a network
  (a ``ConditionReport``), each with its exact value;
* ``family_json``, ``family_text``, ``family_latex``: the symbolic family of an architecture
  (an ``ArchitectureConditions``);
* ``condition_json``: one condition of a network.

Notation: neurons are [layer, index] with a 0-based index in JSON ("neuron": [1, 0] is neuron
0 of layer 1); their labels ``z1_1`` and the parameter symbols (``W2_1_3``, ``v_1``, ``s_2``)
are 1-based math notation (``exactconvex.pathlifting.arch``).  Downstream patterns are one
0/1 string per later hidden layer.
"""

from __future__ import annotations

from flint import fmpq

from ..numbers import q_str
from .arch import neuron_label, neuron_latex, slope_latex, slope_name, slope_symbol

__all__ = ["condition_json", "report_json", "report_text", "report_latex", "family_json", "family_text",
           "family_latex", "pattern_text", "pattern_json"]


# ----- pieces ----------------------------------------------------------------------------------

def pattern_text(pattern) -> str:
    """A downstream pattern as text: ``"10|1"``, or ``"-"`` when there is no later hidden layer."""
    return "|".join("".join(map(str, s)) for s in pattern) if pattern else "-"


def pattern_json(pattern) -> list[str]:
    """A downstream pattern as JSON: one 0/1 string per later hidden layer."""
    return ["".join(map(str, s)) for s in pattern]


def _pattern_latex(neuron, pattern) -> str:
    if not pattern:
        return r"\text{---}"
    l = neuron[0]
    return r",\ ".join(f"D^{{({l + 1 + i})}} = ({','.join(map(str, s))})" for i, s in enumerate(pattern))


def _array(spec: str, header: list[str], rows: list[str]) -> str:
    """A LaTeX array: header row, a rule, then the rows (no trailing line break before the end)."""
    head = " & ".join(rf"\text{{{h}}}" for h in header)
    body = " \\\\\n".join(rows)
    return f"\\begin{{array}}{{{spec}}}\n{head} \\\\ \\hline\n{body}\n\\end{{array}}"


def _q_latex(q: fmpq) -> str:
    if q.q == 1:
        return str(q.p)
    sign = "-" if q < 0 else ""
    return f"{sign}\\tfrac{{{abs(int(q.p))}}}{{{int(q.q)}}}"


def _latex_names(arch) -> dict:
    """{sympy symbol: LaTeX} of the parameters and of every hidden layer's slope symbol."""
    names = arch.latex_names()
    names.update({slope_symbol(l): slope_latex(l) for l in range(1, arch.depth)})
    return names


# ----- the conditions of a network ----------------------------------------------------------------

def condition_json(c, arch) -> dict:
    """One ``Condition`` as JSON (``arch``: the network's ``Architecture``)."""
    out = {"neuron": list(c.neuron), "label": neuron_label(c.neuron), "pattern": pattern_json(c.pattern),
           "pattern_layers": list(range(c.neuron[0] + 1, arch.depth)),
           "expression": str(c.expression), "value": q_str(c.value), "holds": c.holds,
           "combined": c.combined, "output": c.output,
           "facets": [{"regions": list(f.regions), "point": [q_str(v) for v in f.point], "bend": q_str(f.bend)}
                      for f in c.facets]}
    if c.combined:
        out["neurons"] = [list(n) for n in c.neurons]
        out["terms"] = [{"neuron": list(t.neuron), "label": neuron_label(t.neuron),
                         "pattern": pattern_json(t.pattern), "coefficient": q_str(t.coefficient),
                         "expression": str(t.expression), "value": q_str(t.path_sum),
                         **({"jump": q_str(t.jump), "jump_expression": str(t.jump_expression)}
                            if t.jump_expression is not None else {})} for t in c.terms]
    return out


def report_json(report) -> dict:
    """A ``ConditionReport`` as JSON; ``"slopes"`` ({"s_l": value}) only for a LeakyReLU network."""
    out = {"output": report.output, "regions": report.regions, "facets": report.facets,
           "conditions": [condition_json(c, report.architecture) for c in report.conditions],
           "no_condition": [{"neuron": list(n.neuron), "label": neuron_label(n.neuron), "reason": n.reason,
                             "detail": n.detail} for n in report.no_condition],
           "all_hold": report.all_hold}
    if report.slopes:
        out["slopes"] = {k: q_str(v) for k, v in report.slopes.items()}
    return out


def report_text(report) -> str:
    """A ``ConditionReport`` as lines of text, one per condition, then the verdict."""
    head = (f"Path-lifting convexity conditions of output {report.output} ({report.regions} regions, "
            f"{report.facets} facets; ")
    if report.slopes:
        head += ("each condition reads '(1 - s_l) * (sum of path products) >= 0' with s_l the LeakyReLU slope of "
                 "the switching neuron's layer, an off neuron of layer m contributing s_m to a path product; "
                 + ", ".join(f"{k} = {v}" for k, v in report.slopes.items()) + "):")
    else:
        head += "each condition reads 'sum of active path products >= 0'):"
    lines = [head]
    if not report.conditions:
        lines.append("  (none: no hidden neuron switches on a facet)")
    for c in report.conditions:
        mark = "ok  " if c.holds else "FAIL"
        nf = f"{len(c.facets)} facet" + ("s" if len(c.facets) != 1 else "")
        if c.combined:
            parts = " + ".join(f"({t.coefficient})*" + (f"({t.jump_expression})*" if t.jump_expression is not None
                                                         else "")
                               + f"c[{neuron_label(t.neuron)}; D={pattern_text(t.pattern)}]" for t in c.terms)
            lines.append(f"  [{mark}] combined, {len(c.terms)} neurons switch together: {parts}")
            lines.append(f"         {c.expression} >= 0   value {c.value}   ({nf})")
        else:
            lines.append(f"  [{mark}] {neuron_label(c.neuron)}, D={pattern_text(c.pattern)}: "
                         f"{c.expression} >= 0   value {c.value}   ({nf})")
    if report.no_condition:
        lines.append("Neurons without a condition (they never switch across a (d-1)-dimensional piece):")
        for n in report.no_condition:
            lines.append(f"  {neuron_label(n.neuron)}: {n.detail}")
    bad = len(report.failing)
    lines.append(f"All {len(report.conditions)} conditions hold: output {report.output} is convex." if not bad else
                 f"{bad} of {len(report.conditions)} conditions fail: output {report.output} is not convex.")
    return "\n".join(lines)


def report_latex(report) -> str:
    """A ``ConditionReport`` as a LaTeX array: neuron, downstream pattern, condition, value."""
    import sympy

    names = _latex_names(report.architecture)
    rows = []
    for c in report.conditions:
        neuron = r",\ ".join(neuron_latex(n) for n in c.neurons) + (r"\ (\text{combined})" if c.combined else "")
        pattern = r";\ ".join(_pattern_latex(t.neuron, t.pattern) for t in c.terms)
        expr = sympy.latex(c.expression, symbol_names=names)
        status = r"\checkmark" if c.holds else r"\text{fails}"
        rows.append(f"{neuron} & {pattern} & {expr} \\geq 0 & {_q_latex(c.value)}\\ {status}")
    return _array("llll", ["neuron", "downstream pattern", "condition", "value"], rows)


# ----- the family of an architecture ----------------------------------------------------------------

def family_json(family) -> dict:
    """An ``ArchitectureConditions`` as JSON; the architecture lists its slopes when they were given."""
    a = family.architecture
    out = []
    for c in family.conditions:
        item = {"neuron": list(c.neuron), "label": neuron_label(c.neuron), "pattern": pattern_json(c.pattern),
                "pattern_layers": list(range(c.neuron[0] + 1, a.depth)), "expression": str(c.expression),
                "factored": str(c.factored), "trivial": c.trivial}
        if family.distinct:
            item["sources"] = [{"neuron": list(n), "label": neuron_label(n), "pattern": pattern_json(p)}
                               for n, p in c.sources]
        out.append(item)
    doc = {"architecture": {"widths": list(a.widths), "skips": [list(s) for s in sorted(a.skips)]},
           "output": family.output, "distinct": family.distinct, "conditions": out}
    if family.slopes is not None:
        doc["architecture"]["slopes"] = [str(family.slopes[l]) for l in range(1, a.depth)]
    return doc


def family_text(family) -> str:
    """An ``ArchitectureConditions`` as text: one factored condition per line, with where it comes from."""
    a = family.architecture
    head = (f"Path-lifting convexity conditions of the architecture {a.describe()}"
            + ("" if family.slopes is None else " with LeakyReLU slopes "
               + ", ".join(f"{slope_name(l)} = {v}" if str(v) != slope_name(l) else slope_name(l)
                           for l, v in sorted(family.slopes.items())))
            + (f", output {family.output}" if a.outputs > 1 else "")
            + (" (distinct, non-trivial ones)" if family.distinct else " (one per neuron and downstream pattern)")
            + ":")
    lines = [head]
    for c in family.conditions:
        where = ", ".join(f"{neuron_label(n)} D={pattern_text(p)}" for n, p in c.sources)
        lines.append(f"  {c.factored} >= 0    [{where}]")
    return "\n".join(lines)


def family_latex(family) -> str:
    """An ``ArchitectureConditions`` as a LaTeX array."""
    import sympy

    names = _latex_names(family.architecture)
    if family.distinct:
        rows = [f"{sympy.latex(c.factored, symbol_names=names)} \\geq 0 & "
                + r";\ ".join(f"{neuron_latex(n)}: {_pattern_latex(n, p)}" for n, p in c.sources)
                for c in family.conditions]
        return _array("ll", ["condition", "neurons and downstream patterns"], rows)
    rows = [f"{neuron_latex(c.neuron)} & {_pattern_latex(c.neuron, c.pattern)} & "
            f"{sympy.latex(c.factored, symbol_names=names)} \\geq 0" for c in family.conditions]
    return _array("lll", ["neuron", "downstream pattern", "condition"], rows)
