"""Fixtures for st.image.scaleAndTranslate (test/image-scale.test.ts): Keras 3.15's
keras.ops.image.scale_and_translate (JAX's jax.image.scale_and_translate), from its definition:
output index i of a spatial axis samples s = (i + 0.5 - translation) / scale - 0.5; the weight of
input j is k(|s - j| / stretch) with stretch = max(1 / scale, 1) when antialiasing (else 1),
normalized over j (0 when the sum is below 1000 float32 epsilons), and 0 for every j when s lies
outside [-0.5, n - 0.5]. k is the triangle (linear), Keys' cubic with a = -0.5 (cubic), or
Lanczos with radius 3 or 5. Each axis is one contraction with its weight matrix (PyTorch 1.13,
float64).

Run: /usr/bin/python3 scripts/make_image_scale_fixtures.py
"""
import json
import math
import os

import torch

from fixture_common import short64, uniform

torch.manual_seed(23)


def triangle(x):
    return max(0.0, 1.0 - abs(x))


def keys(x):
    if x >= 2:
        return 0.0
    if x >= 1:
        return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return ((1.5 * x - 2.5) * x) * x + 1.0


def lanczos(r):
    def k(x):
        if x > r:
            return 0.0
        if x <= 1e-3:
            return 1.0
        return r * math.sin(math.pi * x) * math.sin(math.pi * x / r) / (math.pi ** 2 * x ** 2)
    return k


KERNELS = {'linear': triangle, 'cubic': keys, 'lanczos3': lanczos(3), 'lanczos5': lanczos(5)}


def weights(n_in, n_out, scale, translation, kernel, antialias):
    stretch = max(1.0 / scale, 1.0) if antialias else 1.0
    w = torch.zeros(n_in, n_out, dtype=torch.float64)
    for o in range(n_out):
        s = (o + 0.5) / scale - translation / scale - 0.5
        if not (-0.5 <= s <= n_in - 0.5):
            continue
        col = [kernel(abs(s - j) / stretch) for j in range(n_in)]
        total = sum(col)
        if abs(total) > 1000 * 1.1920928955078125e-7:
            w[:, o] = torch.tensor(col, dtype=torch.float64) / total
    return w


def apply(x, out_shape, scale, translation, dims, method, antialias):
    y = x
    for k, d in enumerate(dims):
        w = weights(y.shape[d], out_shape[d], scale[k], translation[k], KERNELS[method], antialias)
        y = torch.movedim(torch.tensordot(torch.movedim(y, d, -1), w, dims=1), -1, d)
    return y


def main():
    cases = []
    x = uniform([2, 9, 7, 3])
    for out_shape, scale, translation, method, antialias in [
        ([2, 5, 11, 3], [5 / 9, 11 / 7], [0.0, 0.0], 'linear', True),
        ([2, 5, 11, 3], [5 / 9, 11 / 7], [0.0, 0.0], 'linear', False),
        ([2, 12, 4, 3], [1.4, 0.55], [-1.3, 0.8], 'cubic', True),
        ([2, 6, 8, 3], [0.7, 1.2], [0.4, -0.9], 'lanczos3', True),
        ([2, 6, 8, 3], [0.7, 1.2], [0.4, -0.9], 'lanczos5', False),
    ]:
        y = apply(x, out_shape, scale, translation, [1, 2], method, antialias)
        cases.append({'name': '%s antialias=%s scale %s translation %s' % (method, antialias, [round(s, 3) for s in scale], translation),
                      'outputShape': out_shape, 'scale': scale, 'translation': translation, 'method': method, 'antialias': antialias,
                      'shape': list(x.shape), 'input': [short64(v) for v in x.reshape(-1).tolist()],
                      'output': [short64(v) for v in y.reshape(-1).tolist()]})
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-scale.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_scale_fixtures.py (the Keras 3.15 / JAX definition, PyTorch 1.13)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
