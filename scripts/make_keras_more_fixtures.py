#!/usr/bin/env python3
"""Fixtures for the last Keras 3 / tfjs names of issue 23 handled together: the losses
categoricalGeneralizedCrossEntropy and circle (written here with torch ops from Keras 3.16.0's
definitions in keras/src/losses/losses.py, which PyTorch lacks), unfold and fold (PyTorch's own
F.unfold and F.fold, which Keras 3 documents as its semantics), and maxPoolWithArgmax (the values
from PyTorch's max_pool2d, the indices mapped to TensorFlow's flattened NHWC formula).

The case format is scripts/make_torch_fixtures.py's (float64 torch, float32-exact inputs,
13-digit expected values, the gradient of sum(output * w) per differentiable input), replayed by
test/keras-more-ops.test.ts. Run as `/usr/bin/python3 scripts/make_keras_more_fixtures.py`.
"""
import torch
import torch.nn.functional as F

import make_torch_fixtures as base
from fixture_common import f32, normal, uniform

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

REDUCE = {'sum_over_batch_size': lambda v: v.mean(), 'sum': lambda v: v.sum(), 'none': lambda v: v}


def case(name, op, options, inputs, fn):
    return base.make_case(name, op, options, inputs, fn)


def int_case(name, op, options, inputs, expected):
    """A case whose result is int32: the expected integers, no weight and no gradients."""
    out = base.make_case(name, op, options, inputs, lambda *xs: torch.zeros(()))
    out['output'] = {'shape': list(expected.shape), 'values': [int(v) for v in expected.reshape(-1).tolist()], 'dtype': 'int32'}
    out['weight'] = {'shape': [], 'values': [0.0]}
    out['grads'] = {}
    return out


# ---------------------------------------------------------------------------------------------
# losses, from Keras 3.16.0's definitions


def generalized_ce(q):
    def fn(labels, p):
        true_p = (p * F.one_hot(labels.reshape(p.shape[:-1]), p.shape[-1]).double()).sum(-1)
        return (1 - true_p ** q) / q
    return fn


def circle(gamma=80.0, margin=0.4, remove_diagonal=True):
    """Per-row Circle loss and the mask of the rows Keras counts (a positive loss)."""
    def fn(labels, x):
        n = x.shape[0]
        d = torch.clamp(1 - x @ x.T, min=0)
        pos = labels[:, None] == labels[None, :]
        neg = ~pos
        if remove_diagonal:
            pos = pos & ~torch.eye(n, dtype=torch.bool)
        pos_w = torch.clamp((margin + d) * pos, min=0)
        neg_w = torch.clamp((1 + margin - d) * neg, min=0)
        pos_t = -gamma * pos_w * (margin - d)
        neg_t = gamma * neg_w * (1 - margin - d)
        ninf = torch.tensor(float('-inf'))
        # Rows without positives (or negatives) give softplus(-inf) = 0; computed on safe rows only
        # so that torch's gradient has no NaN.
        has = pos.any(1) & neg.any(1)
        lp = torch.logsumexp(torch.where(pos[has], pos_t[has], ninf), 1)
        ln = torch.logsumexp(torch.where(neg[has], neg_t[has], ninf), 1)
        out = torch.zeros(n)
        out = out.index_put((has,), F.softplus(lp + ln))
        return out
    return fn


def circle_reduce(reduction, per_row):
    if reduction == 'none':
        return per_row
    if reduction == 'sum':
        return per_row.sum()
    valid = (per_row > 0).sum()
    return per_row.sum() / max(int(valid), 1)


def loss_cases():
    cases = []
    probs = F.softmax(normal([5, 4], 1.5), -1)
    probs = f32(probs)
    labels = torch.randint(0, 4, (5,))
    for q, shape in ((0.5, [5]), (0.8, [5, 1]), (0.1, [5])):
        for reduction in ('sum_over_batch_size', 'sum', 'none'):
            opts = {'reduction': reduction}
            if q != 0.5:
                opts['q'] = q
            cases.append(case('categoricalGeneralizedCrossEntropy q %g labels %s reduction %s' % (q, shape, reduction),
                              'categoricalGeneralizedCrossEntropy', opts,
                              [('yTrue', labels.reshape(shape), False), ('yPred', probs, True)],
                              lambda t, p, q=q, r=reduction: REDUCE[r](generalized_ce(q)(t, p))))
    emb = normal([6, 4])
    emb = f32(emb / emb.norm(dim=1, keepdim=True))
    # Label 7 appears once: its row has no positive (it is left out of the mean), but it is a
    # negative of every other row.
    ids = torch.tensor([0, 1, 0, 2, 1, 7])
    variants = [
        ('default', {}, circle()),
        ('gamma 4, margin 0.25, diagonal kept', {'gamma': 4, 'margin': 0.25, 'removeDiagonal': False}, circle(4.0, 0.25, False)),
        ('gamma 16', {'gamma': 16}, circle(16.0)),
    ]
    for name, opts, fn in variants:
        for reduction in ('sum_over_batch_size', 'sum', 'none'):
            cases.append(case('circle %s reduction %s' % (name, reduction), 'circle', dict(opts, reduction=reduction),
                              [('yTrue', ids, False), ('yPred', emb, True)],
                              lambda t, p, fn=fn, r=reduction: circle_reduce(r, fn(t, p))))
    return cases


# ---------------------------------------------------------------------------------------------
# unfold and fold (PyTorch's)


def fold_cases():
    cases = []
    geometries = [
        ('2x2 stride 2', [2, 3, 4, 4], {'kernelSize': 2, 'stride': 2}, dict(kernel_size=2, stride=2)),
        ('3x2 overlapping', [1, 2, 5, 4], {'kernelSize': [3, 2]}, dict(kernel_size=(3, 2))),
        ('3x3 padding 1 stride 2', [2, 2, 5, 6], {'kernelSize': 3, 'padding': 1, 'stride': 2}, dict(kernel_size=3, padding=1, stride=2)),
        ('2x2 dilation [2, 1] padding [0, 1]', [1, 3, 6, 5], {'kernelSize': 2, 'dilation': [2, 1], 'padding': [0, 1]},
         dict(kernel_size=2, dilation=(2, 1), padding=(0, 1))),
    ]
    for name, shape, opts, kw in geometries:
        x = normal(shape)
        cases.append(case('unfold ' + name, 'unfold', opts, [('x', x, True)], lambda x, kw=kw: F.unfold(x, **kw)))
        cols = normal(list(F.unfold(x, **kw).shape))
        fopts = dict(opts, outputSize=shape[2:])
        cases.append(case('fold ' + name, 'fold', fopts, [('x', cols, True)], lambda c, kw=kw, s=shape: F.fold(c, s[2:], **kw)))
    return cases


# ---------------------------------------------------------------------------------------------
# maxPoolWithArgmax: PyTorch's max_pool2d (with indices) on NCHW, padded with -inf by hand so
# that TensorFlow's uneven 'same' padding is expressible, its indices then mapped to
# TensorFlow's flattened NHWC index ((b * H + y) * W + x) * C + c.


def tf_same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def max_pool_with_argmax(x_nhwc, k, s, pad, include_batch):
    n, h, w, c = x_nhwc.shape
    if pad == 'valid':
        top = bottom = left = right = 0
    elif pad == 'same':
        top, bottom = tf_same_pads(h, k[0], s[0])
        left, right = tf_same_pads(w, k[1], s[1])
    else:
        top = bottom = left = right = pad
    x = F.pad(x_nhwc.permute(0, 3, 1, 2), (left, right, top, bottom), value=float('-inf'))
    values, idx = F.max_pool2d(x, k, s, return_indices=True)
    wp = w + left + right
    y, xx = idx // wp - top, idx % wp - left
    tf_index = (y * w + xx) * c + torch.arange(c).reshape(1, c, 1, 1)
    if include_batch:
        tf_index = tf_index + torch.arange(n).reshape(n, 1, 1, 1) * h * w * c
    return values.permute(0, 2, 3, 1), tf_index.permute(0, 2, 3, 1)


def argmax_pool_cases():
    cases = []
    variants = [
        ('2x2 stride 2 valid', [2, 4, 4, 3], [2, 2], [2, 2], 'valid', False),
        ('3x3 stride 2 same, batch in index', [2, 5, 6, 2], [3, 3], [2, 2], 'same', True),
        ('3x2 stride [1, 2] pad 1', [1, 4, 5, 3], [3, 2], [1, 2], 1, False),
        ('2x3 stride 1 same', [1, 3, 4, 2], [2, 3], [1, 1], 'same', False),
    ]
    for name, shape, k, s, pad, batch in variants:
        x = normal(shape)
        opts = {'filterSize': k, 'strides': s, 'pad': pad, 'includeBatchInIndex': batch}
        cases.append(case('maxPoolWithArgmax result ' + name, 'maxPoolWithArgmax', opts, [('x', x, True)],
                          lambda x, k=k, s=s, pad=pad, b=batch: max_pool_with_argmax(x, k, s, pad, b)[0]))
        _, idx = max_pool_with_argmax(x, k, s, pad, batch)
        cases.append(int_case('maxPoolWithArgmax indexes ' + name, 'maxPoolWithArgmaxIndexes', opts, [('x', x, False)], idx))
    return cases


def main():
    base.write('torch-keras-more.json', loss_cases() + fold_cases() + argmax_pool_cases())


if __name__ == '__main__':
    main()
