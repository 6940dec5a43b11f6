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

from ..numbers import approximate, q_str, readable
from .arch import neuron_label, neuron_latex, slope_latex, slope_name, slope_symbol

__all__ = ["condition_json", "condition_text", "condition_latex", "report_json", "report_text", "report_latex",
           "family_json", "family_text", "family_latex", "pattern_text", "pattern_json", "pattern_summary"]


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
#
# The expressions of a network's conditions are written from their paths (``PathSum``), never
# through sympy: in path order, parsable by sympy, equal to ``Condition.expression``.  The text
# and LaTeX for people are summaries (long sums by their first terms and their number of terms;
# at most a few conditions per neuron); ``full=True`` and JSON write everything.

PER_GROUP = 3  # conditions shown per neuron (or set of neurons switching together), failing first
MAX_TERMS = 3  # terms shown of a long sum of path products
MAX_GROUPS = 40  # neurons shown (those with a failing condition first)
MAX_LISTED = 12  # neurons listed by name in one line of "no condition"


def _jump_text(t) -> str | None:
    """The symbolic jump factor "(1 - s_l)" of a term, or None (ReLU, or a value folded in)."""
    return f"(1 - {slope_name(t.neuron[0])})" if isinstance(t.slope, str) else None


def _term_factor(t) -> fmpq:
    """The numeric factor of a term: its coefficient, times 1 - s when the slope is a value."""
    return t.coefficient * (t.jump if t.slope is not None and not isinstance(t.slope, str) else 1)


def _written_terms(c):
    """(term, number of paths, numeric factor) of the terms of a condition that are written: the
    ones with paths and a nonzero factor."""
    for t in c.terms:
        count = len(t.paths)
        factor = _term_factor(t)
        if count and factor != 0:
            yield t, count, factor


def _product(factor: fmpq, symbolic: list[str], body: str, count: int, star: str = "*") -> str:
    """factor * symbolic factors * (body), the parentheses only around a sum; a leading "-" for
    a negative factor."""
    sign = "-" if factor < 0 else ""
    size = abs(factor)
    parts = ([] if size == 1 else [str(size)]) + symbolic
    if not parts:
        return sign + body if count == 1 or not sign else f"{sign}({body})"
    return sign + star.join(parts + [f"({body})" if count > 1 else body])


def _join_signed(parts: list[str], plus: str = " + ", minus: str = " - ") -> str:
    if not parts:
        return "0"
    text = parts[0]
    for p in parts[1:]:
        text += minus + p[1:] if p.startswith("-") else plus + p
    return text


def condition_text(c, max_terms: int | None = None) -> str:
    """The expression of a ``Condition`` (the left side of ">= 0"), written from its paths:
    sympy reads it and finds ``c.expression``; with ``max_terms``, long sums are summarised.

    The value of a term is coefficient * (1 - s) * c_nu(D): ``2*(1 - s_1)*(W2_1_1*v_1 + ...)``.
    """
    parts = []
    for t, count, factor in _written_terms(c):
        jump = _jump_text(t)
        parts.append(_product(factor, [jump] if jump else [], t.paths.text(max_terms), count))
    return _join_signed(parts)


def condition_latex(c, max_terms: int | None = None) -> str:
    """``condition_text`` in LaTeX."""
    parts = []
    for t, count, factor in _written_terms(c):
        jump = f"(1 - {slope_latex(t.neuron[0])})" if isinstance(t.slope, str) else None
        body = t.paths.latex(max_terms)
        if factor.q != 1:
            sign = "-" if factor < 0 else ""
            lead = f"{sign}\\tfrac{{{abs(int(factor.p))}}}{{{int(factor.q)}}}"
            parts.append(lead + " " + " ".join(([jump] if jump else []) + [f"\\left({body}\\right)" if count > 1
                                                                           else body]))
        else:
            parts.append(_product(factor, [jump] if jump else [], body, count, star=" ")
                         .replace(f"({body})", f"\\left({body}\\right)"))
    return _join_signed(parts)


def condition_json(c, arch) -> dict:
    """One ``Condition`` as JSON (``arch``: the network's ``Architecture``); its expression in full."""
    out = {"neuron": list(c.neuron), "label": neuron_label(c.neuron), "pattern": pattern_json(c.pattern),
           "pattern_layers": list(range(c.neuron[0] + 1, arch.depth)),
           "expression": condition_text(c), "value": q_str(c.value), "holds": c.holds,
           "combined": c.combined, "output": c.output,
           "facets": [{"regions": list(f.regions), "point": [q_str(v) for v in f.point], "bend": q_str(f.bend)}
                      for f in c.facets]}
    if c.combined:
        out["neurons"] = [list(n) for n in c.neurons]
        out["terms"] = [{"neuron": list(t.neuron), "label": neuron_label(t.neuron),
                         "pattern": pattern_json(t.pattern), "coefficient": q_str(t.coefficient),
                         "expression": t.paths.text(), "value": q_str(t.path_sum),
                         **({"jump": q_str(t.jump), "jump_expression": _jump_json(t)}
                            if t.slope is not None else {})} for t in c.terms]
    return out


def _jump_json(t) -> str:
    return f"1 - {slope_name(t.neuron[0])}" if isinstance(t.slope, str) else q_str(t.jump)


def report_json(report, deadline=None) -> dict:
    """A ``ConditionReport`` as JSON; ``"slopes"`` ({"s_l": value}) only for a LeakyReLU network.
    ``deadline`` (a ``time.perf_counter()`` instant) bounds the writing (``LimitReached``)."""
    items = []
    for i, c in enumerate(report.conditions):
        _check_deadline(deadline, report, i, "writing the conditions as JSON")
        items.append(condition_json(c, report.architecture))
    out = {"output": report.output, "regions": report.regions, "facets": report.facets, "conditions": items,
           "no_condition": [{"neuron": list(n.neuron), "label": neuron_label(n.neuron), "reason": n.reason,
                             "detail": n.detail} for n in report.no_condition],
           "all_hold": report.all_hold}
    if report.slopes:
        out["slopes"] = {k: q_str(v) for k, v in report.slopes.items()}
    return out


def _check_deadline(deadline, report, done: int, what: str) -> None:
    import time

    if deadline is not None and done % 16 == 0 and time.perf_counter() > deadline:
        from ..graph import LimitReached

        raise LimitReached(f"the time ran out while {what} ({done} of {len(report.conditions)} written; the region "
                           f"graph was complete: {report.regions} regions)", report.regions, report.regions)


def pattern_summary(neuron, pattern) -> str:
    """A downstream pattern for people: bits for narrow layers, otherwise which neurons are off
    (or on) when they are few, e.g. ``all on`` or ``all on but z2_4, z2_9``.

    >>> pattern_summary((1, 0), ((1, 0), (1,) * 20))
    '10|all on'
    """
    if not pattern:
        return "-"
    out = []
    for i, states in enumerate(pattern):
        layer = neuron[0] + 1 + i
        width = len(states)
        off = [j for j, s in enumerate(states) if not s]
        on = [j for j, s in enumerate(states) if s]
        if width <= 12:
            out.append("".join(map(str, states)))
        elif not off:
            out.append("all on")
        elif not on:
            out.append("all off")
        elif len(off) <= 3:
            out.append("all on but " + ", ".join(neuron_label((layer, j)) for j in off))
        elif len(on) <= 3:
            out.append("only " + ", ".join(neuron_label((layer, j)) for j in on) + " on")
        else:
            out.append("".join(map(str, states)))
    return "|".join(out)


def _groups(report) -> list[tuple[tuple, list]]:
    """The conditions grouped by their switching neurons, in report order."""
    groups: dict = {}
    for c in report.conditions:
        groups.setdefault(c.neurons, []).append(c)
    return list(groups.items())


def _shown(conds: list, per_group: int | None) -> tuple[list, int, int]:
    """(conditions to show: failing first, then in order; how many are left out; how many of those fail)."""
    if per_group is None or len(conds) <= per_group:
        return conds, 0, 0
    failing = [c for c in conds if not c.holds]
    order = failing + [c for c in conds if c.holds]
    shown = order[:per_group]
    return shown, len(conds) - len(shown), len(failing) - sum(1 for c in shown if not c.holds)


def _facets_text(c) -> str:
    return f"{len(c.facets)} facet" + ("s" if len(c.facets) != 1 else "")


def _condition_line(c, max_terms, with_neuron: bool) -> list[str]:
    mark = "ok  " if c.holds else "FAIL"
    value = q_str(c.value) if max_terms is None else readable(c.value)
    if c.combined:
        parts = " + ".join(f"({q_str(t.coefficient)})*" + (f"{_jump_text(t)}*" if _jump_text(t) else
                                                            f"({q_str(t.jump)})*" if t.jump != 1 else "")
                           + f"c[{neuron_label(t.neuron)}; D={pattern_summary(t.neuron, t.pattern)}]"
                           for t in c.terms)
        return [f"[{mark}] combined, {len(c.terms)} neurons switch together: {parts}",
                f"       {condition_text(c, max_terms)} >= 0   value {value}   ({_facets_text(c)})"]
    who = f"{neuron_label(c.neuron)}, " if with_neuron else ""
    return [f"[{mark}] {who}D={pattern_summary(c.neuron, c.pattern)}: {condition_text(c, max_terms)} >= 0   "
            f"value {value}   ({_facets_text(c)})"]


def _labels(neurons: list) -> str:
    names = [neuron_label(n) for n in neurons]
    if len(names) > MAX_LISTED:
        return ", ".join(names[:MAX_LISTED - 2]) + f", ... ({len(names)} neurons)"
    return ", ".join(names)


def report_text(report, full: bool = False, deadline=None) -> str:
    """A ``ConditionReport`` as text for people: the conditions grouped by neuron (at most
    ``PER_GROUP`` each, failing first, long sums summarised, values readable), the neurons
    without a condition, then the verdict.  ``full=True`` writes every condition in full
    (exact values); ``deadline`` bounds the writing (``LimitReached``)."""
    per_group, max_terms, max_groups = (None, None, None) if full else (PER_GROUP, MAX_TERMS, MAX_GROUPS)
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
    groups = _groups(report)
    if max_groups is not None and len(groups) > max_groups:
        failing = [g for g in groups if any(not c.holds for c in g[1])]
        keep = {id(g) for g in (failing + [g for g in groups if g not in failing])[:max_groups]}
        hidden = [g for g in groups if id(g) not in keep]
        groups = [g for g in groups if id(g) in keep]
    else:
        hidden = []
    done = 0
    for neurons, conds in groups:
        _check_deadline(deadline, report, done, "writing the conditions")
        done += len(conds)
        shown, left, left_failing = _shown(conds, per_group)
        if len(conds) == 1:
            lines.extend("  " + line for line in _condition_line(conds[0], max_terms, True))
            continue
        bad = sum(1 for c in conds if not c.holds)
        name = " + ".join(neuron_label(n) for n in neurons)
        lines.append(f"  {name}: {len(conds)} conditions (downstream patterns D), "
                     + ("all hold" if not bad else f"{bad} fail") + ":")
        for c in shown:
            lines.extend("    " + line for line in _condition_line(c, max_terms, False))
        if left:
            lines.append(f"    ... and {left} more" + (f" ({left_failing} of them fail)" if left_failing else
                                                       " that hold"))
    if hidden:
        count = sum(len(conds) for _, conds in hidden)
        failing = sum(1 for _, conds in hidden for c in conds if not c.holds)
        lines.append(f"  ... and {count} more conditions of {len(hidden)} more neurons"
                     + (f" ({failing} of them fail): " if failing else ", all holding: ")
                     + _labels([n for neurons, _ in hidden for n in neurons]))
    if not full and (hidden or any(len(conds) > PER_GROUP for _, conds in groups)
                     or any(MAX_TERMS < len(t.paths) for c in report.conditions for t in c.terms)):
        lines.append("  (a summary: --full writes every condition in full, --json too, with exact values)")
    if report.no_condition:
        lines.append("Neurons without a condition (they never switch across a (d-1)-dimensional piece):")
        if full:
            lines.extend(f"  {neuron_label(n.neuron)}: {n.detail}" for n in report.no_condition)
        else:
            by_reason: dict = {}
            for n in report.no_condition:
                by_reason.setdefault(n.reason, []).append(n)
            for reason, items in by_reason.items():
                if reason == "constant" and len(items) <= MAX_LISTED:
                    lines.extend(f"  {neuron_label(n.neuron)}: {n.detail}" for n in items)
                else:
                    detail = items[0].detail.split(":")[0] if reason == "constant" else items[0].detail
                    lines.append(f"  {_labels([n.neuron for n in items])}: {detail}")
    bad = len(report.failing)
    lines.append(f"All {len(report.conditions)} conditions hold: output {report.output} is convex." if not bad else
                 f"{bad} of {len(report.conditions)} conditions fail: output {report.output} is not convex.")
    return "\n".join(lines)


def report_latex(report, full: bool = False, deadline=None, max_rows: int | None = None) -> str:
    """A ``ConditionReport`` as a LaTeX array: neuron, downstream pattern, condition, value.
    ``full=False`` summarises as ``report_text`` does (at most ``PER_GROUP`` conditions per
    neuron, long sums by their first terms, readable values); ``max_rows`` stops the table
    after that many conditions (neurons with a failing condition first)."""
    per_group, max_terms = (None, None) if full else (PER_GROUP, MAX_TERMS)
    rows = []
    done = 0
    groups = _groups(report)
    if max_rows is not None:
        groups = [g for g in groups if any(not c.holds for c in g[1])] + [g for g in groups
                                                                           if all(c.holds for c in g[1])]
    written = 0
    for neurons, conds in groups:
        _check_deadline(deadline, report, done, "writing the conditions in LaTeX")
        done += len(conds)
        if max_rows is not None and written >= max_rows:
            break
        shown, left, left_failing = _shown(conds, per_group)
        if max_rows is not None and written + len(shown) > max_rows:
            cut = shown[max_rows - written:]
            shown = shown[:max_rows - written]
            left += len(cut)
            left_failing += sum(1 for c in cut if not c.holds)
        for c in shown:
            neuron = r",\ ".join(neuron_latex(n) for n in c.neurons) + (r"\ (\text{combined})" if c.combined else "")
            pattern = r";\ ".join(_pattern_latex(t.neuron, t.pattern) if full else
                                   r"\texttt{" + pattern_summary(t.neuron, t.pattern).replace("_", r"\_") + "}"
                                   for t in c.terms)
            status = r"\checkmark" if c.holds else r"\text{fails}"
            rows.append(f"{neuron} & {pattern} & {condition_latex(c, max_terms)} \\geq 0 & "
                        f"{_q_latex(c.value) if full else _readable_latex(c.value)}\\ {status}")
            written += 1
        if left:
            rows.append(rf"\dots & & \text{{and {left} more conditions of this neuron"
                        + (f", {left_failing} of them failing" if left_failing else ", all holding") + "} & ")
    if done < len(report.conditions):
        rest = len(report.conditions) - done
        rows.append(rf"\dots & & \text{{and {rest} more conditions of other neurons}} & ")
    return _array("llll", ["neuron", "downstream pattern", "condition", "value"], rows)


def report_repr(report) -> str:
    """A few lines whatever the size of the report: the verdict, the counts, the first failing condition."""
    bad = report.failing
    groups = len({c.neurons for c in report.conditions})
    head = (f"<ConditionReport of output {report.output}: {len(report.conditions)} conditions on {groups} neurons, "
            + (f"{len(bad)} fail (not convex)" if bad else "all hold (convex)")
            + f"; {report.regions} regions, {report.facets} facets")
    lines = [head]
    if bad:
        lines.append(" first failing: " + " ".join(_condition_line(bad[0], MAX_TERMS, True)).replace("[FAIL] ", "")
                     .replace("   ", ", "))
    lines.append(" .conditions, .failing, .to_text(), .to_latex(), .to_json()>")
    return "\n".join(lines)


def report_html(report, max_rows: int = 20) -> str:
    """An HTML table for notebooks: at most ``max_rows`` conditions (failing first), long sums summarised."""
    from html import escape

    bad = report.failing
    head = (f"<p><b>Path-lifting conditions of output {report.output}</b>: {len(report.conditions)} conditions, "
            + (f"<b style='color:#c00'>{len(bad)} fail</b>: not convex" if bad else "all hold: convex")
            + f" ({report.regions} regions, {report.facets} facets).</p>")
    order = bad + [c for c in report.conditions if c.holds]
    rows = []
    for c in order[:max_rows]:
        status = "ok" if c.holds else "<b style='color:#c00'>FAIL</b>"
        who = " + ".join(neuron_label(n) for n in c.neurons)
        pattern = "; ".join(pattern_summary(t.neuron, t.pattern) for t in c.terms)
        rows.append(f"<tr><td>{status}</td><td>{escape(who)}</td><td><code>{escape(pattern)}</code></td>"
                    f"<td><code>{escape(condition_text(c, MAX_TERMS))} &gt;= 0</code></td>"
                    f"<td>{escape(readable(c.value))}</td><td>{len(c.facets)}</td></tr>")
    more = len(order) - len(rows)
    tail = f"<p>... and {more} more (<code>.to_text()</code>, <code>.to_json()</code>).</p>" if more else ""
    return (head + "<table><tr><th></th><th>neuron</th><th>downstream pattern D</th><th>condition</th>"
            "<th>value</th><th>facets</th></tr>" + "".join(rows) + "</table>" + tail)


def _approximate_latex(q: fmpq) -> str:
    mantissa, _, exponent = approximate(q).partition("e")
    return mantissa if not exponent else f"{mantissa} \\cdot 10^{{{int(exponent)}}}"


def _readable_latex(q: fmpq) -> str:
    """``readable`` in LaTeX: the exact value when short, an approximation beside or instead of it."""
    text = readable(q)
    if text == q_str(q):
        return _q_latex(q)
    if text.startswith("about "):
        return r"\approx " + _approximate_latex(q)
    return _q_latex(q) + r"\ (\approx " + _approximate_latex(q) + ")"


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
