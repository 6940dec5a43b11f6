"""convexity_penalty: the differentiable penalty against the exact bends of the region graph (issue 16).

The penalty is computed in float64 from the patterns of the exact region graph; here it is compared
with the exact bends of the same graph (``exactconvex.graph.explore``), its gradient in the output
layer with the exact bend rows of ``exactconvex.convexify.cone_of``, and its gradient in the hidden
weights with central differences at fixed patterns.
"""

from __future__ import annotations

import math

import pytest

from exactconvex import check
from exactconvex.bridges.penalty import ConvexityPenalty, convexity_penalty, exact_network
from exactconvex.convexify import cone_of
from exactconvex.graph import explore


def mlp(torch, widths, slope=None, seed=0):
    torch.manual_seed(seed)
    mods = []
    for i in range(len(widths) - 1):
        mods.append(torch.nn.Linear(widths[i], widths[i + 1], dtype=torch.float64))
        if i < len(widths) - 2:
            mods.append(torch.nn.ReLU() if slope is None else torch.nn.LeakyReLU(slope))
    return torch.nn.Sequential(*mods)


def exact_penalty(net) -> float:
    """sum over facets and outputs of max(0, -bend / ||n||), exact bends from the arrangement."""
    arr = explore(net)
    total = 0.0
    for r in arr.regions:
        for f in r.facets:
            if f.neighbor <= r.id:
                continue
            other = arr.regions[f.neighbor]
            length = math.sqrt(sum(float(v) ** 2 for v in f.outward))
            for k in range(net.num_outputs):
                bend = sum((b - a) * n for a, b, n in zip(r.output_gradient(k), other.output_gradient(k), f.outward))
                total += max(0.0, -float(bend) / length)
    return total


@pytest.mark.parametrize("widths,slope,seed", [((2, 4, 4, 1), None, 0), ((2, 3, 5, 2), 0.1, 1), ((1, 3, 3, 1), None, 2),
                                               ((3, 4, 1), 0.5, 3), ((2, 4, 8, 1), None, 4), ((2, 3, 3, 3, 1), 2.0, 5)])
def test_penalty_is_the_sum_of_negative_normalised_bends(torch, widths, slope, seed):
    model = mlp(torch, widths, slope, seed)
    p = convexity_penalty(model)
    value = p()
    assert value.dtype == torch.float64
    assert math.isclose(value.item(), exact_penalty(exact_network(model)), rel_tol=1e-9, abs_tol=1e-12)
    assert p.regions == len(explore(exact_network(model)).regions)


@pytest.mark.parametrize("seed", range(3))
def test_gradient_in_the_output_layer_is_minus_the_bend_rows_of_the_negative_facets(torch, seed):
    model = mlp(torch, (2, 4, 4, 1), seed=seed)
    net = exact_network(model)
    cone = cone_of(net)
    theta = cone.theta(0)
    expected = [0.0] * cone.dimension
    for f in cone.facets:
        if sum(g * t for g, t in zip(f.row, theta)) < 0:
            region = cone.arrangement.regions[f.region]
            length = math.sqrt(sum(float(v) ** 2 for v in region.facets[f.facet].outward))
            expected = [e - float(g) / length for e, g in zip(expected, f.row)]
    value = convexity_penalty(model)()
    value.backward()
    got = model[-1].weight.grad[0].tolist()
    assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(got, expected)), (got, expected)
    assert model[0].bias.grad is None or not model[0].bias.grad.any()  # biases only move the facets


def test_gradient_in_hidden_weights_matches_central_differences(torch):
    model = mlp(torch, (2, 3, 4, 1), seed=7)
    p = convexity_penalty(model, refresh_every=10**9)  # patterns fixed after the first call
    value = p()
    value.backward()
    assert value.item() > 0
    eps = 1e-6
    for layer in (model[0], model[2]):
        for index in [(0, 0), (1, 1), (2, 0)]:
            with torch.no_grad():
                layer.weight[index] += eps
                up = p().item()
                layer.weight[index] -= 2 * eps
                down = p().item()
                layer.weight[index] += eps
            assert math.isclose(layer.weight.grad[index].item(), (up - down) / (2 * eps), rel_tol=1e-4, abs_tol=1e-7)


def test_convex_model_has_no_penalty(torch):
    model = mlp(torch, (2, 4, 4, 1), seed=3)
    with torch.no_grad():
        model[2].weight.abs_()
        model[4].weight.abs_()
    assert check(exact_network(model)).convex
    value = convexity_penalty(model)()
    assert value.item() == 0.0
    value.backward()  # still part of the graph


def _one_kink(torch, a, b, c):
    """f(x) = -relu(a . x - c) - b relu(c - a . x): a concave kink along the line a . x = c (b > 0)."""
    model = torch.nn.Sequential(torch.nn.Linear(len(a), 2, dtype=torch.float64), torch.nn.ReLU(),
                                torch.nn.Linear(2, 1, dtype=torch.float64))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([a, [-v for v in a]], dtype=torch.float64))
        model[0].bias.copy_(torch.tensor([-c, c], dtype=torch.float64))
        model[2].weight.copy_(torch.tensor([[-1.0, -b]], dtype=torch.float64))
    return model


def test_box_keeps_only_the_facets_meeting_it(torch):
    kink_at_5 = _one_kink(torch, [1.0], 1.0, 5.0)
    assert convexity_penalty(kink_at_5, box=(-1, 1))().item() == 0.0
    assert convexity_penalty(kink_at_5, box=(-10, 10))().item() > 0
    # 2-D: the line x1 + x2 = 1.9 meets [-1, 1]^2, x1 + x2 = 2.1 does not (wherever the facet's own point is)
    assert convexity_penalty(_one_kink(torch, [1.0, 1.0], 1.0, 1.9), box=(-1, 1))().item() > 0
    assert convexity_penalty(_one_kink(torch, [1.0, 1.0], 1.0, 2.1), box=(-1, 1))().item() == 0.0


def test_refresh_every_and_refusals(torch):
    model = mlp(torch, (2, 3, 1))
    p = ConvexityPenalty(model, refresh_every=3)
    for _ in range(7):
        p()
    assert p.refreshes == 3 and p.calls == 7
    with pytest.raises(TypeError, match="Tanh"):
        convexity_penalty(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    with pytest.raises(TypeError, match="Sequential"):
        convexity_penalty(torch.nn.Linear(2, 1))
    with pytest.raises(TypeError, match="end with a Linear"):
        convexity_penalty(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))
    with pytest.raises(ValueError):
        convexity_penalty(model, refresh_every=0)
    with pytest.raises(ValueError):
        convexity_penalty(model, box=(1, -1))


def test_training_on_the_penalty_alone_reaches_a_certified_convex_network(torch):
    model = mlp(torch, (2, 4, 4, 1), seed=11)
    assert not check(exact_network(model)).convex
    p = convexity_penalty(model, refresh_every=5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        value = p()
        if value.item() == 0.0 and p.calls % p.refresh_every == 1:
            break  # zero on a freshly computed region graph: every facet bends >= 0
        opt.zero_grad()
        value.backward()
        opt.step()
    assert check(exact_network(model)).convex
