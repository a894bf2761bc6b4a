#!/usr/bin/env python3
"""Generates test/fixtures/extra-layers.json, PyTorch references for the layers of
src/nn/layers/extra-layers.ts (test/extra-layers.test.ts): the activation layers with parameters,
Permute, RepeatVector, Dot, RMSNormalization, Normalization, the 1-D and 3-D upsampling, padding
and cropping, and the pass-through layers (Identity, Masking, ActivityRegularization, the dropout
variants at inference).

Regenerate with `/usr/bin/python3 scripts/make_extra_layer_fixtures.py` (PyTorch 1.13). The case
format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports. A case may carry `mask` (0/1 of
the input's leading shape, attached to the input before the layer is applied). `gradWeights` has
null for non-trainable weights.

The semantics are Keras 3.15's (keras/src/layers/...), written with torch ops; where torch has the
function itself the hand-written form is checked against it:
  * LeakyReLU: x if x >= 0 else negative_slope * x, the layer's default slope 0.3
    (F.leaky_relu). ELU: x if x > 0 else alpha (e^x - 1) (F.elu). ThresholdedReLU (tfjs, Keras 2):
    x if x > theta else 0 (F.threshold(x, theta, 0)).
  * PReLU: relu(x) - alpha * relu(-x), alpha of the input's shape without the batch axis, 1 on
    sharedAxes (F.prelu for one slope per channel of a channels-first input).
  * Softmax: with a mask, logits + (1 - mask) * -1e9 first; several axes: exp(x - logsumexp).
  * Dot: batch_dot over one axis of each input, L2-normalized first with x / max(|x|, 1e-7) when
    normalize; rank-1 results become [batch, 1].
  * RMSNormalization: x * rsqrt(mean(x^2, axis) + epsilon) * scale, epsilon 1e-6 (the layer's).
  * Normalization: (x - mean) / max(sqrt(variance), 1e-7), mean and variance given or the layer's
    non-trainable weights [mean, variance, count].
  * UpSampling1D/3D repeat steps (repeat_interleave); ZeroPadding and Cropping pad and slice.
  * SpectralNormalization: one training call against torch.nn.utils.spectral_norm (see
    spectral_case), stored beside the cases.
Inputs of kinked activations stay KINK_MARGIN away from the kink.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import KINK_MARGIN, enc, f32, make_case, normal  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'extra-layers.json')


def away_from(shape, kink, scale=1.0):
    while True:
        t = normal(shape, scale)
        if bool(((t - kink).abs() > KINK_MARGIN).all()):
            return t


def activation_cases():
    cases = []
    x = away_from([3, 5], 0.0, 1.5)
    for cfg, slope in (({}, 0.3), ({'negativeSlope': 0.1}, 0.1), ({'alpha': 0.05}, 0.05)):
        ref = lambda t, s=slope: torch.where(t >= 0, t, s * t)
        assert torch.allclose(ref(x), F.leaky_relu(x, slope), rtol=1e-14, atol=0)
        cases.append(make_case('leaky_relu_' + (json.dumps(cfg) if cfg else 'default'), 'leakyReLU', cfg, x, [],
                               lambda t, r=ref: (r(t), None)))
    for alpha in (1.0, 0.5):
        cases.append(make_case('elu_alpha_%g' % alpha, 'elu', {'alpha': alpha}, x, [],
                               lambda t, a=alpha: (F.elu(t, alpha=a), None)))
    for theta in (1.0, 0.5):
        xt = away_from([3, 5], theta, 1.5)
        cases.append(make_case('thresholded_relu_%g' % theta, 'thresholdedReLU', {'theta': theta}, xt, [],
                               lambda t, th=theta: (F.threshold(t, th, 0.0), None)))

    def prelu(t, alpha):
        return F.relu(t) - alpha * F.relu(-t)

    xp = away_from([2, 4, 3], 0.0)
    alpha = normal([4, 3], 0.3)
    cases.append(make_case('prelu_full', 'prelu', {}, xp, [(alpha, True)], lambda t, a: (prelu(t, a), None)))
    alpha_c = normal([1, 3], 0.3)
    # One slope per channel is torch's PReLU on channels-first data.
    assert torch.allclose(prelu(xp, alpha_c), F.prelu(xp.transpose(1, 2), alpha_c.reshape(3)).transpose(1, 2), rtol=1e-14, atol=0)
    cases.append(make_case('prelu_shared_axis_1', 'prelu', {'sharedAxes': [1]}, xp, [(alpha_c, True)],
                           lambda t, a: (prelu(t, a), None)))
    xi = away_from([2, 3, 2, 4], 0.0)
    alpha_i = normal([1, 1, 4], 0.3)
    cases.append(make_case('prelu_shared_axes_1_2', 'prelu', {'sharedAxes': [1, 2]}, xi, [(alpha_i, True)],
                           lambda t, a: (prelu(t, a), None)))

    xs = normal([2, 3, 4], 2.0)
    cases.append(make_case('softmax_last', 'softmax', {}, xs, [], lambda t: (F.softmax(t, -1), None)))
    cases.append(make_case('softmax_axis_1', 'softmax', {'axis': 1}, xs, [], lambda t: (F.softmax(t, 1), None)))
    cases.append(make_case('softmax_axes_1_2', 'softmax', {'axis': [1, 2]}, xs, [],
                           lambda t: (torch.exp(t - torch.logsumexp(t, dim=(1, 2), keepdim=True)), None)))
    xm = normal([3, 5], 2.0)
    mask = torch.tensor([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float64)
    case = make_case('softmax_masked', 'softmax', {}, xm, [],
                     lambda t: (F.softmax(t + (1 - mask) * -1e9, -1), None))
    case['mask'] = enc(mask, exact32=True)
    cases.append(case)
    return cases


def batch_dot(x, y, a1, a2, normalize):
    if normalize:
        x = x / x.norm(dim=a1, keepdim=True).clamp_min(1e-7)
        y = y / y.norm(dim=a2, keepdim=True).clamp_min(1e-7)
    xm = x.movedim(a1, -1)
    ym = y.movedim(a2, 1)
    out = torch.bmm(xm.reshape(xm.shape[0], -1, xm.shape[-1]), ym.reshape(ym.shape[0], ym.shape[1], -1))
    out = out.reshape(list(xm.shape[:-1]) + list(ym.shape[2:]))
    return out.reshape(out.shape[0], 1) if out.dim() == 1 else out


def dot_cases():
    cases = []
    # Two inputs: the case's input is their concatenation along a new leading axis of 2 when the
    # shapes agree; the test splits it. Shapes that differ go as 'input' and 'input2'.
    specs = [
        ('dot_vectors', {'axes': 1}, [4, 6], [4, 6], 1, 1, False),
        ('dot_vectors_normalized', {'axes': 1, 'normalize': True}, [4, 6], [4, 6], 1, 1, True),
        ('dot_sequences_2_2', {'axes': [2, 2]}, [2, 3, 5], [2, 4, 5], 2, 2, False),
        ('dot_sequences_1_2_normalized', {'axes': [1, 2], 'normalize': True}, [2, 3, 5], [2, 4, 3], 1, 2, True),
        ('dot_rank_2_and_3_negative', {'axes': -1}, [2, 5], [2, 3, 5], 1, 2, False),
    ]
    for name, cfg, s1, s2, a1, a2, norm in specs:
        x = normal(s1)
        y = normal(s2)
        x_leaf = x.clone().requires_grad_(True)
        y_leaf = y.clone().requires_grad_(True)
        out = batch_dot(x_leaf, y_leaf, a1, a2, norm)
        upstream = normal(out.shape)
        gx, gy = torch.autograd.grad((out * upstream).sum(), [x_leaf, y_leaf])
        cases.append({'name': name, 'layer': 'dot', 'config': cfg, 'training': False, 'input': enc(x, exact32=True),
                      'input2': enc(y, exact32=True), 'weights': [], 'output': enc(out), 'upstream': enc(upstream, exact32=True),
                      'gradInput': enc(gx), 'gradInput2': enc(gy), 'gradWeights': []})
    return cases


def norm_cases():
    cases = []

    def rms(t, scale, dims, eps=1e-6):
        return t * torch.rsqrt((t * t).mean(dim=dims, keepdim=True) + eps) * scale

    x = normal([3, 4, 5])
    scale = normal([5], 0.5, 1.0)
    cases.append(make_case('rms_normalization_last', 'rmsNormalization', {}, x, [(scale, True)],
                           lambda t, s: (rms(t, s, (-1,)), None)))
    scale2 = normal([4, 5], 0.5, 1.0)
    cases.append(make_case('rms_normalization_axes_1_2_eps', 'rmsNormalization', {'axis': [1, 2], 'epsilon': 0.1}, x,
                           [(scale2, True)], lambda t, s: (rms(t, s, (1, 2), 0.1), None)))
    mean = torch.tensor([0.5, -1.0, 2.0, 0.25, 1.5])
    var = torch.tensor([1.0, 4.0, 0.25, 2.0, 9.0])
    cases.append(make_case('normalization_given', 'normalization', {'mean': mean.tolist(), 'variance': var.tolist()}, x, [],
                           lambda t: ((t - mean) / var.sqrt().clamp_min(1e-7), None)))
    cases.append(make_case('normalization_given_inverted', 'normalization',
                           {'mean': mean.tolist(), 'variance': var.tolist(), 'invert': True}, x, [],
                           lambda t: (mean + t * var.sqrt().clamp_min(1e-7), None)))
    mean4 = normal([4])
    var4 = f32(normal([4]).abs() + 0.5)
    count = torch.tensor(12.0)
    cases.append(make_case('normalization_axis_1_weights', 'normalization', {'axis': 1}, x,
                           [(mean4, False), (var4, False), (count, False)],
                           lambda t, m, v, c: ((t - m.reshape(1, 4, 1)) / v.sqrt().clamp_min(1e-7).reshape(1, 4, 1), None)))
    return cases


def shape_cases():
    cases = []
    x3 = normal([2, 3, 4])
    cases.append(make_case('permute_2_1', 'permute', {'dims': [2, 1]}, x3, [], lambda t: (t.permute(0, 2, 1), None)))
    x4 = normal([2, 3, 4, 2])
    cases.append(make_case('permute_3_1_2', 'permute', {'dims': [3, 1, 2]}, x4, [], lambda t: (t.permute(0, 3, 1, 2), None)))
    cases.append(make_case('repeat_vector_3', 'repeatVector', {'n': 3}, normal([2, 4]), [],
                           lambda t: (t.unsqueeze(1).expand(2, 3, 4), None)))
    cases.append(make_case('up_sampling_1d_3', 'upSampling1d', {'size': 3}, x3, [],
                           lambda t: (t.repeat_interleave(3, dim=1), None)))
    x5 = normal([2, 2, 3, 2, 3])
    cases.append(make_case('up_sampling_3d_1_2_3', 'upSampling3d', {'size': [1, 2, 3]}, x5, [],
                           lambda t: (t.repeat_interleave(2, dim=2).repeat_interleave(3, dim=3), None)))
    cases.append(make_case('up_sampling_3d_channels_first', 'upSampling3d', {'size': 2, 'dataFormat': 'channelsFirst'}, x5, [],
                           lambda t: (t.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3).repeat_interleave(2, dim=4), None)))
    cases.append(make_case('zero_padding_1d_1_2', 'zeroPadding1d', {'padding': [1, 2]}, x3, [],
                           lambda t: (F.pad(t, (0, 0, 1, 2)), None)))
    cases.append(make_case('zero_padding_3d', 'zeroPadding3d', {'padding': [[1, 0], [0, 2], [1, 1]]}, x5, [],
                           lambda t: (F.pad(t, (0, 0, 1, 1, 0, 2, 1, 0)), None)))
    cases.append(make_case('cropping_1d_1_0', 'cropping1d', {'cropping': [1, 0]}, x3, [], lambda t: (t[:, 1:], None)))
    x6 = normal([2, 4, 5, 3, 2])
    cases.append(make_case('cropping_3d', 'cropping3d', {'cropping': [[1, 2], [0, 1], [1, 1]]}, x6, [],
                           lambda t: (t[:, 1:2, 0:4, 1:2], None)))
    cases.append(make_case('cropping_3d_channels_first', 'cropping3d', {'cropping': [[1, 1], [1, 1], [0, 0]], 'dataFormat': 'channelsFirst'},
                           x6, [], lambda t: (t[:, :, 1:4, 1:2, :], None)))
    # Layers that pass values through at inference.
    x2 = normal([3, 4])
    for name, layer, cfg in (('identity', 'identity', {}), ('activity_regularization', 'activityRegularization', {'l1': 0.01, 'l2': 0.1}),
                             ('alpha_dropout_inference', 'alphaDropout', {'rate': 0.3}),
                             ('spatial_dropout_1d_inference', 'spatialDropout1d', {'rate': 0.3})):
        cases.append(make_case(name, layer, cfg, x3 if layer == 'spatialDropout1d' else x2, [], lambda t: (t, None)))
    xm = normal([2, 4, 3])
    xm[0, 1] = 0.0
    xm[1, 3] = 0.0
    cases.append(make_case('masking_zero', 'masking', {}, xm, [],
                           lambda t: (t * (t != 0).any(dim=-1, keepdim=True), None)))
    return cases


def spectral_case():
    """SpectralNormalization(Dense(3), power_iterations=2) in training mode, against
    torch.nn.utils.spectral_norm on the Linear with the same weights and the same initial u: the
    output, the kernel and u written back (Keras assigns kernel / sigma to the kernel), and the
    gradients, which in Keras flow to that kernel as a plain variable (sigma is not differentiated
    through, unlike torch's spectral_norm): so they are a Dense's at the normalized kernel."""
    x = normal([4, 5])
    kernel = normal([5, 3])
    bias = normal([3], 0.5)
    u0 = normal([1, 3])
    lin = torch.nn.Linear(5, 3)
    with torch.no_grad():
        lin.weight.copy_(kernel.t())
        lin.bias.copy_(bias)
    sn = torch.nn.utils.spectral_norm(lin, n_power_iterations=2, eps=1e-12)
    with torch.no_grad():
        sn.weight_u.copy_(u0.reshape(3))
    sn.train()
    out = sn(x)
    normalized = sn.weight.detach().t().clone()
    u_after = sn.weight_u.detach().reshape(1, 3).clone()
    k = normalized.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    xl = x.clone().requires_grad_(True)
    y = xl @ k + b
    assert torch.allclose(y, out, rtol=1e-12, atol=1e-12)
    upstream = normal(y.shape)
    gx, gk, gb = torch.autograd.grad((y * upstream).sum(), [xl, k, b])
    return {'input': enc(x, exact32=True), 'kernel': enc(kernel, exact32=True), 'bias': enc(bias, exact32=True),
            'vectorU': enc(u0, exact32=True), 'powerIterations': 2, 'output': enc(y), 'kernelAfter': enc(normalized),
            'vectorUAfter': enc(u_after), 'upstream': enc(upstream, exact32=True), 'gradInput': enc(gx),
            'gradKernel': enc(gk), 'gradBias': enc(gb)}


def main():
    cases = activation_cases() + dot_cases() + norm_cases() + shape_cases()
    names = [c['name'] for c in cases]
    assert len(names) == len(set(names)), 'duplicate case names'
    doc = {'generator': 'scripts/make_extra_layer_fixtures.py', 'torch': torch.__version__, 'cases': cases,
           'spectralNormalization': spectral_case()}
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('%s: %d cases, %d bytes' % (os.path.relpath(OUT_PATH), len(cases), os.path.getsize(OUT_PATH)))


if __name__ == '__main__':
    main()
