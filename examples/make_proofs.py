"""Regenerate the certificates in proofs/certificates/ (deterministically) and print the results table.

    python examples/make_proofs.py            # everything
    python examples/make_proofs.py --check    # only re-verify what is there

Every certificate is checked by the independent checker before it is written.  What each one
proves: proofs/README.md; the kink bound: proofs/icnn-kink-bound.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from exactconvex import network_from_dict
from exactconvex.certificates import certificate_text
from exactconvex.decide import check
from exactconvex.icnn import (deep_family, icnn_kink_bound, kinks_on_line, not_representable_certificate,
                              search_counterexample, to_icnn)
from exactconvex.checker import verify as verify_certificate

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "proofs" / "certificates"


def net(d: int, layers: list):
    return network_from_dict({"format": "exactconvex.network", "version": 1, "input_dim": d, "layers": layers})


# ----- convex one-hidden-layer networks with duplicate, opposite and proportional neurons -----------

ONE_LAYER = {
    # ReLU(x) + ReLU(-x): opposite neurons, already an ICNN (examples/networks/abs.json)
    "abs": json.loads((ROOT / "examples" / "networks" / "abs.json").read_text()),
    # 2 ReLU(x) - ReLU(x) + ReLU(x - 1): duplicate neurons, one with a negative weight
    "duplicate": {"input_dim": 1, "layers": [{"weight": [[1], [1], [1]], "bias": [0, 0, -1]},
                                             {"weight": [[2, -1, 1]]}]},
    # 3 ReLU(x) - ReLU(-x) = 2 ReLU(x) + x: opposite neurons, the negative one cancels into the affine part
    "opposite": {"input_dim": 1, "layers": [{"weight": [[1], [-1]]}, {"weight": [[3, -1]]}]},
    # on x + y: ReLU(x+y) - ReLU(2x+2y) + ReLU(-3x-3y); on x - y + 1: -ReLU(x-y+1) + 4 ReLU((-x+y-1)/2)
    "proportional": {"input_dim": 2, "layers": [
        {"weight": [[1, 1], [2, 2], [-3, -3], [1, -1], ["-1/2", "1/2"]], "bias": [0, 0, 0, 1, "-1/2"]},
        {"weight": [[1, -1, 1, -1, 4]], "bias": [5]}]},
    # all three kinds, a constant neuron ReLU(2) with a negative weight, two outputs, an input skip
    "mixed-two-outputs": {"input_dim": 2, "layers": [
        {"weight": [[1, 1], [1, 1], [-2, -2], [3, 3], [1, -1], [0, 0]], "bias": [0, 0, 0, -1, 0, 2]},
        {"weight": [[1, 1, "-1/2", 1, "1/2", -1], [-1, 2, "-1/4", "1/3", 1, -3]], "bias": [0, 1],
         "skip": {"0": [[1, 0], [0, -1]]}}]},
}

# ----- the counterexample searches: (architecture, connections, seed) ---------------------------------

SEARCHES = [((1, 2, 1, 1), "all", 0), ((1, 3, 2, 1), "none", 0), ((1, 3, 2, 1), "input", 0),
            ((1, 2, 3, 1), "input", 0)]
SKIP_NAME = {"none": "plain", "input": "input", "all": "all"}


def write(name: str, cert: dict) -> int:
    result = verify_certificate(cert)
    if not result.valid:
        raise SystemExit(f"{name}: the certificate does not verify: {result.reason}")
    text = certificate_text(cert)
    (OUT / name).write_text(text, encoding="utf-8")
    return len(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only re-verify the certificates already written")
    args = ap.parse_args()
    if args.check:
        bad = 0
        for path in sorted(OUT.glob("*.json")):
            r = verify_certificate(json.loads(path.read_text()))
            print(f"{'ok ' if r.valid else 'BAD'} {path.name}: {r.reason}")
            bad += not r.valid
        return 1 if bad else 0
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, doc in ONE_LAYER.items():
        f = net(doc["input_dim"], doc["layers"])
        t0 = time.perf_counter()
        conv = to_icnn(f)
        g = conv.network
        assert g.is_icnn() and g.hidden_widths == f.hidden_widths
        size = write(f"to-icnn-{name}.json", conv.certificate)
        print(f"to-icnn {name}: width {f.hidden_widths[0]}, {conv.equivalence.regions} regions of f - g, "
              f"{time.perf_counter() - t0:.2f} s, {size} bytes")
    for arch, skips, seed in SEARCHES:
        res = search_counterexample(list(arch), seed=seed, budget=120, skips=skips)
        if not res.found:
            raise SystemExit(f"no counterexample for {arch} ({skips}) within the budget: {res.note}")
        cert = not_representable_certificate(res.network)
        cert["search"] = (f"found by `exactconvex counterexample --arch {','.join(map(str, arch))} --skips {skips} "
                          f"--seed {seed}` ({res.phase} phase)")
        name = f"counterexample-{'-'.join(map(str, arch))}-{SKIP_NAME[skips]}.json"
        size = write(name, cert)
        rows.append((",".join(map(str, arch)) + f" ({SKIP_NAME[skips]})", res.kinks, res.bound, res.seconds, name))
        print(f"{name}: {res.kinks} kinks > bound {res.bound}, found in {res.seconds:.2f} s, {size} bytes")
    for plain in (False, True):
        for m in range(1, 9) if not plain else (5, 8):
            F = deep_family(m, plain=plain)
            t0 = time.perf_counter()
            kinks = len(kinks_on_line(F, [0], [1]))
            bound = icnn_kink_bound(F.hidden_widths)
            name = f"deep-family-{'plain-' if plain else ''}m{m}.json"
            verdict = check(F, method="regions", certificate=True)
            assert verdict.convex
            if kinks > bound:
                cert = not_representable_certificate(F, convexity=verdict.certificate)
            else:  # not (yet) a counterexample: the certificate proves convexity only
                cert = verdict.certificate
            cert["family"] = (f"deep_family({m}{', plain=True' if plain else ''}): hidden widths "
                              f"{tuple(F.hidden_widths)}, {kinks} kinks on R, ICNN bound {bound}")
            seconds = time.perf_counter() - t0
            size = write(name, cert)
            label = f"deep family{' (plain)' if plain else ''} m={m}, widths {','.join(map(str, F.hidden_widths))}"
            rows.append((label, kinks, bound, seconds, name))
            print(f"{name}: {kinks} kinks, bound {bound}, claim {cert['claim']}, {seconds:.2f} s, {size} bytes")
    print("\n| architecture | kinks found | ICNN bound | seconds | certificate |\n|---|---|---|---|---|")
    for label, kinks, bound, seconds, name in rows:
        print(f"| {label} | {kinks} | {bound} | {seconds:.2f} | `{name}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
