#!/usr/bin/env python3
"""Fixtures for the keras.ops composites of issue 23's second round (src/ops/numpy-elementwise.ts,
numpy-shape.ts, numpy-stats.ts, keras-nn-extra.ts) and st.sparsemax, replayed by
test/numpy-more.test.ts on every backend. Case format, helpers and conventions are those of
scripts/make_torch_fixtures.py (float64 torch, float32-exact inputs, 13-digit expected values,
the gradient of sum(output * w) for each differentiable input).

Where PyTorch 1.13 has the op with NumPy's meaning, the values and gradients are PyTorch's. Where
it does not, the reference is written here from the definition:
- sparsemax (Martins & Astudillo 2016; PyTorch has none): the projection onto the simplex from the
  sorted values, in torch ops so autograd gives the gradient, and the gradient checked against the
  paper's closed form s * (w - sum(s * w) / |s|) before it is written;
- cbrt, median/nanmedian (torch's median takes the lower middle value, NumPy's the mean of the two),
  percentile, digitize, segment_max/min/prod, psnr and geomspace/logspace: NumPy or the formula,
  with torch ops where a gradient is wanted.

Run as `/usr/bin/python3 scripts/make_numpy_more_fixtures.py`.
"""
import json
import os

import numpy as np
import torch

import make_torch_fixtures as base
from fixture_common import f32, normal, uniform

torch.manual_seed(20261207)
np.random.seed(20261207)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'numpy-more.json')


def case(name, op, options, inputs, fn):
    """base.make_case, except that inputs may hold NaN and infinities (which base.enc's float32
    check cannot compare): they are swapped for 0 while encoding and put back after."""
    masks = [(~torch.isfinite(t)) if t.is_floating_point() else None for _, t, _ in inputs]
    if not any(m is not None and m.any() for m in masks):
        return base.make_case(name, op, options, inputs, fn)
    real = [t for _, t, _ in inputs]
    stand_ins = [(n, torch.where(m, torch.zeros(()), t) if m is not None else t, d) for (n, t, d), m in zip(inputs, masks)]

    def on_real(*leaves):
        swapped = [torch.where(m, r, leaf) if m is not None else leaf for leaf, r, m in zip(leaves, real, masks)]
        return fn(*swapped)

    out = base.make_case(name, op, options, stand_ins, on_real)
    for entry, t, m in zip(out['inputs'], real, masks):
        if m is not None and m.any():
            entry['values'] = [float(v) for v in t.reshape(-1).tolist()]
    return out


def int_case(name, op, options, inputs, expected):
    """A case whose result is int32 or bool (as 0/1): the expected integers, no gradients."""
    out = case(name, op, options, inputs, lambda *xs: torch.zeros(()))
    expected = torch.as_tensor(np.asarray(expected))
    out['output'] = {'shape': list(expected.shape), 'values': [int(v) for v in expected.reshape(-1).tolist()], 'dtype': 'int32'}
    out['weight'] = {'shape': [], 'values': [0.0]}
    out['grads'] = {}
    return out


def ints(values):
    return torch.tensor(values, dtype=torch.int64)


def away_from_zero(shape, lo=0.2, hi=2.0):
    mags = uniform(shape, lo, hi)
    return f32(mags * torch.where(torch.rand(tuple(shape)) < 0.5, -1.0, 1.0))


def distinct(shape, spacing=0.1):
    n = int(np.prod(shape))
    perm = torch.randperm(n).double()
    return f32((perm - n / 2) * spacing + torch.rand(n) * spacing / 4).reshape(shape)


# ---- sparsemax ----------------------------------------------------------------------------------


def sparsemax_reference(z, dim=-1):
    """The definition: k = max{j : 1 + j z_(j) > sum_{i<=j} z_(i)}, tau = (sum_{i<=k} z_(i) - 1) / k."""
    zs, _ = torch.sort(z, dim=dim, descending=True)
    n = z.shape[dim]
    shape = [1] * z.dim()
    shape[dim] = n
    ranks = torch.arange(1, n + 1, dtype=z.dtype).reshape(shape)
    cums = torch.cumsum(zs, dim)
    support = (1 + ranks * zs > cums).to(z.dtype)
    k = support.sum(dim=dim, keepdim=True)
    tau = ((zs * support).sum(dim=dim, keepdim=True) - 1) / k
    return torch.clamp(z - tau, min=0)


def sparsemax_cases():
    cases = []
    for shape, dim, scale in (([4, 6], -1, 1.0), ([3, 5, 2], 1, 3.0), ([7], 0, 0.3), ([2, 8], -1, 10.0)):
        z = distinct(shape, 0.37 * scale)
        c = case(f'sparsemax {shape} axis {dim} scale {scale}', 'sparsemax', {'axis': dim}, [('x', z, True)], lambda t, d=dim: sparsemax_reference(t, d))
        # The closed-form Jacobian-vector product of the paper, against torch's autograd.
        w = torch.tensor(c['weight']['values']).reshape(c['weight']['shape'])
        p = sparsemax_reference(z, dim)
        s = (p > 0).double()
        closed = s * (w - (s * w).sum(dim, keepdim=True) / s.sum(dim, keepdim=True))
        got = torch.tensor(c['grads']['x']['values']).reshape(closed.shape)
        assert torch.allclose(closed, got, atol=1e-12), 'sparsemax: autograd disagrees with the closed form'
        assert torch.allclose(p.sum(dim), torch.ones(()), atol=1e-12)
        cases.append(c)
    return cases


# ---- elementwise ----------------------------------------------------------------------------------


def elementwise_cases():
    cases = []
    x = away_from_zero([3, 5], 0.1, 3.0)
    cases.append(case('cbrt', 'cbrt', {}, [('x', x, True)], lambda t: torch.sign(t) * torch.abs(t) ** (1 / 3)))
    cases.append(case('deg2rad', 'deg2rad', {}, [('x', f32(uniform([4, 3], -400, 400)), True)], torch.deg2rad))
    cases.append(case('rad2deg', 'rad2deg', {}, [('x', f32(uniform([4, 3], -7, 7)), True)], torch.rad2deg))
    h = f32(torch.tensor([-2.0, -0.5, 0.0, 0.0, 0.7, 3.0]))
    cases.append(case('heaviside', 'heaviside', {}, [('x1', h, False), ('x2', f32(uniform([6], 0, 1)), True)],
                      lambda a, b: torch.where(a < 0, torch.zeros(()), torch.where(a == 0, b, torch.ones(())))))
    cases.append(case('sinc', 'sinc', {}, [('x', f32(torch.cat([uniform([10], -3, 3), torch.zeros(1)])), True)], torch.sinc))
    cases.append(case('ldexp', 'ldexp', {}, [('x1', f32(uniform([5], -2, 2)), True), ('x2', ints([-3, 0, 2, 5, -1]), False)],
                      lambda a, e: a * 2.0 ** e.double()))
    a, b = f32(uniform([4, 3], -5, 5)), f32(uniform([4, 3], -5, 5))
    cases.append(case('logaddexp2', 'logaddexp2', {}, [('a', a, True), ('b', b, True)], torch.logaddexp2))
    cases.append(case('fmod', 'fmod', {}, [('a', f32(uniform([12], -9, 9)), True), ('b', away_from_zero([12], 0.7, 3.0), False)], torch.fmod))
    ia, ib = ints([-7, 7, -8, 9, 0, 13]), ints([3, -3, 4, 4, 5, -5])
    cases.append(int_case('fmod int32', 'fmod', {}, [('a', ia, False), ('b', ib, False)], torch.fmod(ia, ib)))
    g1, g2 = ints([12, 0, -18, 7, 0, 1071, 2 ** 30]), ints([18, 5, 12, 0, 0, 462, 3 * 2 ** 20])
    cases.append(int_case('gcd', 'gcd', {}, [('a', g1, False), ('b', g2, False)], torch.gcd(g1, g2)))
    l1, l2 = ints([4, 0, -6, 21, 7]), ints([6, 5, 4, 6, 13])
    cases.append(int_case('lcm', 'lcm', {}, [('a', l1, False), ('b', l2, False)], torch.lcm(l1, l2)))
    s = f32(torch.tensor([-1.5, -0.0, 0.0, 2.0, -3.0]))
    cases.append(int_case('signbit', 'signbit', {}, [('x', s, False)], torch.signbit(s).long()))
    p = f32(torch.tensor([1.0, 1.0, 1e-9, 100.0, float('inf'), 2.0]))
    q = f32(torch.tensor([1.0 + 1e-6, 1.1, 0.0, 100.001, float('inf'), float('-inf')]))
    cases.append(int_case('isclose', 'isclose', {}, [('a', p, False), ('b', q, False)], torch.isclose(p, q, rtol=1e-5, atol=1e-8).long()))
    cases.append(int_case('isclose rtol 1e-3', 'isclose', {'rtol': 1e-3}, [('a', p, False), ('b', q, False)], torch.isclose(p, q, rtol=1e-3, atol=1e-8).long()))
    cases.append(int_case('allclose', 'allclose', {'rtol': 0.2, 'atol': 0.1}, [('a', p[:4], False), ('b', q[:4], False)], np.int64(torch.allclose(p[:4], q[:4], rtol=0.2, atol=0.1))))
    n = f32(torch.tensor([1.0, float('nan'), float('inf'), float('-inf'), -2.5]))
    cases.append(case('nanToNum', 'nanToNum', {'nan': 0.5, 'posinf': 9.0, 'neginf': -9.0}, [('x', n, True)],
                      lambda t: torch.nan_to_num(t, nan=0.5, posinf=9.0, neginf=-9.0)))
    e = ints([[1, 5, 3], [7, 2, 5]])
    cases.append(int_case('isin', 'isin', {}, [('x', e, False), ('t', ints([5, 2, 9]), False)], torch.isin(e, ints([5, 2, 9])).long()))
    return cases


# ---- shapes ---------------------------------------------------------------------------------------


def shape_cases():
    cases = []
    x = f32(normal([3, 4]))
    cases.append(case('append flat', 'append', {}, [('a', x, True), ('b', f32(normal([2, 2])), True)], lambda a, b: torch.cat([a.reshape(-1), b.reshape(-1)])))
    cases.append(case('append axis 0', 'append', {'axis': 0}, [('a', x, True), ('b', f32(normal([2, 4])), True)], lambda a, b: torch.cat([a, b], 0)))
    for k in (0, 2, -1):
        cases.append(case(f'diagflat k {k}', 'diagflat', {'k': k}, [('x', f32(normal([2, 2])), True)], lambda t, k=k: torch.diagflat(t, k)))
    for n, axis in ((1, -1), (2, 0), (3, 1)):
        cases.append(case(f'diff n {n} axis {axis}', 'diff', {'n': n, 'axis': axis}, [('x', f32(normal([5, 6])), True)],
                          lambda t, n=n, a=axis: torch.diff(t, n=n, dim=a)))
    d = f32(torch.tensor([[-1.0, 0.0, 0.5], [1.0, 2.2, 9.0]]))
    bins = f32(torch.tensor([0.0, 1.0, 2.0, 3.0]))
    for right in (False, True):
        cases.append(int_case(f'digitize right {right}', 'digitize', {'right': right}, [('x', d, False), ('bins', bins, False)],
                              np.digitize(d.numpy(), bins.numpy(), right=right)))
    cases.append(case('kron 2-D', 'kron', {}, [('a', f32(normal([2, 3])), True), ('b', f32(normal([3, 2])), True)], torch.kron))
    cases.append(case('kron 1-D by 2-D', 'kron', {}, [('a', f32(normal([3])), True), ('b', f32(normal([2, 2])), True)], torch.kron))
    cases.append(case('repeat 2 flat', 'repeat', {'repeats': 2}, [('x', f32(normal([2, 3])), True)], lambda t: torch.repeat_interleave(t.reshape(-1), 2)))
    cases.append(case('repeat counts axis 1', 'repeat', {'repeats': [1, 0, 3], 'axis': 1}, [('x', f32(normal([2, 3])), True)],
                      lambda t: torch.repeat_interleave(t, torch.tensor([1, 0, 3]), dim=1)))
    for k, axes in ((1, [0, 1]), (2, [0, 1]), (3, [1, 2]), (-1, [0, 2])):
        cases.append(case(f'rot90 k {k} axes {axes}', 'rot90', {'k': k, 'axes': axes}, [('x', f32(normal([2, 3, 4])), True)],
                          lambda t, k=k, a=axes: torch.rot90(t, k, a)))
    for n, m, k in ((3, 3, 0), (3, 5, 1), (4, 2, -1)):
        cases.append(case(f'tri {n} {m} {k}', 'tri', {'n': n, 'm': m, 'k': k}, [], lambda n=n, m=m, k=k: torch.tril(torch.ones(n, m), k)))
    v = f32(torch.tensor([0.0, 1.5, -2.0, 0.5]))
    cases.append(case('vander', 'vander', {}, [('x', v, True)], lambda t: torch.linalg.vander(t).flip(-1)))
    cases.append(case('vander N 3 increasing', 'vander', {'n': 3, 'increasing': True}, [('x', v, True)], lambda t: torch.linalg.vander(t, N=3)))
    cases.append(case('cross 3-D', 'cross', {}, [('a', f32(normal([4, 3])), True), ('b', f32(normal([4, 3])), True)], lambda a, b: torch.cross(a, b, dim=-1)))
    cases.append(case('cross axis 0', 'cross', {'axis': 0}, [('a', f32(normal([3, 2])), True), ('b', f32(normal([3, 2])), True)], lambda a, b: torch.cross(a, b, dim=0)))
    cases.append(case('cross 2-D vectors', 'cross', {}, [('a', f32(normal([5, 2])), True), ('b', f32(normal([5, 2])), True)],
                      lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]))
    cases.append(case('trapezoid dx', 'trapezoid', {'dx': 0.5}, [('y', f32(normal([3, 6])), True)], lambda t: torch.trapezoid(t, dx=0.5)))
    xs = f32(torch.sort(uniform([6], 0, 4)).values)
    cases.append(case('trapezoid x', 'trapezoid', {}, [('y', f32(normal([3, 6])), True), ('x', xs, True)], lambda t, x: torch.trapezoid(t, x)))
    c1, c2 = f32(normal([6])), f32(normal([6]))
    cases.append(case('select', 'select', {}, [('c1', c1, False), ('c2', c2, False), ('a', f32(normal([6])), True), ('b', f32(normal([6])), True)],
                      lambda p, q, a, b: torch.where(p > 0, a, torch.where(q > 0, b, torch.full_like(a, -1.0)))))
    idx = ints([0, 5, 11, 17, 23])
    for axis_i, coords in enumerate(np.unravel_index(idx.numpy(), (2, 3, 4))):
        cases.append(int_case(f'unravelIndex axis {axis_i}', 'unravelIndex', {'shape': [2, 3, 4], 'part': axis_i}, [('i', idx, False)], coords))
    cases.append(case('ptp axis 1', 'ptp', {'axis': 1}, [('x', distinct([3, 5]), True)], lambda t: t.max(1).values - t.min(1).values))
    cases.append(case('logspace', 'logspace', {'start': -1, 'stop': 2, 'num': 7}, [], lambda: torch.logspace(-1, 2, 7)))
    cases.append(case('logspace base 2, no endpoint', 'logspace', {'start': 0, 'stop': 4, 'num': 4, 'endpoint': False, 'base': 2}, [],
                      lambda: torch.tensor(np.logspace(0, 4, 4, endpoint=False, base=2))))
    cases.append(case('geomspace', 'geomspace', {'start': -1000, 'stop': -1, 'num': 4}, [], lambda: torch.tensor(np.geomspace(-1000, -1, 4))))
    return cases


# ---- statistics -----------------------------------------------------------------------------------


def np_quantile_torch(t, q, dim, method, nan=False):
    """NumPy's quantile with the gradient through a torch gather of the sorted values."""
    qs = torch.tensor(q if isinstance(q, list) else [q])
    moved = t.movedim(dim, -1) if dim is not None else t.reshape(-1)
    srt = torch.sort(moved, dim=-1).values  # NaN last
    n = moved.shape[-1]
    count = (~torch.isnan(moved)).sum(-1, keepdim=True).double() if nan else torch.full(moved.shape[:-1] + (1,), float(n))
    pos = qs * (count - 1)
    lo, hi = torch.floor(pos), torch.ceil(pos)
    take = lambda p: torch.gather(srt, -1, p.long().clamp(0, n - 1))
    if method == 'lower':
        out = take(lo)
    elif method == 'higher':
        out = take(hi)
    elif method == 'nearest':
        out = take(torch.round(pos))
    elif method == 'midpoint':
        out = (take(lo) + take(hi)) / 2
    else:
        out = take(lo) + (take(hi) - take(lo)) * (pos - lo)
    if not isinstance(q, list):
        out = out[..., 0]
    else:
        out = out.movedim(-1, 0)
    return out


def nan_variance(t):
    """The variance over the non-NaN values of each row (NaN entries take no part, gradients included)."""
    valid = ~torch.isnan(t)
    clean = torch.where(valid, t, torch.zeros(()))
    count = valid.sum(1, keepdim=True)
    mean = clean.sum(1, keepdim=True) / count
    return torch.where(valid, (clean - mean) ** 2, torch.zeros(())).sum(1) / count[:, 0]


def stats_cases():
    cases = []
    x = distinct([4, 7])
    for method in ('linear', 'lower', 'higher', 'midpoint', 'nearest'):
        cases.append(case(f'quantile {method} axis 1', 'quantile', {'q': [0.1, 0.5, 0.77], 'axis': 1, 'method': method}, [('x', x, True)],
                          lambda t, m=method: np_quantile_torch(t, [0.1, 0.5, 0.77], 1, m)))
        # The torch reference agrees with NumPy's own quantile:
        assert np.allclose(np_quantile_torch(x, [0.1, 0.5, 0.77], 1, method).numpy(), np.quantile(x.numpy(), [0.1, 0.5, 0.77], axis=1, method=method))
    cases.append(case('quantile flat scalar q', 'quantile', {'q': 0.3}, [('x', x, True)], lambda t: torch.quantile(t, 0.3)))
    cases.append(case('quantile axis 0 keepDims', 'quantile', {'q': 0.6, 'axis': 0, 'keepDims': True}, [('x', x, True)], lambda t: torch.quantile(t, 0.6, dim=0, keepdim=True)))
    cases.append(case('percentile', 'percentile', {'q': [25, 90], 'axis': 0}, [('x', x, True)], lambda t: torch.quantile(t, torch.tensor([0.25, 0.9]), dim=0)))
    cases.append(case('median even length', 'median', {'axis': 0}, [('x', x, True)], lambda t: torch.quantile(t, 0.5, dim=0)))
    cases.append(case('median flat', 'median', {}, [('x', x, True)], lambda t: torch.quantile(t, 0.5)))
    xn = x.clone()
    xn[0, 2] = float('nan')
    xn[1, 0] = float('nan')
    xn[1, 5] = float('nan')
    cases.append(case('nanquantile', 'nanquantile', {'q': [0.2, 0.8], 'axis': 1}, [('x', xn, True)], lambda t: torch.nanquantile(t, torch.tensor([0.2, 0.8]), dim=1)))
    cases.append(case('nanpercentile', 'nanpercentile', {'q': 40, 'axis': 1}, [('x', xn, True)], lambda t: torch.nanquantile(t, 0.4, dim=1)))
    cases.append(case('nanmedian (the mean of the two middle values)', 'nanmedian', {'axis': 1}, [('x', xn, True)], lambda t: torch.nanquantile(t, 0.5, dim=1)))
    for op, fn in (
        ('nansum', lambda t: torch.nansum(t, dim=1)),
        ('nanmean', lambda t: torch.nanmean(t, dim=1)),
        ('nanprod', lambda t: torch.where(torch.isnan(t), torch.ones_like(t), t).prod(1)),
        ('nanvar', lambda t: nan_variance(t)),
        ('nanstd', lambda t: torch.sqrt(nan_variance(t))),
        ('nanmax', lambda t: torch.where(torch.isnan(t), torch.full_like(t, -np.inf), t).max(1).values),
        ('nanmin', lambda t: torch.where(torch.isnan(t), torch.full_like(t, np.inf), t).min(1).values),
        ('nancumsum', lambda t: torch.cumsum(torch.nan_to_num(t, nan=0.0), 1)),
        ('nancumprod', lambda t: torch.cumprod(torch.where(torch.isnan(t), torch.ones_like(t), t), 1)),
    ):
        cases.append(case(f'{op} axis 1', op, {'axis': 1}, [('x', xn, True)], fn))
    cases.append(int_case('nanargmax axis 1', 'nanargmax', {'axis': 1}, [('x', xn, False)], np.nanargmax(xn.numpy(), axis=1)))
    cases.append(int_case('nanargmin flat', 'nanargmin', {}, [('x', xn, False)], np.nanargmin(xn.numpy())))
    return cases


# ---- keras nn / math -------------------------------------------------------------------------------


def nn_cases():
    cases = []
    ids = ints([[0, 2, 2], [3, 1, 0], [1, 1, 1]])
    cases.append(int_case('multiHot', 'multiHot', {'numClasses': 5}, [('x', ids, False)],
                          np.stack([np.isin(np.arange(5), r).astype(int) for r in ids.numpy()])))
    x = f32(normal([3, 4]))
    x[1] = 0.0
    cases.append(case('l2Normalize (a zero row stays zero)', 'l2Normalize', {}, [('x', x, True)],
                      lambda t: t * torch.rsqrt(torch.clamp((t * t).sum(-1, keepdim=True), min=1e-14))))
    cases.append(case('l2Normalize order 1 axis 0', 'l2Normalize', {'order': 1, 'axis': 0}, [('x', f32(normal([3, 4])), True)],
                      lambda t: t / torch.clamp(t.abs().sum(0, keepdim=True), min=1e-7)))
    a, b = f32(normal([2, 4, 3])), f32(normal([2, 5, 3]))
    for p in (2.0, 1.0, 3.0, float('inf')):
        cases.append(case(f'cdist p {p}', 'cdist', {'p': 'inf' if p == float('inf') else p}, [('a', a, True), ('b', b, True)], lambda u, v, p=p: torch.cdist(u, v, p=p)))
    e = f32(torch.cat([uniform([12], -0.999, 0.999), torch.tensor([0.0, 0.9999, -0.99999])]))
    cases.append(case('erfinv', 'erfinv', {}, [('x', e, True)], torch.special.erfinv))
    u, v = f32(uniform([2, 4, 4, 3], 0, 1)), f32(uniform([2, 4, 4, 3], 0, 1))
    cases.append(case('psnr', 'psnr', {'maxVal': 1.0}, [('a', u, True), ('b', v, True)],
                      lambda s, t: 20 * torch.log10(torch.tensor(1.0)) - 10 * torch.log10(torch.mean((s - t) ** 2))))
    data = distinct([6, 3], 0.3)
    seg = ints([0, 0, 2, 2, 2, 4])
    def seg_ref(t, kind, n):
        rows = []
        for s in range(n):
            m = seg == s
            if m.any():
                part = t[m]
                rows.append(part.max(0).values if kind == 'max' else part.min(0).values if kind == 'min' else part.prod(0))
            else:
                fill = {'max': -np.inf, 'min': np.inf, 'prod': 1.0}[kind]
                rows.append(torch.full((t.shape[1],), fill))
        return torch.stack(rows)
    cases.append(case('segmentMax (segments 1 and 3 empty: -inf)', 'segmentMax', {'numSegments': 5}, [('x', data, True), ('ids', seg, False)],
                      lambda t, i: torch.where(torch.isinf(seg_ref(t, 'max', 5)), torch.zeros(()), seg_ref(t, 'max', 5))))
    cases.append(case('segmentMin (numSegments from the ids)', 'segmentMin', {}, [('x', data, True), ('ids', seg, False)],
                      lambda t, i: torch.where(torch.isinf(seg_ref(t, 'min', 5)), torch.zeros(()), seg_ref(t, 'min', 5))))
    cases.append(case('segmentProd', 'segmentProd', {'numSegments': 3}, [('x', away_from_zero([6, 3], 0.5, 1.5), True), ('ids', ints([2, 0, 0, 1, 2, 2]), False)],
                      lambda t, i: torch.stack([t[i == s].prod(0) for s in range(3)])))
    return cases


def correlate_reference(a, v, mode):
    """NumPy's correlate from its definition, c[k] = sum_n a[n + k] v[n], in torch ops (for the gradients)."""
    swapped = v.numel() > a.numel()
    if swapped:
        a, v = v, a
    n, m = a.numel(), v.numel()
    left = {'full': m - 1, 'same': m // 2, 'valid': 0}[mode]
    length = {'full': n + m - 1, 'same': n, 'valid': n - m + 1}[mode]
    padded = torch.cat([torch.zeros(left), a, torch.zeros(length + m - 1 - n - left)])
    out = torch.stack([(padded[k:k + m] * v).sum() for k in range(length)])
    return out.flip(0) if swapped else out


def misc_cases():
    cases = []
    x = f32(normal([4, 5]))
    u = f32(normal([2, 3]))

    def slice_update(t, w):
        out = t.clone()
        out[1:3, 2:5] = w
        return out
    cases.append(case('sliceUpdate', 'sliceUpdate', {'start': [1, 2]}, [('x', x, True), ('u', u, True)], slice_update))
    cases.append(case('corrcoef', 'corrcoef', {}, [('x', f32(normal([3, 7])), True)], torch.corrcoef))
    for mode, (n, m) in (('valid', (7, 3)), ('same', (7, 4)), ('full', (5, 3)), ('valid', (3, 6)), ('same', (4, 6))):
        a, v = f32(normal([n])), f32(normal([m]))
        ref = correlate_reference(a, v, mode)
        assert np.allclose(ref.numpy(), np.correlate(a.numpy(), v.numpy(), mode)), mode
        cases.append(case(f'correlate {mode} {n} {m}', 'correlate', {'mode': mode}, [('a', a, True), ('v', v, True)],
                          lambda p, q, mode=mode: correlate_reference(p, q, mode)))
    h = f32(uniform([40], -2, 3))
    h[0] = 3.0  # the right edge belongs to the last bin
    for bins, rng in ((10, None), (4, (-1.0, 1.0))):
        counts, edges = np.histogram(h.numpy(), bins=bins, range=rng)
        opts = {'bins': bins} if rng is None else {'bins': bins, 'range': list(rng)}
        cases.append(int_case(f'histogram counts {opts}', 'histogram', {**opts, 'part': 'counts'}, [('x', h, False)], counts))
        cases.append(case(f'histogram edges {opts}', 'histogram', {**opts, 'part': 'edges'}, [('x', h, False)], lambda t, e=edges: torch.tensor(e)))
    y = f32(normal([3, 6]))
    cases.append(int_case('argpartition (a stable argsort)', 'argpartition', {'kth': 2}, [('x', y, False)], np.argsort(y.numpy(), axis=-1, kind='stable')))
    r = f32(normal([2, 6, 3]))
    cases.append(case('rearrange split and move', 'rearrange', {'pattern': 'b (h w) c -> b c h w', 'lengths': {'h': 2}}, [('x', r, True)],
                      lambda t: t.reshape(2, 2, 3, 3).permute(0, 3, 1, 2)))
    cases.append(case('rearrange merge', 'rearrange', {'pattern': 'b h c -> (b c) h', 'lengths': {}}, [('x', r, True)],
                      lambda t: t.permute(0, 2, 1).reshape(6, 6)))
    return cases


def strings_for_non_finite(cases):
    """JSON has no NaN or Infinity: input values that are not finite are written 'nan', 'inf', '-inf'."""
    def name(v):
        return v if np.isfinite(v) else ('nan' if np.isnan(v) else 'inf' if v > 0 else '-inf')
    for c in cases:
        for x in c['inputs']:
            x['values'] = [name(v) for v in x['values']]


def main():
    cases = sparsemax_cases() + elementwise_cases() + shape_cases() + stats_cases() + nn_cases() + misc_cases()
    strings_for_non_finite(cases)
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/make_numpy_more_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases -> {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
