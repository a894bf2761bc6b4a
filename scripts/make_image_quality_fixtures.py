"""Fixtures for st.image.sobelEdges and st.image.ssim (test/image-quality.test.ts), PyTorch 1.13
written to Keras 3.15's definitions:

- sobel_edges (its TensorFlow backend, tf.image.sobel_edges): per channel, the image extended by
  one reflected pixel on each side (F.pad mode='reflect', TF's REFLECT), correlated with
  Sobel's dy = [[-1,-2,-1],[0,0,0],[1,2,1]] and dx = its transpose; [N, H, W, C, 2] = [dy, dx].
- ssim (keras/src/ops/image.py _ssim): a Gaussian window (filter_size, filter_sigma; the
  outer product of the normalized 1-D Gaussian), 'valid' local means, variances and covariance
  per channel, the SSIM map with c1 = (k1 max_val)^2, c2 = (k2 max_val)^2, averaged over
  positions and channels per image.

Run: /usr/bin/python3 scripts/make_image_quality_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_common import short64, uniform

torch.manual_seed(23)


def flat(t):
    return [short64(v) for v in t.reshape(-1).tolist()]


def sobel(x):
    n, h, w, c = x.shape
    t = F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), mode='reflect')
    dy = torch.tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], dtype=torch.float64)
    k = torch.stack([dy, dy.t()]).unsqueeze(1).repeat(c, 1, 1, 1)  # [2C, 1, 3, 3]: channel c -> (dy, dx)
    out = F.conv2d(t, k, groups=c)  # [N, 2C, H, W] ordered (c, dy|dx)
    return out.reshape(n, c, 2, h, w).permute(0, 3, 4, 1, 2)


def ssim(x, y, max_val, size, sigma, k1, k2):
    n, h, w, c = x.shape
    g = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(g ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    k = torch.outer(g, g).expand(c, 1, size, size)
    a, b = x.permute(0, 3, 1, 2), y.permute(0, 3, 1, 2)
    local = lambda t: F.conv2d(t, k, groups=c)
    mu1, mu2 = local(a), local(b)
    s11 = local(a * a) - mu1 * mu1
    s22 = local(b * b) - mu2 * mu2
    s12 = local(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    return m.mean(dim=(1, 2, 3))


def main():
    cases = []
    x = uniform([2, 6, 7, 3], 0, 1)
    y = sobel(x)
    cases.append({'op': 'sobelEdges', 'name': 'sobel_edges', 'options': {}, 'shape': list(x.shape), 'input': flat(x),
                  'outShape': list(y.shape), 'output': flat(y)})
    a = uniform([2, 16, 14, 3], 0, 1)
    b = (a + 0.2 * uniform([2, 16, 14, 3])).clamp(0, 1)
    for opts in [{}, {'filterSize': 7, 'filterSigma': 1.1, 'maxVal': 2.0, 'k1': 0.02, 'k2': 0.05}]:
        s = ssim(a, b, opts.get('maxVal', 1.0), opts.get('filterSize', 11), opts.get('filterSigma', 1.5), opts.get('k1', 0.01), opts.get('k2', 0.03))
        cases.append({'op': 'ssim', 'name': 'ssim %s' % opts, 'options': opts, 'shape': list(a.shape), 'input': flat(a), 'input2': flat(b),
                      'outShape': list(s.shape), 'output': flat(s)})
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-quality.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_quality_fixtures.py (PyTorch 1.13, Keras 3.15 definitions)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
