"""Parameter counts that test/applications.test.ts checks st.applications against, where Keras has
no model of that name: torchvision's (0.14), and small PyTorch definitions of the papers' networks
that torchvision lacks. Prints JSON; run with /usr/bin/python3 (PyTorch and torchvision).

PyTorch counts parameters (Keras's trainable weights); batch normalization's running mean and
variance are buffers, which Keras counts as non-trainable weights, so they are reported apart.
"""
import json

import torch.nn as nn
import torchvision


def counts(net):
    trainable = sum(p.numel() for p in net.parameters())
    running = sum(b.numel() for name, b in net.named_buffers() if name.endswith(('running_mean', 'running_var')))
    return {'trainable': trainable, 'nonTrainable': running}


def lenet5(classes=10):
    """LeCun et al. 1998 as usually rebuilt: C3 fully connected, average pooling, dense output."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, classes))


def alexnet_small(classes=10):
    """bearpaw/pytorch-classification's AlexNet for CIFAR (models/cifar/alexnet.py): 32x32 inputs."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(256, classes))


class WideBlock(nn.Module):
    """Zagoruyko & Komodakis 2016, B(3,3) with pre-activation; the 1x1 shortcut reads the activated input."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if cin != cout or stride != 1 else None

    def forward(self, x):
        o = self.bn1(x).relu()
        y = self.conv2(self.bn2(self.conv1(o)).relu())
        return y + (self.shortcut(o) if self.shortcut is not None else x)


def wide_resnet(depth, k, classes):
    n = (depth - 4) // 6
    widths = [16, 16 * k, 32 * k, 64 * k]
    blocks = [nn.Conv2d(3, 16, 3, padding=1, bias=False)]
    for g in range(3):
        for i in range(n):
            blocks.append(WideBlock(widths[g] if i == 0 else widths[g + 1], widths[g + 1], (1 if g == 0 else 2) if i == 0 else 1))
    return nn.Sequential(*blocks, nn.BatchNorm2d(widths[3]), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[3], classes))


if __name__ == '__main__':
    models = torchvision.models
    print(json.dumps({
        'torchvision resnet18': counts(models.resnet18()),
        'torchvision resnet34': counts(models.resnet34()),
        'torchvision resnet50': counts(models.resnet50()),
        'torchvision vgg16': counts(models.vgg16()),
        'torchvision vgg19': counts(models.vgg19()),
        'torchvision densenet121': counts(models.densenet121()),
        'torchvision mobilenet_v2': counts(models.mobilenet_v2()),
        'torchvision mobilenet_v2 (width_mult 0.35)': counts(models.mobilenet_v2(width_mult=0.35)),
        'torchvision alexnet': counts(models.alexnet()),
        'torchvision wide_resnet50_2': counts(models.wide_resnet50_2()),
        'lenet5 (32x32x1, 10 classes)': counts(lenet5()),
        'alexnet for CIFAR (32x32x3, 10 classes)': counts(alexnet_small()),
        'WRN-28-10 (10 classes)': counts(wide_resnet(28, 10, 10)),
        'WRN-16-4 (10 classes)': counts(wide_resnet(16, 4, 10)),
    }, indent=1))
