#!/usr/bin/env python3
"""Generates test/fixtures/layers.json, PyTorch references for Keras-style layers (test/layers.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_layer_fixtures.py` (PyTorch 1.13). Deterministic:
one fixed seed, no clock, no network. Everything is computed in float64; inputs, weights and the
upstream gradient are rounded to float32 first and written as their exact doubles, so they read
back identically as float32 or float64 and Strata sees exactly the values torch saw in either
precision. Expected values (outputs, gradients, weightsAfter) keep 13 significant digits.

Each case: {name, layer, config, training, input, weights, output, upstream, gradInput,
gradWeights, weightsAfter?}. `layer` is the st.layers.* factory, `config` its options (Keras
camelCase), `weights` are in Keras order and layout for layer.setWeights. Gradients are of
sum(output * upstream), taken with torch.autograd; gradWeights has null for non-trainable
weights (batch-norm moving statistics).

The semantics are TensorFlow/Keras 3's, not torch's defaults:
  * Layouts: images NHWC; dense kernel [in, units] + bias [units], applied to the last axis of any
    rank; conv2d kernel [kh, kw, in, out] + bias [out]. The torch graph permutes to NCHW and to
    an OIHW kernel internally, so every gradient comes back in the Keras layout.
  * padding 'same': TensorFlow's rule, total pad max((ceil(n/s) - 1) s + (k - 1) d + 1 - n, 0)
    with the odd pixel at the bottom/right. Done with an explicit asymmetric F.pad before a
    'valid' torch op (torch's own padding argument is symmetric).
  * Pooling: strides default to poolSize. maxPooling2d 'same' pads with -inf (never wins);
    averagePooling2d 'same' divides each window by its number of REAL pixels (the padded sum
    divided by the same pooling over a ones mask).
  * batchNormalization, Keras 3 defaults momentum 0.99, epsilon 1e-3, over all axes but the
    last. training=true normalizes with the batch mean and the BIASED (population) variance, and
    the gradient flows through those statistics; the moving stats become
    moving * momentum + batch * (1 - momentum), again with the biased variance (torch's
    running_var uses the unbiased one, so the update is written by hand) -> weightsAfter.
    training=false uses the moving statistics.
  * layerNormalization: last axis, epsilon 1e-3 (Keras default, torch's is 1e-5), biased variance.
  * flatten keeps the row-major NHWC order; global pooling reduces H and W to [N, C].
  * Activations: relu, sigmoid, tanh, softmax (last axis), gelu (exact erf form, Keras 3's
    default approximate=False), elu (alpha 1), selu, leakyRelu (the Keras activation function
    leaky_relu, negative_slope 0.2, not the LeakyReLU layer's 0.3), swish (x sigmoid(x)), softplus,
    linear. Inputs of kinked activations (and pre-activations of relu layers) are kept at least
    0.05 away from 0 so the derivative is unambiguous in float32.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from fixture_common import f32, normal, short64, uniform

torch.manual_seed(20240917)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'layers.json')
BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3
LN_EPSILON = 1e-3
KINK_MARGIN = 0.05


# ---------------------------------------------------------------------------------------------
# random values and encoding


def away_from_zero(shape, scale=1.0):
    """Normal values with none within KINK_MARGIN of 0 (relu/elu/selu/leakyRelu kinks)."""
    while True:
        t = normal(shape, scale)
        if bool((t.abs() > KINK_MARGIN).all()):
            return t


def exact32_value(v):
    """A float32-exact value written as its exact double (up to 17 digits, not the shortest float32
    decimal), so it parses to the very same number in float64 and in float32: a float64 run need
    not round the inputs to float32 first to match torch bit for bit."""
    assert float(np.float32(v)) == v, 'value is not float32-exact'
    return float(v)


def enc(t, exact32=False):
    t = t.detach()
    if exact32:
        assert torch.equal(t, f32(t)), 'value is not float32-exact'
    conv = exact32_value if exact32 else short64
    return {'shape': list(t.shape), 'data': [conv(v) for v in t.reshape(-1).tolist()]}


# ---------------------------------------------------------------------------------------------
# case builder


def make_case(name, layer, config, x, weights, forward, training=False):
    """weights: list of (tensor, trainable). forward(x, *weights) -> (output, weightsAfter or None)."""
    x_leaf = x.clone().requires_grad_(True)
    w_leaves = [w.clone().requires_grad_(trainable) for w, trainable in weights]
    out, after = forward(x_leaf, *w_leaves)
    upstream = normal(out.shape)
    trainable_leaves = [w for w in w_leaves if w.requires_grad]
    grads = iter(torch.autograd.grad((out * upstream).sum(), [x_leaf] + trainable_leaves))
    case = {
        'name': name,
        'layer': layer,
        'config': config,
        'training': training,
        'input': enc(x, exact32=True),
        'weights': [enc(w, exact32=True) for w, _ in weights],
        'output': enc(out),
        'upstream': enc(upstream, exact32=True),
        'gradInput': enc(next(grads)),
        'gradWeights': [enc(next(grads)) if trainable else None for _, trainable in weights],
    }
    if after is not None:
        case['weightsAfter'] = [enc(w) for w in after]
    return case


# ---------------------------------------------------------------------------------------------
# activations (Keras definitions)

ACTIVATIONS = {
    'linear': lambda x: x,
    'relu': F.relu,
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'softmax': lambda x: F.softmax(x, dim=-1),
    'gelu': lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))),
    'elu': lambda x: torch.where(x > 0, x, torch.expm1(x)),
    'selu': F.selu,  # same constants as Keras: alpha 1.6732632..., scale 1.0507009...
    'leakyRelu': lambda x: torch.where(x > 0, x, 0.2 * x),
    'swish': lambda x: x * torch.sigmoid(x),
    'softplus': F.softplus,
}


def activate(name, x):
    return ACTIVATIONS[name or 'linear'](x)


# ---------------------------------------------------------------------------------------------
# padding and layout helpers


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(n, k, s, d):
    """TensorFlow 'same': ceil(n/s) outputs; floor(total/2) before, the odd pixel after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_nchw(x, padding, kernel, strides, dilation=(1, 1), value=0.0):
    if padding == 'valid':
        return x
    top, bottom = same_pads(x.shape[2], kernel[0], strides[0], dilation[0])
    left, right = same_pads(x.shape[3], kernel[1], strides[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def check_same_size(x, y, padding, strides):
    """'same' must give ceil(n / s) pixels per spatial axis: guards the explicit padding."""
    if padding == 'same':
        want = [-(-x.shape[1] // strides[0]), -(-x.shape[2] // strides[1])]
        assert list(y.shape[1:3]) == want, (list(x.shape), list(y.shape), want)
    return y


# ---------------------------------------------------------------------------------------------
# dense


def dense_forward(activation, use_bias=True):
    def fwd(x, kernel, bias=None):
        y = torch.matmul(x, kernel)
        if use_bias:
            y = y + bias
        return activate(activation, y), None
    return fwd


def dense_cases():
    specs = [
        # name, input shape, config
        ('dense_linear', [3, 4], {'units': 5}),
        ('dense_relu', [3, 4], {'units': 5, 'activation': 'relu'}),
        ('dense_no_bias', [3, 4], {'units': 3, 'useBias': False}),
        ('dense_3d_input', [2, 3, 4], {'units': 3, 'activation': 'tanh'}),
    ]
    cases = []
    for name, shape, config in specs:
        units, use_bias, act = config['units'], config.get('useBias', True), config.get('activation')
        while True:
            x = normal(shape)
            weights = [(normal([shape[-1], units], 0.5), True)]
            if use_bias:
                weights.append((normal([units], 0.5), True))
            pre = dense_forward(None, use_bias)(x, *[w for w, _ in weights])[0]
            if act != 'relu' or bool((pre.abs() > KINK_MARGIN).all()):
                break
        cases.append(make_case(name, 'dense', config, x, weights, dense_forward(act, use_bias)))
    return cases


# ---------------------------------------------------------------------------------------------
# conv2d


def conv_forward(strides, padding, dilation, activation, use_bias):
    s, d = pair(strides), pair(dilation)

    def fwd(x, kernel, bias=None):
        xc = pad_nchw(to_nchw(x), padding, (kernel.shape[0], kernel.shape[1]), s, d)
        y = to_nhwc(F.conv2d(xc, kernel.permute(3, 2, 0, 1), stride=s, dilation=d))
        if use_bias:
            y = y + bias
        return activate(activation, check_same_size(x, y, padding, s)), None
    return fwd


def conv_cases():
    specs = [
        # name, input shape (NHWC), config (defaults: strides 1, padding 'valid', dilationRate 1)
        ('conv2d_valid', [2, 5, 6, 2], {'filters': 3, 'kernelSize': 3}),
        ('conv2d_same_stride2_odd', [2, 5, 7, 3], {'filters': 2, 'kernelSize': 3, 'strides': 2, 'padding': 'same'}),
        ('conv2d_dilation2_valid', [2, 6, 7, 2], {'filters': 3, 'kernelSize': 3, 'dilationRate': 2}),
        ('conv2d_same_relu', [2, 5, 6, 2], {'filters': 3, 'kernelSize': 3, 'padding': 'same', 'activation': 'relu'}),
        ('conv2d_no_bias', [2, 5, 6, 3], {'filters': 2, 'kernelSize': 2, 'useBias': False}),
        ('conv2d_kernel_3x2', [2, 5, 6, 2], {'filters': 4, 'kernelSize': [3, 2], 'padding': 'same'}),
        ('conv2d_strides_2x1', [2, 5, 6, 2], {'filters': 3, 'kernelSize': 3, 'strides': [2, 1], 'padding': 'same'}),
    ]
    cases = []
    for name, shape, config in specs:
        k = pair(config['kernelSize'])
        strides, padding = config.get('strides', 1), config.get('padding', 'valid')
        dilation, act, use_bias = config.get('dilationRate', 1), config.get('activation'), config.get('useBias', True)
        while True:
            x = normal(shape)
            weights = [(normal([k[0], k[1], shape[3], config['filters']], 0.4), True)]
            if use_bias:
                weights.append((normal([config['filters']], 0.5), True))
            pre = conv_forward(strides, padding, dilation, None, use_bias)(x, *[w for w, _ in weights])[0]
            if act != 'relu' or bool((pre.abs() > KINK_MARGIN).all()):
                break
        cases.append(make_case(name, 'conv2d', config, x, weights,
                               conv_forward(strides, padding, dilation, act, use_bias)))
    return cases


# ---------------------------------------------------------------------------------------------
# pooling


def max_pool_forward(pool, strides, padding):
    k = pair(pool)
    s = k if strides is None else pair(strides)

    def fwd(x):
        xc = pad_nchw(to_nchw(x), padding, k, s, value=-math.inf)
        return check_same_size(x, to_nhwc(F.max_pool2d(xc, k, s)), padding, s), None
    return fwd


def avg_pool_forward(pool, strides, padding):
    k = pair(pool)
    s = k if strides is None else pair(strides)

    def fwd(x):
        xc = to_nchw(x)
        sums = F.avg_pool2d(pad_nchw(xc, padding, k, s), k, s)
        # The same pooling over a ones mask, zero-padded alike, is (real pixels) / (k_h k_w).
        mask = torch.ones(1, 1, xc.shape[2], xc.shape[3])
        counts = F.avg_pool2d(pad_nchw(mask, padding, k, s), k, s)
        return check_same_size(x, to_nhwc(sums / counts), padding, s), None
    return fwd


def pool_cases():
    specs = [
        # name, layer, input shape, config
        ('maxpool_2x2_valid', 'maxPooling2d', [2, 5, 6, 3], {'poolSize': [2, 2]}),
        ('maxpool_3x3_stride2_same_odd', 'maxPooling2d', [2, 5, 7, 2],
         {'poolSize': 3, 'strides': 2, 'padding': 'same'}),
        ('maxpool_pool_2x3', 'maxPooling2d', [2, 5, 7, 2], {'poolSize': [2, 3]}),
        ('avgpool_2x2_valid', 'averagePooling2d', [2, 5, 6, 3], {'poolSize': [2, 2]}),
        # 5x6 with pool 3 stride 2: rows padded 1/1, columns 0/1, so corner windows hold 4 or 6
        # real pixels out of 9 and a wrong divisor shows at once.
        ('avgpool_3x3_stride2_same', 'averagePooling2d', [2, 5, 6, 2],
         {'poolSize': 3, 'strides': 2, 'padding': 'same'}),
    ]
    cases = []
    for name, layer, shape, config in specs:
        x = normal(shape)
        make = max_pool_forward if layer == 'maxPooling2d' else avg_pool_forward
        fwd = make(config['poolSize'], config.get('strides'), config.get('padding', 'valid'))
        cases.append(make_case(name, layer, config, x, [], fwd))
    return cases


def reshape_cases():
    return [
        make_case('global_avg_pool', 'globalAveragePooling2d', {}, normal([2, 5, 6, 3]), [],
                  lambda x: (x.mean(dim=(1, 2)), None)),
        make_case('global_max_pool', 'globalMaxPooling2d', {}, normal([2, 5, 6, 3]), [],
                  lambda x: (x.amax(dim=(1, 2)), None)),
        make_case('flatten_nhwc', 'flatten', {}, normal([2, 3, 4, 2]), [],
                  lambda x: (x.reshape(x.shape[0], -1), None)),
    ]


# ---------------------------------------------------------------------------------------------
# normalization


def batch_norm_forward(training):
    def fwd(x, gamma, beta, moving_mean, moving_var):
        axes = tuple(range(x.dim() - 1))
        if training:
            mean = x.mean(dim=axes)
            var = ((x - mean) ** 2).mean(dim=axes)  # biased (population) variance
            y = (x - mean) / torch.sqrt(var + BN_EPSILON) * gamma + beta
            after = [gamma, beta,
                     moving_mean * BN_MOMENTUM + mean * (1 - BN_MOMENTUM),
                     moving_var * BN_MOMENTUM + var * (1 - BN_MOMENTUM)]
            return y, [w.detach() for w in after]
        return (x - moving_mean) / torch.sqrt(moving_var + BN_EPSILON) * gamma + beta, None
    return fwd


def check_batch_norm_with_torch(x, gamma, beta, moving_mean, moving_var, training):
    """Independent check of the hand-written formula against F.batch_norm (output only: torch's
    running-variance update uses the unbiased variance, Keras 3's the biased one)."""
    xc = x.movedim(-1, 1)
    ref = F.batch_norm(xc, moving_mean.clone(), moving_var.clone(), gamma, beta, training=training,
                       momentum=1 - BN_MOMENTUM, eps=BN_EPSILON).movedim(1, -1)
    ours = batch_norm_forward(training)(x, gamma, beta, moving_mean, moving_var)[0]
    assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-12)


def batch_norm_cases():
    specs = [
        # name, input shape, training
        ('batchnorm_train_nhwc', [2, 3, 4, 3], True),
        ('batchnorm_infer_nhwc', [2, 3, 4, 3], False),
        ('batchnorm_train_2d', [5, 3], True),
        ('batchnorm_infer_2d', [5, 3], False),
    ]
    cases = []
    for name, shape, training in specs:
        c = shape[-1]
        # Input off-centre and scaled per channel, so batch statistics differ from 0 / 1.
        x = f32(normal(shape, 1.5) + normal([c], 1.0))
        gamma = uniform([c], 0.5, 1.5)
        beta = normal([c], 0.5)
        moving_mean = normal([c], 0.5)
        moving_var = uniform([c], 0.5, 2.0)
        check_batch_norm_with_torch(x, gamma, beta, moving_mean, moving_var, training)
        weights = [(gamma, True), (beta, True), (moving_mean, False), (moving_var, False)]
        cases.append(make_case(name, 'batchNormalization', {}, x, weights, batch_norm_forward(training),
                               training=training))
    return cases


def layer_norm_forward(x, gamma, beta):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    y = (x - mean) / torch.sqrt(var + LN_EPSILON) * gamma + beta
    ref = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps=LN_EPSILON)
    assert torch.allclose(y, ref, rtol=1e-12, atol=1e-12)
    return y, None


def layer_norm_cases():
    cases = []
    for name, shape in (('layernorm_2d', [3, 5]), ('layernorm_3d', [2, 3, 4])):
        c = shape[-1]
        x = f32(normal(shape, 1.5) + 0.5)
        weights = [(uniform([c], 0.5, 1.5), True), (normal([c], 0.5), True)]
        cases.append(make_case(name, 'layerNormalization', {}, x, weights, layer_norm_forward))
    return cases


# ---------------------------------------------------------------------------------------------
# activation layer


def activation_cases():
    cases = []
    for name in ('relu', 'sigmoid', 'tanh', 'softmax', 'gelu', 'elu', 'selu', 'leakyRelu', 'swish',
                 'softplus', 'linear'):
        x = away_from_zero([3, 4], 1.5)
        cases.append(make_case('activation_' + name, 'activation', {'activation': name}, x, [],
                               lambda x_, n=name: (activate(n, x_), None)))
    # Spot checks of the hand-written forms against torch's own functions.
    x = normal([50], 2.0)
    assert torch.allclose(ACTIVATIONS['gelu'](x), F.gelu(x), rtol=1e-12, atol=1e-14)
    assert torch.allclose(ACTIVATIONS['elu'](x), F.elu(x, alpha=1.0), rtol=1e-12, atol=1e-14)
    assert torch.allclose(ACTIVATIONS['leakyRelu'](x), F.leaky_relu(x, 0.2), rtol=1e-12, atol=1e-14)
    assert torch.allclose(ACTIVATIONS['swish'](x), F.silu(x), rtol=1e-12, atol=1e-14)
    return cases


# ---------------------------------------------------------------------------------------------


def main():
    cases = (dense_cases() + conv_cases() + pool_cases() + reshape_cases() + batch_norm_cases()
             + layer_norm_cases() + activation_cases())
    names = [c['name'] for c in cases]
    assert len(names) == len(set(names)), 'duplicate case names'
    doc = {'generator': 'scripts/make_layer_fixtures.py', 'torch': torch.__version__, 'cases': cases}
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('%s: %d cases, %d bytes' % (os.path.relpath(OUT_PATH), len(cases), os.path.getsize(OUT_PATH)))


if __name__ == '__main__':
    main()
