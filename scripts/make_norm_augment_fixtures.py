#!/usr/bin/env python3
"""Generates test/fixtures/norm-augment.json: PyTorch references for the normalization variants
(test/norm-augment.test.ts): groupNormalization, unitNormalization, and layerNormalization over
several axes.

Regenerate with `/usr/bin/python3 scripts/make_norm_augment_fixtures.py` (PyTorch 1.13).
Deterministic: one fixed seed, no clock, no network. Computed in float64; inputs, weights and the
upstream gradient are rounded to float32 first and written as their exact doubles, so Strata sees
exactly torch's values in float32 and in float64. Expected values keep 13 significant digits.

Each case: {name, layer, config, input, weights, output, upstream, gradInput, gradWeights}.
`layer` is the st.layers.* factory, `config` its Keras-style options, `weights` in Keras order and
layout (gamma then beta). Gradients are of sum(output * upstream) by torch.autograd.

Keras 3 semantics reproduced here:
  * groupNormalization: channels on `axis` (default last) split into `groups` contiguous groups;
    per sample and group, mean and BIASED variance over the group's channels and every other
    non-batch axis; epsilon 1e-3 by default; per-channel gamma, beta. This is torch's
    F.group_norm on the channels-first layout, so channels-last inputs are permuted to (N, C, *).
  * unitNormalization: x * rsqrt(max(sum(x^2 over axis), 1e-12)) (Keras bounds the squared norm;
    torch's F.normalize bounds the norm, so it is written out).
  * layerNormalization over several axes: gamma and beta have the shape of those axes; torch's
    F.layer_norm normalizes the trailing axes, so the axes are permuted to the end.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from fixture_common import f32, normal, short64

torch.manual_seed(20240521)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'norm-augment.json')


def exact32(v):
    assert float(np.float32(v)) == v, 'value is not float32-exact'
    return float(v)


def enc(t, exact=False):
    t = t.detach()
    conv = exact32 if exact else short64
    return {'shape': list(t.shape), 'data': [conv(v) for v in t.reshape(-1).tolist()]}


def make_case(name, layer, config, x, weights, forward):
    x_leaf = x.clone().requires_grad_(True)
    w_leaves = [w.clone().requires_grad_(True) for w in weights]
    out = forward(x_leaf, *w_leaves)
    upstream = normal(out.shape)
    grads = torch.autograd.grad((out * upstream).sum(), [x_leaf] + w_leaves)
    return {
        'name': name, 'layer': layer, 'config': config,
        'input': enc(x, True), 'weights': [enc(w, True) for w in weights],
        'output': enc(out), 'upstream': enc(upstream, True),
        'gradInput': enc(grads[0]), 'gradWeights': [enc(g) for g in grads[1:]],
    }


# ---------------------------------------------------------------------------------------------
# groupNormalization


def group_norm_forward(groups, axis, eps, scale=True, center=True):
    """Keras GroupNormalization via torch's group_norm on the channels-first layout."""
    def fwd(x, *ws):
        ws = list(ws)
        a = axis % x.dim()
        # Constant ones/zeros stand in for an absent gamma/beta (torch 1.13's group_norm backward
        # fails with weight=None and a bias).
        gamma = ws.pop(0) if scale else torch.ones(x.shape[a])
        beta = ws.pop(0) if center else torch.zeros(x.shape[a])
        order = [0, a] + [i for i in range(1, x.dim()) if i != a]
        y = F.group_norm(x.permute(order).contiguous(), groups, weight=gamma, bias=beta, eps=eps)
        return y.permute([int(i) for i in np.argsort(order)])
    return fwd


def group_norm_cases():
    cases = []
    specs = [
        # name, input shape, config, torch groups, axis, eps, scale, center
        ('groupnorm_g2_nhwc', [2, 4, 4, 6], {'groups': 2}, 2, -1, 1e-3, True, True),
        ('groupnorm_instance', [2, 3, 3, 4], {'groups': 4}, 4, -1, 1e-3, True, True),
        ('groupnorm_instance_minus1', [2, 3, 3, 4], {'groups': -1}, 4, -1, 1e-3, True, True),
        ('groupnorm_g1_sequence', [3, 5, 4], {'groups': 1}, 1, -1, 1e-3, True, True),
        ('groupnorm_axis1_nchw', [2, 6, 3, 3], {'groups': 3, 'axis': 1}, 3, 1, 1e-3, True, True),
        ('groupnorm_no_scale_eps', [2, 4, 8], {'groups': 4, 'scale': False, 'epsilon': 1e-5}, 4, -1, 1e-5, False, True),
        ('groupnorm_no_center', [2, 2, 2, 4], {'groups': 2, 'center': False}, 2, -1, 1e-3, True, False),
    ]
    for name, shape, config, groups, axis, eps, scale, center in specs:
        channels = shape[axis]
        # A non-zero mean and a spread per channel, so centring and scaling both matter.
        x = normal(shape, 1.5, 0.7)
        weights = []
        if scale:
            weights.append(normal([channels], 0.5, 1.0))
        if center:
            weights.append(normal([channels], 0.5))
        cases.append(make_case(name, 'groupNormalization', config, x, weights, group_norm_forward(groups, axis, eps, scale, center)))
    return cases


# ---------------------------------------------------------------------------------------------
# unitNormalization


def unit_norm_forward(axes):
    def fwd(x):
        square_sum = (x * x).sum(dim=axes, keepdim=True)
        return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))
    return fwd


def unit_norm_cases():
    x = normal([4, 5])
    x[2] = 0.0  # an all-zero vector: Keras's epsilon keeps it zero
    cases = [make_case('unitnorm_last', 'unitNormalization', {}, x, [], unit_norm_forward([-1]))]
    cases.append(make_case('unitnorm_axes12', 'unitNormalization', {'axis': [1, 2]}, normal([2, 3, 4, 2]), [], unit_norm_forward([1, 2])))
    cases.append(make_case('unitnorm_axis1', 'unitNormalization', {'axis': 1}, normal([2, 3, 4]), [], unit_norm_forward([1])))
    return cases


# ---------------------------------------------------------------------------------------------
# layerNormalization over several axes (the existing layer, checked here)


def layer_norm_forward(axes, eps=1e-3):
    def fwd(x, gamma, beta):
        rank = x.dim()
        norm_axes = sorted(a % rank for a in axes)
        order = [i for i in range(rank) if i not in norm_axes] + norm_axes
        y = F.layer_norm(x.permute(order), [x.shape[a] for a in norm_axes], weight=gamma, bias=beta, eps=eps)
        return y.permute([int(i) for i in np.argsort(order)])
    return fwd


def layer_norm_cases():
    cases = []
    for name, shape, axes in [
        ('layernorm_axes_1_2', [2, 3, 4, 5], [1, 2]),
        ('layernorm_axes_m2_m1', [2, 3, 4, 5], [-2, -1]),
        ('layernorm_axes_1_2_3', [2, 3, 2, 4], [1, 2, 3]),
    ]:
        sizes = [shape[a] for a in sorted(a % len(shape) for a in axes)]
        x = normal(shape, 1.3, 0.4)
        weights = [normal(sizes, 0.5, 1.0), normal(sizes, 0.5)]
        cases.append(make_case(name, 'layerNormalization', {'axis': axes}, x, weights, layer_norm_forward(axes)))
    return cases


def main():
    cases = group_norm_cases() + unit_norm_cases() + layer_norm_cases()
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_norm_augment_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.relpath(OUT_PATH)))


if __name__ == '__main__':
    main()
