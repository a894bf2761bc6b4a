#!/usr/bin/env python3
"""Generates test/fixtures/score-attention.json: references for st.layers.attention and
st.layers.additiveAttention (test/score-attention.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_score_attention_fixtures.py` (PyTorch 1.13).
Deterministic, float64; inputs, weights and upstream gradients are float32-exact.

PyTorch has no counterpart of these layers, so they are written out here from Keras 3.15's
definitions (keras/src/layers/attention/attention.py and additive_attention.py):
  Attention 'dot':     scores = q @ k^T, times the scalar `scale` with use_scale
  Attention 'concat':  scores = concat_score_weight * sum(tanh(scale * (q_i + k_j)), -1)
                       (scale 1 without use_scale)
  AdditiveAttention:   scores = sum(scale * tanh(q_i + k_j), -1), scale [dim] with use_scale
  _apply_scores: scores -= 1e9 * (1 - mask) for the value mask [B, 1, Tv] and, with
  use_causal_mask, the lower-triangular [1, Tq, Tv] mask (both: their logical and);
  weights = softmax(scores, -1); result = weights @ value; result *= query_mask[..., None].
  Inputs [query, value] or [query, value, key] (key defaults to value); mask [query_mask, value_mask].
Each case: {name, layer, config, inputs, masks?, callOptions, weights, outputs, upstreams,
gradInputs, gradWeights}; outputs are [result] or [result, weights] with return_attention_scores;
gradients of sum_k sum(outputs[k] * upstreams[k]).
"""
import json
import os

import torch
from fixture_common import normal
from make_recurrent_fixtures import enc

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'score-attention.json')
B, TQ, TV, D = 2, 3, 4, 5


def scores_of(layer, config, weights, q, k):
    if layer == 'attention':
        scale = weights[0] if config.get('useScale', False) else None
        if config.get('scoreMode', 'dot') == 'dot':
            s = q @ k.transpose(1, 2)
            return s * scale if scale is not None else s
        concat_w = weights[-1]
        pairs = q[:, :, None, :] + k[:, None, :, :]
        return concat_w * torch.tanh(scale * pairs if scale is not None else pairs).sum(-1)
    pairs = torch.tanh(q[:, :, None, :] + k[:, None, :, :])
    return (weights[0] * pairs if config.get('useScale', True) else pairs).sum(-1)


def forward(layer, config, weights, inputs, masks, call):
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    s = scores_of(layer, config, weights, q, k)
    allowed = None
    if masks and masks[1] is not None:
        allowed = masks[1][:, None, :]
    if call.get('useCausalMask', False):
        causal = torch.tril(torch.ones(TQ, s.shape[2], dtype=torch.bool))[None]
        allowed = causal if allowed is None else (allowed & causal)
    if allowed is not None:
        s = s - 1e9 * (1 - allowed.double())
    w = torch.softmax(s, -1)
    result = w @ v
    if masks and masks[0] is not None:
        result = result * masks[0][:, :, None].double()
    return [result, w] if call.get('returnAttentionScores', False) else [result]


def make_case(name, layer, config, with_key=False, masks=False, call=None):
    call = call or {}
    inputs = [normal([B, TQ, D]), normal([B, TV, D])] + ([normal([B, TV, D])] if with_key else [])
    weights = []
    if layer == 'attention':
        if config.get('useScale', False):
            weights.append(normal([], 0.5, 1.0))
        if config.get('scoreMode', 'dot') == 'concat':
            weights.append(normal([], 0.5, 1.0))
    elif config.get('useScale', True):
        weights.append(normal([D], 0.5))
    mask_list = None
    if masks:
        qm = torch.ones(B, TQ, dtype=torch.bool)
        qm[0, 2] = False
        vm = torch.ones(B, TV, dtype=torch.bool)
        vm[0, 3] = False
        vm[1, 0] = False
        mask_list = [qm, vm]
    in_leaves = [x.clone().requires_grad_(True) for x in inputs]
    w_leaves = [w.clone().requires_grad_(True) for w in weights]
    outputs = forward(layer, config, w_leaves, in_leaves, mask_list, call)
    upstreams = [normal(o.shape) for o in outputs]
    total = sum((o * u).sum() for o, u in zip(outputs, upstreams))
    grads = torch.autograd.grad(total, in_leaves + w_leaves)
    case = {
        'name': name, 'layer': layer, 'config': config, 'callOptions': call,
        'inputs': [enc(x, True) for x in inputs],
        'weights': [enc(w, True) for w in weights],
        'outputs': [enc(o) for o in outputs],
        'upstreams': [enc(u, True) for u in upstreams],
        'gradInputs': [enc(g) for g in grads[:len(inputs)]],
        'gradWeights': [enc(g) for g in grads[len(inputs):]],
    }
    if mask_list:
        case['masks'] = [{'shape': list(m.shape), 'data': [1.0 if b else 0.0 for b in m.reshape(-1).tolist()]} for m in mask_list]
    return case


def main():
    cases = [
        make_case('attention_dot', 'attention', {}),
        make_case('attention_dot_scale_key_masked', 'attention', {'useScale': True}, with_key=True, masks=True),
        make_case('attention_dot_causal_scores', 'attention', {}, call={'useCausalMask': True, 'returnAttentionScores': True}),
        make_case('attention_concat_scale_masked', 'attention', {'scoreMode': 'concat', 'useScale': True}, masks=True),
        make_case('attention_concat_key_causal', 'attention', {'scoreMode': 'concat'}, with_key=True, call={'useCausalMask': True}),
        make_case('additive_attention_scale_masked_scores', 'additiveAttention', {}, masks=True, call={'returnAttentionScores': True}),
        make_case('additive_attention_no_scale_key_causal', 'additiveAttention', {'useScale': False}, with_key=True, call={'useCausalMask': True}),
    ]
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_score_attention_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
