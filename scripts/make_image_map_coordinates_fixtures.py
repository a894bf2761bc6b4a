"""Fixtures for st.image.mapCoordinates (test/image-warp.test.ts), Keras 3.15's
keras.ops.image.map_coordinates: sample `inputs` at `coordinates` with order 0 (nearest, half
to even) or 1 (multilinear), each integer neighbour outside the input mapped by the fill mode:
constant (the fill value), nearest (clamp), wrap (period n), mirror (d c b | a b c d | c b a,
period 2(n - 1)) and reflect (d c b a | a b c d | d c b a, period 2n).

PyTorch 1.13's grid_sample (align_corners=True) is the reference for constant 0 ('zeros'),
nearest ('border') and mirror ('reflection'), in 2-D and 3-D; wrap, reflect and a non-zero
fill value come from the definition above, written out below and checked against grid_sample
on the modes both cover.

Run: /usr/bin/python3 scripts/make_image_map_coordinates_fixtures.py
"""
import itertools
import json
import math
import os

import torch
import torch.nn.functional as F

from fixture_common import short64, uniform

torch.manual_seed(23)


def index(i, n, mode):
    if 0 <= i < n:
        return i
    if mode == 'constant':
        return None
    if mode == 'nearest':
        return 0 if i < 0 else n - 1
    if mode == 'wrap':
        return i % n
    if mode == 'mirror':
        if n == 1:
            return 0
        m = i % (2 * (n - 1))
        return m if m < n else 2 * (n - 1) - m
    m = i % (2 * n)  # reflect
    return m if m < n else 2 * n - 1 - m


def half_even(v):
    r = math.floor(v + 0.5)
    return r - 1 if v + 0.5 == r and r % 2 else r


def by_definition(x, coords, order, mode, cval):
    shape = list(x.shape)
    r = len(shape)
    out = []
    for p in range(coords.shape[1]):
        c = [coords[a, p].item() for a in range(r)]
        if order == 0:
            corners = [([half_even(v) for v in c], 1.0)]
        else:
            corners = []
            for bits in itertools.product([0, 1], repeat=r):
                idx, w = [], 1.0
                for a, b in enumerate(bits):
                    lo = math.floor(c[a])
                    f = c[a] - lo
                    idx.append(lo + b)
                    w *= f if b else 1 - f
                corners.append((idx, w))
        total = 0.0
        for idx, w in corners:
            mapped = [index(i, n, mode) for i, n in zip(idx, shape)]
            total += w * (cval if None in mapped else x[tuple(mapped)].item())
        out.append(total)
    return torch.tensor(out, dtype=torch.float64)


def by_grid_sample(x, coords, order, mode):
    r = x.dim()
    pad = {'constant': 'zeros', 'nearest': 'border', 'mirror': 'reflection'}[mode]
    # grid_sample's last grid axis lists (x, y[, z]) = the reversed axes, normalized to [-1, 1].
    norm = [2 * coords[a] / (x.shape[a] - 1) - 1 for a in range(r)]
    grid = torch.stack(norm[::-1], dim=-1).reshape((1,) + (1,) * (r - 1) + (coords.shape[1], r))
    y = F.grid_sample(x[None, None], grid, mode='nearest' if order == 0 else 'bilinear', padding_mode=pad, align_corners=True)
    return y.reshape(-1)


def flat(t):
    return [short64(v) for v in t.reshape(-1).tolist()]


def main():
    cases = []
    for shape in ([5, 6], [3, 4, 5]):
        x = uniform(shape)
        points = 24
        coords = torch.stack([uniform([points], -2.3, n + 1.3) for n in shape])
        for order in (0, 1):
            for mode in ('constant', 'nearest', 'wrap', 'mirror', 'reflect'):
                for cval in ((0.0, 0.75) if mode == 'constant' else (0.0,)):
                    y = by_definition(x, coords, order, mode, cval)
                    if mode in ('constant', 'nearest', 'mirror') and cval == 0.0 and not (order == 0 and len(shape) == 3):
                        ref = by_grid_sample(x, coords, order, mode)
                        assert torch.allclose(y, ref, atol=1e-12), (shape, order, mode, (y - ref).abs().max())
                    cases.append({'name': 'rank %d order %d %s %s' % (len(shape), order, mode, cval), 'order': order,
                                  'fillMode': mode, 'fillValue': cval, 'shape': shape, 'input': flat(x),
                                  'coordShape': [len(shape), 4, 6], 'coordinates': flat(coords), 'output': flat(y)})
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image-map-coordinates.json')
    with open(path, 'w') as f:
        json.dump({'source': 'scripts/make_image_map_coordinates_fixtures.py (PyTorch 1.13 grid_sample and the Keras 3.15 definition)', 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
