#!/usr/bin/env python3
"""Reference values for Keras 3's streaming metrics that Strata implements (issue 23), replayed by
test/keras-metrics.test.ts on every backend.

Keras is not installed here, so each metric is written in NumPy (float64) from Keras 3.16.0's
definitions (keras/src/metrics/: regression_metrics.py, correlation_metrics.py,
f_score_metrics.py, iou_metrics.py, confusion_metrics.py and metrics_utils.py, reduction_metrics.py):
the same state, the same update per batch and the same result formula, so each case feeds
several batches (of different sizes, some weighted) and checks the state accumulated over all of
them. Inputs are float32-exact; expected values have 13 significant digits.

Run as `/usr/bin/python3 scripts/make_keras_metric_fixtures.py`.
"""
import json
import math
import os

import numpy as np

from fixture_common import short64

rng = np.random.default_rng(20261207)
EPS = 1e-7
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'keras-metrics.json')


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def blob(a, dtype='float32'):
    a = np.asarray(a)
    return {'shape': list(a.shape), 'data': [float(v) for v in a.reshape(-1)], 'dtype': dtype}


def batches_of(sizes, make):
    return [make(n) for n in sizes]


def weighted_mean(values, weights):
    v = np.concatenate(values)
    w = np.concatenate(weights)
    return float(np.sum(v * w) / np.sum(w))


# ---- per-sample metrics (MeanMetricWrapper) ---------------------------------------------------


def mape(t, p):
    return 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1)


def msle(t, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1)


def logcosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), -1)


def l2_normalize(x):
    return x / np.sqrt(np.maximum(np.sum(x * x, -1, keepdims=True), EPS * EPS))


def cosine(t, p):
    return np.sum(l2_normalize(t) * l2_normalize(p), -1)


def pearson(t, p):
    tn = t - t.mean(-1, keepdims=True)
    pn = p - p.mean(-1, keepdims=True)
    tn = tn / (tn.std(-1, keepdims=True) + EPS)
    pn = pn / (pn.std(-1, keepdims=True) + EPS)
    return np.mean(tn * pn, -1)


def concordance(t, p):
    tm = t.mean(-1, keepdims=True)
    pm = p.mean(-1, keepdims=True)
    tv = (t - tm).var(-1, keepdims=True)
    pv = (p - pm).var(-1, keepdims=True)
    covar = (t - pm) * (p - pm)  # Keras 3.16 centres y_true on y_pred's mean
    norm = tv + pv + (tm - pm) ** 2
    return np.mean(2 * covar / (norm + EPS), -1)


def mean_cases():
    cases = []
    specs = [
        ('meanAbsolutePercentageError', mape, lambda n, w: (f32(rng.uniform(0.5, 2, (n, w)) * rng.choice([-1, 1], (n, w))), f32(rng.normal(size=(n, w))))),
        ('meanSquaredLogarithmicError', msle, lambda n, w: (f32(rng.uniform(-0.2, 3, (n, w))), f32(rng.uniform(-0.2, 3, (n, w))))),
        ('logCoshError', logcosh, lambda n, w: (f32(rng.normal(size=(n, w))), f32(rng.normal(size=(n, w)) * 2))),
        ('cosineSimilarity', cosine, lambda n, w: (f32(rng.normal(size=(n, w))), f32(rng.normal(size=(n, w))))),
        ('pearsonCorrelation', pearson, lambda n, w: (f32(rng.normal(size=(n, w))), f32(rng.normal(size=(n, w))))),
        ('concordanceCorrelation', concordance, lambda n, w: (f32(rng.normal(size=(n, w))), f32(rng.normal(size=(n, w)) + 0.3))),
    ]
    for metric, fn, make in specs:
        for weighted in (False, True):
            values, weights, batches = [], [], []
            for n in (7, 16, 3):
                t, p = make(n, 5)
                b = {'yTrue': blob(t), 'yPred': blob(p)}
                w = np.ones(n)
                if weighted:
                    w = f32(rng.uniform(0, 2, n))
                    b['weight'] = blob(w)
                values.append(fn(t, p))
                weights.append(w)
                batches.append(b)
            cases.append({'name': f'{metric}{" weighted" if weighted else ""}', 'metric': metric, 'args': [], 'options': {}, 'batches': batches, 'result': short64(weighted_mean(values, weights))})
    # Keras's documented examples (correlation_metrics.py docstrings).
    t = f32([[0, 1, 0.5], [1, 1, 0.2]])
    p = f32([[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    for metric, fn in (('pearsonCorrelation', pearson), ('concordanceCorrelation', concordance)):
        cases.append({'name': f'{metric}: the docstring example', 'metric': metric, 'args': [], 'options': {}, 'batches': [{'yTrue': blob(t), 'yPred': blob(p)}], 'result': short64(np.mean(fn(t, p)))})
    return cases


# ---- Sum ----------------------------------------------------------------------------------------


def sum_cases():
    batches, total = [], 0.0
    for n, weighted in ((6, False), (9, True), (4, True)):
        v = f32(rng.normal(size=(n, 3)))
        b = {'values': blob(v)}
        if weighted:
            w = f32(rng.uniform(0, 2, n))
            b['weight'] = blob(w)
            total += float(np.sum(v.sum(-1) * w))
        else:
            total += float(v.sum())
        batches.append(b)
    return [{'name': 'sum with and without weights', 'metric': 'sum', 'args': [], 'options': {}, 'batches': batches, 'result': short64(total)}]


# ---- R2Score ------------------------------------------------------------------------------------


def r2_cases():
    cases = []
    for agg in ('uniform_average', 'variance_weighted_average', 'none'):
        for p_reg in (0, 3):
            for weighted in (False, True):
                outputs = 3
                s = np.zeros(outputs)
                sq = np.zeros(outputs)
                mse = np.zeros(outputs)
                count = np.zeros(outputs)
                samples = 0
                batches = []
                for n in (8, 13, 5):
                    t = f32(rng.normal(size=(n, outputs)) * [1, 2, 0.5] + [0, 1, -1])
                    p = f32(t + rng.normal(size=(n, outputs)) * 0.7)
                    b = {'yTrue': blob(t), 'yPred': blob(p)}
                    w = np.ones((n, 1))
                    if weighted:
                        wv = f32(rng.uniform(0, 2, n))
                        wv[0] = 0.0
                        b['weight'] = blob(wv)
                        w = wv[:, None]
                    w = np.broadcast_to(w, t.shape)
                    s += (t * w).sum(0)
                    sq += (t * t * w).sum(0)
                    mse += ((t - p) ** 2 * w).sum(0)
                    count += w.sum(0)
                    samples += int(np.sum(np.any(w != 0, -1)))
                    batches.append(b)
                mean = s / count
                total = sq - s * mean
                raw = 1 - mse / total
                raw = np.where(np.isinf(raw), 0.0, raw)
                if agg == 'uniform_average':
                    r2 = np.array([raw.mean()])
                elif agg == 'variance_weighted_average':
                    r2 = np.array([np.sum(total * raw) / np.sum(total)])
                else:
                    r2 = raw
                if p_reg != 0 and p_reg < samples - 1:
                    r2 = 1 - (1 - r2) * (samples - 1) / (samples - p_reg - 1)
                options = {'classAggregation': agg, 'numRegressors': p_reg}
                cases.append({'name': f'r2Score {agg}, {p_reg} regressors{" weighted" if weighted else ""}', 'metric': 'r2Score', 'args': [], 'options': options,
                              'batches': batches, 'result': short64(r2[0]), 'results': [short64(v) for v in r2]})
    return cases


# ---- FBetaScore ----------------------------------------------------------------------------------


def fbeta_cases():
    cases = []
    classes = 4
    for average in ('none', 'micro', 'macro', 'weighted'):
        for beta, threshold in ((1.0, None), (2.0, 0.4)):
            for weighted in (False, True):
                axis = None if average == 'micro' else 0
                tp = fp = fn = iw = 0
                batches = []
                for n in (9, 14, 6):
                    t = (rng.uniform(size=(n, classes)) < 0.4).astype(np.float64)
                    p = f32(rng.uniform(size=(n, classes)))
                    if n == 6:
                        p[0] = 0.0  # an all-zero row predicts nothing without a threshold
                    b = {'yTrue': blob(t), 'yPred': blob(p)}
                    if threshold is None:
                        pred = ((p >= p.max(-1, keepdims=True)) & (np.abs(p) > 1e-9)).astype(np.float64)
                    else:
                        pred = (p > threshold).astype(np.float64)
                    w = np.ones((n, 1))
                    if weighted:
                        wv = f32(rng.uniform(0, 2, n))
                        b['weight'] = blob(wv)
                        w = wv[:, None]
                    tp = tp + np.sum(pred * t * w, axis=axis)
                    fp = fp + np.sum(pred * (1 - t) * w, axis=axis)
                    fn = fn + np.sum((1 - pred) * t * w, axis=axis)
                    iw = iw + np.sum(t * w, axis=axis)
                    batches.append(b)
                precision = tp / (tp + fp + EPS)
                recall = tp / (tp + fn + EPS)
                f = precision * recall / (beta * beta * precision + recall + EPS) * (1 + beta * beta)
                if average == 'weighted':
                    f = np.sum(f * iw / (np.sum(iw) + EPS))
                elif average != 'none':
                    f = np.mean(f)
                f = np.atleast_1d(f)
                options = {'average': average, 'beta': beta}
                if threshold is not None:
                    options['threshold'] = threshold
                metric = 'f1Score' if beta == 1.0 else 'fBetaScore'
                if metric == 'f1Score':
                    del options['beta']
                cases.append({'name': f'{metric} {average} beta {beta} threshold {threshold}{" weighted" if weighted else ""}', 'metric': metric, 'args': [],
                              'options': options, 'batches': batches, 'result': short64(f[0]), 'results': [short64(v) for v in f]})
    return cases


# ---- IoU -----------------------------------------------------------------------------------------


def iou_result(cm, targets):
    rows = cm.sum(0)
    cols = cm.sum(1)
    tp = np.diag(cm)
    denom = (rows + cols - tp)[targets]
    tp = tp[targets]
    valid = denom > 1e-9
    iou = np.where(valid, tp / (denom + EPS), 0.0)
    return float(iou.sum() / (valid.sum() + EPS))


def iou_cases():
    cases = []
    c = 4
    configs = [
        ('iou', {'numClasses': c, 'targetClassIds': [0, 2]}, 'sparse', None),
        ('meanIoU', {'numClasses': c}, 'sparse', None),
        ('meanIoU', {'numClasses': c, 'ignoreClass': 1}, 'sparse', None),
        ('oneHotIoU', {'numClasses': c, 'targetClassIds': [1, 3]}, 'onehot', None),
        ('oneHotMeanIoU', {'numClasses': c}, 'onehot', None),
        ('binaryIoU', {'threshold': 0.3}, 'binary', 0.3),
        ('binaryIoU', {'targetClassIds': [1]}, 'binary', 0.5),
    ]
    for metric, options, kind, threshold in configs:
        for weighted in (False, True):
            n_cls = 2 if kind == 'binary' else c
            cm = np.zeros((n_cls, n_cls))
            batches = []
            for n in (10, 7, 12):
                if kind == 'binary':
                    t = (rng.uniform(size=(n, 2)) < 0.5).astype(np.float64)
                    p = f32(rng.uniform(size=(n, 2)))
                    p[0, 0] = threshold  # on the threshold: class 1 (>=)
                    ti, pi = t.reshape(-1).astype(int), (p >= threshold).reshape(-1).astype(int)
                elif kind == 'sparse':
                    ti = rng.integers(0, c, n * 2)
                    pi = rng.integers(0, c, n * 2)
                    ti[0] = c  # out of range: counts nothing
                    pi[1] = -1
                    t, p = ti.reshape(n, 2).astype(np.float64), pi.reshape(n, 2).astype(np.float64)
                else:
                    ti = rng.integers(0, c, n)
                    t = np.eye(c)[ti]
                    p = f32(rng.uniform(size=(n, c)))
                    pi = p.argmax(-1)
                b = {'yTrue': blob(t), 'yPred': blob(p)}
                w = np.ones(ti.shape)
                if weighted:
                    wshape = (n,) if kind == 'onehot' else (n, 2)
                    wv = f32(rng.uniform(0, 2, wshape))
                    b['weight'] = blob(wv)
                    w = wv.reshape(-1)
                valid = (ti >= 0) & (ti < n_cls) & (pi >= 0) & (pi < n_cls)
                if 'ignoreClass' in options:
                    valid &= ti != options['ignoreClass']
                for a, bb, ww, ok in zip(ti, pi, w, valid):
                    if ok:
                        cm[a, bb] += ww
                batches.append(b)
            targets = options.get('targetClassIds', list(range(n_cls)))
            cases.append({'name': f'{metric} {json.dumps(options)}{" weighted" if weighted else ""}', 'metric': metric, 'args': [], 'options': options,
                          'batches': batches, 'result': short64(iou_result(cm, targets))})
    return cases


# ---- confusion counts ----------------------------------------------------------------------------


def count_cases():
    cases = []
    for metric, cell in (('truePositives', 'tp'), ('falsePositives', 'fp'), ('trueNegatives', 'tn'), ('falseNegatives', 'fn')):
        for thresholds in (None, [0.3, 0.5, 0.8]):
            for weighted in (False, True):
                th = np.array([0.5] if thresholds is None else thresholds)
                acc = np.zeros(len(th))
                batches = []
                for n in (11, 5, 8):
                    t = (rng.uniform(size=(n, 2)) < 0.5).astype(np.float64)
                    p = f32(rng.uniform(size=(n, 2)))
                    p[0, 0] = 0.5
                    b = {'yTrue': blob(t), 'yPred': blob(p)}
                    w = np.ones((n, 2))
                    if weighted:
                        wv = f32(rng.uniform(0, 2, n))
                        b['weight'] = blob(wv)
                        w = np.broadcast_to(wv[:, None], (n, 2))
                    pos = p[..., None] > th
                    lab = (t != 0)[..., None]
                    mask = {'tp': pos & lab, 'fp': pos & ~lab, 'tn': ~pos & ~lab, 'fn': ~pos & lab}[cell]
                    acc += np.sum(mask * w[..., None], axis=(0, 1))
                    batches.append(b)
                options = {} if thresholds is None else {'thresholds': thresholds}
                cases.append({'name': f'{metric} {thresholds}{" weighted" if weighted else ""}', 'metric': metric, 'args': [], 'options': options,
                              'batches': batches, 'result': short64(acc[0]), 'results': [short64(v) for v in acc]})
    return cases


# ---- rates at a constraint ----------------------------------------------------------------------


def constrained_cases():
    cases = []
    specs = [
        ('precisionAtRecall', 0.6, 'recall', 'precision'),
        ('recallAtPrecision', 0.7, 'precision', 'recall'),
        ('sensitivityAtSpecificity', 0.5, 'specificity', 'sensitivity'),
        ('specificityAtSensitivity', 0.8, 'sensitivity', 'specificity'),
    ]
    for metric, value, constrained, reported in specs:
        for num_thresholds, class_id, weighted in ((200, None, False), (200, 1, True), (7, None, True), (1, None, False)):
            n_thr = num_thresholds
            tp = np.zeros(n_thr)
            fp = np.zeros(n_thr)
            tn = np.zeros(n_thr)
            fn = np.zeros(n_thr)
            batches = []
            for n in (30, 17, 25):
                t = (rng.uniform(size=(n, 3)) < 0.45).astype(np.float64)
                # scores that lean towards the label, some exactly 0, 1 or 0.5
                p = f32(np.clip(rng.uniform(size=(n, 3)) * 0.7 + t * 0.3, 0, 1))
                p[0, :] = [0.0, 1.0, 0.5]
                b = {'yTrue': blob(t), 'yPred': blob(p)}
                w = np.ones((n, 3))
                if weighted:
                    wv = f32(rng.uniform(0, 2, n))
                    b['weight'] = blob(wv)
                    w = np.broadcast_to(wv[:, None], (n, 3))
                tt, pp, ww = t, p, w
                if class_id is not None:
                    tt, pp, ww = t[:, class_id], p[:, class_id], w[:, class_id]
                tt, pp, ww = tt.reshape(-1), np.clip(pp.reshape(-1), 0, 1), ww.reshape(-1)
                lab = tt != 0
                if n_thr == 1:
                    bucket = np.where(pp > 0.5, 0, -1)
                else:
                    # Keras's bucket method: ceil(p (n - 1)) - 1, positive at thresholds 0..bucket.
                    bucket = (np.ceil(np.float32(pp) * np.float32(n_thr - 1)) - 1).astype(int)
                for j in range(n_thr):
                    pos = bucket >= j
                    tp[j] += np.sum(ww * (pos & lab))
                    fp[j] += np.sum(ww * (pos & ~lab))
                    tn[j] += np.sum(ww * (~pos & ~lab))
                    fn[j] += np.sum(ww * (~pos & lab))
                batches.append(b)
            dnn = lambda a, b: np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))
            rates = {
                'precision': dnn(tp, tp + fp),
                'recall': dnn(tp, tp + fn),
                'sensitivity': dnn(tp, tp + fn),
                'specificity': dnn(tn, tn + fp),
            }
            feasible = rates[constrained] >= value
            result = float(np.max(np.where(feasible, rates[reported], 0), initial=0))
            options = {'numThresholds': num_thresholds}
            if class_id is not None:
                options['classId'] = class_id
            cases.append({'name': f'{metric}({value}) {json.dumps(options)}{" weighted" if weighted else ""}', 'metric': metric, 'args': [value], 'options': options,
                          'batches': batches, 'result': short64(result)})
    return cases


def main():
    cases = mean_cases() + sum_cases() + r2_cases() + fbeta_cases() + iou_cases() + count_cases() + constrained_cases()
    for c in cases:
        for k in ('result',):
            if not math.isfinite(c[k]):
                raise ValueError(c['name'])
    with open(OUT, 'w') as f:
        json.dump({'keras': '3.16.0', 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases -> {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
