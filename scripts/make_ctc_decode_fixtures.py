#!/usr/bin/env python3
"""A NumPy reference for st.ctcDecode (Keras 3.16's ops.ctc_decode), written from the definition
of CTC decoding, since PyTorch 1.13 has no decoder (torchaudio is not installed):

- greedy: each frame's argmax within the sequence length, a label equal to the previous frame's
  dropped (merge_repeated), blanks dropped, padded with -1; the score is minus the sum of the
  frames' largest raw inputs (Keras's definition);
- beam search with a wide beam: the exact answer, by enumerating every alignment (classes^frames
  of them), collapsing it (merge repeats, drop blanks) and summing the probabilities of the
  alignments of each label sequence under the log-softmax of the inputs; the top_paths most
  probable sequences and their log-probabilities;
- beam search with a narrow beam: the CTC prefix beam search (blank / non-blank prefix
  probabilities, beam_width prefixes kept per frame), checked here to equal the enumeration when
  the beam is wide.

Writes test/fixtures/ctc-decode.json, replayed by test/ctc-decode.test.ts.
Run as `/usr/bin/python3 scripts/make_ctc_decode_fixtures.py`.
"""
import itertools
import json
import os

import numpy as np

rng = np.random.default_rng(20261207)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'ctc-decode.json')


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def collapse(alignment, blank):
    out, prev = [], None
    for k in alignment:
        if k != blank and k != prev:
            out.append(k)
        prev = k
    return tuple(out)


def greedy(x, lengths, blank, merge):
    b, t, c = x.shape
    decoded = -np.ones((1, b, t), dtype=np.int64)
    scores = np.zeros((b, 1))
    for i in range(b):
        best = [int(np.argmax(x[i, f])) if f < lengths[i] else blank for f in range(t)]
        path = [k for f, k in enumerate(best) if k != blank and not (merge and f > 0 and best[f - 1] == k)]
        decoded[0, i, :len(path)] = path
        scores[i, 0] = -sum(x[i, f].max() for f in range(lengths[i]))
    return decoded, scores


def exhaustive(logp, length, blank):
    """log P(sequence) for every label sequence, by enumerating the alignments."""
    probs = {}
    c = logp.shape[1]
    for alignment in itertools.product(range(c), repeat=length):
        s = collapse(alignment, blank)
        lp = sum(logp[f, k] for f, k in enumerate(alignment))
        probs[s] = np.logaddexp(probs.get(s, -np.inf), lp)
    return probs


def prefix_beam(logp, length, blank, width):
    beams = {(): (0.0, -np.inf)}  # prefix -> (log P ending in blank, log P ending in its last label)
    for f in range(length):
        nxt = {}

        def add(prefix, blank_lp=-np.inf, label_lp=-np.inf):
            pb, pl = nxt.get(prefix, (-np.inf, -np.inf))
            nxt[prefix] = (np.logaddexp(pb, blank_lp), np.logaddexp(pl, label_lp))
        for prefix, (pb, pl) in beams.items():
            tot = np.logaddexp(pb, pl)
            add(prefix, blank_lp=tot + logp[f, blank])
            for k in range(logp.shape[1]):
                if k == blank:
                    continue
                if prefix and prefix[-1] == k:
                    add(prefix, label_lp=pl + logp[f, k])
                    add(prefix + (k,), label_lp=pb + logp[f, k])
                else:
                    add(prefix + (k,), label_lp=tot + logp[f, k])
        # Prefixes no alignment reaches yet (a repeat right after its label) are dropped.
        ranked = sorted(((p, v) for p, v in nxt.items() if np.logaddexp(*v) > -np.inf), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked[:width])
    return {p: np.logaddexp(*v) for p, v in beams.items()}


def top(probs, top_paths, t):
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])[:top_paths]
    paths = -np.ones((top_paths, t), dtype=np.int64)
    scores = np.full(top_paths, -np.inf)
    for p, (seq, lp) in enumerate(ranked):
        paths[p, :len(seq)] = seq
        scores[p] = lp
    return paths, scores


def beam_search(x, lengths, blank, width, top_paths, exact):
    b, t, c = x.shape
    decoded = -np.ones((top_paths, b, t), dtype=np.int64)
    scores = np.zeros((b, top_paths))
    for i in range(b):
        logp = log_softmax(x[i])
        beam = prefix_beam(logp, lengths[i], blank, width)
        if exact:
            truth = exhaustive(logp, lengths[i], blank)
            # A beam as wide as the number of label sequences loses nothing: it is the truth.
            for seq, lp in beam.items():
                assert abs(truth[seq] - lp) < 1e-9, (seq, truth[seq], lp)
            beam = truth
        decoded[:, i], scores[i] = top(beam, top_paths, t)
    return decoded, scores


def enc(a):
    a = np.asarray(a)
    return {'shape': list(a.shape), 'values': [float('%.13g' % v) if a.dtype.kind == 'f' else int(v) for v in a.reshape(-1)]}


def main():
    cases = []
    # Peaked logits, so that greedy paths repeat labels and cross blanks.
    x = f32(rng.normal(size=(3, 7, 4)) * 2.0)
    lengths = [7, 5, 0]
    for blank, merge in ((0, True), (0, False), (3, True)):
        d, s = greedy(x, lengths, blank, merge)
        cases.append({'name': 'greedy blank %d merge %s' % (blank, merge), 'inputs': enc(x), 'lengths': lengths,
                      'options': {'strategy': 'greedy', 'maskIndex': blank, 'mergeRepeated': merge},
                      'decoded': enc(d), 'scores': enc(s)})
    # Beam search: 4 classes over at most 5 frames is 1024 alignments per sequence.
    y = f32(rng.normal(size=(3, 5, 4)) * 1.5)
    ylen = [5, 4, 2]
    for blank, width, top_paths, exact in ((0, 200, 3, True), (2, 200, 2, True), (0, 2, 2, False), (0, 1, 1, False)):
        d, s = beam_search(y, ylen, blank, width, top_paths, exact)
        cases.append({'name': 'beam search blank %d width %d top %d%s' % (blank, width, top_paths, ' (exact by enumeration)' if exact else ''),
                      'inputs': enc(y), 'lengths': ylen,
                      'options': {'strategy': 'beamSearch', 'maskIndex': blank, 'beamWidth': width, 'topPaths': top_paths},
                      'decoded': enc(d), 'scores': enc(s)})
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/make_ctc_decode_fixtures.py', 'numpy': np.__version__, 'keras': '3.16.0', 'cases': cases}, f)
        f.write('\n')
    print('%s: %d cases' % (OUT, len(cases)))


if __name__ == '__main__':
    main()
