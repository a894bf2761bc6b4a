#!/usr/bin/env python3
"""Exports real networks to ONNX with PyTorch's outputs for fixed inputs, for
test/onnx-networks.test.ts (st.onnx.load must match them to 1e-4 and fine-tune them).

Run with Debian's python3-torch, python3-torchvision and python3-onnx:
  /usr/bin/python3 scripts/make_onnx_fixtures.py
Each network gets NAME.onnx, NAME.input_0.pb and NAME.output_0.pb (TensorProto files, as in
ONNX's own test data). Weights are torch's own
initialization under torch.manual_seed (fixed, random: no download) with random batch-norm
statistics (randomize_batch_norms), in eval mode, exported at
opset 13 with constant folding (which folds BatchNorm into the convolutions).

  * lstm: a batch-first LSTM (8 inputs, 16 units) over 5 steps and a linear layer on its last
    output, [2, 5, 8] -> [2, 3]; small enough (5 KB) to be committed.
  * mobilenet_v2, resnet18: torchvision's, [1, 3, 224, 224] -> [1, 1000]; 14 MB and 45 MB of
    weights, so not committed: the test runs them when they are present in OUT_DIR.
"""
import os

import onnx
import torch
import torchvision
from onnx import numpy_helper


class SmallLstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 16, batch_first=True)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y[:, -1, :])


def randomize_batch_norms(model):
    """torchvision starts batch norms as the identity (and MobileNetV2's outputs are then ~1e-9):
    random statistics and affine parameters make the folded convolutions, and the check, real."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def export(name, model, x, out_dir, dynamic_batch=False):
    model.eval()
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + '.onnx')
    axes = {'input': {0: 'batch'}, 'output': {0: 'batch'}} if dynamic_batch else None
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['output'], do_constant_folding=True, dynamic_axes=axes)
    onnx.checker.check_model(onnx.load(path))
    for kind, t in (('input_0', x), ('output_0', y)):
        with open(os.path.join(out_dir, '%s.%s.pb' % (name, kind)), 'wb') as f:
            f.write(numpy_helper.from_array(t.numpy(), kind).SerializeToString())
    print('%s: %d bytes' % (path, os.path.getsize(path)))


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    small = os.path.join(root, 'test', 'fixtures', 'onnx')
    big = os.path.join(root, 'node_modules', '.cache', 'strata-onnx-fixtures')
    for d in (small, big):
        os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    export('lstm', SmallLstm(), torch.randn(2, 5, 8), small, dynamic_batch=True)
    torch.manual_seed(1)
    export('mobilenet_v2', randomize_batch_norms(torchvision.models.mobilenet_v2(weights=None)), torch.randn(1, 3, 224, 224), big, dynamic_batch=True)
    torch.manual_seed(2)
    export('resnet18', randomize_batch_norms(torchvision.models.resnet18(weights=None)), torch.randn(1, 3, 224, 224), big, dynamic_batch=True)


if __name__ == '__main__':
    main()
