#!/usr/bin/env python3
"""Generates test/fixtures/pca.json: PyTorch references for st.vis.pca (test/pca.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_pca_fixtures.py` (PyTorch 1.13). Deterministic:
one fixed seed, no clock, no network. Inputs are rounded to multiples of 1/256, so their short
decimals are exact in float32 and in float64 alike; the reference is computed in float64 by torch.linalg.svd of the centred data, the way
scikit-learn's PCA (which this machine does not have) defines its results:
  * components: the first k right singular vectors of X - mean(X) (rows of Vh);
  * explained variance: S^2 / (n - 1); ratio: that over the total variance, sum(S^2) / (n - 1);
  * projected: (X - mean(X)) @ components^T.
A component's sign is arbitrary in the mathematics; Strata fixes it so that each component's entry
of largest magnitude is positive, and the same rule is applied here, so the test compares exactly.

The cases cover both of Strata's paths (the covariance when features <= samples, the Gram matrix
when features > samples) at sizes solved directly (<= 64) and by subspace iteration (> 64). The
data are Gaussian with a decaying spectrum, rotated at random and shifted, so the leading
eigenvalues are well separated and the components well defined.

Each case: {name, components, input: {shape, data}, mean, componentsMatrix, explainedVariance,
explainedVarianceRatio, projected}.
"""
import json
import os

import torch
from fixture_common import short64

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pca.json')


def blob(t, conv=short64):
    return {'shape': list(t.shape), 'data': [conv(v) for v in t.reshape(-1).tolist()]}


def exact(v):
    assert v * 256 == round(v * 256), 'not a multiple of 1/256'
    return float(v)


def data(n, d, decay):
    """n samples of d features: Gaussian with standard deviations 3 * decay^i, rotated and shifted."""
    scales = torch.tensor([3.0 * decay ** i for i in range(d)])
    rotation, _ = torch.linalg.qr(torch.randn(d, d))
    shift = torch.randn(d) * 2
    return torch.round((torch.randn(n, d) * scales @ rotation.T + shift) * 256) / 256


def signed(vh):
    """Each row flipped so that its entry of largest magnitude is positive (Strata's rule)."""
    rows = []
    for row in vh:
        at = int(torch.argmax(row.abs()))
        rows.append(-row if row[at] < 0 else row)
    return torch.stack(rows)


def case(name, n, d, k, decay):
    x = data(n, d, decay)
    mean = x.mean(0)
    centred = x - mean
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    components = signed(vh[:k])
    variance = s ** 2 / (n - 1)
    return {
        'name': name,
        'components': k,
        'input': blob(x, exact),
        'mean': blob(mean),
        'componentsMatrix': blob(components),
        'explainedVariance': [short64(v) for v in variance[:k].tolist()],
        'explainedVarianceRatio': [short64(v) for v in (variance[:k] / variance.sum()).tolist()],
        'projected': blob(centred @ components.T),
    }


def main():
    cases = [
        case('covariance, solved directly (12 features)', 60, 12, 3, 0.7),
        case('covariance, subspace iteration (70 features)', 100, 70, 3, 0.85),
        case('Gram matrix, solved directly (30 samples, 50 features)', 30, 50, 2, 0.8),
        case('Gram matrix, subspace iteration (70 samples, 80 features)', 70, 80, 3, 0.85),
    ]
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_pca_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    print('wrote %s (%d cases)' % (OUT_PATH, len(cases)))


if __name__ == '__main__':
    main()
