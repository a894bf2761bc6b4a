#!/usr/bin/env python3
"""Generates test/fixtures/einsum-dense.json, references for st.layers.einsumDense
(test/einsum-dense.test.ts).

Regenerate with `/usr/bin/python3 scripts/make_einsum_dense_fixtures.py` (PyTorch 1.13). The
case format, float32-exact inputs, float64 arithmetic and encoding are those of
scripts/make_layer_fixtures.py, whose helpers this script imports.

Keras 3.15's EinsumDense computes activation(einsum(equation, x, kernel) + bias): here
torch.einsum with the same equation. The kernel's and bias's shapes are written out per case as
Keras's _analyze_split_string gives them (a kernel letter takes its size from the input, else
from output_shape; the bias spans the output from the first bias axis on, size 1 elsewhere and,
for a right-hand ellipsis, on the elided axes), so the test also checks that Strata derives the
same shapes.
"""
import json
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_layer_fixtures import activate, make_case, normal  # noqa: E402

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'einsum-dense.json')

# name, config, input shape, kernel shape, bias shape (None without biasAxes)
SPECS = [
    ('dense_like', {'equation': 'ab,bc->ac', 'outputShape': 4, 'biasAxes': 'c'}, [3, 5], [5, 4], [4]),
    ('left_ellipsis_tanh', {'equation': '...b,bc->...c', 'outputShape': 3, 'biasAxes': 'c', 'activation': 'tanh'}, [2, 4, 5], [5, 3], [3]),
    ('heads_projection', {'equation': 'abc,cde->abde', 'outputShape': [None, 2, 3], 'biasAxes': 'de'}, [2, 4, 5], [5, 2, 3], [2, 3]),
    ('right_ellipsis', {'equation': 'ab...,bc->ac...', 'outputShape': [4], 'biasAxes': 'c'}, [2, 3, 5], [3, 4], [4, 1]),
    ('bias_on_time_and_units', {'equation': 'abc,cd->abd', 'outputShape': [4, 3], 'biasAxes': 'bd'}, [2, 4, 5], [5, 3], [4, 3]),
    ('heads_merge_no_bias', {'equation': 'abcd,cde->abe', 'outputShape': [None, 6]}, [2, 3, 2, 4], [2, 4, 6], None),
]


def main():
    cases = []
    for name, config, shape, kshape, bshape in SPECS:
        eq, act = config['equation'], config.get('activation')
        weights = [(normal(kshape, 0.5), True)] + ([(normal(bshape, 0.5), True)] if bshape else [])

        def fwd(x, kernel, bias=None, eq=eq, act=act):
            y = torch.einsum(eq, x, kernel)
            return activate(act, y if bias is None else y + bias), None
        cases.append(make_case(name, 'einsumDense', config, normal(shape), weights, fwd))
    with open(OUT_PATH, 'w') as f:
        json.dump({'generator': 'scripts/make_einsum_dense_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %d cases to %s' % (len(cases), os.path.normpath(OUT_PATH)))


if __name__ == '__main__':
    main()
