"""PyTorch state dicts as safetensors files, for test/torch-state-dict.test.ts (st.torch).

  /usr/bin/python3 scripts/make_torch_state_dict_fixtures.py
      writes test/fixtures/torch-state-dict/small.safetensors (a small convnet's state dict, committed)
      and small-io.safetensors (its fixed input, NCHW, and PyTorch's output), the same pair for an
      LSTM + GRU model (sequence*.safetensors), a two-level bidirectional LSTM + two-level GRU model
      (stacked*) and a conv + Flatten + Linear model (flat*), all committed, and for
      torchvision's resnet18 into node_modules/.cache/strata-torch-fixtures/ (45 MB: not committed).

  /usr/bin/python3 scripts/make_torch_state_dict_fixtures.py --load MODEL WEIGHTS INPUT
      the reverse direction: loads WEIGHTS (a state dict Strata wrote with st.torch.saveStateDict)
      into MODEL ('small', 'flat', 'sequence', 'stacked' or 'resnet18') strictly, runs it on tensor "x" of INPUT and prints
      {"shape": [...], "data": [...]} as JSON on stdout.

The Python safetensors package is not required: the format is simple enough to write here
(8-byte little-endian header length, a JSON header, then the raw little-endian bytes)."""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torchvision

DTYPES = {torch.float32: 'F32', torch.int64: 'I64'}
FROM_DTYPE = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'I64': torch.int64, 'I32': torch.int32}


def write_safetensors(path, named):
    """named: (name, tensor) pairs, written in that order (the order st.torch's by-order mapping follows)."""
    header, chunks, offset = {}, [], 0
    for name, t in named:
        data = t.detach().contiguous().cpu().numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    print('%s: %d bytes' % (path, os.path.getsize(path)), file=sys.stderr)


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=FROM_DTYPE[info['dtype']])
        out[name] = t.reshape(info['shape']).float()
    return out


def small_net():
    """Conv, BN, a depthwise conv (groups = channels, multiplier 2), pooling and two Linears."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, groups=8), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4))


def flat_net():
    """A classifier that flattens a feature map channels first (the order st.torch permutes)."""
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 5))


class SequenceNet(nn.Module):
    """An LSTM feeding a GRU (whole sequences, batch first) and a Linear on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, batch_first=True)
        self.gru = nn.GRU(6, 4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.head(y[:, -1, :])


class StackedNet(nn.Module):
    """A two-level bidirectional LSTM feeding a two-level GRU (one torch module each, whose
    parameters are suffixed _l0, _l1 and _reverse) and a Linear on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(12, 4, num_layers=2, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.head(y[:, -1, :])


def randomize_batch_norms(model):
    """torchvision starts batch norms as the identity; random statistics make the check real."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def build(name):
    if name == 'small':
        return small_net()
    if name == 'flat':
        return flat_net()
    if name == 'sequence':
        return SequenceNet()
    if name == 'stacked':
        return StackedNet()
    if name == 'resnet18':
        return torchvision.models.resnet18(weights=None)
    raise SystemExit('unknown model %r; expected small, flat, sequence, stacked or resnet18' % name)


def make(name, input_shape, out_dir, seed):
    torch.manual_seed(seed)
    net = randomize_batch_norms(build(name)).eval()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        y = net(x)
    write_safetensors(os.path.join(out_dir, name + '.safetensors'), list(net.state_dict().items()))
    write_safetensors(os.path.join(out_dir, name + '-io.safetensors'), [('x', x), ('y', y)])


def load_and_run(name, weights, inputs):
    net = build(name).eval()
    # strict: every parameter of the module must be in the file, and nothing else (batch norms'
    # num_batches_tracked, which Strata does not write, is filled in by PyTorch itself).
    net.load_state_dict(read_safetensors(weights), strict=True)
    with torch.no_grad():
        y = net(read_safetensors(inputs)['x'])
    print(json.dumps({'shape': list(y.shape), 'data': y.flatten().tolist()}))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--load':
        load_and_run(*sys.argv[2:])
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    small = os.path.join(root, 'test', 'fixtures', 'torch-state-dict')
    big = os.path.join(root, 'node_modules', '.cache', 'strata-torch-fixtures')
    for d in (small, big):
        os.makedirs(d, exist_ok=True)
    make('small', (2, 3, 8, 8), small, 0)
    make('sequence', (2, 7, 5), small, 3)
    make('flat', (2, 2, 8, 8), small, 4)
    make('stacked', (2, 7, 5), small, 5)
    make('resnet18', (1, 3, 224, 224), big, 1)


if __name__ == '__main__':
    main()
