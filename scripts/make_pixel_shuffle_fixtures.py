#!/usr/bin/env python3
"""Generates test/fixtures/pixel-shuffle.json, PyTorch references for st.layers.depthToSpace
(test/depth-to-space.test.ts): outputs and input gradients of torch.nn.PixelShuffle.

Regenerate with `/usr/bin/python3 scripts/make_pixel_shuffle_fixtures.py` (PyTorch 1.13). The case
format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports.

Strata's depthToSpace is TensorFlow's depth_to_space ("DCR" order): input channel
(i*b + j)*C + c goes to pixel (i, j) of its b x b block as output channel c. PyTorch's
PixelShuffle works on NCHW and reads channel c*b^2 + i*b + j ("CRD"). So the reference is
PixelShuffle applied after reordering the channels DCR -> CRD (and, for channelsLast cases,
after NHWC -> NCHW, with the output permuted back). The gradient goes through the same
permutations with torch.autograd, so it comes back in Strata's layout. Every case is also checked
here against TensorFlow's definition written as an index loop, so the permutation itself is
tested rather than assumed.
"""
import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import make_case, normal  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pixel-shuffle.json')


def dcr_to_crd(x_nchw, b):
    """Reorders channels from TensorFlow's (i*b + j)*C + c to PyTorch's c*b^2 + i*b + j."""
    n, channels, h, w = x_nchw.shape
    depth = channels // (b * b)
    return x_nchw.reshape(n, b * b, depth, h, w).transpose(1, 2).reshape(n, channels, h, w)


def forward(b, channels_last):
    shuffle = torch.nn.PixelShuffle(b)

    def run(x):
        nchw = x.permute(0, 3, 1, 2) if channels_last else x
        y = shuffle(dcr_to_crd(nchw, b))
        return (y.permute(0, 2, 3, 1) if channels_last else y), None

    return run


def tf_definition(x, b, channels_last):
    """depth_to_space by its definition: out[n, h*b + i, w*b + j, c] = in[n, h, w, (i*b + j)*C + c]."""
    nhwc = x if channels_last else x.permute(0, 2, 3, 1)
    n, h, w, channels = nhwc.shape
    depth = channels // (b * b)
    out = torch.zeros(n, h * b, w * b, depth)
    for y in range(h):
        for xx in range(w):
            for i in range(b):
                for j in range(b):
                    for c in range(depth):
                        out[:, y * b + i, xx * b + j, c] = nhwc[:, y, xx, (i * b + j) * depth + c]
    return out if channels_last else out.permute(0, 3, 1, 2)


SPECS = [
    # name, input shape, blockSize, dataFormat
    ('b2_c4_nhwc', [2, 3, 4, 4], 2, 'channelsLast'),
    ('b2_c12_nhwc', [1, 3, 2, 12], 2, 'channelsLast'),
    ('b3_c18_nhwc', [2, 2, 3, 18], 3, 'channelsLast'),
    ('b4_c16_nhwc', [1, 2, 2, 16], 4, 'channelsLast'),
    ('b2_c8_nchw', [2, 8, 3, 2], 2, 'channelsFirst'),
    ('b3_c9_nchw', [1, 9, 2, 3], 3, 'channelsFirst'),
]


def main():
    cases = []
    for name, shape, b, data_format in SPECS:
        config = {'blockSize': b} if data_format == 'channelsLast' else {'blockSize': b, 'dataFormat': data_format}
        x = normal(shape)
        case = make_case(name, 'depthToSpace', config, x, [], forward(b, data_format == 'channelsLast'))
        expected = tf_definition(x, b, data_format == 'channelsLast')
        got = torch.tensor(case['output']['data']).reshape(case['output']['shape'])
        assert torch.allclose(got, expected, rtol=0, atol=1e-12), name
        cases.append(case)
    doc = {'generator': 'scripts/make_pixel_shuffle_fixtures.py', 'torch': torch.__version__, 'cases': cases}
    with open(OUT_PATH, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('%s: %d cases, %d bytes' % (os.path.relpath(OUT_PATH), len(cases), os.path.getsize(OUT_PATH)))


if __name__ == '__main__':
    main()
