#!/usr/bin/env python3
"""Generates test/fixtures/group-query-attention.json: PyTorch references for
st.layers.groupQueryAttention (test/group-query-attention.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_gqa_fixtures.py` (PyTorch 1.13, which has no
grouped-query attention, so Keras's equations are written out here). Deterministic. Computed in
float64; inputs, weights and upstream gradients are float32-exact; expected values keep 13
significant digits.

Semantics reproduced: Keras 3.15's GroupQueryAttention (keras/src/layers/attention/
grouped_query_attention.py), with u query heads, g key/value heads and head size h:
  * kernels in EinsumDense layout, query [dq, u, h], key [dk, g, h], value [dv, g, h], output
    [u, h, dq]; biases [u, h], [g, h], [g, h], [dq]; Keras order query, key, value, output.
  * the projected key and value heads are repeated u/g times along the heads axis (ops.repeat:
    query head i uses key/value head floor(i / (u/g))).
  * Q is scaled by 1/sqrt(h); scores = Q K^T per head; the mask is the AND of the query mask
    [B, Tq, 1], value mask [B, 1, Tv], the causal mask (i >= j) and attentionMask, applied as
    an additive (1 - mask) * -1e9 before the softmax (Keras's masked Softmax); the returned scores
    are the probabilities before dropout; output = probs V, then the output projection.
Gradients are of sum(output_i * upstream_i) by torch.autograd. The repeat-and-einsum reference is
checked against a per-head loop that picks each query head's key/value head by index.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from fixture_common import normal, short64

torch.manual_seed(23)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'group-query-attention.json')
MASKED = -1e9


def blob(t, exact=False):
    t = t.detach().double()
    data = t.reshape(-1).tolist()
    if exact:
        assert torch.equal(t, t.float().double()), 'input value is not float32-exact'
        return {'shape': list(t.shape), 'data': [float(v) for v in data]}
    return {'shape': list(t.shape), 'data': [short64(v) for v in data]}


def mask_blob(m):
    return {'shape': list(m.shape), 'data': [1 if v else 0 for v in m.reshape(-1).tolist()]}


def gqa_weights(dq, dk, dv, u, g, h, use_bias):
    shapes = [([dq, u, h], [u, h]), ([dk, g, h], [g, h]), ([dv, g, h], [g, h]), ([u, h, dq], [dq])]
    ws = []
    for kernel, bias in shapes:
        ws.append(normal(kernel, 0.5))
        ws.append(normal(bias, 0.3) if use_bias else None)
    return ws


def gqa(query, value, key, ws, u, g, h, mask):
    """Keras's GroupQueryAttention: returns (output [B, Tq, dq], probs [B, u, Tq, Tv])."""
    wq, bq, wk, bk, wv, bv, wo, bo = ws
    q = torch.einsum('bqm,muh->bquh', query, wq)
    k = torch.einsum('bkm,mvh->bkvh', key, wk)
    v = torch.einsum('bkm,mvh->bkvh', value, wv)
    if bq is not None:
        q, k, v = q + bq, k + bk, v + bv
    k = k.repeat_interleave(u // g, dim=2)
    v = v.repeat_interleave(u // g, dim=2)
    q = q * (1.0 / math.sqrt(h))
    scores = torch.einsum('bquh,bkuh->buqk', q, k)
    if mask is not None:
        scores = scores + (1.0 - mask[:, None].double()) * MASKED
    probs = F.softmax(scores, dim=-1)
    context = torch.einsum('buqk,bkuh->bquh', probs, v)
    out = torch.einsum('bquh,uhm->bqm', context, wo)
    if bo is not None:
        out = out + bo
    return out, probs


def per_head_loop(query, value, key, ws, u, g, h, mask):
    """The same attention one query head at a time, its key/value head chosen by index."""
    wq, bq, wk, bk, wv, bv, wo, bo = ws
    out = torch.zeros(query.shape[0], query.shape[1], wo.shape[2])
    for i in range(u):
        j = i // (u // g)
        qi = query @ wq[:, i, :] + (bq[i] if bq is not None else 0)
        kj = key @ wk[:, j, :] + (bk[j] if bk is not None else 0)
        vj = value @ wv[:, j, :] + (bv[j] if bv is not None else 0)
        s = qi @ kj.transpose(1, 2) / math.sqrt(h)
        if mask is not None:
            s = s.masked_fill(~mask, MASKED)
        out = out + (torch.softmax(s, -1) @ vj) @ wo[i]
    return out + (bo if bo is not None else 0)


def case(name, config, query, ws, u, g, h, value=None, key=None, mask=None, extra=None):
    used = [w for w in ws if w is not None]
    leaves = [query.clone().requires_grad_(True)]
    if value is not None:
        leaves.append(value.clone().requires_grad_(True))
    if key is not None:
        leaves.append(key.clone().requires_grad_(True))
    w_leaves = [w.clone().requires_grad_(True) for w in used]
    it = iter(w_leaves)
    full_ws = [next(it) if w is not None else None for w in ws]
    q = leaves[0]
    v = leaves[1] if value is not None else q
    k = leaves[2] if key is not None else v
    out, probs = gqa(q, v, k, full_ws, u, g, h, mask)
    loop = per_head_loop(q, v, k, full_ws, u, g, h, mask)
    assert torch.allclose(out, loop, rtol=1e-10, atol=1e-10), 'reference disagrees with the per-head loop'
    returns_scores = bool((extra or {}).get('returnAttentionScores'))
    outputs = [out, probs] if returns_scores else [out]
    upstreams = [normal(o.shape) for o in outputs]
    grads = torch.autograd.grad(sum((o * up).sum() for o, up in zip(outputs, upstreams)), leaves + w_leaves)
    c = {
        'name': name, 'layer': 'groupQueryAttention', 'config': config,
        'input': blob(query, True),
        'weights': [blob(w, True) for w in used],
        'outputs': [blob(o) for o in outputs],
        'upstreams': [blob(up, True) for up in upstreams],
        'grads': {'input': blob(grads[0])},
        'gradWeights': [blob(gr) for gr in grads[len(leaves):]],
    }
    if value is not None:
        c['value'] = blob(value, True)
        c['grads']['value'] = blob(grads[1])
    if key is not None:
        c['key'] = blob(key, True)
        c['grads']['key'] = blob(grads[2])
    c.update(extra or {})
    return c


def combined_mask(B, Tq, Tv, query_mask=None, value_mask=None, attention_mask=None, causal=False):
    m = torch.ones(B, Tq, Tv, dtype=torch.bool)
    if query_mask is not None:
        m = m & query_mask[:, :, None]
    if value_mask is not None:
        m = m & value_mask[:, None, :]
    if causal:
        m = m & (torch.arange(Tq)[:, None] >= torch.arange(Tv)[None, :])[None]
    if attention_mask is not None:
        m = m & attention_mask
    assert bool(m.any(-1).all()), 'a row is fully masked'
    return m


def main():
    cases = []
    B, T, D = 2, 4, 6
    # 1. self-attention, 4 query heads sharing 2 key/value heads
    q = normal([B, T, D])
    u, g, h = 4, 2, 3
    ws = gqa_weights(D, D, D, u, g, h, True)
    cases.append(case('gqa_self', {'headDim': h, 'numQueryHeads': u, 'numKeyValueHeads': g}, q, ws, u, g, h))

    # 2. multi-query (one key/value head) cross-attention: distinct key and value sizes, value
    #    mask, attention mask and causal mask, scores returned
    Tq, Tv, Dv, Dk = 4, 5, 7, 8
    value, key = normal([B, Tv, Dv]), normal([B, Tv, Dk])
    u, g, h = 3, 1, 2
    ws = gqa_weights(D, Dk, Dv, u, g, h, True)
    value_mask = torch.ones(B, Tv, dtype=torch.bool)
    value_mask[1, 3:] = False
    attention_mask = torch.rand(B, Tq, Tv) > 0.3
    attention_mask[:, :, 0] = True
    mask = combined_mask(B, Tq, Tv, value_mask=value_mask, attention_mask=attention_mask, causal=True)
    cases.append(case('gqa_multi_query_cross_masked_causal', {'headDim': h, 'numQueryHeads': u, 'numKeyValueHeads': g},
                      q, ws, u, g, h, value=value, key=key, mask=mask,
                      extra={'valueMask': mask_blob(value_mask), 'attentionMask': mask_blob(attention_mask),
                             'useCausalMask': True, 'returnAttentionScores': True}))

    # 3. no biases, 6 query heads in 3 groups, value given (key defaults to it), causal only
    u, g, h = 6, 3, 2
    ws = gqa_weights(D, Dv, Dv, u, g, h, False)
    mask = combined_mask(B, Tq, Tv, causal=True)
    cases.append(case('gqa_no_bias_causal', {'headDim': h, 'numQueryHeads': u, 'numKeyValueHeads': g, 'useBias': False},
                      q, ws, u, g, h, value=value, mask=mask,
                      extra={'useCausalMask': True, 'returnAttentionScores': True}))

    doc = {'generator': 'scripts/make_gqa_fixtures.py', 'torch': torch.__version__, 'cases': cases}
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
    print('wrote %d cases to %s' % (len(cases), os.path.relpath(OUT_PATH)))


if __name__ == '__main__':
    main()
