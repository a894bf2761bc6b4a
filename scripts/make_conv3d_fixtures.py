#!/usr/bin/env python3
"""Generates test/fixtures/conv3d.json, PyTorch references for the 3-D layers of st.layers
(test/conv3d-layers.test.ts): conv3d, conv3dTranspose, maxPooling3d, averagePooling3d,
globalAveragePooling3d and globalMaxPooling3d.

Regenerate with `/usr/bin/python3 scripts/make_conv3d_fixtures.py` (PyTorch 1.13). The case
format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports.

Keras 3 semantics on TensorFlow, computed with torch's NCDHW modules and channels-last
transposes (x.permute(0, 4, 1, 2, 3) in, permute(0, 2, 3, 4, 1) out):
  * conv3d: kernel [kd, kh, kw, in, filters] = torch Conv3d weight [filters, in, kd, kh, kw]
    permuted; 'same' pads as TensorFlow (floor(total / 2) before, the odd voxel after).
  * conv3dTranspose: kernel [kd, kh, kw, filters, in] = torch ConvTranspose3d weight
    [in, filters, kd, kh, kw] permuted. Output size per axis is Keras's deconv_output_length;
    the values are TensorFlow's conv3d_transpose, the input-gradient of a conv3d from an input of
    the output's size: torch's conv_transpose3d without padding, cropped by TensorFlow's 'same'
    padding before, zero-extended at the end when the output is larger. Each case is also
    checked against torch autograd of that conv3d.
  * maxPooling3d / averagePooling3d: strides default to poolSize; 'same' max pooling pads with
    -inf; 'same' average pooling divides each window by its real (unpadded) voxels.
  * global poolings: the mean or maximum over depth, height and width; keepdims keeps them as 1.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import KINK_MARGIN, activate, make_case, normal, same_pads  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'conv3d.json')


def triple(v):
    return (v, v, v) if isinstance(v, int) else tuple(v)


def to_ncdhw(x):
    return x.permute(0, 4, 1, 2, 3)


def to_ndhwc(x):
    return x.permute(0, 2, 3, 4, 1)


def pad_same(xc, kernel, strides, dilation, value=0.0):
    """TensorFlow's 'same' padding of an NCDHW tensor."""
    pads = []
    for axis in (2, 1, 0):  # F.pad lists the last axis first
        pads += same_pads(xc.shape[2 + axis], kernel[axis], strides[axis], dilation[axis])
    return F.pad(xc, tuple(pads), value=value)


def draw(shape, weight_shapes, forward_pre, activation):
    """Random input and weights; for relu, redrawn until no pre-activation is near the kink."""
    while True:
        x = normal(shape)
        weights = [normal(s, 0.5) for s in weight_shapes]
        if activation != 'relu' or bool((forward_pre(x, *weights).abs() > KINK_MARGIN).all()):
            return x, [(w, True) for w in weights]


def conv3d_cases():
    specs = [
        ('conv3d_valid', [2, 4, 5, 4, 3], {'filters': 2, 'kernelSize': 3}),
        ('conv3d_same_stride2_relu', [2, 5, 4, 6, 2], {'filters': 3, 'kernelSize': [3, 2, 3], 'strides': 2, 'padding': 'same', 'activation': 'relu'}),
        ('conv3d_same_dilation2_no_bias', [1, 5, 5, 5, 2], {'filters': 2, 'kernelSize': 2, 'dilationRate': [2, 1, 2], 'padding': 'same', 'useBias': False}),
        ('conv3d_valid_strides_tanh', [2, 5, 6, 5, 2], {'filters': 2, 'kernelSize': [2, 3, 2], 'strides': [1, 2, 3], 'activation': 'tanh'}),
    ]
    cases = []
    for name, shape, config in specs:
        k, s, d = triple(config['kernelSize']), triple(config.get('strides', 1)), triple(config.get('dilationRate', 1))
        use_bias, act, padding = config.get('useBias', True), config.get('activation'), config.get('padding', 'valid')

        def pre(x, kernel, bias=None, k=k, s=s, d=d, padding=padding):
            xc = to_ncdhw(x)
            if padding == 'same':
                xc = pad_same(xc, k, s, d)
            y = to_ndhwc(F.conv3d(xc, kernel.permute(4, 3, 0, 1, 2), stride=s, dilation=d))
            if padding == 'same':
                assert list(y.shape[1:4]) == [-(-x.shape[1 + i] // s[i]) for i in range(3)]
            return y if bias is None else y + bias

        wshapes = [[*k, shape[4], config['filters']]] + ([[config['filters']]] if use_bias else [])
        x, weights = draw(shape, wshapes, pre, act)
        cases.append(make_case(name, 'conv3d', config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


def deconv_length(n, k, s, padding, output_padding):
    if output_padding is None:
        return n * s + max(k - s, 0) if padding == 'valid' else n * s
    pad = k // 2 if padding == 'same' else 0
    return (n - 1) * s + k - 2 * pad + output_padding


def conv3d_transpose_cases():
    specs = [
        ('conv3d_transpose_valid_stride2', [2, 2, 3, 2, 3], {'filters': 2, 'kernelSize': 3, 'strides': 2}),
        ('conv3d_transpose_same_stride2', [2, 2, 3, 3, 2], {'filters': 3, 'kernelSize': [3, 2, 3], 'strides': 2, 'padding': 'same'}),
        ('conv3d_transpose_valid_kernel_below_stride', [1, 2, 2, 3, 2], {'filters': 2, 'kernelSize': 2, 'strides': [3, 2, 3]}),
        ('conv3d_transpose_same_output_padding_tanh', [2, 2, 3, 2, 2],
         {'filters': 2, 'kernelSize': 3, 'strides': [2, 3, 2], 'padding': 'same', 'outputPadding': [1, 2, 0], 'activation': 'tanh'}),
        ('conv3d_transpose_valid_output_padding_no_bias', [1, 3, 2, 2, 2],
         {'filters': 2, 'kernelSize': 2, 'strides': 2, 'outputPadding': 1, 'useBias': False}),
    ]
    cases = []
    for name, shape, config in specs:
        k, s = triple(config['kernelSize']), triple(config.get('strides', 1))
        padding, op = config.get('padding', 'valid'), config.get('outputPadding')
        op = None if op is None else triple(op)
        out = [deconv_length(shape[1 + i], k[i], s[i], padding, None if op is None else op[i]) for i in range(3)]
        pads = []
        for i in range(3):
            assert -(-out[i] // s[i]) == shape[1 + i] if padding == 'same' else (out[i] - k[i]) // s[i] + 1 == shape[1 + i]
            total = max((shape[1 + i] - 1) * s[i] + k[i] - out[i], 0) if padding == 'same' else 0
            pads.append((total // 2, total - total // 2))
        use_bias, act = config.get('useBias', True), config.get('activation')

        def pre(x, kernel, bias=None, k=k, s=s, out=out, pads=pads):
            full = F.conv_transpose3d(to_ncdhw(x), kernel.permute(4, 3, 0, 1, 2), stride=s)
            extra = [max(pads[i][0] + out[i] - full.shape[2 + i], 0) for i in range(3)]
            full = F.pad(full, (0, extra[2], 0, extra[1], 0, extra[0]))
            (a, _), (b, _), (c, _) = pads
            y = to_ndhwc(full[:, :, a:a + out[0], b:b + out[1], c:c + out[2]])
            return y if bias is None else y + bias

        def via_autograd(x, kernel, k=k, s=s, out=out, pads=pads):
            z = torch.zeros(x.shape[0], *out, kernel.shape[3], requires_grad=True)
            zc = F.pad(to_ncdhw(z), (pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
            y = to_ndhwc(F.conv3d(zc, kernel.permute(4, 3, 0, 1, 2), stride=s))
            assert list(y.shape) == list(x.shape), (list(y.shape), list(x.shape))
            return torch.autograd.grad((y * x).sum(), z)[0]

        wshapes = [[*k, config['filters'], shape[4]]] + ([[config['filters']]] if use_bias else [])
        x, weights = draw(shape, wshapes, pre, act)
        assert torch.allclose(pre(x, weights[0][0]), via_autograd(x, weights[0][0]), rtol=1e-12, atol=1e-12), name
        cases.append(make_case(name, 'conv3dTranspose', config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


def pool_cases():
    specs = [
        ('max_pooling3d_default', 'maxPooling3d', [2, 4, 5, 4, 2], {}),
        ('max_pooling3d_same_strides', 'maxPooling3d', [2, 5, 4, 5, 3], {'poolSize': [3, 2, 3], 'strides': [2, 1, 2], 'padding': 'same'}),
        ('average_pooling3d_valid', 'averagePooling3d', [2, 5, 4, 6, 2], {'poolSize': [2, 3, 2], 'strides': [1, 1, 2]}),
        ('average_pooling3d_same', 'averagePooling3d', [2, 5, 5, 4, 2], {'poolSize': 3, 'strides': 2, 'padding': 'same'}),
    ]
    cases = []
    for name, layer, shape, config in specs:
        p = triple(config.get('poolSize', 2))
        s = triple(config.get('strides', p))
        padding = config.get('padding', 'valid')

        def fwd(x, layer=layer, p=p, s=s, padding=padding):
            xc = to_ncdhw(x)
            if layer == 'maxPooling3d':
                if padding == 'same':
                    xc = pad_same(xc, p, s, (1, 1, 1), value=float('-inf'))
                return to_ndhwc(F.max_pool3d(xc, p, s)), None
            ones = torch.ones_like(xc[:, :1])
            if padding == 'same':
                xc, ones = pad_same(xc, p, s, (1, 1, 1)), pad_same(ones, p, s, (1, 1, 1))
            # The sum over each window divided by its count of real voxels.
            return to_ndhwc(F.avg_pool3d(xc, p, s) / F.avg_pool3d(ones, p, s)), None

        cases.append(make_case(name, layer, config, normal(shape), [], fwd))
    for name, layer, config in [
        ('global_average_pooling3d', 'globalAveragePooling3d', {}),
        ('global_max_pooling3d_keepdims', 'globalMaxPooling3d', {'keepdims': True}),
    ]:
        def fwd(x, layer=layer, keep=config.get('keepdims', False)):
            y = x.mean(dim=(1, 2, 3), keepdim=keep) if layer == 'globalAveragePooling3d' else x.amax(dim=(1, 2, 3), keepdim=keep)
            return y, None
        cases.append(make_case(name, layer, config, normal([2, 3, 4, 2, 3]), [], fwd))
    return cases


def main():
    cases = conv3d_cases() + conv3d_transpose_cases() + pool_cases()
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_conv3d_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
