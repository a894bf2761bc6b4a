#!/usr/bin/env python3
"""Generates test/fixtures/conv-family.json, PyTorch references for the convolution family of
st.layers (test/conv-family.test.ts): conv1d, conv2dTranspose, depthwiseConv2d, separableConv2d,
upSampling2d, zeroPadding2d, cropping2d and the 1-D poolings.

Regenerate with `/usr/bin/python3 scripts/make_conv_family_fixtures.py` (PyTorch 1.13). The case
format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports. A case may also carry `mask`
(bool [batch, steps] as 0/1), attached to the input before the layer is applied.

The semantics are Keras 3 on TensorFlow, not torch's defaults:
  * conv1d: input [N, T, C], kernel [k, in, filters]. 'same' pads as TensorFlow (odd step at
    the end); 'causal' pads (k - 1) * dilation steps at the start only, then 'valid'.
  * conv2dTranspose: kernel [kh, kw, filters, in]. Output size (Keras's deconv_output_length):
    without outputPadding 'valid' n*s + max(k_eff - s, 0), 'same' n*s; with it
    (n - 1)*s + k_eff - 2*pad + outputPadding, pad = k_eff // 2 for 'same', 0 for 'valid'. The
    values are TensorFlow's conv_transpose: the gradient of a conv2d whose input has that size,
    with TensorFlow's 'same' padding computed on it. Here: torch's conv_transpose2d without
    padding, cropped by the 'same' padding before, zero-extended at the bottom/right when the
    output is larger; every case is also checked against torch autograd of that conv2d.
  * depthwiseConv2d: kernel [kh, kw, in, depthMultiplier], output channel c * dm + m (a torch
    grouped conv with groups = in); bias [in * dm].
  * separableConv2d: depthwise (no bias) then a 1x1 conv with pointwise kernel
    [1, 1, in * dm, filters], then bias and activation.
  * upSampling2d: 'nearest' repeats rows and columns; 'bilinear' is tf.image.resize with
    half-pixel centers = torch interpolate(mode='bilinear', align_corners=False) at a given size.
  * Pooling 1-D: strides default to poolSize; 'same' max pooling pads with -inf; 'same' average
    pooling divides by the number of real steps. globalAveragePooling1d with a mask averages the
    unmasked steps only: sum(x * mask) / sum(mask).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import (KINK_MARGIN, activate, enc, f32, make_case, normal,  # noqa: E402
                                 pair, same_pads, to_nchw, to_nhwc)

torch.manual_seed(20240923)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'conv-family.json')


def with_bias(y, bias, activation):
    return activate(activation, y if bias is None else y + bias)


def draw(shape, weight_shapes, forward_pre, activation):
    """Random input and weights; for relu, redrawn until no pre-activation is near the kink."""
    while True:
        x = normal(shape)
        weights = [normal(s, 0.5) for s in weight_shapes]
        if activation != 'relu' or bool((forward_pre(x, *weights).abs() > KINK_MARGIN).all()):
            return x, [(w, True) for w in weights]


# ---------------------------------------------------------------------------------------------
# conv1d


def conv1d_forward(config):
    k, s, d = config['kernelSize'], config.get('strides', 1), config.get('dilationRate', 1)
    padding = config.get('padding', 'valid')

    def pre(x, kernel, bias=None):
        xc = x.permute(0, 2, 1)  # [N, C, T]
        if padding == 'same':
            xc = F.pad(xc, same_pads(xc.shape[2], k, s, d))
        elif padding == 'causal':
            xc = F.pad(xc, ((k - 1) * d, 0))
        y = F.conv1d(xc, kernel.permute(2, 1, 0), stride=s, dilation=d).permute(0, 2, 1)
        if padding != 'valid':
            assert y.shape[1] == -(-x.shape[1] // s), (padding, list(y.shape))
        return y if bias is None else y + bias
    return pre


def conv1d_cases():
    specs = [
        ('conv1d_valid', [2, 7, 3], {'filters': 4, 'kernelSize': 3}),
        ('conv1d_same_even_kernel_stride2', [2, 8, 3], {'filters': 2, 'kernelSize': 4, 'strides': 2, 'padding': 'same'}),
        ('conv1d_causal_dilation2', [2, 9, 2], {'filters': 3, 'kernelSize': 3, 'dilationRate': 2, 'padding': 'causal'}),
        ('conv1d_causal_stride2_tanh_no_bias', [2, 7, 2],
         {'filters': 3, 'kernelSize': 2, 'strides': 2, 'padding': 'causal', 'activation': 'tanh', 'useBias': False}),
        ('conv1d_same_dilation3_relu', [2, 8, 3], {'filters': 2, 'kernelSize': 3, 'dilationRate': 3, 'padding': 'same', 'activation': 'relu'}),
    ]
    cases = []
    for name, shape, config in specs:
        use_bias, act = config.get('useBias', True), config.get('activation')
        wshapes = [[config['kernelSize'], shape[2], config['filters']]] + ([[config['filters']]] if use_bias else [])
        pre = conv1d_forward(config)
        x, weights = draw(shape, wshapes, pre, act)
        cases.append(make_case(name, 'conv1d', config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


# ---------------------------------------------------------------------------------------------
# conv2dTranspose


def deconv_length(n, k, s, d, padding, output_padding):
    k_eff = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(k_eff - s, 0) if padding == 'valid' else n * s
    pad = k_eff // 2 if padding == 'same' else 0
    return (n - 1) * s + k_eff - 2 * pad + output_padding


def tf_pad_before(out_len, n, k, s, d, padding):
    """TensorFlow's padding of the conv2d from out_len back to n (what conv_transpose inverts)."""
    if padding == 'valid':
        return 0, 0
    assert -(-out_len // s) == n
    total = max((n - 1) * s + (k - 1) * d + 1 - out_len, 0)
    return total // 2, total - total // 2


def conv_transpose_forward(config, in_shape):
    k, s, d = pair(config['kernelSize']), pair(config.get('strides', 1)), pair(config.get('dilationRate', 1))
    padding, op = config.get('padding', 'valid'), config.get('outputPadding')
    op = None if op is None else pair(op)
    out = [deconv_length(in_shape[1 + i], k[i], s[i], d[i], padding, None if op is None else op[i]) for i in (0, 1)]
    pads = [tf_pad_before(out[i], in_shape[1 + i], k[i], s[i], d[i], padding) for i in (0, 1)]

    def pre(x, kernel, bias=None):
        full = F.conv_transpose2d(to_nchw(x), kernel.permute(3, 2, 0, 1), stride=s, dilation=d)
        (top, _), (left, _) = pads
        extra_h = max(top + out[0] - full.shape[2], 0)
        extra_w = max(left + out[1] - full.shape[3], 0)
        full = F.pad(full, (0, extra_w, 0, extra_h))
        y = to_nhwc(full[:, :, top:top + out[0], left:left + out[1]])
        return y if bias is None else y + bias

    def via_autograd(x, kernel):
        """The same output as the input-gradient of conv2d(z) for z of the output's size."""
        z = torch.zeros(x.shape[0], out[0], out[1], kernel.shape[2], requires_grad=True)
        (top, bottom), (left, right) = pads
        zc = F.pad(to_nchw(z), (left, right, top, bottom))
        y = to_nhwc(F.conv2d(zc, kernel.permute(3, 2, 0, 1), stride=s, dilation=d))
        assert list(y.shape) == list(x.shape), (list(y.shape), list(x.shape))
        return torch.autograd.grad((y * x).sum(), z)[0]

    return pre, via_autograd


def conv_transpose_cases():
    specs = [
        ('conv2d_transpose_valid_stride2', [2, 3, 4, 3], {'filters': 2, 'kernelSize': 3, 'strides': 2}),
        ('conv2d_transpose_same_stride2', [2, 3, 4, 3], {'filters': 2, 'kernelSize': 3, 'strides': 2, 'padding': 'same'}),
        ('conv2d_transpose_same_even_kernel', [2, 3, 3, 2], {'filters': 3, 'kernelSize': 4, 'strides': 2, 'padding': 'same'}),
        ('conv2d_transpose_valid_kernel_below_stride', [2, 3, 2, 2], {'filters': 2, 'kernelSize': 2, 'strides': 3}),
        ('conv2d_transpose_valid_output_padding', [2, 3, 4, 2],
         {'filters': 2, 'kernelSize': 3, 'strides': 2, 'outputPadding': 1, 'useBias': False}),
        ('conv2d_transpose_same_output_padding_tanh', [2, 3, 4, 2],
         {'filters': 3, 'kernelSize': [3, 2], 'strides': [2, 3], 'padding': 'same', 'outputPadding': [1, 1], 'activation': 'tanh'}),
        ('conv2d_transpose_same_dilation2_relu', [2, 4, 5, 2],
         {'filters': 2, 'kernelSize': 3, 'dilationRate': 2, 'padding': 'same', 'activation': 'relu'}),
    ]
    cases = []
    for name, shape, config in specs:
        k = pair(config['kernelSize'])
        use_bias, act = config.get('useBias', True), config.get('activation')
        wshapes = [[k[0], k[1], config['filters'], shape[3]]] + ([[config['filters']]] if use_bias else [])
        pre, via_autograd = conv_transpose_forward(config, shape)
        x, weights = draw(shape, wshapes, pre, act)
        no_bias = pre(x, weights[0][0])
        assert torch.allclose(no_bias, via_autograd(x, weights[0][0]), rtol=1e-12, atol=1e-12), name
        cases.append(make_case(name, 'conv2dTranspose', config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


# ---------------------------------------------------------------------------------------------
# depthwise and separable


def depthwise_nhwc(x, kernel, strides, padding, dilation):
    kh, kw, c, dm = kernel.shape
    xc = to_nchw(x)
    if padding == 'same':
        top, bottom = same_pads(xc.shape[2], kh, strides[0], dilation[0])
        left, right = same_pads(xc.shape[3], kw, strides[1], dilation[1])
        xc = F.pad(xc, (left, right, top, bottom))
    weight = kernel.permute(2, 3, 0, 1).reshape(c * dm, 1, kh, kw)  # out channel c * dm + m
    return to_nhwc(F.conv2d(xc, weight, stride=strides, dilation=dilation, groups=c))


def depthwise_forward(config):
    s, d, padding = pair(config.get('strides', 1)), pair(config.get('dilationRate', 1)), config.get('padding', 'valid')

    def pre(x, kernel, bias=None):
        y = depthwise_nhwc(x, kernel, s, padding, d)
        return y if bias is None else y + bias
    return pre


def separable_forward(config):
    s, d, padding = pair(config.get('strides', 1)), pair(config.get('dilationRate', 1)), config.get('padding', 'valid')

    def pre(x, depthwise_kernel, pointwise_kernel, bias=None):
        y = torch.matmul(depthwise_nhwc(x, depthwise_kernel, s, padding, d), pointwise_kernel[0, 0])
        return y if bias is None else y + bias
    return pre


def depthwise_cases():
    specs = [
        ('depthwise_valid_dm1', 'depthwiseConv2d', [2, 5, 6, 3], {'kernelSize': 3}),
        ('depthwise_same_dm2_stride2', 'depthwiseConv2d', [2, 5, 7, 2], {'kernelSize': 3, 'strides': 2, 'padding': 'same', 'depthMultiplier': 2}),
        ('depthwise_dilation2_dm2_no_bias', 'depthwiseConv2d', [2, 6, 7, 2],
         {'kernelSize': [3, 2], 'dilationRate': 2, 'depthMultiplier': 2, 'useBias': False}),
        ('depthwise_same_relu', 'depthwiseConv2d', [2, 4, 5, 3], {'kernelSize': 3, 'padding': 'same', 'activation': 'relu'}),
        ('separable_valid', 'separableConv2d', [2, 5, 6, 3], {'filters': 4, 'kernelSize': 3}),
        ('separable_same_dm2_stride2_relu', 'separableConv2d', [2, 6, 7, 2],
         {'filters': 3, 'kernelSize': 3, 'strides': 2, 'padding': 'same', 'depthMultiplier': 2, 'activation': 'relu'}),
        ('separable_no_bias_tanh', 'separableConv2d', [2, 5, 5, 2],
         {'filters': 2, 'kernelSize': 2, 'depthMultiplier': 3, 'useBias': False, 'activation': 'tanh'}),
    ]
    cases = []
    for name, layer, shape, config in specs:
        k, c = pair(config['kernelSize']), shape[3]
        dm, use_bias, act = config.get('depthMultiplier', 1), config.get('useBias', True), config.get('activation')
        if layer == 'depthwiseConv2d':
            wshapes = [[k[0], k[1], c, dm]] + ([[c * dm]] if use_bias else [])
            pre = depthwise_forward(config)
        else:
            f = config['filters']
            wshapes = [[k[0], k[1], c, dm], [1, 1, c * dm, f]] + ([[f]] if use_bias else [])
            pre = separable_forward(config)
        x, weights = draw(shape, wshapes, pre, act)
        cases.append(make_case(name, layer, config, x, weights, lambda x_, *w, p=pre, a=act: (activate(a, p(x_, *w)), None)))
    return cases


# ---------------------------------------------------------------------------------------------
# weightless spatial layers


def upsampling_forward(config):
    sh, sw = pair(config.get('size', 2))

    def fwd(x):
        if config.get('interpolation', 'nearest') == 'nearest':
            return x.repeat_interleave(sh, dim=1).repeat_interleave(sw, dim=2), None
        size = (x.shape[1] * sh, x.shape[2] * sw)
        return to_nhwc(F.interpolate(to_nchw(x), size=size, mode='bilinear', align_corners=False)), None
    return fwd


def spatial_cases():
    specs = [
        ('upsampling_nearest_2', 'upSampling2d', [2, 3, 4, 2], {}),
        ('upsampling_nearest_2x3', 'upSampling2d', [2, 3, 2, 2], {'size': [2, 3]}),
        ('upsampling_bilinear_2', 'upSampling2d', [2, 3, 4, 2], {'interpolation': 'bilinear'}),
        ('upsampling_bilinear_3x2', 'upSampling2d', [2, 4, 3, 2], {'size': [3, 2], 'interpolation': 'bilinear'}),
    ]
    cases = [make_case(name, layer, config, normal(shape), [], upsampling_forward(config)) for name, layer, shape, config in specs]
    cases.append(make_case('zero_padding_sides', 'zeroPadding2d', {'padding': [[1, 2], [0, 3]]}, normal([2, 3, 4, 2]), [],
                           lambda x: (F.pad(x, (0, 0, 0, 3, 1, 2)), None)))
    cases.append(make_case('zero_padding_default', 'zeroPadding2d', {}, normal([2, 3, 4, 2]), [],
                           lambda x: (F.pad(x, (0, 0, 1, 1, 1, 1)), None)))
    cases.append(make_case('cropping_sides', 'cropping2d', {'cropping': [[1, 0], [2, 1]]}, normal([2, 4, 6, 2]), [],
                           lambda x: (x[:, 1:, 2:5, :], None)))
    cases.append(make_case('cropping_symmetric', 'cropping2d', {'cropping': [1, 2]}, normal([2, 4, 6, 2]), [],
                           lambda x: (x[:, 1:3, 2:4, :], None)))
    return cases


# ---------------------------------------------------------------------------------------------
# 1-D pooling


def pool1d_forward(layer, config):
    k = config.get('poolSize', 2)
    s = config.get('strides') or k
    padding = config.get('padding', 'valid')

    def fwd(x):
        xc = x.permute(0, 2, 1)  # [N, C, T]
        pads = same_pads(xc.shape[2], k, s, 1) if padding == 'same' else (0, 0)
        if layer == 'maxPooling1d':
            y = F.max_pool1d(F.pad(xc, pads, value=-math.inf), k, s)
        else:
            sums = F.avg_pool1d(F.pad(xc, pads), k, s)
            counts = F.avg_pool1d(F.pad(torch.ones(1, 1, xc.shape[2]), pads), k, s)
            y = sums / counts
        if padding == 'same':
            assert y.shape[2] == -(-x.shape[1] // s)
        return y.permute(0, 2, 1), None
    return fwd


def pool1d_cases():
    specs = [
        ('max_pool1d_default', 'maxPooling1d', [2, 7, 3], {}),
        ('max_pool1d_same_3_stride2', 'maxPooling1d', [2, 8, 2], {'poolSize': 3, 'strides': 2, 'padding': 'same'}),
        ('avg_pool1d_valid_3_stride1', 'averagePooling1d', [2, 6, 3], {'poolSize': 3, 'strides': 1}),
        # 7 steps, pool 3 stride 2: pads 1/1, so the end windows hold 2 real steps of 3.
        ('avg_pool1d_same_3_stride2', 'averagePooling1d', [2, 7, 2], {'poolSize': 3, 'strides': 2, 'padding': 'same'}),
    ]
    cases = [make_case(name, layer, config, normal(shape), [], pool1d_forward(layer, config)) for name, layer, shape, config in specs]
    cases.append(make_case('global_avg_pool1d', 'globalAveragePooling1d', {}, normal([2, 5, 3]), [], lambda x: (x.mean(dim=1), None)))
    cases.append(make_case('global_avg_pool1d_keepdims', 'globalAveragePooling1d', {'keepdims': True}, normal([2, 5, 3]), [],
                           lambda x: (x.mean(dim=1, keepdim=True), None)))
    cases.append(make_case('global_max_pool1d', 'globalMaxPooling1d', {}, normal([2, 5, 3]), [], lambda x: (x.amax(dim=1), None)))
    mask = torch.tensor([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float64)
    m = mask.unsqueeze(2)
    case = make_case('global_avg_pool1d_masked', 'globalAveragePooling1d', {}, normal([3, 5, 2]), [],
                     lambda x: ((x * m).sum(dim=1) / m.sum(dim=1), None))
    case['mask'] = enc(mask, exact32=True)
    cases.append(case)
    return cases


def main():
    cases = conv1d_cases() + conv_transpose_cases() + depthwise_cases() + spatial_cases() + pool1d_cases()
    names = [c['name'] for c in cases]
    assert len(names) == len(set(names)), 'duplicate case names'
    doc = {'generator': 'scripts/make_conv_family_fixtures.py', 'torch': torch.__version__, 'cases': cases}
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('%s: %d cases, %d bytes' % (os.path.relpath(OUT_PATH), len(cases), os.path.getsize(OUT_PATH)))


if __name__ == '__main__':
    main()
