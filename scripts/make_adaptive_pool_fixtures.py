#!/usr/bin/env python3
"""Generates test/fixtures/adaptive-pool.json, PyTorch references for the adaptive pooling layers
(st.layers.adaptiveAveragePooling1d/2d/3d, adaptiveMaxPooling1d/2d/3d) and the ops under them
(st.adaptiveAveragePool, st.adaptiveMaxPool); test/adaptive-pooling.test.ts.

Regenerate with `/usr/bin/python3 scripts/make_adaptive_pool_fixtures.py` (PyTorch 1.13). The
case format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports.

torch's AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d on channels-first tensors, with
channels-last transposes around them. Their windows (output i of an axis of length L pools
[floor(i L / n), ceil((i + 1) L / n))) are the ones Keras 3's adaptive pooling uses. The cases
include overlapping windows (L = 7, n = 3), outputs larger than the input (L = 3, n = 5) and
unequal window lengths.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import make_case, normal  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'adaptive-pool.json')
FUNCS = {
    ('average', 1): F.adaptive_avg_pool1d, ('average', 2): F.adaptive_avg_pool2d, ('average', 3): F.adaptive_avg_pool3d,
    ('max', 1): F.adaptive_max_pool1d, ('max', 2): F.adaptive_max_pool2d, ('max', 3): F.adaptive_max_pool3d,
}


def case(name, kind, shape, output_size):
    rank = len(shape) - 2
    layer = ('adaptiveAveragePooling%dd' if kind == 'average' else 'adaptiveMaxPooling%dd') % rank

    def fwd(x):
        xc = x.permute(0, rank + 1, *range(1, rank + 1))
        y = FUNCS[(kind, rank)](xc, output_size)
        return y.permute(0, *range(2, rank + 2), 1), None
    # Random normal values: no two are equal, so each window has one maximum (no ties to split a gradient).
    x = normal(shape)
    return make_case(name, layer, {'outputSize': output_size}, x, [], fwd)


def main():
    cases = [
        case('adaptive_average_1d_overlapping', 'average', [2, 7, 3], 3),
        case('adaptive_average_1d_upsampling', 'average', [2, 3, 2], 5),
        case('adaptive_average_2d', 'average', [2, 7, 5, 2], [3, 2]),
        case('adaptive_average_3d', 'average', [1, 5, 4, 6, 2], [2, 3, 4]),
        case('adaptive_max_1d_overlapping', 'max', [2, 7, 3], 3),
        case('adaptive_max_2d', 'max', [2, 6, 7, 2], [4, 3]),
        case('adaptive_max_3d_upsampling', 'max', [1, 3, 5, 4, 2], [4, 2, 3]),
    ]
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_adaptive_pool_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
