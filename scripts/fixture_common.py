"""What the scripts/make_*_fixtures.py share: float32-exact random inputs and the 13-digit
rounding of expected values (far below any tolerance the tests use)."""
import math

import torch


def f32(t):
    """Rounds to the nearest float32 and back, so the value is exact in both precisions."""
    return t.float().double()


def normal(shape, scale=1.0, shift=0.0):
    return f32(torch.randn(tuple(shape)) * scale + shift)


def uniform(shape, lo=-1.0, hi=1.0):
    return f32(torch.rand(tuple(shape)) * (hi - lo) + lo)


def short64(v):
    """An expected value with 13 significant digits; non-finite values are refused."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError('non-finite expected value %r' % v)
    return float('%.13g' % v)
