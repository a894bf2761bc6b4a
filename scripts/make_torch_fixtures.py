#!/usr/bin/env python3
"""Generates PyTorch reference fixtures for test/torch-fixtures.test.ts.

Run as `/usr/bin/python3 scripts/make_torch_fixtures.py` (or `npm run fixtures`). Everything is
computed in float64 with a fixed seed. Inputs are rounded to float32 first, so the float32 run
in the tests sees exactly the values torch saw and every difference is Strata's own rounding.

Layout conventions are Strata's: images are NHWC and conv filters [kh, kw, in, out]. The torch
graph converts to NCHW / [out, in, kh, kw] internally, so gradients come back in Strata's layout.
'same' padding is done explicitly with F.pad (TensorFlow's rule, odd pixel after), never with
torch's own padding argument, because torch pads symmetrically.

Each case holds:
  name, op, options                  what Strata is asked to do
  inputs: [{name, dtype, shape, values, grad}]
  output: {shape, values}
  weight: {shape, values}            w in sum(output * w), the scalar that is differentiated
  grads:  {inputName: {shape, values}} gradients of sum(output * w) for inputs with grad=true
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from fixture_common import f32, normal, short64, uniform

torch.manual_seed(20240611)
torch.set_default_dtype(torch.float64)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
EPSILON = 1e-7  # Keras's backend.epsilon()


# ---------------------------------------------------------------------------------------------
# helpers


def short32(v):
    """The shortest decimal that reads back as the same float32 (inputs are float32-exact)."""
    return float(repr(np.float32(v)))


def enc(t, exact32=False):
    t = t.detach()
    if exact32:
        assert torch.equal(t, f32(t)), 'input is not float32-exact'
    conv = short32 if exact32 else short64
    return {'shape': list(t.shape), 'values': [conv(v) for v in t.reshape(-1).tolist()]}


def make_case(name, op, options, inputs, fn):
    """inputs: list of (name, tensor, differentiable). fn(*tensors) -> output tensor."""
    leaves = []
    for _, t, diff in inputs:
        leaf = t.clone()
        if diff:
            leaf.requires_grad_(True)
        leaves.append(leaf)
    out = fn(*leaves)
    weight = uniform(list(out.shape), -1.5, 1.5)
    case = {
        'name': name,
        'op': op,
        'options': options,
        'inputs': [],
        'output': enc(out),
        'weight': enc(weight, exact32=True),
        'grads': {},
    }
    diff_leaves = [leaf for leaf, (_, _, diff) in zip(leaves, inputs) if diff]
    grad_iter = iter(torch.autograd.grad((out * weight).sum(), diff_leaves) if diff_leaves else ())
    for (iname, t, diff) in inputs:
        if t.dtype == torch.int64:
            case['inputs'].append({'name': iname, 'dtype': 'int32', 'shape': list(t.shape),
                                   'values': [int(v) for v in t.reshape(-1).tolist()], 'grad': False})
        else:
            entry = {'name': iname, 'dtype': 'float', **enc(t, exact32=True), 'grad': diff}
            case['inputs'].append(entry)
        if diff:
            case['grads'][iname] = enc(next(grad_iter))
    return case


def write(filename, cases):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, filename)
    doc = {
        'generator': 'scripts/make_torch_fixtures.py',
        'torch': torch.__version__,
        'cases': cases,
    }
    with open(path, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('%-40s %3d cases %8d bytes' % (os.path.relpath(path), len(cases), os.path.getsize(path)))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(n, k, s, d):
    """TensorFlow 'same': ceil(n/s) outputs; total padding split floor(total/2) before."""
    k_eff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def pad_nchw(x, padding, kernel, strides, dilation, value=0.0):
    if padding == 'valid':
        return x
    top, bottom = same_pads(x.shape[2], kernel[0], strides[0], dilation[0])
    left, right = same_pads(x.shape[3], kernel[1], strides[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def check_out_size(x, y, padding, strides):
    """Guards the explicit padding: 'same' must give ceil(n / s) pixels per spatial axis."""
    if padding == 'same':
        want = [-(-x.shape[1] // strides[0]), -(-x.shape[2] // strides[1])]
        assert list(y.shape[1:3]) == want, (list(x.shape), list(y.shape), want)
    return y


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2)


def nchw_to_nhwc(x):
    return x.permute(0, 2, 3, 1)


# ---------------------------------------------------------------------------------------------
# conv2d


def torch_conv2d(x, f, strides, padding, dilation):
    s, d = pair(strides), pair(dilation)
    xc = pad_nchw(nhwc_to_nchw(x), padding, (f.shape[0], f.shape[1]), s, d)
    w = f.permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
    return check_out_size(x, nchw_to_nhwc(F.conv2d(xc, w, stride=s, dilation=d)), padding, s)


def conv_cases():
    specs = [
        # name, x shape (NHWC), filter shape [kh, kw, in, out], strides, padding, dilation
        ('3x3 valid, 1 -> 2 channels', [1, 6, 5, 1], [3, 3, 1, 2], 1, 'valid', 1),
        ('3x3 same, 3 -> 4 channels, batch 2', [2, 5, 6, 3], [3, 3, 3, 4], 1, 'same', 1),
        ('3x3 valid stride 2, 5 -> 3 channels', [2, 7, 8, 5], [3, 3, 5, 3], 2, 'valid', 1),
        ('3x3 same stride 2 on even input (pad 0/1)', [1, 6, 8, 3], [3, 3, 3, 2], 2, 'same', 1),
        ('2x2 same on odd input (pad 0/1)', [2, 5, 7, 3], [2, 2, 3, 2], 1, 'same', 1),
        ('4x4 same on odd input (pad 1/2)', [1, 7, 5, 1], [4, 4, 1, 3], 1, 'same', 1),
        ('4x4 same stride 2 on odd input', [2, 7, 9, 5], [4, 4, 5, 2], 2, 'same', 1),
        ('2x2 same stride 2 on odd input', [1, 5, 5, 3], [2, 2, 3, 4], 2, 'same', 1),
        ('3x3 dilation 2 valid', [2, 7, 8, 3], [3, 3, 3, 2], 1, 'valid', 2),
        ('3x3 dilation 2 same', [1, 6, 7, 5], [3, 3, 5, 2], 1, 'same', 2),
        ('2x2 dilation 2 same (even kernel)', [1, 6, 5, 3], [2, 2, 3, 2], 1, 'same', 2),
        ('2x3 kernel, strides [1, 2], same', [2, 5, 8, 3], [2, 3, 3, 4], [1, 2], 'same', 1),
        ('3x2 kernel, strides [2, 1], dilation [1, 2], valid', [1, 8, 7, 5], [3, 2, 5, 3], [2, 1], 'valid', [1, 2]),
        ('1x1 kernel stride 2, 5 -> 5 channels', [2, 5, 5, 5], [1, 1, 5, 5], 2, 'same', 1),
        # Rows and columns padded differently, so a swapped top/left or H/W shows.
        ('4x2 kernel same (rows pad 1/2, cols 0/1)', [1, 7, 6, 3], [4, 2, 3, 2], 1, 'same', 1),
        ('3x3 same stride 2 on 5x6 (rows pad 1/1, cols 0/1)', [2, 5, 6, 3], [3, 3, 3, 2], 2, 'same', 1),
    ]
    cases = []
    for name, xs, fs, strides, padding, dilation in specs:
        x = uniform(xs)
        f = uniform(fs, -0.5, 0.5)
        options = {'strides': list(pair(strides)), 'padding': padding, 'dilation': list(pair(dilation))}
        cases.append(make_case(
            'conv2d ' + name, 'conv2d', options,
            [('x', x, True), ('filter', f, True)],
            lambda x_, f_, s=strides, p=padding, d=dilation: torch_conv2d(x_, f_, s, p, d)))
    return cases


# ---------------------------------------------------------------------------------------------
# pooling


def torch_max_pool(x, pool, strides, padding):
    k, s = pair(pool), pair(strides)
    # -inf padding never wins a window (every 'same' window holds at least one real pixel).
    xc = pad_nchw(nhwc_to_nchw(x), padding, k, s, (1, 1), value=-math.inf)
    return check_out_size(x, nchw_to_nhwc(F.max_pool2d(xc, k, s)), padding, s)


def torch_avg_pool(x, pool, strides, padding):
    k, s = pair(pool), pair(strides)
    xc = nhwc_to_nchw(x)
    sums = F.avg_pool2d(pad_nchw(xc, padding, k, s, (1, 1)), k, s)
    # Window counts of real pixels: the same pooling over a ones mask, zero-padded the same way.
    mask = torch.ones(1, 1, xc.shape[2], xc.shape[3])
    counts = F.avg_pool2d(pad_nchw(mask, padding, k, s, (1, 1)), k, s)
    return check_out_size(x, nchw_to_nhwc(sums / counts), padding, s)


def pool_cases():
    specs = [
        # name, x shape, poolSize, strides (None: default = poolSize), padding
        ('pool 2 valid (default strides)', [2, 6, 8, 3], 2, None, 'valid'),
        ('pool 2 stride 2 valid on odd input (drops edge)', [1, 7, 5, 2], 2, 2, 'valid'),
        ('pool 2 stride 1 valid', [1, 5, 6, 3], 2, 1, 'valid'),
        ('pool 3 stride 1 valid', [2, 6, 5, 1], 3, 1, 'valid'),
        ('pool 3 stride 2 valid', [1, 7, 8, 3], 3, 2, 'valid'),
        ('pool 2 stride 2 same on odd input (pad 0/1)', [2, 5, 7, 3], 2, 2, 'same'),
        ('pool 2 stride 1 same (pad 0/1)', [1, 5, 6, 2], 2, 1, 'same'),
        ('pool 3 stride 1 same (pad 1/1)', [2, 5, 6, 3], 3, 1, 'same'),
        ('pool 3 stride 2 same on even input (pad 0/1)', [1, 6, 8, 3], 3, 2, 'same'),
        ('pool 3 stride 2 same on odd input (pad 1/1)', [1, 7, 5, 1], 3, 2, 'same'),
        ('pool [2, 3] strides [1, 2] same', [2, 5, 7, 2], [2, 3], [1, 2], 'same'),
        ('pool 3 stride 2 same on 5x6 (rows pad 1/1, cols 0/1)', [2, 5, 6, 2], 3, 2, 'same'),
        ('pool [4, 2] stride 1 same (rows pad 1/2, cols 0/1)', [1, 6, 5, 3], [4, 2], 1, 'same'),
    ]
    cases = []
    for name, xs, pool, strides, padding in specs:
        x = uniform(xs, -2, 2)
        s = pool if strides is None else strides
        options = {'poolSize': list(pair(pool)), 'padding': padding}
        if strides is not None:
            options['strides'] = list(pair(strides))
        for op, fn in (('maxPool2d', torch_max_pool), ('avgPool2d', torch_avg_pool)):
            cases.append(make_case(
                '%s %s' % (op, name), op, options, [('x', x, True)],
                lambda x_, fn=fn, p=pool, s=s, pad=padding: fn(x_, p, s, pad)))
    return cases


# ---------------------------------------------------------------------------------------------
# softmax, logSoftmax, logSumExp, matmul


def softmax_cases():
    cases = []
    inputs = [
        ('[3, 5] axis -1', [3, 5], -1, 2.0, 0.0),
        ('[2, 4, 3] axis 1', [2, 4, 3], 1, 2.0, 0.0),
        ('[2, 4, 3] axis -1', [2, 4, 3], -1, 2.0, 0.0),
        ('[4, 3] axis 0', [4, 3], 0, 2.0, 0.0),
        ('[3, 6] axis -1, large logits (needs the max shift)', [3, 6], -1, 20.0, 80.0),
    ]
    for name, shape, axis, scale, offset in inputs:
        x = f32(normal(shape, scale) + offset)
        for op, fn in (('softmax', F.softmax), ('logSoftmax', F.log_softmax)):
            cases.append(make_case('%s %s' % (op, name), op, {'axis': axis}, [('x', x, True)],
                                   lambda x_, fn=fn, a=axis: fn(x_, dim=a)))
    lse = [
        ('[3, 5] axis -1', [3, 5], -1, False, 2.0, 0.0),
        ('[2, 4, 3] axis 1 keepDims', [2, 4, 3], 1, True, 2.0, 0.0),
        ('[2, 4, 3] axes [0, 2] keepDims', [2, 4, 3], [0, 2], True, 2.0, 0.0),
        ('[2, 3, 2] all axes', [2, 3, 2], None, False, 2.0, 0.0),
        ('[3, 4] axis -1, large values', [3, 4], -1, False, 30.0, -100.0),
    ]
    for name, shape, axis, keep, scale, offset in lse:
        x = f32(normal(shape, scale) + offset)
        dims = list(range(len(shape))) if axis is None else axis
        cases.append(make_case('logSumExp ' + name, 'logSumExp', {'axis': axis, 'keepDims': keep},
                               [('x', x, True)],
                               lambda x_, d=dims, k=keep: torch.logsumexp(x_, dim=d, keepdim=k)))
    return cases


def matmul_cases():
    specs = [
        # name, a shape, b shape, transposeA, transposeB
        ('[3, 4] x [4, 5]', [3, 4], [4, 5], False, False),
        ('[2, 1, 3, 4] x [5, 4, 2] (broadcast batch)', [2, 1, 3, 4], [5, 4, 2], False, False),
        ('[3, 4] x [2, 4, 5] (2-D a broadcast)', [3, 4], [2, 4, 5], False, False),
        ('[4] x [3, 4, 2] (1-D a)', [4], [3, 4, 2], False, False),
        ('[2, 3, 4] x [4] (1-D b)', [2, 3, 4], [4], False, False),
        ('[4] x [4, 3] (vector-matrix)', [4], [4, 3], False, False),
        ('[4] x [4] (inner product)', [4], [4], False, False),
        ('[2, 4, 3]^T x [2, 5, 4]^T', [2, 4, 3], [2, 5, 4], True, True),
        ('[3, 1, 2, 4] x [2, 5, 4]^T (broadcast)', [3, 1, 2, 4], [2, 5, 4], False, True),
        ('[2, 4, 3]^T x [1, 4, 5] (broadcast)', [2, 4, 3], [1, 4, 5], True, False),
    ]
    cases = []
    for name, sa, sb, ta, tb in specs:
        a, b = uniform(sa), uniform(sb)

        def fn(a_, b_, ta=ta, tb=tb):
            return torch.matmul(a_.transpose(-1, -2) if ta else a_, b_.transpose(-1, -2) if tb else b_)

        cases.append(make_case('matmul ' + name, 'matmul', {'transposeA': ta, 'transposeB': tb},
                               [('a', a, True), ('b', b, True)], fn))
    return cases


# ---------------------------------------------------------------------------------------------
# losses (Keras 3 definitions, written with torch ops)


def reduce_loss(per_sample, reduction):
    if reduction == 'mean':
        return per_sample.mean()
    if reduction == 'sum':
        return per_sample.sum()
    return per_sample


def mse(t, p):
    return ((p - t) ** 2).mean(-1)


def mae(t, p):
    return (p - t).abs().mean(-1)


def huber(delta):
    # torch's huber_loss is Keras's elementwise huber: 0.5 e^2 inside delta, delta (|e| - delta/2) outside.
    return lambda t, p: F.huber_loss(p, t, reduction='none', delta=delta).mean(-1)


def smooth_binary(t, ls):
    return t * (1 - ls) + 0.5 * ls if ls else t


def bce(ls=0.0, axis=-1):
    def fn(t, p):
        t = smooth_binary(t, ls)
        q = p.clamp(EPSILON, 1 - EPSILON)
        return (-(t * q.log() + (1 - t) * (1 - q).log())).mean(axis)
    return fn


def bce_logits(ls=0.0, axis=-1):
    def fn(t, p):
        # max(x, 0) - x y + log1p(exp(-|x|)), the form TensorFlow's sigmoid_cross_entropy uses.
        return F.binary_cross_entropy_with_logits(p, smooth_binary(t, ls), reduction='none').mean(axis)
    return fn


def smooth_categorical(t, ls):
    # Keras divides by the size of the LAST axis whatever `axis` is.
    return t * (1 - ls) + ls / t.shape[-1] if ls else t


def cce(ls=0.0, axis=-1):
    def fn(t, p):
        t = smooth_categorical(t, ls)
        q = (p / p.sum(axis, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
        return -(t * q.log()).sum(axis)
    return fn


def cce_logits(ls=0.0, axis=-1):
    def fn(t, p):
        return -(smooth_categorical(t, ls) * F.log_softmax(p, dim=axis)).sum(axis)
    return fn


def sparse_cce(labels, p):
    q = (p / p.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
    lab = labels.reshape(p.shape[:-1])
    return -q.log().gather(-1, lab.unsqueeze(-1)).squeeze(-1)


def sparse_cce_logits(labels, p):
    lab = labels.reshape(p.shape[:-1])
    # F.cross_entropy wants the class axis second: [N, C, d1, ...].
    return F.cross_entropy(p.movedim(-1, 1), lab, reduction='none')


def kld(t, p):
    tc, pc = t.clamp(EPSILON, 1), p.clamp(EPSILON, 1)
    return (tc * (tc / pc).log()).sum(-1)


def one_hot(shape, axis=-1):
    """Random one-hot labels along `axis`."""
    classes = shape[axis]
    moved = list(shape)
    del moved[axis]
    idx = torch.randint(0, classes, moved)
    return F.one_hot(idx, classes).double().movedim(-1, axis)


def away_from(err, points, margin=1e-2):
    """True when no |err| is within `margin` of a kink (0 for abs, delta for huber)."""
    a = err.abs()
    return all(bool(((a - c).abs() > margin).all()) for c in points)


def regression_pair(shape, kinks):
    while True:
        t, p = normal(shape, 1.2), normal(shape, 1.2)
        if away_from(p - t, kinks):
            return t, p


def probabilities(shape, lo=0.02, hi=0.98):
    return uniform(shape, lo, hi)


def loss_cases():
    variants = []  # (name, op, options, yTrue, yPred, torch per-sample fn, yTrue differentiable)

    t, p = regression_pair([4, 5], [0.0])
    variants.append(('meanSquaredError [4, 5]', 'meanSquaredError', {}, t, p, mse, True))
    t, p = regression_pair([2, 3, 4], [0.0])
    variants.append(('meanSquaredError [2, 3, 4]', 'meanSquaredError', {}, t, p, mse, True))
    t, p = regression_pair([4, 5], [0.0])
    variants.append(('meanAbsoluteError [4, 5]', 'meanAbsoluteError', {}, t, p, mae, True))
    t, p = regression_pair([4, 6], [0.0, 1.0])
    variants.append(('huber delta 1', 'huber', {}, t, p, huber(1.0), True))
    t, p = regression_pair([2, 3, 4], [0.0, 0.5])
    variants.append(('huber delta 0.5 [2, 3, 4]', 'huber', {'delta': 0.5}, t, p, huber(0.5), True))

    # Binary cross-entropy: hard labels, soft labels, a prediction of exactly 0 (hits the lower
    # clip). Nothing near 1: 1 - 1e-7 is not representable in float32, so the clipped upper end
    # legitimately differs between float32 and a float64 reference.
    t = torch.randint(0, 2, (4, 5)).double()
    p = probabilities([4, 5])
    p[0, 1] = 0.0
    t[0, 1] = 1.0
    variants.append(('binaryCrossentropy', 'binaryCrossentropy', {}, t, p, bce(), True))
    t = uniform([3, 4], 0, 1)
    variants.append(('binaryCrossentropy soft labels', 'binaryCrossentropy', {}, t, probabilities([3, 4]), bce(), True))
    t = torch.randint(0, 2, (4, 5)).double()
    variants.append(('binaryCrossentropy labelSmoothing 0.2', 'binaryCrossentropy', {'labelSmoothing': 0.2},
                     t, probabilities([4, 5]), bce(0.2), True))
    t = torch.randint(0, 2, (4, 5)).double()
    variants.append(('binaryCrossentropy fromLogits', 'binaryCrossentropy', {'fromLogits': True},
                     t, normal([4, 5], 3.0), bce_logits(), True))
    t = torch.randint(0, 2, (4, 5)).double()
    variants.append(('binaryCrossentropy fromLogits labelSmoothing 0.1', 'binaryCrossentropy',
                     {'fromLogits': True, 'labelSmoothing': 0.1}, t, normal([4, 5], 3.0), bce_logits(0.1), True))
    t = torch.randint(0, 2, (2, 4, 3)).double()
    variants.append(('binaryCrossentropy fromLogits axis 1 [2, 4, 3]', 'binaryCrossentropy',
                     {'fromLogits': True, 'axis': 1}, t, normal([2, 4, 3], 2.0), bce_logits(axis=1), True))

    # Categorical: unnormalized positive predictions (Keras divides by their sum), one exact 0.
    t = one_hot([4, 5])
    p = uniform([4, 5], 0.05, 1.0)
    p[2, 3] = 0.0
    variants.append(('categoricalCrossentropy (unnormalized probs)', 'categoricalCrossentropy', {}, t, p, cce(), True))
    t = one_hot([4, 5])
    variants.append(('categoricalCrossentropy labelSmoothing 0.1', 'categoricalCrossentropy', {'labelSmoothing': 0.1},
                     t, uniform([4, 5], 0.05, 1.0), cce(0.1), True))
    t = one_hot([2, 4, 3], axis=1)
    variants.append(('categoricalCrossentropy axis 1 [2, 4, 3]', 'categoricalCrossentropy', {'axis': 1},
                     t, uniform([2, 4, 3], 0.05, 1.0), cce(axis=1), True))
    t = one_hot([4, 5])
    variants.append(('categoricalCrossentropy fromLogits', 'categoricalCrossentropy', {'fromLogits': True},
                     t, normal([4, 5], 2.0), cce_logits(), True))
    t = one_hot([4, 5])
    variants.append(('categoricalCrossentropy fromLogits labelSmoothing 0.2', 'categoricalCrossentropy',
                     {'fromLogits': True, 'labelSmoothing': 0.2}, t, normal([4, 5], 2.0), cce_logits(0.2), True))
    t = one_hot([2, 4, 3], axis=1)
    variants.append(('categoricalCrossentropy fromLogits axis 1 labelSmoothing 0.1 [2, 4, 3]',
                     'categoricalCrossentropy', {'fromLogits': True, 'axis': 1, 'labelSmoothing': 0.1},
                     t, normal([2, 4, 3], 2.0), cce_logits(0.1, axis=1), True))

    # Sparse: integer labels (not differentiable).
    variants.append(('sparseCategoricalCrossentropy', 'sparseCategoricalCrossentropy', {},
                     torch.randint(0, 5, (4,)), uniform([4, 5], 0.05, 1.0), sparse_cce, False))
    variants.append(('sparseCategoricalCrossentropy labels [4, 1]', 'sparseCategoricalCrossentropy', {},
                     torch.randint(0, 5, (4, 1)), uniform([4, 5], 0.05, 1.0), sparse_cce, False))
    variants.append(('sparseCategoricalCrossentropy fromLogits', 'sparseCategoricalCrossentropy', {'fromLogits': True},
                     torch.randint(0, 5, (4,)), normal([4, 5], 2.0), sparse_cce_logits, False))
    variants.append(('sparseCategoricalCrossentropy fromLogits [2, 3, 4]', 'sparseCategoricalCrossentropy',
                     {'fromLogits': True}, torch.randint(0, 4, (2, 3)), normal([2, 3, 4], 2.0), sparse_cce_logits, False))

    # KL divergence between distributions; some exact zeros in yTrue hit the lower clip.
    t = F.softmax(normal([4, 5], 1.5), -1)
    t[1, 2] = 0.0
    t[3, 0] = 0.0
    t = f32(t)
    p = f32(F.softmax(normal([4, 5], 1.5), -1))
    variants.append(('kld', 'kld', {}, t, p, kld, True))

    cases = []
    for name, op, options, t, p, fn, t_diff in variants:
        for reduction in ('mean', 'sum', 'none'):
            opts = dict(options, reduction=reduction)
            cases.append(make_case(
                '%s reduction %s' % (name, reduction), op, opts,
                [('yTrue', t, t_diff), ('yPred', p, True)],
                lambda t_, p_, fn=fn, r=reduction: reduce_loss(fn(t_, p_), r)))
    return cases


def main():
    write('torch-conv2d.json', conv_cases())
    write('torch-pool.json', pool_cases())
    write('torch-softmax.json', softmax_cases())
    write('torch-matmul.json', matmul_cases())
    write('torch-losses.json', loss_cases())


if __name__ == '__main__':
    main()
