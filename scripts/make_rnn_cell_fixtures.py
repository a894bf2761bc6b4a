#!/usr/bin/env python3
"""Generates test/fixtures/rnn-cells.json: PyTorch references for Keras's recurrent cells as
layers (simpleRNNCell, lstmCell, gruCell), stackedRNNCells and the generic rnn layer
(test/rnn-cells.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_rnn_cell_fixtures.py` (PyTorch 1.13).
Deterministic, float64; inputs, weights, states and upstream gradients are float32-exact.

The cells are torch's RNNCell, LSTMCell and GRUCell, given Keras-layout weights through the
conversion of scripts/make_recurrent_fixtures.py (torch_params, make_cell: the gate-order mapping
Keras i,f,c,o = torch i,f,g,o for the LSTM, Keras z,r,h = torch r,z,n reordered for the GRU,
bias [2, 3u] = (bias_ih, bias_hh); the GRU with resetAfter false, which torch lacks, written out
from Keras's formula). Gradients come back in Keras's layout because the conversion is part of
the differentiated graph.

Cases:
  * kind 'cell': one step of a cell applied to [input, ...states]; outputs [output, ...new states]
    (Keras: the LSTM returns h, then the states h and c).
  * kind 'rnn': st.layers.rnn over a cell (or a list of cells, Keras's StackedRNNCells: each
    cell's output feeds the next, the states are every cell's in order, the output the last
    cell's), stepped with Keras's RNN loop: masked steps keep the states and repeat the previous
    output (zeros before the first real step); goBackwards processes the reversed sequence and
    returns outputs in processing order; returnState appends the final states.
Each case: {name, kind, layer, config, input, mask?, states, weights, outputs, upstreams,
gradInput, gradStates, gradWeights}; gradients of sum_k sum(outputs[k] * upstreams[k]).
"""
import json
import os

import torch
from fixture_common import normal
from make_recurrent_fixtures import enc, make_cell

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'rnn-cells.json')
N, T, IN = 3, 5, 4
CLASS = {'lstm': 'LSTMCell', 'gru': 'GRUCell', 'simpleRNN': 'SimpleRNNCell'}
FACTORY = {'lstm': 'lstmCell', 'gru': 'gruCell', 'simpleRNN': 'simpleRNNCell'}


def weight_shapes(kind, units, inp, reset_after=True):
    g = {'lstm': 4, 'gru': 3, 'simpleRNN': 1}[kind]
    bias = [2, 3 * units] if kind == 'gru' and reset_after else [g * units]
    return [[inp, g * units], [units, g * units], bias]


def state_count(kind):
    return 2 if kind == 'lstm' else 1


def cell_spec(kind, units, extra):
    return {'className': CLASS[kind], 'config': {'units': units, **extra}}


def build(cells, inp):
    """Weights (leaves) and the step function of a cell or a stack of cells: step(x, states) ->
    (output, new states)."""
    weights, steps, counts = [], [], []
    for kind, units, extra in cells:
        w = [normal(s, 0.5) for s in weight_shapes(kind, units, inp, extra.get('resetAfter', True))]
        weights += w
        counts.append(state_count(kind))
        steps.append((kind, extra.get('resetAfter', True), len(weights) - 3))
        inp = units

    def step_with(leaves):
        def step(x, states):
            at, new = 0, []
            for (kind, reset_after, w0), count in zip(steps, counts):
                cell = make_cell(kind, leaves[w0:w0 + 3], reset_after)
                out = cell(x, states[at:at + count])
                new += out
                at += count
                x = out[0]
            return x, new
        return step
    return weights, step_with


def keras_loop(step, x, states, mask, go_backwards):
    steps = x.shape[1]
    prev = None
    outs = []
    for k in range(steps):
        t = steps - 1 - k if go_backwards else k
        out, new = step(x[:, t], states)
        if mask is not None:
            m = mask[:, t:t + 1]
            states = [torch.where(m, n, s) for n, s in zip(new, states)]
            out = torch.where(m, out, torch.zeros_like(out) if prev is None else prev)
        else:
            states = new
        prev = out
        outs.append(out)
    return torch.stack(outs, 1), states


def make_case(name, kind, cells, cfg=None, masked=False):
    """kind 'cell' (one step of cells[0]) or 'rnn' (the rnn layer over the cell or the stack)."""
    cfg = cfg or {}
    weights, step_with = build(cells, IN)
    x = normal([N, IN] if kind == 'cell' else [N, T, IN])
    states = [normal([N, units], 0.5) for k, units, _ in cells for _ in range(state_count(k))]
    mask = None
    if masked:
        mask = torch.ones(N, T, dtype=torch.bool)
        mask[0, 3:] = False
        mask[1, 0] = False
        mask[1, 2] = False
    x_leaf = x.clone().requires_grad_(True)
    w_leaves = [w.clone().requires_grad_(True) for w in weights]
    s_leaves = [s.clone().requires_grad_(True) for s in states]
    step = step_with(w_leaves)
    if kind == 'cell':
        out, new = step(x_leaf, s_leaves)
        outputs = [out] + new
        spec = cell_spec(*cells[0])
        layer, config = FACTORY[cells[0][0]], spec['config']
    else:
        seq, final = keras_loop(step, x_leaf, s_leaves, mask, cfg.get('goBackwards', False))
        outputs = [seq if cfg.get('returnSequences', False) else seq[:, -1]] + (final if cfg.get('returnState', False) else [])
        specs = [cell_spec(*c) for c in cells]
        layer, config = 'rnn', {'cell': specs[0] if len(specs) == 1 else {'className': 'StackedRNNCells', 'config': {'cells': specs}}, **cfg}
    upstreams = [normal(o.shape) for o in outputs]
    total = sum((o * u).sum() for o, u in zip(outputs, upstreams))
    grads = torch.autograd.grad(total, [x_leaf] + w_leaves + s_leaves)
    case = {
        'name': name, 'kind': kind, 'layer': layer, 'config': config,
        'input': enc(x, True),
        'states': [enc(s, True) for s in states],
        'weights': [enc(w, True) for w in weights],
        'outputs': [enc(o) for o in outputs],
        'upstreams': [enc(u, True) for u in upstreams],
        'gradInput': enc(grads[0]),
        'gradWeights': [enc(g) for g in grads[1:1 + len(weights)]],
        'gradStates': [enc(g) for g in grads[1 + len(weights):]],
    }
    if masked:
        case['mask'] = {'shape': [N, T], 'data': [1.0 if v else 0.0 for v in mask.reshape(-1).tolist()]}
    return case


def main():
    cases = [
        make_case('simple_rnn_cell_step', 'cell', [('simpleRNN', 5, {})]),
        make_case('lstm_cell_step', 'cell', [('lstm', 5, {})]),
        make_case('gru_cell_step', 'cell', [('gru', 5, {})]),
        make_case('gru_cell_reset_before_step', 'cell', [('gru', 5, {'resetAfter': False})]),
        make_case('rnn_lstm_cell_sequences_state', 'rnn', [('lstm', 5, {})], {'returnSequences': True, 'returnState': True}),
        make_case('rnn_gru_cell_masked_backwards', 'rnn', [('gru', 4, {})], {'goBackwards': True, 'returnState': True}, masked=True),
        make_case('rnn_simple_rnn_cell_masked_sequences', 'rnn', [('simpleRNN', 3, {})], {'returnSequences': True}, masked=True),
        make_case('rnn_stacked_lstm_gru_state', 'rnn', [('lstm', 4, {}), ('gru', 3, {'resetAfter': False})], {'returnState': True}),
        make_case('rnn_stacked_masked_sequences', 'rnn', [('gru', 3, {}), ('simpleRNN', 2, {}), ('lstm', 3, {})],
                  {'returnSequences': True, 'returnState': True}, masked=True),
    ]
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_rnn_cell_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
