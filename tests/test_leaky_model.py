"""LeakyReLU in the exact model: evaluation, local maps, rank-one flips, combine and the JSON key."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from flint import fmpq, fmpq_mat
from hypothesis import given, settings, strategies as st

from exactconvex.network import FormatError, Network, combine, network_from_dict, network_to_dict
from strategies import scaled

SLOPES = ["0", "1/100", "1/2", "1", "2", "-1"]

ISSUE_MODEL = {"format": "exactconvex.network", "version": 1, "input_dim": 1, "layers": [
    {"weight": [[2], [1]], "bias": [0, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-1, 0], [0, -2]], "bias": [-1, -1], "activation": {"leaky_relu": "1/2"}},
    {"weight": [[-2, 0]]}]}


def test_issue_model_values_match_pytorch():
    # PyTorch's own forward pass gives f(-2) = -2, f(-1) = 0, f(0) = 1 (issue 12): not convex
    net = network_from_dict(ISSUE_MODEL)
    assert [net.evaluate([x])[0] for x in (-2, -1, 0)] == [-2, 0, 1]


def test_activation_key_round_trip_and_relu_written_as_before():
    net = network_from_dict(ISSUE_MODEL)
    doc = network_to_dict(net)
    assert doc["layers"][0]["activation"] == {"leaky_relu": "1/2"}
    assert network_from_dict(doc) == net
    relu = dict(ISSUE_MODEL, layers=[{k: v for k, v in L.items() if k != "activation"} for L in ISSUE_MODEL["layers"]])
    assert all("activation" not in L for L in network_to_dict(network_from_dict(relu))["layers"])
    assert network_from_dict(relu) != net  # slopes are part of equality


@pytest.mark.parametrize("bad", ["tanh", None, {"leaky_relu": "abc"}, {"leaky_relu": 1, "x": 2}, {"relu": 0}, 0.5])
def test_bad_activation_refused(bad):
    doc = dict(ISSUE_MODEL, layers=[dict(ISSUE_MODEL["layers"][0], activation=bad)] + ISSUE_MODEL["layers"][1:])
    with pytest.raises(FormatError, match="activation"):
        network_from_dict(doc)


def test_activation_on_last_layer_refused():
    doc = dict(ISSUE_MODEL, layers=ISSUE_MODEL["layers"][:2] + [dict(ISSUE_MODEL["layers"][2], activation="relu")])
    with pytest.raises(FormatError, match="last layer"):
        network_from_dict(doc)


def _random_net(rng: random.Random, d: int, widths: list[int], slopes: list[str], outputs: int = 2) -> Network:
    sizes = [d] + widths + [outputs]
    layers = []
    for l in range(1, len(sizes)):
        L = {"weight": [[rng.randint(-3, 3) for _ in range(sizes[l - 1])] for _ in range(sizes[l])],
             "bias": [rng.randint(-2, 2) for _ in range(sizes[l])]}
        if l >= 2 and rng.random() < 0.5:
            k = rng.randint(0, l - 2)
            L["skip"] = {str(k): [[rng.randint(-2, 2) for _ in range(sizes[k])] for _ in range(sizes[l])]}
        if l < len(sizes) - 1:
            L["slope"] = slopes[l - 1]
        layers.append(L)
    return Network.from_lists(d, layers)


def _leaky(z: Fraction, s: Fraction) -> Fraction:
    return z if z > 0 else s * z


def _plain_forward(net_doc: list, x: list[Fraction]) -> list[Fraction]:
    """A forward pass over plain lists, for comparison."""
    h = [x]
    for l, L in enumerate(net_doc, start=1):
        z = [sum(Fraction(w) * v for w, v in zip(row, h[l - 1])) + Fraction(b) for row, b in zip(L["weight"], L["bias"])]
        for k, S in L.get("skip", {}).items():
            z = [zi + sum(Fraction(w) * v for w, v in zip(row, h[int(k)])) for zi, row in zip(z, S)]
        if l < len(net_doc):
            h.append([_leaky(v, Fraction(L["slope"])) for v in z])
    return z


@settings(max_examples=scaled(60))
@given(seed=st.integers(0, 10**6))
def test_evaluate_local_affine_and_flip_agree(seed):
    rng = random.Random(seed)
    d, depth = rng.randint(1, 3), rng.randint(1, 3)
    widths = [rng.randint(1, 3) for _ in range(depth)]
    slopes = [rng.choice(SLOPES) for _ in range(depth)]
    net = _random_net(rng, d, widths, slopes)
    doc = network_to_dict(net)["layers"]
    for L, s in zip(doc, slopes):
        L["slope"] = s
    x = [Fraction(rng.randint(-20, 20), rng.randint(1, 5)) for _ in range(d)]
    values = net.evaluate(x)
    assert [Fraction(int(v.p), int(v.q)) for v in values] == _plain_forward(doc, x)
    local = net.local_affine(net.pattern(x))
    G, g = local.output
    X = fmpq_mat(d, 1, [fmpq(v.numerator, v.denominator) for v in x])
    assert (G * X + g).entries() == list(values)
    i = rng.randrange(net.num_hidden)
    flipped = list(local.pattern)
    flipped[i] = 1 - flipped[i]
    fresh = net.local_affine(flipped)
    assert net.flip_local(local, i).pre[1:] == fresh.pre[1:]


@settings(max_examples=scaled(60))
@given(seed=st.integers(0, 10**6))
def test_combine_side_by_side_or_stacked_computes_the_combination(seed):
    rng = random.Random(seed)
    d = rng.randint(1, 3)
    nets = []
    for _ in range(rng.randint(1, 3)):
        depth = rng.randint(0, 3)
        nets.append(_random_net(rng, d, [rng.randint(1, 3) for _ in range(depth)],
                                [rng.choice(SLOPES) for _ in range(depth)]))
    cs = [rng.randint(-2, 2) for _ in nets]
    h = combine(nets, cs)
    for _ in range(4):
        x = [Fraction(rng.randint(-20, 20), rng.randint(1, 5)) for _ in range(d)]
        want = [sum(c * v for c, v in zip(cs, vals)) for vals in zip(*[n.evaluate(x) for n in nets])]
        assert list(h.evaluate(x)) == want
    agree = all(len({n.slopes[l] for n in nets if l < len(n.slopes)}) <= 1 for l in range(max(n.depth for n in nets)))
    assert len(h.hidden_widths) == (max(n.depth for n in nets) - 1 if agree else sum(n.depth - 1 for n in nets))


def test_icnn_structure_needs_convex_nondecreasing_activations():
    base = [{"weight": [[1], [-1]]}, {"weight": [[1, 1]]}, {"weight": [[1]]}]

    def net(s1, s2):
        return Network.from_lists(1, [dict(base[0], slope=s1), dict(base[1], slope=s2), base[2]])

    assert net("0", "0").is_icnn() and net("-1", "1/2").is_icnn() and net("1", "1").is_icnn()
    assert not net("2", "0").is_icnn()  # a concave first-layer activation
    assert not net("0", "-1").is_icnn()  # a decreasing activation of a convex function


@settings(max_examples=scaled(30))
@given(seed=st.integers(0, 10**6))
def test_networks_pickle_exactly(seed):
    import pickle

    rng = random.Random(seed)
    depth = rng.randint(0, 3)
    net = _random_net(rng, rng.randint(1, 3), [rng.randint(1, 3) for _ in range(depth)],
                      [rng.choice(SLOPES) for _ in range(depth)])
    tiny = Network.from_lists(1, [{"weight": [["1e-400"]], "slope": "-1/3"}, {"weight": [["10e400"]]}])
    for n in (net, tiny):
        back = pickle.loads(pickle.dumps(n))
        assert back == n and back.slopes == n.slopes
