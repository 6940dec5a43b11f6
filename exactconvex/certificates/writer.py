"""The one place where certificates are built (format: ``docs/certificate-format.md``).

Each function returns the JSON object of one claim, with every rational written exactly
(``q_str``) and the network embedded as the network format writes it.  The mathematics that
finds the content (verdicts, region graphs, kinks) lives elsewhere; nothing here decides
anything, it only writes down what was found, in the order and shape the checker reads.

Index convention (as in every message): layers are 1-based (layer 0 is the input), a neuron
is [layer, index] with a 0-based index within its layer, outputs are 0-based.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..network import Network, network_to_dict
from ..numbers import q_str, q_strs

__all__ = ["FORMAT", "VERSION", "certificate_text", "point_json", "witness_json", "region_graph_json", "not_convex_certificate",
           "convex_certificate", "certificate_of_verdict", "equivalence_certificate",
           "not_icnn_representable_certificate"]

FORMAT, VERSION = "exactconvex.certificate", 1


def _header(claim: str, net: Network) -> dict:
    return {"format": FORMAT, "version": VERSION, "claim": claim, "network": network_to_dict(net)}


_ONE_LINE = json.JSONEncoder(separators=(",", ":"))  # no indent: the standard library's C encoder
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")  # a pattern's 0/1 as the characters "0"/"1"


def certificate_text(cert: dict, depth: int = 3) -> str:
    """A certificate's JSON text as the package writes it (ending with a newline): the objects and
    arrays of the first ``depth`` levels one member per line, so that each region of the region
    graph and each layer of the network is one compact line.

    Any JSON layout reads the same; this one is chosen for speed and size.  ``json.dumps`` with
    ``indent`` takes the standard library's pure-Python encoder and puts every number on a line
    of its own: at d2 128x128 (8,257 regions) 13.6-14.6 s and 102 MB, against 1.6-1.8 s and 25 MB
    here (before implied groups were written as marks).

    >>> print(certificate_text({"claim": "convex", "proofs": [{"output": 0, "method": "icnn"}],
    ...                         "region_graph": {"regions": [{"pattern": ["01"], "facets": []}]}}), end="")
    {
     "claim":"convex",
     "proofs":[
      {
       "output":0,
       "method":"icnn"
      }
     ],
     "region_graph":{
      "regions":[
       {"pattern":["01"],"facets":[]}
      ]
     }
    }
    """
    parts: list[str] = []
    _layout(cert, 0, depth, parts)
    parts.append("\n")
    return "".join(parts)  # one copy of the text (concatenating each level's text copied 88 MB ten times at d2 256x256)


def _layout(value: Any, level: int, depth: int, out: list[str]) -> None:
    """Append ``value``'s text at ``level`` to ``out``."""
    nested = isinstance(value, dict) or isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)
    if level >= depth or not nested or not value:  # a number, a string or a list of them: on one line
        out.append(_ONE_LINE.encode(value))
        return
    inner = "\n" + " " * (level + 1)
    if isinstance(value, dict):
        out.append("{")
        for k, (key, v) in enumerate(value.items()):
            out.append(("," if k else "") + inner + _ONE_LINE.encode(_member_name(key)) + ":")
            _layout(v, level + 1, depth, out)
        out.append("\n" + " " * level + "}")
    else:
        out.append("[")
        for k, v in enumerate(value):
            out.append(("," if k else "") + inner)
            _layout(v, level + 1, depth, out)
        out.append("\n" + " " * level + "]")


def _member_name(key) -> str:
    """A dict key as ``json.dumps`` names the member: a string as it is, a number, a boolean or None
    as its JSON text (``True`` -> "true"); any other key is a TypeError, as there."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return _ONE_LINE.encode(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def point_json(p) -> list[str]:
    """An exact point as a list of exact strings."""
    return q_strs(p)


def witness_json(w: dict) -> dict:
    """A violation witness {output, x, y, lambda} with exact strings.

    >>> from flint import fmpq
    >>> witness_json({"output": 0, "x": (fmpq(-1),), "y": (fmpq(1, 2),), "lambda": fmpq(1, 2)})
    {'output': 0, 'x': ['-1'], 'y': ['1/2'], 'lambda': '1/2'}
    """
    return {"output": w["output"], "x": point_json(w["x"]), "y": point_json(w["y"]), "lambda": q_str(w["lambda"])}


def region_graph_json(net: Network, arrangement, progress=None) -> dict:
    """The ``"region_graph"`` of an explored arrangement (``exactconvex.graph.explore``): per region
    its pattern, interior point, facets (with the human-readable bends of every output), the
    Farkas certificates of its redundant constraints and its implied groups.  ``progress(done,
    total)``, if given, is called per region written."""
    from ..graph.explore import facet_bend

    regs = arrangement.regions
    names = [list(n) for n in net.hidden_neurons]
    hidden = len(names)
    layers = [(net.neuron_index(l, 0), net.neuron_index(l, 0) + net.layers[l - 1].width) for l in range(1, net.depth)]

    def neurons_json(ns: list) -> list:
        """[layer, index] per neuron, or (when shorter: a wide region's big groups) one string per
        hidden layer with "1" at each neuron listed (flat neuron indices are pattern positions)."""
        if 8 * len(ns) <= hidden:
            return [names[n][:] for n in ns]
        marks = bytearray(b"0" * hidden)
        for n in ns:
            marks[n] = 49  # "1"
        text = marks.decode()
        return [text[a:b] for a, b in layers]

    out = []
    written: dict = {}  # (neighbour, region) -> (the outward normal seen from the neighbour, bends)
    for r in regs:
        if progress is not None and r.id % 16 == 0:
            progress(r.id, len(regs))
        facets = []
        for f in r.facets:
            other = regs[f.neighbor]
            seen = written.pop((r.id, f.neighbor), None)
            if seen is not None and seen[0] == f.outward:
                # the same facet with the opposite normal: (g_r - g_o).(-n) = (g_o - g_r).n
                bends = seen[1]
            else:
                bends = [q_str(facet_bend(r, f, other, k)) for k in range(net.num_outputs)]  # n: into the neighbour
                if f.neighbor > r.id:
                    written[(f.neighbor, r.id)] = (tuple(-v for v in f.outward), bends)
            l, j = net.hidden_neurons[f.neuron]
            facets.append({"neuron": [l, j], "point": point_json(f.point), "neighbor": f.neighbor, "bend": bends})
        implied = [{"facets": support[:], "neurons": neurons_json(ns)} for support, ns in r.implied]
        redundant = []
        for n, support, mult, const in r.redundant:
            l, j = net.hidden_neurons[n]
            redundant.append({"neuron": [l, j], "support": list(support), "multipliers": q_strs(mult),
                              "constant": q_str(const)})
        bits = bytes(r.pattern).translate(_DIGITS).decode()  # (patterns hold 0 and 1 only: ``local_affine``)
        region = {"pattern": [bits[a:b] for a, b in layers],
                  "interior_point": point_json(r.interior_point), "facets": facets, "redundant": redundant}
        if implied:
            region["implied"] = implied
        out.append(region)
    if progress is not None:
        progress(len(regs), len(regs))
    return {"regions": out}


def not_convex_certificate(net: Network, witness: dict) -> dict:
    """Claim "not_convex": the witness, checked by exact evaluation."""
    cert = _header("not_convex", net)
    cert["witness"] = witness_json(witness)
    return cert


def convex_certificate(net: Network, proofs: Sequence[tuple[int, str]], arrangement=None, progress=None) -> dict:
    """Claim "convex": one proof (output, method) per output, in order, and the region graph when
    an arrangement is given (required when a proof's method is "regions"; ``progress(done,
    total)`` is called per region written)."""
    cert = _header("convex", net)
    cert["proofs"] = [{"output": k, "method": method} for k, method in proofs]
    if arrangement is not None:
        cert["region_graph"] = region_graph_json(net, arrangement, progress)
    return cert


def certificate_of_verdict(net: Network, verdict, arrangement=None, progress=None) -> dict:
    """The certificate of a ``Verdict`` of ``check``: "not_convex" with its witness, or "convex" with
    each output's proof (``OutputVerdict.proof``: a method name of the certificate format)."""
    if not verdict.convex:
        return not_convex_certificate(net, verdict.witness)
    return convex_certificate(net, [(o.output, o.proof) for o in verdict.outputs], arrangement, progress)


def equivalence_certificate(f: Network, g: Network, h: Network, arrangement, progress=None) -> dict:
    """Claim "equivalent": h = f - g embedded, f and g under "networks", h's region graph."""
    cert = _header("equivalent", h)
    cert.update({"networks": {"f": network_to_dict(f), "g": network_to_dict(g)},
                 "region_graph": region_graph_json(h, arrangement, progress),
                 "summary": f"f - g is 0 on each of the {len(arrangement.regions)} regions of its region graph, "
                            f"which cover R^{h.input_dim}"})
    return cert


def not_icnn_representable_certificate(convexity: dict, output: int, point, direction, widths: Sequence[int],
                                       bound: int, kinks: Sequence, summary: str) -> dict:
    """Claim "not_icnn_representable": the network and convexity proof of the claim "convex"
    certificate ``convexity``, then the line, the hidden widths, the bound and the kinks."""
    cert = {"format": FORMAT, "version": VERSION, "claim": "not_icnn_representable",
            "network": convexity["network"], "output": output, "proofs": convexity["proofs"]}
    if "region_graph" in convexity:
        cert["region_graph"] = convexity["region_graph"]
    cert.update({"line": {"point": point_json(point), "direction": point_json(direction)},
                 "widths": list(widths), "bound": bound, "kinks": point_json(kinks), "summary": summary})
    return cert
