"""PyTorch references for st.image functions that PyTorch 1.13 / torchvision 0.14 also have
(test/image-torch.test.ts): values and the gradient of sum(y * w) with respect to the images.

- resizeBilinear(alignCorners=true) = F.interpolate(mode='bilinear', align_corners=True);
  resizeBilinear(halfPixelCenters=true) = align_corners=False (TF 2's half-pixel resize).
- resizeNearestNeighbor() = F.interpolate(mode='nearest') (source floor(i * in / out));
  resizeNearestNeighbor(halfPixelCenters=true) = mode='nearest-exact'.
- transform(bilinear, constant fill 0) with an affine row = F.grid_sample(align_corners=True,
  padding_mode='zeros') at the row's source coordinates.
- rgbToGrayscale = torchvision.transforms.functional.rgb_to_grayscale (the same luma weights).
- nonMaxSuppression = torchvision.ops.nms (boxes as [x1, y1, x2, y2]; every box kept may be
  returned, so maxOutputSize is the number of boxes).

Run: /usr/bin/python3 scripts/make_image_torch_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision

from fixture_common import short64, uniform

torch.manual_seed(23)


def flat(t):
    return [short64(v) for v in t.reshape(-1).tolist()]


def with_grad(x, f):
    x = x.clone().requires_grad_(True)
    y = f(x)
    w = uniform(list(y.shape))
    (y * w).sum().backward()
    return y.detach(), w, x.grad


def nchw(f):
    return lambda x: f(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def main():
    cases = []
    x = uniform([2, 5, 7, 3], 0, 1)
    for size in ([9, 4], [3, 11]):
        for name, options, f in [
            ('resizeBilinear', {'alignCorners': True}, lambda t: F.interpolate(t, size=size, mode='bilinear', align_corners=True)),
            ('resizeBilinear', {'halfPixelCenters': True}, lambda t: F.interpolate(t, size=size, mode='bilinear', align_corners=False)),
            ('resizeNearestNeighbor', {}, lambda t: F.interpolate(t, size=size, mode='nearest')),
            ('resizeNearestNeighbor', {'halfPixelCenters': True}, lambda t: F.interpolate(t, size=size, mode='nearest-exact')),
        ]:
            y, w, g = with_grad(x, nchw(f))
            cases.append({'op': name, 'name': '%s %s %s' % (name, size, options), 'size': size, 'options': options,
                          'shape': list(x.shape), 'input': flat(x), 'outShape': list(y.shape), 'output': flat(y), 'weight': flat(w), 'grad': flat(g)})
    # transform: output (j, i) reads (a0 j + a1 i + a2, b0 j + b1 i + b2).
    n, h, wd = 2, 6, 7
    rows = [[0.9137, -0.3122, 1.2231, 0.3514, 0.9476, -0.8129, 0.0, 0.0], [1.4173, 0.0, -2.5311, 0.0, 0.7219, 1.1083, 0.0, 0.0]]
    xt = uniform([n, h, wd, 2], 0, 1)
    jj, ii = torch.meshgrid(torch.arange(wd, dtype=torch.float64), torch.arange(h, dtype=torch.float64), indexing='xy')
    grids = []
    for r in rows:
        sx = r[0] * jj + r[1] * ii + r[2]
        sy = r[3] * jj + r[4] * ii + r[5]
        grids.append(torch.stack([2 * sx / (wd - 1) - 1, 2 * sy / (h - 1) - 1], dim=-1))
    grid = torch.stack(grids)
    y, w, g = with_grad(xt, nchw(lambda t: F.grid_sample(t, grid, mode='bilinear', padding_mode='zeros', align_corners=True)))
    cases.append({'op': 'transform', 'name': 'transform bilinear constant 0 (grid_sample)', 'transforms': rows, 'options': {'interpolation': 'bilinear'},
                  'shape': list(xt.shape), 'input': flat(xt), 'outShape': list(y.shape), 'output': flat(y), 'weight': flat(w), 'grad': flat(g)})
    xg = uniform([2, 4, 5, 3], 0, 1)
    y, w, g = with_grad(xg, nchw(lambda t: torchvision.transforms.functional.rgb_to_grayscale(t)))
    cases.append({'op': 'rgbToGrayscale', 'name': 'rgbToGrayscale (torchvision)', 'options': {}, 'shape': list(xg.shape), 'input': flat(xg),
                  'outShape': list(y.shape), 'output': flat(y), 'weight': flat(w), 'grad': flat(g)})
    count = 60
    corner = uniform([count, 2], 0, 1)
    extent = uniform([count, 2], 0.05, 0.35)
    xyxy = torch.cat([corner, corner + extent], dim=1)  # [x1, y1, x2, y2]
    scores = uniform([count], 0, 1)
    for iou in (0.3, 0.5, 0.7):
        keep = torchvision.ops.nms(xyxy, scores, iou)
        boxes = xyxy[:, [1, 0, 3, 2]]  # tfjs's [y1, x1, y2, x2]
        cases.append({'op': 'nonMaxSuppression', 'name': 'nonMaxSuppression iou %s (torchvision)' % iou, 'iou': iou,
                      'boxes': flat(boxes), 'scores': flat(scores), 'count': count, 'output': keep.tolist()})
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-torch.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_torch_fixtures.py (PyTorch 1.13, torchvision 0.14)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
