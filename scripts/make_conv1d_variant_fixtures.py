#!/usr/bin/env python3
"""Generates test/fixtures/conv1d-variants.json, PyTorch references for st.layers.conv1dTranspose,
depthwiseConv1d and separableConv1d (test/conv1d-variants.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_conv1d_variant_fixtures.py` (PyTorch 1.13). The
case format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports.

Keras 3 semantics on TensorFlow, with torch's NCW functions and channels-last transposes:
  * conv1dTranspose: kernel [k, filters, in] = torch ConvTranspose1d weight [in, filters, k]
    permuted. Output length is Keras's deconv_output_length; the values are TensorFlow's
    conv1d_transpose, the input-gradient of a conv1d from an input of that length: torch's
    conv_transpose1d without padding, cropped by TensorFlow's 'same' padding before and
    zero-extended at the end when the output is longer (checked against torch autograd).
  * depthwiseConv1d: kernel [k, in, dm], output channel c * dm + m: a torch grouped conv1d with
    groups = in and weight [in * dm, 1, k]; bias [in * dm].
  * separableConv1d: the depthwise stage (no bias), then a pointwise conv with kernel
    [1, in * dm, filters], then the bias and activation.
'same' pads as TensorFlow (floor(total / 2) before, the odd step after).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import KINK_MARGIN, activate, make_case, normal, same_pads  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'conv1d-variants.json')


def draw(shape, weight_shapes, forward_pre, activation):
    while True:
        x = normal(shape)
        weights = [normal(s, 0.5) for s in weight_shapes]
        if activation != 'relu' or bool((forward_pre(x, *weights).abs() > KINK_MARGIN).all()):
            return x, [(w, True) for w in weights]


def deconv_length(n, k, s, d, padding, output_padding):
    k_eff = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(k_eff - s, 0) if padding == 'valid' else n * s
    pad = k_eff // 2 if padding == 'same' else 0
    return (n - 1) * s + k_eff - 2 * pad + output_padding


def transpose_cases():
    specs = [
        ('conv1d_transpose_valid_stride2', [2, 5, 3], {'filters': 2, 'kernelSize': 3, 'strides': 2}),
        ('conv1d_transpose_same_stride3_tanh', [2, 4, 2], {'filters': 3, 'kernelSize': 4, 'strides': 3, 'padding': 'same', 'activation': 'tanh'}),
        ('conv1d_transpose_output_padding_no_bias', [1, 4, 2], {'filters': 2, 'kernelSize': 3, 'strides': 2, 'outputPadding': 1, 'useBias': False}),
        ('conv1d_transpose_same_dilation2_relu', [2, 6, 2], {'filters': 2, 'kernelSize': 3, 'dilationRate': 2, 'padding': 'same', 'activation': 'relu'}),
    ]
    cases = []
    for name, shape, config in specs:
        k, s, d = config['kernelSize'], config.get('strides', 1), config.get('dilationRate', 1)
        padding, act = config.get('padding', 'valid'), config.get('activation')
        out = deconv_length(shape[1], k, s, d, padding, config.get('outputPadding'))
        pad = same_pads(out, k, s, d) if padding == 'same' else (0, 0)

        def pre(x, kernel, bias=None, k=k, s=s, d=d, out=out, pad=pad):
            full = F.conv_transpose1d(x.permute(0, 2, 1), kernel.permute(2, 1, 0), stride=s, dilation=d)
            full = F.pad(full, (0, max(pad[0] + out - full.shape[2], 0)))
            y = full[:, :, pad[0]:pad[0] + out].permute(0, 2, 1)
            return y if bias is None else y + bias

        def via_autograd(x, kernel, k=k, s=s, d=d, out=out, pad=pad):
            z = torch.zeros(x.shape[0], out, kernel.shape[1], requires_grad=True)
            y = F.conv1d(F.pad(z.permute(0, 2, 1), pad), kernel.permute(2, 1, 0), stride=s, dilation=d).permute(0, 2, 1)
            assert list(y.shape) == list(x.shape), (list(y.shape), list(x.shape))
            return torch.autograd.grad((y * x).sum(), z)[0]

        wshapes = [[k, config['filters'], shape[2]]] + ([[config['filters']]] if config.get('useBias', True) else [])
        x, weights = draw(shape, wshapes, pre, act)
        assert torch.allclose(pre(x, weights[0][0]), via_autograd(x, weights[0][0]), rtol=1e-12, atol=1e-12), name
        cases.append(make_case(name, 'conv1dTranspose', config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


def depthwise(x, kernel, k, s, d, padding):
    xc = x.permute(0, 2, 1)
    if padding == 'same':
        xc = F.pad(xc, same_pads(xc.shape[2], k, s, d))
    c, dm = kernel.shape[1], kernel.shape[2]
    w = kernel.permute(1, 2, 0).reshape(c * dm, 1, k)
    return F.conv1d(xc, w, stride=s, dilation=d, groups=c).permute(0, 2, 1)


def depthwise_cases():
    specs = [
        ('depthwise_conv1d_valid', 'depthwiseConv1d', [2, 7, 3], {'kernelSize': 3}),
        ('depthwise_conv1d_same_dm2_stride2_relu', 'depthwiseConv1d', [2, 7, 2],
         {'kernelSize': 3, 'depthMultiplier': 2, 'strides': 2, 'padding': 'same', 'activation': 'relu'}),
        ('separable_conv1d_valid_dm2', 'separableConv1d', [2, 6, 2], {'filters': 3, 'kernelSize': 2, 'depthMultiplier': 2}),
        ('separable_conv1d_same_dilation2_tanh_no_bias', 'separableConv1d', [2, 7, 3],
         {'filters': 2, 'kernelSize': 3, 'dilationRate': 2, 'padding': 'same', 'activation': 'tanh', 'useBias': False}),
    ]
    cases = []
    for name, layer, shape, config in specs:
        k, s, d = config['kernelSize'], config.get('strides', 1), config.get('dilationRate', 1)
        padding, act, dm = config.get('padding', 'valid'), config.get('activation'), config.get('depthMultiplier', 1)
        use_bias = config.get('useBias', True)
        c = shape[2]
        if layer == 'depthwiseConv1d':
            wshapes = [[k, c, dm]] + ([[c * dm]] if use_bias else [])

            def pre(x, kernel, bias=None, k=k, s=s, d=d, padding=padding):
                y = depthwise(x, kernel, k, s, d, padding)
                return y if bias is None else y + bias
        else:
            wshapes = [[k, c, dm], [1, c * dm, config['filters']]] + ([[config['filters']]] if use_bias else [])

            def pre(x, dk, pk, bias=None, k=k, s=s, d=d, padding=padding):
                y = depthwise(x, dk, k, s, d, padding) @ pk[0]
                return y if bias is None else y + bias
        x, weights = draw(shape, wshapes, pre, act)
        cases.append(make_case(name, layer, config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


def main():
    cases = transpose_cases() + depthwise_cases()
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_conv1d_variant_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
