#!/usr/bin/env python3
"""Generates test/fixtures/attention.json: PyTorch references for the embedding and attention
layers (test/attention.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_attention_fixtures.py` (PyTorch 1.13). Deterministic
(one seed, no clock, no network). Everything is computed in float64; inputs, weights and upstream
gradients are rounded to float32 first and written as exact doubles, so Strata sees the values
torch saw in either precision. Expected values keep 13 significant digits.

Case fields: name, layer (the st.layers factory), config (Keras camelCase options), input (the
query, token ids or encoder input), inputInt (ids), inputMask (0/1, attached to the input as its
Keras mask), value, key, valueMask (attached to the value), attentionMask (0/1 [B, Tq, Tv]),
useCausalMask, returnAttentionScores, weights (Keras order and layout), outputs (the output,
then the scores [B, heads, Tq, Tv] when returned), upstreams (one per output), rowMask (0/1
[B, T]: rows of the output to compare), grads {input, value?, key?} and gradWeights: gradients of
sum(output_i * upstream_i) over the outputs, by torch.autograd.

Semantics reproduced (Keras 3):
  * MultiHeadAttention: kernels in EinsumDense layout, query/key [dim, heads, keyDim], value
    [dim, heads, valueDim], output [heads, valueDim, outputDim]; biases [heads, n] and
    [outputDim]. Q is scaled by 1/sqrt(keyDim) after its projection; scores = Q K^T per head;
    the mask is the AND of the query mask [B, Tq, 1], value mask [B, 1, Tv], the causal mask
    (i >= j) and attentionMask, applied as an additive (1 - mask) * -1e9 before the softmax;
    the scores returned are the softmax probabilities (before dropout). The scaled dot product
    is written out by hand (torch 1.13 has no F.scaled_dot_product_attention) and checked
    against torch.nn.MultiheadAttention where that module can express the configuration.
  * No row of a compared output is fully masked: there the additive mask rounds to an exactly
    uniform softmax in float32 but not in float64.
  * Embedding: a row lookup (F.embedding); positionalEmbedding (Chollet): token embedding plus
    the first T rows of a position table [sequenceLength, outputDim].
  * transformerEncoder (Chollet): y = LN1(x + MHA(x, x)), out = LN2(y + dense2(relu(dense1(y)))),
    keyDim = embedDim, layer normalization over the last axis with epsilon 1e-3 and the biased
    variance. With a padding mask, padded query rows are fully masked: they get zero upstream
    gradient and are not compared (rowMask).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(61)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'attention.json')
MASKED = -1e9
LN_EPSILON = 1e-3


def to_f32(t):
    return t.float().double()


def normal(shape, scale=1.0):
    return to_f32(torch.randn(tuple(shape)) * scale)


def blob(t, exact=False):
    t = t.detach().double()
    if exact:
        assert torch.equal(t, to_f32(t)), 'input value is not float32-exact'
    def conv(v):
        if not math.isfinite(v):
            raise ValueError('non-finite value %r' % v)
        return float(v) if exact else float('%.13g' % v)
    return {'shape': list(t.shape), 'data': [conv(v) for v in t.reshape(-1).tolist()]}


def mask_blob(m):
    return {'shape': list(m.shape), 'data': [1 if v else 0 for v in m.reshape(-1).tolist()]}


# ---------------------------------------------------------------------------------------------
# the references


def mha_weights(dq, dv, dk, heads, key_dim, value_dim, out_dim, use_bias):
    """Keras order: query kernel, bias, key kernel, bias, value kernel, bias, output kernel, bias."""
    ws = [normal([dq, heads, key_dim], 0.5)]
    if use_bias:
        ws.append(normal([heads, key_dim], 0.3))
    ws.append(normal([dk, heads, key_dim], 0.5))
    if use_bias:
        ws.append(normal([heads, key_dim], 0.3))
    ws.append(normal([dv, heads, value_dim], 0.5))
    if use_bias:
        ws.append(normal([heads, value_dim], 0.3))
    ws.append(normal([heads, value_dim, out_dim], 0.5))
    if use_bias:
        ws.append(normal([out_dim], 0.3))
    return ws


def split_weights(ws, use_bias):
    if use_bias:
        return ws
    wq, wk, wv, wo = ws
    return [wq, None, wk, None, wv, None, wo, None]


def combined_mask(B, Tq, Tv, query_mask=None, value_mask=None, attention_mask=None, causal=False):
    mask = torch.ones(B, Tq, Tv, dtype=torch.bool)
    if query_mask is not None:
        mask = mask & query_mask[:, :, None]
    if value_mask is not None:
        mask = mask & value_mask[:, None, :]
    if causal:
        i = torch.arange(Tq)[:, None]
        j = torch.arange(Tv)[None, :]
        mask = mask & (i >= j)[None]
    if attention_mask is not None:
        mask = mask & attention_mask
    return mask


def mha(query, value, key, ws, key_dim, mask):
    """Keras's MultiHeadAttention, by hand: returns (output [B, Tq, out], probs [B, h, Tq, Tv])."""
    wq, bq, wk, bk, wv, bv, wo, bo = ws
    q = torch.einsum('btd,dhk->bthk', query, wq)
    k = torch.einsum('btd,dhk->bthk', key, wk)
    v = torch.einsum('btd,dhk->bthk', value, wv)
    if bq is not None:
        q, k, v = q + bq, k + bk, v + bv
    q = q / math.sqrt(key_dim)
    scores = torch.einsum('bqhk,bvhk->bhqv', q, k)
    if mask is not None:
        scores = scores + (1.0 - mask[:, None].double()) * MASKED
    probs = F.softmax(scores, dim=-1)
    context = torch.einsum('bhqv,bvhd->bqhd', probs, v)
    out = torch.einsum('bqhd,hdo->bqo', context, wo)
    if bo is not None:
        out = out + bo
    return out, probs


def check_against_torch_module(query, ws, heads, key_dim, mask):
    """Self-attention with keyDim = valueDim = dim / heads is what nn.MultiheadAttention computes."""
    wq, bq, wk, bk, wv, bv, wo, bo = ws
    E = query.shape[-1]
    module = torch.nn.MultiheadAttention(E, heads, bias=True, batch_first=True)
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.cat([w.reshape(E, heads * key_dim).T for w in (wq, wk, wv)]))
        module.in_proj_bias.copy_(torch.cat([b.reshape(-1) for b in (bq, bk, bv)]))
        module.out_proj.weight.copy_(wo.reshape(heads * key_dim, E).T)
        module.out_proj.bias.copy_(bo)
    blocked = None if mask is None else (~mask).repeat_interleave(heads, dim=0)
    out, probs = module(query, query, query, attn_mask=blocked, need_weights=True, average_attn_weights=False)
    mine, my_probs = mha(query, query, query, ws, key_dim, mask)
    assert torch.allclose(out, mine, atol=1e-10) and torch.allclose(probs, my_probs, atol=1e-10), 'hand-written MHA differs from torch.nn.MultiheadAttention'


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + LN_EPSILON) * gamma + beta


def encoder(x, ws, heads, embed_dim, mask):
    attention = split_weights(ws[:8], True)
    d1k, d1b, d2k, d2b, g1, b1, g2, b2 = ws[8:]
    attended, _ = mha(x, x, x, attention, embed_dim, mask)
    y = layer_norm(x + attended, g1, b1)
    ff = torch.relu(y @ d1k + d1b) @ d2k + d2b
    return layer_norm(y + ff, g2, b2)


# ---------------------------------------------------------------------------------------------
# cases


def grads_of(outputs, upstreams, leaves):
    total = sum((o * u).sum() for o, u in zip(outputs, upstreams))
    return torch.autograd.grad(total, leaves)


def attention_case(name, config, query, ws, forward, value=None, key=None, extra=None, row_mask=None):
    """forward(query, value, key, weights) -> list of outputs."""
    leaves = [query.clone().requires_grad_(True)]
    if value is not None:
        leaves.append(value.clone().requires_grad_(True))
    if key is not None:
        leaves.append(key.clone().requires_grad_(True))
    w_leaves = [w.clone().requires_grad_(True) for w in ws]
    q_leaf = leaves[0]
    v_leaf = leaves[1] if value is not None else None
    k_leaf = leaves[2] if key is not None else None
    outputs = forward(q_leaf, v_leaf, k_leaf, w_leaves)
    upstreams = [normal(o.shape) for o in outputs]
    if row_mask is not None:
        upstreams[0] = upstreams[0] * row_mask[:, :, None].double()
    grads = grads_of(outputs, upstreams, leaves + w_leaves)
    case = {
        'name': name, 'config': config, 'training': False,
        'input': blob(query, True),
        'weights': [blob(w, True) for w in ws],
        'outputs': [blob(o) for o in outputs],
        'upstreams': [blob(u, True) for u in upstreams],
        'grads': {'input': blob(grads[0])},
        'gradWeights': [blob(g) for g in grads[len(leaves):]],
    }
    if value is not None:
        case['value'] = blob(value, True)
        case['grads']['value'] = blob(grads[1])
    if key is not None:
        case['key'] = blob(key, True)
        case['grads']['key'] = blob(grads[2])
    if row_mask is not None:
        case['rowMask'] = mask_blob(row_mask)
    case.update(extra or {})
    return case


def assert_no_empty_rows(mask, rows=None):
    allowed = mask.any(-1)
    if rows is not None:
        allowed = allowed | ~rows
    assert bool(allowed.all()), 'a compared row is fully masked'


def mha_cases():
    cases = []
    # 1. self-attention, keyDim != valueDim != dim
    B, T, D, H, K, V = 2, 4, 6, 2, 3, 5
    q = normal([B, T, D])
    ws = mha_weights(D, D, D, H, K, V, D, True)
    cases.append(attention_case('mha_self', {'numHeads': H, 'keyDim': K, 'valueDim': V}, q, ws,
                                lambda q_, v_, k_, w: [mha(q_, q_, q_, w, K, None)[0]]))

    # 2. cross-attention with distinct value and key sizes, a value mask, an attention mask and the causal mask
    Tq, Tv, Dv, Dk = 4, 5, 7, 8
    value, key = normal([B, Tv, Dv]), normal([B, Tv, Dk])
    ws = mha_weights(D, Dv, Dk, H, K, V, D, True)
    value_mask = torch.ones(B, Tv, dtype=torch.bool)
    value_mask[1, 3:] = False
    attention_mask = torch.rand(B, Tq, Tv) > 0.3
    attention_mask[:, :, 0] = True  # row 0 of a causal mask sees only key 0
    mask = combined_mask(B, Tq, Tv, value_mask=value_mask, attention_mask=attention_mask, causal=True)
    assert_no_empty_rows(mask)
    cfg = {'numHeads': H, 'keyDim': K, 'valueDim': V}
    cases.append(attention_case('mha_cross_masked_causal', cfg, q, ws,
                                lambda q_, v_, k_, w: list(mha(q_, v_, k_, w, K, mask)), value=value, key=key,
                                extra={'valueMask': mask_blob(value_mask), 'attentionMask': mask_blob(attention_mask),
                                       'useCausalMask': True, 'returnAttentionScores': True}))

    # 3. no biases, outputShape, value given (key defaults to it), causal only, scores returned
    ws = mha_weights(D, Dv, Dv, H, K, V, 3, False)
    mask = combined_mask(B, Tq, Tv, causal=True)
    cfg = {'numHeads': H, 'keyDim': K, 'valueDim': V, 'useBias': False, 'outputShape': 3}
    cases.append(attention_case('mha_no_bias_output_shape_causal', cfg, q, ws,
                                lambda q_, v_, k_, w: list(mha(q_, v_, v_, split_weights(w, False), K, mask)), value=value,
                                extra={'useCausalMask': True, 'returnAttentionScores': True}))

    # the hand-written reference agrees with torch's own module where it applies
    E, Hm = 6, 2
    x = normal([B, T, E])
    wm = mha_weights(E, E, E, Hm, E // Hm, E // Hm, E, True)
    check_against_torch_module(x, wm, Hm, E // Hm, None)
    check_against_torch_module(x, wm, Hm, E // Hm, combined_mask(B, T, T, causal=True))
    return cases


def encoder_cases():
    cases = []
    B, T, E, Dd, H = 2, 5, 6, 5, 2
    ws = mha_weights(E, E, E, H, E, E, E, True) + [
        normal([E, Dd], 0.5), normal([Dd], 0.3), normal([Dd, E], 0.5), normal([E], 0.3),
        to_f32(1 + 0.2 * torch.randn(E)), normal([E], 0.2), to_f32(1 + 0.2 * torch.randn(E)), normal([E], 0.2),
    ]
    cfg = {'embedDim': E, 'denseDim': Dd, 'numHeads': H}
    x = normal([B, T, E])
    cases.append(attention_case('encoder', cfg, x, ws, lambda x_, v_, k_, w: [encoder(x_, w, H, E, None)]))
    pad = torch.ones(B, T, dtype=torch.bool)
    pad[1, 3:] = False
    mask = combined_mask(B, T, T, query_mask=pad, value_mask=pad)
    assert_no_empty_rows(mask, pad)
    cases.append(attention_case('encoder_padding_mask', cfg, x, ws, lambda x_, v_, k_, w: [encoder(x_, w, H, E, mask)],
                                extra={'inputMask': mask_blob(pad)}, row_mask=pad))
    return cases


def lookup_case(name, config, ids, ws, forward):
    w_leaves = [w.clone().requires_grad_(True) for w in ws]
    out = forward(ids, w_leaves)
    upstream = normal(out.shape)
    grads = grads_of([out], [upstream], w_leaves)
    return {
        'name': name, 'config': config, 'training': False,
        'input': {'shape': list(ids.shape), 'data': ids.reshape(-1).tolist()}, 'inputInt': True,
        'weights': [blob(w, True) for w in ws],
        'outputs': [blob(out)], 'upstreams': [blob(upstream, True)],
        'grads': {'input': None}, 'gradWeights': [blob(g) for g in grads],
    }


def lookup_cases():
    ids = torch.tensor([[1, 4, 4, 0, 6], [2, 0, 1, 1, 5]])  # repeats: the gradient accumulates
    table = normal([7, 4], 0.5)
    cases = [lookup_case('embedding', {'inputDim': 7, 'outputDim': 4, 'maskZero': True}, ids, [table],
                         lambda i, w: F.embedding(i, w[0]))]
    ids3 = torch.tensor([[[3, 2], [0, 3]], [[6, 6], [1, 5]]])  # any rank of ids
    cases.append(lookup_case('embedding_rank3', {'inputDim': 7, 'outputDim': 4}, ids3, [table],
                             lambda i, w: F.embedding(i, w[0])))
    tokens, positions = normal([9, 4], 0.5), normal([6, 4], 0.5)
    ids = torch.tensor([[1, 8, 8, 3, 0], [7, 2, 0, 0, 0]])
    cases.append(lookup_case('positional_embedding', {'sequenceLength': 6, 'inputDim': 9, 'outputDim': 4}, ids,
                             [tokens, positions], lambda i, w: F.embedding(i, w[0]) + w[1][: i.shape[-1]]))
    return cases


def main():
    cases = []
    for c in mha_cases():
        cases.append({'layer': 'multiHeadAttention', **c})
    for c in encoder_cases():
        cases.append({'layer': 'transformerEncoder', **c})
    for c in lookup_cases():
        cases.append({'layer': 'positionalEmbedding' if c['name'].startswith('positional') else 'embedding', **c})
    doc = {'generator': 'scripts/make_attention_fixtures.py', 'torch': torch.__version__, 'cases': cases}
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
    print('wrote %d cases to %s' % (len(cases), os.path.relpath(OUT_PATH)))


if __name__ == '__main__':
    main()
