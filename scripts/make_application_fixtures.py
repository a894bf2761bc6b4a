"""test/fixtures/applications.json: outputs of the PyTorch networks that st.applications rebuilds
layer for layer (torchvision's resnet18, and the paper/reference definitions of
scripts/application_reference_counts.py), for weights and inputs that both sides compute from a
formula, so the file holds no weights: each tensor is listed with the Strata weight it becomes and
how its values are made (value k of tensor t: sin(0.37 k + 1.1 t + 0.5), scaled by kind, rounded to
float32). Inference mode, float64 in PyTorch.

Run with /usr/bin/python3 (PyTorch and torchvision)."""
import json
import math
import os
import re

import torch
import torch.nn as nn
import torchvision

from application_reference_counts import alexnet_small, lenet5, wide_resnet
from fixture_common import short64

torch.set_default_dtype(torch.float64)


def values(t, shape, kind):
    n = math.prod(shape)
    s = torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + 1.1 * t + 0.5)
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
    scaled = {
        'kernel': s * math.sqrt(3.0 / fan_in), 'bias': 0.1 * s, 'gamma': 1 + 0.2 * s, 'beta': 0.1 * s,
        'mean': 0.1 * s, 'variance': 1 + 0.25 * (s + 1),
    }[kind]
    return scaled.float().double().reshape(shape)


FIELDS = {'kernel': 'kernel', 'bias': 'bias', 'gamma': 'gamma', 'beta': 'beta', 'mean': 'moving_mean', 'variance': 'moving_variance'}


def case(name, net, strata_layer, input_shape, options):
    """strata_layer maps a PyTorch module name to the Strata layer holding its weights."""
    net = net.double().eval()
    kinds = {}
    for module_name, module in net.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            kinds.update({module_name + '.weight': 'gamma', module_name + '.bias': 'beta', module_name + '.running_mean': 'mean', module_name + '.running_var': 'variance'})
        elif isinstance(module, (nn.Conv2d, nn.Linear)):
            kinds.update({module_name + '.weight': 'kernel', module_name + '.bias': 'bias'})
    tensors = []
    state = {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    for t, (key, value) in enumerate(state.items()):
        shape, kind = list(value.shape), kinds[key]
        value.copy_(values(t, shape, kind))
        tensors.append({'path': strata_layer(key.rsplit('.', 1)[0]) + '/' + FIELDS[kind], 'shape': shape, 'kind': kind})
    h, w, c = input_shape
    n = 2 * h * w * c
    x = (0.5 + 0.5 * torch.sin(0.11 * torch.arange(n, dtype=torch.float64) + 0.3)).float().double()
    with torch.no_grad():
        y = net(x.reshape(2, h, w, c).permute(0, 3, 1, 2))
    return {'name': name, 'options': options, 'inputShape': [2, h, w, c], 'tensors': tensors,
            'output': {'shape': list(y.shape), 'data': [short64(v) for v in y.flatten().tolist()]}}


def resnet18_layer(module):
    if module in ('conv1', 'bn1', 'fc'):
        return {'conv1': 'conv1_conv', 'bn1': 'conv1_bn', 'fc': 'predictions'}[module]
    m = re.match(r'^layer(\d)\.(\d)\.(conv|bn|downsample\.)(\d)$', module)
    block = f'conv{int(m[1]) + 1}_block{int(m[2]) + 1}'
    if m[3] == 'downsample.':
        return f'{block}_0_' + ('conv' if m[4] == '0' else 'bn')
    return f'{block}_{m[4]}_{m[3]}'


def wrn_layer(n_blocks):
    """Sequential indices: 0 the stem, 1 ... 3n the blocks, 3n + 1 the final BN, 3n + 5 the classifier."""
    def layer(module):
        index, _, part = module.partition('.')
        index = int(index)
        if index in (0, 3 * n_blocks + 1, 3 * n_blocks + 5):
            return {0: 'conv1_conv', 3 * n_blocks + 1: 'post_bn', 3 * n_blocks + 5: 'predictions'}[index]
        block = f'conv{(index - 1) // n_blocks + 2}_block{(index - 1) % n_blocks + 1}'
        return block + {'bn1': '_preact_bn', 'conv1': '_1_conv', 'bn2': '_1_bn', 'conv2': '_2_conv', 'shortcut': '_0_conv'}[part]
    return layer


torch.manual_seed(0)
cases = [
    case('resNet18', torchvision.models.resnet18(num_classes=5), resnet18_layer, [64, 64, 3], {'classes': 5}),
    case('wideResNet', wide_resnet(16, 2, 5), wrn_layer(2), [16, 16, 3], {'classes': 5, 'depth': 16, 'widthFactor': 2}),
    case('alexnet', alexnet_small(5), {'0': 'conv1', '3': 'conv2', '6': 'conv3', '8': 'conv4', '10': 'conv5', '14': 'predictions'}.get, [32, 32, 3], {'classes': 5}),
    case('lenet5', lenet5(5), {'0': 'c1', '3': 'c3', '7': 'c5', '9': 'f6', '11': 'predictions'}.get, [32, 32, 1], {'classes': 5}),
]
out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'applications.json')
with open(out, 'w') as f:
    json.dump({'cases': cases}, f)
print('wrote', out, os.path.getsize(out), 'bytes')
