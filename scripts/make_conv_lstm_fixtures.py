#!/usr/bin/env python3
"""Generates test/fixtures/conv-lstm.json: references for Keras's convolutional LSTMs
(convLstm1d, convLstm2d, convLstm3d, convLstm2dCell; test/conv-lstm.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_conv_lstm_fixtures.py` (PyTorch 1.13).
Deterministic, float64; inputs, weights, initial states and upstream gradients are float32-exact.

PyTorch has no ConvLSTM, so the layer is written out here from Keras 3.15's documented
equations (keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell), with torch.nn.functional's
convolutions on channels-last tensors transposed to channels-first:
  kernel [...k, in, 4f], recurrent_kernel [...k, f, 4f], bias [4f]; columns in gate order i, f, c, o
  x_g = conv(x_t, kernel_g, strides, padding, dilation) + bias_g
  h_g = conv(h_{t-1}, recurrent_kernel_g, strides 1, padding 'same', dilation 1)
  i = sigmoid(x_i + h_i), f = sigmoid(x_f + h_f), o = sigmoid(x_o + h_o)
  c_t = f * c_{t-1} + i * tanh(x_c + h_c), h_t = o * tanh(c_t); the step's output is h_t.
'same' pads as TensorFlow (floor(total / 2) before, the odd pixel after). The RNN loop around
the cell is Keras's: goBackwards processes the reversed sequence and returns outputs in
processing order; masked steps keep the states and repeat the previous output (zeros before the
first real step); returnSequences and returnState choose the outputs. The states start at zeros
or at the given initial states, shaped [batch, ...conv output size, filters].

Each case: {name, layer, config, input, mask?, initialState?, weights, outputs, upstreams,
gradInput, gradInitialState?, gradWeights}; gradients of sum_k sum(outputs[k] * upstreams[k]).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_common import normal  # noqa: E402
from make_layer_fixtures import same_pads  # noqa: E402
from make_recurrent_fixtures import enc  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'conv-lstm.json')
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def tup(v, rank):
    return (v,) * rank if isinstance(v, int) else tuple(v)


def conv(x, w, strides, padding, dilation):
    """Channels-last convolution of rank 1-3: x [N, ...spatial, C], w [...k, C, out]."""
    rank = w.dim() - 2
    xc = x.permute(0, rank + 1, *range(1, rank + 1))
    if padding == 'same':
        pads = []
        for axis in reversed(range(rank)):
            pads += same_pads(xc.shape[2 + axis], w.shape[axis], strides[axis], dilation[axis])
        xc = F.pad(xc, tuple(pads))
    weight = w.permute(rank + 1, rank, *range(rank))
    y = CONV[rank](xc, weight, stride=strides, dilation=dilation)
    return y.permute(0, *range(2, rank + 2), 1)


def out_size(n, k, s, d, padding):
    reach = (k - 1) * d + 1
    return -(-n // s) if padding == 'same' else (n - reach) // s + 1


def cell_step(cfg, weights, x, h, c):
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    rank = kernel.dim() - 2
    s, d = tup(cfg.get('strides', 1), rank), tup(cfg.get('dilationRate', 1), rank)
    xp = conv(x, kernel, s, cfg.get('padding', 'valid'), d)
    if bias is not None:
        xp = xp + bias
    z = xp + conv(h, recurrent, (1,) * rank, 'same', (1,) * rank)
    f = h.shape[-1]
    i, fg, g, o = z[..., :f], z[..., f:2 * f], z[..., 2 * f:3 * f], z[..., 3 * f:]
    c_new = torch.sigmoid(fg) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new


def run_layer(cfg, weights, x, states, mask):
    steps = x.shape[1]
    backwards = cfg.get('goBackwards', False)
    h, c = states
    prev, outs = None, []
    for k in range(steps):
        t = steps - 1 - k if backwards else k
        h_new, c_new = cell_step(cfg, weights, x[:, t], h, c)
        out = h_new
        if mask is not None:
            m = mask[:, t].reshape(-1, *([1] * (h.dim() - 1)))
            h, c = torch.where(m, h_new, h), torch.where(m, c_new, c)
            out = torch.where(m, h_new, torch.zeros_like(h_new) if prev is None else prev)
        else:
            h, c = h_new, c_new
        prev = out
        outs.append(out)
    seq = torch.stack(outs, 1)
    out = seq if cfg.get('returnSequences', False) else seq[:, -1]
    return [out] + ([h, c] if cfg.get('returnState', False) else [])


def make_case(name, layer, rank, shape, cfg, masked=False, initial=False):
    f = cfg['filters']
    k = tup(cfg['kernelSize'], rank)
    s, d = tup(cfg.get('strides', 1), rank), tup(cfg.get('dilationRate', 1), rank)
    cell = layer == 'convLstm2dCell'
    spatial = shape[1:1 + rank] if cell else shape[2:2 + rank]
    out_spatial = [out_size(spatial[i], k[i], s[i], d[i], cfg.get('padding', 'valid')) for i in range(rank)]
    batch = shape[0]
    weights = [normal([*k, shape[-1], 4 * f], 0.4), normal([*k, f, 4 * f], 0.4)]
    if cfg.get('useBias', True):
        weights.append(normal([4 * f], 0.5))
    x = normal(shape)
    states = [normal([batch, *out_spatial, f], 0.5) for _ in range(2)] if (initial or cell) else None
    mask = None
    if masked:
        mask = torch.ones(batch, shape[1], dtype=torch.bool)
        mask[0, -1] = False
        mask[1, 0] = False
    x_leaf = x.clone().requires_grad_(True)
    w_leaves = [w.clone().requires_grad_(True) for w in weights]
    s_leaves = [st.clone().requires_grad_(True) for st in states] if states else None
    if cell:
        h, c = cell_step(cfg, w_leaves, x_leaf, *s_leaves)
        outputs = [h, h, c]
    else:
        zeros = [torch.zeros(batch, *out_spatial, f) for _ in range(2)]
        outputs = run_layer(cfg, w_leaves, x_leaf, s_leaves or zeros, mask)
    upstreams = [normal(o.shape) for o in outputs]
    total = sum((o * u).sum() for o, u in zip(outputs, upstreams))
    leaves = [x_leaf] + w_leaves + (s_leaves or [])
    grads = torch.autograd.grad(total, leaves)
    case = {
        'name': name, 'layer': layer, 'config': cfg,
        'input': enc(x, True),
        'weights': [enc(w, True) for w in weights],
        'outputs': [enc(o) for o in outputs],
        'upstreams': [enc(u, True) for u in upstreams],
        'gradInput': enc(grads[0]),
        'gradWeights': [enc(g) for g in grads[1:1 + len(weights)]],
    }
    if masked:
        case['mask'] = {'shape': list(mask.shape), 'data': [1.0 if v else 0.0 for v in mask.reshape(-1).tolist()]}
    if s_leaves:
        case['initialState'] = [enc(st, True) for st in states]
        case['gradInitialState'] = [enc(g) for g in grads[1 + len(weights):]]
    return case


def main():
    cases = [
        make_case('conv_lstm2d_same_sequences', 'convLstm2d', 2, [2, 3, 5, 4, 2],
                  {'filters': 3, 'kernelSize': 3, 'padding': 'same', 'returnSequences': True}),
        make_case('conv_lstm2d_valid_strides_state', 'convLstm2d', 2, [2, 3, 6, 5, 2],
                  {'filters': 2, 'kernelSize': [3, 2], 'strides': 2, 'returnState': True}, initial=True),
        make_case('conv_lstm2d_dilation_backwards_masked', 'convLstm2d', 2, [2, 4, 5, 5, 1],
                  {'filters': 2, 'kernelSize': 2, 'dilationRate': 2, 'padding': 'same', 'goBackwards': True, 'returnSequences': True},
                  masked=True),
        make_case('conv_lstm2d_no_bias_even_kernel', 'convLstm2d', 2, [1, 3, 4, 4, 2],
                  {'filters': 2, 'kernelSize': 2, 'useBias': False}),
        make_case('conv_lstm1d_same_state', 'convLstm1d', 1, [2, 3, 6, 2],
                  {'filters': 3, 'kernelSize': 3, 'padding': 'same', 'returnState': True}, masked=True),
        make_case('conv_lstm3d_valid_sequences', 'convLstm3d', 3, [1, 2, 3, 4, 3, 2],
                  {'filters': 2, 'kernelSize': 2, 'returnSequences': True}),
        make_case('conv_lstm2d_cell_step', 'convLstm2dCell', 2, [2, 5, 4, 2],
                  {'filters': 2, 'kernelSize': 3, 'padding': 'same'}),
    ]
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_conv_lstm_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
