"""Fixtures for st.image.extractPatches, gaussianBlur, cropImages and padImages
(test/image-geometry.test.ts), from PyTorch 1.13 written to Keras 3.15's definitions:

- extract_patches: every size[0] x size[1] window (strides, dilation, 'valid' or TF's 'same'
  zero padding with the odd pixel after) as one vector ordered (row, column, channel) -- what
  Keras's identity-kernel convolution gives; here torch.nn.functional.unfold, reordered.
- gaussian_blur: exp(-x^2 / (2 sigma^2)) over x = i - (k - 1)/2, normalized, the 2-D kernel the
  outer product of the row and column kernels, zero padding k // 2 each side, per channel
  (torch conv2d with groups = channels).
- crop_images / pad_images: slices and zero padding.
- extract_patches_3d: every window of a volume as one vector ordered (depth, row, column,
  channel), what Keras's identity-kernel 3-D convolution gives; gathered here tap by tap.

Run: /usr/bin/python3 scripts/make_image_geometry_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from fixture_common import short64, uniform

torch.manual_seed(23)


def flat(t):
    return [short64(v) for v in t.reshape(-1).tolist()]


def same_pads(n, k, s, d):
    k_eff = (k - 1) * d + 1
    out = math.ceil(n / s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def patches(x, size, strides, dilation, padding):
    n, h, w, c = x.shape
    t = x.permute(0, 3, 1, 2)
    if padding == 'same':
        top, bottom = same_pads(h, size[0], strides[0], dilation[0])
        left, right = same_pads(w, size[1], strides[1], dilation[1])
        t = F.pad(t, (left, right, top, bottom))
    cols = F.unfold(t, size, dilation=dilation, stride=strides)  # [N, C*kh*kw, L], ordered (c, i, j)
    kh, kw = size
    hp, wp = t.shape[2], t.shape[3]
    oh = (hp - ((kh - 1) * dilation[0] + 1)) // strides[0] + 1
    ow = (wp - ((kw - 1) * dilation[1] + 1)) // strides[1] + 1
    cols = cols.reshape(n, c, kh * kw, oh, ow).permute(0, 3, 4, 2, 1)  # [N, oh, ow, kh*kw, C]
    return cols.reshape(n, oh, ow, kh * kw * c)


def patches_3d(x, size, strides, dilation, padding):
    """Keras's extract_patches_3d: each window's taps in (depth, row, column, channel) order."""
    n, d, h, w, c = x.shape
    pads = [same_pads(s, k, st, dl) if padding == 'same' else (0, 0) for s, k, st, dl in zip((d, h, w), size, strides, dilation)]
    t = F.pad(x, (0, 0, pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    outs = [(t.shape[a + 1] - ((size[a] - 1) * dilation[a] + 1)) // strides[a] + 1 for a in range(3)]
    y = torch.zeros(n, *outs, size[0] * size[1] * size[2] * c, dtype=torch.float64)
    for i in range(outs[0]):
        for j in range(outs[1]):
            for k in range(outs[2]):
                taps = [t[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1], k * strides[2] + e * dilation[2], :]
                        for a in range(size[0]) for b in range(size[1]) for e in range(size[2])]
                y[:, i, j, k, :] = torch.cat(taps, dim=1)
    return y


def gaussian(size, sigma):
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def blur(x, size, sigma):
    n, h, w, c = x.shape
    k2 = torch.outer(gaussian(size[0], sigma[0]), gaussian(size[1], sigma[1]))
    weight = k2.expand(c, 1, size[0], size[1])
    t = F.pad(x.permute(0, 3, 1, 2), (size[1] // 2, size[1] // 2, size[0] // 2, size[0] // 2))
    return F.conv2d(t, weight, groups=c).permute(0, 2, 3, 1)


def main():
    cases = []
    x = uniform([2, 7, 9, 3])
    for size, options in [
        ([3, 3], {}),
        ([2, 4], {'strides': [1, 2]}),
        ([3, 2], {'strides': [2, 3], 'padding': 'same'}),
        ([2, 2], {'strides': [1, 1], 'dilationRate': [2, 3], 'padding': 'same'}),
    ]:
        strides = options.get('strides', size)
        y = patches(x, size, strides, options.get('dilationRate', [1, 1]), options.get('padding', 'valid'))
        cases.append({'op': 'extractPatches', 'name': 'extract_patches %s %s' % (size, options), 'size': size, 'options': options,
                      'shape': list(x.shape), 'input': flat(x), 'outShape': list(y.shape), 'output': flat(y)})
    for size, sigma in [([3, 3], [1.0, 1.0]), ([5, 5], [1.7, 1.7]), ([5, 3], [2.0, 0.6])]:
        y = blur(x, size, sigma)
        cases.append({'op': 'gaussianBlur', 'name': 'gaussian_blur %s %s' % (size, sigma), 'options': {'kernelSize': size, 'sigma': sigma},
                      'shape': list(x.shape), 'input': flat(x), 'outShape': list(y.shape), 'output': flat(y)})
    y = x[:, 2:7 - 1, 1:9 - 3, :]
    cases.append({'op': 'cropImages', 'name': 'crop_images top 2, bottom 1, left 1, width 5',
                  'options': {'topCropping': 2, 'bottomCropping': 1, 'leftCropping': 1, 'targetWidth': 5},
                  'shape': list(x.shape), 'input': flat(x), 'outShape': list(y.shape), 'output': flat(y)})
    y = F.pad(x.permute(0, 3, 1, 2), (3, 1, 0, 2)).permute(0, 2, 3, 1)
    cases.append({'op': 'padImages', 'name': 'pad_images bottom 2, height 9, left 3, right 1',
                  'options': {'bottomPadding': 2, 'targetHeight': 9, 'leftPadding': 3, 'rightPadding': 1},
                  'shape': list(x.shape), 'input': flat(x), 'outShape': list(y.shape), 'output': flat(y)})
    v = uniform([2, 5, 6, 4, 2])
    for size, options in [([2, 3, 2], {}), ([3, 2, 2], {'strides': [1, 2, 1], 'padding': 'same'}), ([2, 2, 2], {'strides': [2, 1, 2], 'dilationRate': [1, 2, 1]})]:
        y = patches_3d(v, size, options.get('strides', size), options.get('dilationRate', [1, 1, 1]), options.get('padding', 'valid'))
        cases.append({'op': 'extractPatches3d', 'name': 'extract_patches_3d %s %s' % (size, options), 'size': size, 'options': options,
                      'shape': list(v.shape), 'input': flat(v), 'outShape': list(y.shape), 'output': flat(y)})
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-geometry.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_geometry_fixtures.py (PyTorch 1.13, Keras 3.15 definitions)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
