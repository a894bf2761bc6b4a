#!/usr/bin/env python3
"""Generates test/fixtures/recurrent.json: PyTorch references for Keras's recurrent layers
(test/recurrent.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_recurrent_fixtures.py` (PyTorch 1.13).
Deterministic, float64; inputs, weights, initial states and upstream gradients are float32-exact.

Weights are given in Keras's layout and converted to torch's inside the differentiated graph
(torch.nn.utils.stateless.functional_call on the cells, with parameters computed from the Keras
tensors), so torch.autograd returns the gradients directly in Keras's layout:
  * LSTM: Keras kernel [in, 4u] (gates i, f, c, o) = torch weight_ih.T (i, f, g, o: same order);
    recurrent_kernel [u, 4u] = weight_hh.T; Keras's one bias [4u] = bias_ih, bias_hh = 0.
  * GRU (resetAfter, Keras's default): Keras gates z, r, h; torch's r, z, n, so the column blocks
    are reordered. bias [2, 3u]: row 0 = bias_ih, row 1 = bias_hh. torch's
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h is Keras's reset_after GRU.
  * GRU with resetAfter false has no torch module: its formula is written out,
    hh = tanh(x W_h + b_h + (r * h) U_h), with bias [3u].
  * SimpleRNN: kernel = weight_ih.T, recurrent_kernel = weight_hh.T, bias = bias_ih.
Keras semantics reproduced around the modules:
  * goBackwards processes the reversed sequence and returns outputs in processing order.
  * returnSequences false returns the last output; returnState appends the final states.
  * Masks (Keras's RNN loop, as in Keras 3.16.0's keras/src/backend/numpy/rnn.py, keras-team/keras
    commit 3422977): where the mask is false at step t the states carry over and the
    output repeats the previous output (zeros before the first step), or is zero when
    zeroOutputForMask (Bidirectional sets it to returnSequences for both directions).
  * Bidirectional: forward layer, then a copy with goBackwards; with returnSequences the
    backward output is flipped back along time; merge concat / sum / mul / ave.
Every case runs the step loop over torch's cells (LSTMCell, GRUCell, RNNCell, differentiated
through functional_call); on every unmasked case the loop's outputs and final states are checked
against the full-sequence modules (nn.LSTM, nn.GRU, nn.RNN) to 1e-12.

Each case: {name, layer, config, input, mask?, initialState?, weights, outputs, upstreams,
gradInput, gradInitialState?, gradWeights}. Gradients are of sum_k sum(outputs[k] * upstreams[k]).
"""
import json
import os

import torch
from torch.nn.utils.stateless import functional_call
from fixture_common import f32, normal, short64

torch.manual_seed(20241123)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'recurrent.json')
N, T, IN, U = 3, 6, 4, 5


def enc(t, exact32=False):
    t = t.detach()
    if exact32:
        assert torch.equal(t, f32(t)), 'value is not float32-exact'
    return {'shape': list(t.shape), 'data': [float(v) if exact32 else short64(v) for v in t.reshape(-1).tolist()]}


# ---------------------------------------------------------------------------------------------
# Keras layout -> torch parameters (differentiable, so gradients come back in Keras layout)


def gru_reorder(w, u):
    """Keras column blocks z, r, h -> torch's r, z, n (along the last axis)."""
    z, r, h = w[..., :u], w[..., u:2 * u], w[..., 2 * u:]
    return torch.cat([r, z, h], dim=-1)


def torch_params(kind, weights, suffix=''):
    kernel, recurrent, bias = weights
    u = recurrent.shape[0]
    if kind == 'gru':
        kernel, recurrent = gru_reorder(kernel, u), gru_reorder(recurrent, u)
        b_ih, b_hh = gru_reorder(bias[0], u), gru_reorder(bias[1], u)
    else:
        b_ih, b_hh = bias, torch.zeros_like(bias)
    return {'weight_ih' + suffix: kernel.t(), 'weight_hh' + suffix: recurrent.t(), 'bias_ih' + suffix: b_ih, 'bias_hh' + suffix: b_hh}


MODULES = {'lstm': torch.nn.LSTM, 'gru': torch.nn.GRU, 'simpleRNN': torch.nn.RNN}
CELLS = {'lstm': torch.nn.LSTMCell, 'gru': torch.nn.GRUCell, 'simpleRNN': torch.nn.RNNCell}


def module_run(kind, weights, x, states):
    """Full-sequence torch module (values only: nn.RNNBase ignores functional_call's parameters,
    so the converted weights are copied in): outputs [N, T, u] and final states."""
    u = weights[1].shape[0]
    mod = MODULES[kind](x.shape[2], u, batch_first=True)
    with torch.no_grad():
        for k, v in torch_params(kind, weights, '_l0').items():
            getattr(mod, k).copy_(v)
        hx = (states[0][None], states[1][None]) if kind == 'lstm' else states[0][None]
        out, final = mod(x, hx)
    final = [final[0][0], final[1][0]] if kind == 'lstm' else [final[0]]
    return out, final


def gru_reset_before_cell(weights):
    kernel, recurrent, bias = weights
    u = recurrent.shape[0]

    def step(xt, h):
        xp = xt @ kernel + bias
        zr = torch.sigmoid(xp[:, :2 * u] + h @ recurrent[:, :2 * u])
        z, r = zr[:, :u], zr[:, u:]
        hh = torch.tanh(xp[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        return z * h + (1 - z) * hh
    return step


def make_cell(kind, weights, reset_after=True):
    if kind == 'gru' and not reset_after:
        step = gru_reset_before_cell(weights)
        return lambda xt, states: [step(xt, states[0])]
    u = weights[1].shape[0]
    cell = CELLS[kind](weights[0].shape[0], u)
    params = torch_params(kind, weights)
    if kind == 'lstm':
        return lambda xt, states: list(functional_call(cell, params, (xt, (states[0], states[1]))))
    return lambda xt, states: [functional_call(cell, params, (xt, states[0]))]


def keras_loop(cell, x, states, mask, go_backwards, zero_output):
    """Keras's RNN loop: returns the outputs in processing order [N, T, u] and the final states."""
    steps = x.shape[1]
    prev = torch.zeros_like(states[0])
    outs = []
    for k in range(steps):
        t = steps - 1 - k if go_backwards else k
        new = cell(x[:, t], states)
        out = new[0]
        if mask is not None:
            m = mask[:, t:t + 1]
            states = [torch.where(m, n, s) for n, s in zip(new, states)]
            out = torch.where(m, out, torch.zeros_like(out) if zero_output else prev)
        else:
            states = new
        prev = out
        outs.append(out)
    return torch.stack(outs, 1), states


def run_layer(kind, cfg, weights, x, states, mask, zero_output=False):
    """One recurrent layer with Keras's options; returns the list of outputs."""
    backwards = cfg.get('goBackwards', False)
    cell = make_cell(kind, weights, cfg.get('resetAfter', True))
    seq, final = keras_loop(cell, x, states, mask, backwards, zero_output)
    if mask is None and cfg.get('resetAfter', True):
        ref_seq, ref_final = module_run(kind, weights, x.flip(1) if backwards else x, states)
        assert torch.allclose(seq, ref_seq, atol=1e-12), 'the Keras loop disagrees with the torch module'
        for a, b in zip(final, ref_final):
            assert torch.allclose(a, b, atol=1e-12)
    out = seq if cfg.get('returnSequences', False) else seq[:, -1]
    return [out] + (final if cfg.get('returnState', False) else [])


def weight_shapes(kind, cfg, inp):
    g = {'lstm': 4, 'gru': 3, 'simpleRNN': 1}[kind]
    bias = [2, 3 * U] if kind == 'gru' and cfg.get('resetAfter', True) else [g * U]
    return [[inp, g * U], [U, g * U], bias]


def state_count(kind):
    return 2 if kind == 'lstm' else 1


KIND_CLASS = {'lstm': 'LSTM', 'gru': 'GRU', 'simpleRNN': 'SimpleRNN'}


def make_case(name, kind, cfg, masked=False, initial=False, merge=None):
    """merge: None for a plain layer, else the Bidirectional mergeMode ('concat', 'sum', ...)."""
    bidir = merge is not None
    x = normal([N, T, IN])
    mask = None
    if masked:
        # A padded batch (right padding, one row with a hole, one full row).
        mask = torch.ones(N, T, dtype=torch.bool)
        mask[0, 4:] = False
        mask[1, 0] = False
        mask[1, 3] = False
    directions = 2 if bidir else 1
    weights = [normal(s, 0.5) for _ in range(directions) for s in weight_shapes(kind, cfg, IN)]
    n_states = state_count(kind) * directions
    h0 = [normal([N, U], 0.5) for _ in range(n_states)] if initial else None

    x_leaf = x.clone().requires_grad_(True)
    w_leaves = [w.clone().requires_grad_(True) for w in weights]
    s_leaves = [s.clone().requires_grad_(True) for s in h0] if initial else None
    zeros = [torch.zeros(N, U) for _ in range(n_states)]
    states = s_leaves if initial else zeros
    if not bidir:
        outputs = run_layer(kind, cfg, w_leaves, x_leaf, states, mask)
    else:
        k = state_count(kind)
        zero_out = cfg.get('returnSequences', False)
        fwd = run_layer(kind, cfg, w_leaves[:3], x_leaf, states[:k], mask, zero_out)
        bwd = run_layer(kind, {**cfg, 'goBackwards': True}, w_leaves[3:], x_leaf, states[k:], mask, zero_out)
        y, y_rev = fwd[0], bwd[0]
        if cfg.get('returnSequences', False):
            y_rev = y_rev.flip(1)
        merged = {'concat': lambda: [torch.cat([y, y_rev], -1)], 'sum': lambda: [y + y_rev], 'mul': lambda: [y * y_rev],
                  'ave': lambda: [(y + y_rev) / 2], 'none': lambda: [y, y_rev]}[merge]()
        outputs = merged + fwd[1:] + bwd[1:]
    upstreams = [normal(o.shape) for o in outputs]
    total = sum((o * up).sum() for o, up in zip(outputs, upstreams))
    leaves = [x_leaf] + w_leaves + (s_leaves or [])
    grads = torch.autograd.grad(total, leaves)
    if bidir:
        layer = 'bidirectional'
        config = {'layer': {'className': KIND_CLASS[kind], 'config': {'units': U, **cfg}}, 'mergeMode': None if merge == 'none' else merge}
    else:
        layer, config = kind, {'units': U, **cfg}
    case = {
        'name': name, 'layer': layer, 'config': config,
        'input': enc(x, True),
        'weights': [enc(w, True) for w in weights],
        'outputs': [enc(o) for o in outputs],
        'upstreams': [enc(u, True) for u in upstreams],
        'gradInput': enc(grads[0]),
        'gradWeights': [enc(g) for g in grads[1:1 + len(weights)]],
    }
    if masked:
        case['mask'] = {'shape': [N, T], 'data': [1.0 if v else 0.0 for v in mask.reshape(-1).tolist()]}
    if initial:
        case['initialState'] = [enc(s, True) for s in h0]
        case['gradInitialState'] = [enc(g) for g in grads[1 + len(weights):]]
    return case


def main():
    cases = []
    for kind in ['lstm', 'gru']:
        for backwards in [False, True]:
            for seq in [True, False]:
                name = '%s_%s_%s' % (kind, 'backwards' if backwards else 'forwards', 'sequences' if seq else 'last')
                cases.append(make_case(name, kind, {'returnSequences': seq, 'goBackwards': backwards}))
        cases.append(make_case(kind + '_initial_state_return_state', kind, {'returnSequences': True, 'returnState': True}, initial=True))
        cases.append(make_case(kind + '_masked_sequences', kind, {'returnSequences': True}, masked=True))
        cases.append(make_case(kind + '_masked_backwards_last', kind, {'goBackwards': True, 'returnState': True}, masked=True))
    cases.append(make_case('gru_reset_before_sequences', 'gru', {'returnSequences': True, 'resetAfter': False}))
    cases.append(make_case('gru_reset_before_masked_last', 'gru', {'resetAfter': False}, masked=True))
    cases.append(make_case('simple_rnn_sequences', 'simpleRNN', {'returnSequences': True}))
    cases.append(make_case('simple_rnn_backwards_last_state', 'simpleRNN', {'goBackwards': True, 'returnState': True}, initial=True))
    cases.append(make_case('simple_rnn_masked_sequences', 'simpleRNN', {'returnSequences': True}, masked=True))
    cases.append(make_case('bidirectional_lstm_concat_sequences', 'lstm', {'returnSequences': True}, merge='concat'))
    cases.append(make_case('bidirectional_lstm_sum_last', 'lstm', {}, merge='sum'))
    cases.append(make_case('bidirectional_gru_ave_sequences', 'gru', {'returnSequences': True}, merge='ave'))
    cases.append(make_case('bidirectional_gru_mul_last', 'gru', {}, merge='mul'))
    cases.append(make_case('bidirectional_lstm_none_state', 'lstm', {'returnSequences': True, 'returnState': True}, merge='none', initial=True))
    cases.append(make_case('bidirectional_lstm_masked_concat_sequences', 'lstm', {'returnSequences': True}, merge='concat', masked=True))
    cases.append(make_case('bidirectional_gru_masked_sum_last', 'gru', {}, merge='sum', masked=True))
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_recurrent_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
