#!/usr/bin/env python3
"""PyTorch fixtures for the ops and losses of issue 23 (tfjs and Keras parity), replayed by
test/torch-fixtures.test.ts like those of scripts/make_torch_fixtures.py, whose case format,
helpers and conventions this script shares (float64 torch, float32-exact inputs, 13-digit
expected values, the gradient of sum(output * w) for each differentiable input).

Run as `/usr/bin/python3 scripts/make_parity_fixtures.py` (or `npm run fixtures`).

Where PyTorch has the op, the expected values are PyTorch's. Where the op is TensorFlow's own
(strided slices, space-to-batch, depth-to-space, mirror padding in 'symmetric' mode, Keras-only
losses), they are written here from the documented definition: index maps built element by
element with NumPy slicing or explicit loops, then applied with torch indexing so that torch
supplies the gradients. Cases with an int32 result (searchSorted, argsort, ...) hold the
expected integers and no gradient.
"""
import numpy as np
import torch
import torch.nn.functional as F

import make_torch_fixtures as base
from fixture_common import f32, normal, uniform

torch.manual_seed(20260601)
np.random.seed(20260601)
torch.set_default_dtype(torch.float64)
EPSILON = base.EPSILON


def case(name, op, options, inputs, fn):
    return base.make_case(name, op, options, inputs, fn)


def int_case(name, op, options, inputs, expected):
    """A case whose result is int32: the expected integers, no weight and no gradients."""
    out = base.make_case(name, op, options, inputs, lambda *xs: torch.zeros(()))
    expected = torch.as_tensor(expected)
    out['output'] = {'shape': list(expected.shape), 'values': [int(v) for v in expected.reshape(-1).tolist()], 'dtype': 'int32'}
    out['weight'] = {'shape': [], 'values': [0.0]}
    out['grads'] = {}
    return out


def ints(shape, lo, hi):
    return torch.randint(lo, hi, tuple(shape))


def by_index(x, index_map):
    """x's elements at a NumPy array of flat indices: torch indexing carries the gradient."""
    return x.reshape(-1)[torch.as_tensor(np.ascontiguousarray(index_map), dtype=torch.int64)]


def positions(shape):
    return np.arange(int(np.prod(shape))).reshape(shape)


# ---------------------------------------------------------------------------------------------
# elementwise math and activations


def math_cases():
    cases = []
    tiny = torch.tensor([1e-7, -3e-6, 2e-4, -0.01])
    wide = f32(torch.cat([normal([14], 2.0), tiny]))
    unary = [
        ('tan', torch.tan, uniform([3, 5], -1.4, 1.4)),
        ('asin', torch.asin, uniform([3, 5], -0.95, 0.95)),
        ('acos', torch.acos, uniform([3, 5], -0.95, 0.95)),
        ('atan', torch.atan, f32(torch.cat([normal([12], 3.0), tiny, torch.tensor([40.0, -250.0])]))),
        ('sinh', torch.sinh, wide),
        ('cosh', torch.cosh, wide),
        ('asinh', torch.asinh, f32(torch.cat([normal([12], 4.0), tiny, torch.tensor([300.0, -2e4])]))),
        ('acosh', torch.acosh, f32(torch.cat([uniform([10], 1.05, 4.0), torch.tensor([1.001, 30.0, 5e3])]))),
        ('atanh', torch.atanh, f32(torch.cat([uniform([12], -0.95, 0.95), tiny]))),
        ('expm1', torch.expm1, f32(torch.cat([normal([12], 2.0), tiny, torch.tensor([0.49, -0.51, 8.0])]))),
        ('erf', torch.erf, f32(torch.cat([normal([12], 1.5), tiny, torch.tensor([0.49, 0.51, -2.7, 4.2])]))),
        ('erfc', torch.erfc, f32(torch.cat([normal([12], 1.5), tiny, torch.tensor([0.51, 3.5, 6.0, 9.0, -4.5])]))),
        ('selu', F.selu, normal([3, 5], 2.0)),
        ('relu6', F.relu6, f32(torch.tensor([-2.0, 0.5, 3.0, 5.5, 6.5, 9.0, -0.3]))),
        ('logSigmoid', F.logsigmoid, normal([3, 5], 4.0)),
        ('silu', F.silu, normal([3, 5], 3.0)),
        ('softsign', F.softsign, normal([3, 5], 3.0)),
        # Keras's definitions written out: torch's float64 hardsigmoid gradient uses a float32 1/6.
        ('hardSigmoid', lambda v: F.relu6(v + 3) / 6, f32(torch.tensor([-4.0, -2.5, -0.7, 0.2, 1.9, 2.8, 3.5]))),
        ('hardSilu', lambda v: v * F.relu6(v + 3) / 6, f32(torch.tensor([-4.0, -2.5, -0.7, 0.2, 1.9, 2.8, 3.5]))),
        ('gelu', F.gelu, normal([3, 5], 2.0)),
    ]
    for op, fn, x in unary:
        cases.append(case(op, op, {}, [('x', x, True)], fn))
    cases.append(case('gelu approximate', 'gelu', {'approximate': True}, [('x', normal([3, 5], 2.0), True)],
                      lambda x: F.gelu(x, approximate='tanh')))
    x = normal([3, 5], 2.0)
    cases.append(case('elu alpha 0.7', 'elu', {'alpha': 0.7}, [('x', x, True)], lambda v: F.elu(v, 0.7)))
    cases.append(case('leakyRelu alpha 0.1', 'leakyRelu', {'alpha': 0.1}, [('x', normal([3, 5], 2.0), True)],
                      lambda v: F.leaky_relu(v, 0.1)))
    cases.append(case('prelu per channel', 'prelu', {}, [('x', normal([2, 3, 4], 2.0), True), ('alpha', uniform([4], 0.05, 0.5), True)],
                      lambda v, a: torch.where(v > 0, v, v * a)))

    # Binary ops, broadcasting. atan2 in all four quadrants; mod and floorDiv away from the jumps.
    y, xq = normal([4, 5], 2.0), normal([4, 5], 2.0)
    cases.append(case('atan2', 'atan2', {}, [('a', y, True), ('b', xq, True)], torch.atan2))
    cases.append(case('atan2 broadcast', 'atan2', {}, [('a', normal([3, 1], 2.0), True), ('b', normal([4], 2.0), True)], torch.atan2))
    while True:
        a, b = normal([4, 5], 4.0), f32(torch.sign(normal([4, 5])) * uniform([4, 5], 0.5, 3.0))
        frac = (a / b) - torch.floor(a / b)
        if bool(((frac > 0.02) & (frac < 0.98)).all()):
            break
    cases.append(case('mod', 'mod', {}, [('a', a, True), ('b', b, True)], torch.remainder))
    cases.append(case('floorDiv', 'floorDiv', {}, [('a', a, False), ('b', b, False)], lambda p, q: torch.floor(p / q)))
    cases.append(case('squaredDifference broadcast', 'squaredDifference', {},
                      [('a', normal([3, 4]), True), ('b', normal([4]), True)], lambda p, q: (p - q) ** 2))
    p, q = normal([2, 5]), normal([2, 5])
    q[0, 1] = 0.0
    q[1, 3] = 0.0
    cases.append(case('divNoNan', 'divNoNan', {}, [('a', p, True), ('b', f32(q), True)],
                      lambda u, v: torch.where(v == 0, torch.zeros(()), u / torch.where(v == 0, torch.ones(()), v))))
    # (NaN handling is tested in test/ops-extra.test.ts: JSON has no NaN.)
    p, q = normal([2, 5]), normal([2, 5])
    cases.append(case('fmax', 'fmax', {}, [('a', p, False), ('b', q, False)], torch.fmax))
    cases.append(case('fmin', 'fmin', {}, [('a', p, False), ('b', q, False)], torch.fmin))
    return cases


def newer_activation_cases():
    """The activations of later Keras 3 releases, with Keras's definitions where torch's differ or are missing."""
    x = f32(torch.cat([normal([10], 2.0), torch.tensor([-1.5, -0.7, 0.3, 0.8, 1.6])]))
    specs = [
        # Keras's formula: torch's float64 celu rounds alpha to float32 in its gradient.
        ('celu', {'alpha': 0.8}, lambda v: v.clamp(min=0) + 0.8 * torch.expm1(v.clamp(max=0) / 0.8)),
        ('hardTanh', {}, F.hardtanh),
        ('hardShrink', {'threshold': 0.6}, lambda v: F.hardshrink(v, 0.6)),
        ('softShrink', {'threshold': 0.6}, lambda v: F.softshrink(v, 0.6)),
        ('tanhShrink', {}, F.tanhshrink),
        ('sparsePlus', {}, lambda v: torch.where(v <= -1, torch.zeros(()), torch.where(v < 1, (v + 1) ** 2 / 4, v))),
        ('sparseSigmoid', {}, lambda v: torch.where(v <= -1, torch.zeros(()), torch.where(v >= 1, torch.ones(()), (v + 1) / 2))),
        ('squareplus', {'b': 3}, lambda v: (v + torch.sqrt(v * v + 3)) / 2),
        ('threshold', {'threshold': 0.4, 'defaultValue': -2}, lambda v: F.threshold(v, 0.4, -2.0)),
    ]
    cases = [case(op, op, options, [('x', x, True)], fn) for op, options, fn in specs]
    cases.append(case('glu axis 1', 'glu', {'axis': 1}, [('x', normal([3, 6, 2]), True)], lambda v: F.glu(v, 1)))
    return cases


def numpy_cases():
    cases = []
    pos = f32(uniform([3, 4], 0.1, 9.0))
    for op, fn in (('log2', torch.log2), ('log10', torch.log10)):
        cases.append(case(op, op, {}, [('x', pos, True)], fn))
    cases.append(case('exp2', 'exp2', {}, [('x', normal([3, 4], 3.0), True)], torch.exp2))
    cases.append(case('trunc', 'trunc', {}, [('x', f32(normal([3, 4], 3.0) + 0.05), False)], torch.trunc))
    x = normal([3, 4, 2])
    cases.append(case('variance axis 1', 'variance', {'axis': 1}, [('x', x, True)], lambda v: v.var(1, unbiased=False)))
    cases.append(case('std all axes keepDims', 'std', {'keepDims': True}, [('x', x, True)],
                      lambda v: v.std(unbiased=False).reshape(1, 1, 1)))
    a, b = normal([3, 4], 3.0), normal([4], 3.0)
    cases.append(case('logaddexp', 'logaddexp', {}, [('a', a, True), ('b', b, True)], torch.logaddexp))
    cases.append(case('hypot', 'hypot', {}, [('a', a, True), ('b', b, True)], torch.hypot))
    m = normal([2, 4, 5])
    for k in (0, 2, -1):
        cases.append(case('tril k %d' % k, 'tril', {'k': k}, [('x', m, True)], lambda v, k=k: torch.tril(v, k)))
        cases.append(case('triu k %d' % k, 'triu', {'k': k}, [('x', m, True)], lambda v, k=k: torch.triu(v, k)))
    for offset, a1, a2 in ((0, 0, 1), (1, 1, 2), (-2, 2, 1)):
        cases.append(case('diagonal offset %d axes %d, %d' % (offset, a1, a2), 'diagonal', {'offset': offset, 'axis1': a1, 'axis2': a2},
                          [('x', m, True)], lambda v, o=offset, p=a1, q=a2: torch.diagonal(v, o, p, q)))
    cases.append(case('trace offset 1', 'trace', {'offset': 1}, [('x', normal([4, 5]), True)], lambda v: torch.diagonal(v, 1).sum()))
    cases.append(case('swapaxes', 'swapaxes', {'axis1': 0, 'axis2': 2}, [('x', m, True)], lambda v: v.transpose(0, 2)))
    cases.append(case('moveaxis', 'moveaxis', {'source': [0, 2], 'destination': [2, 0]}, [('x', m, True)],
                      lambda v: torch.movedim(v, (0, 2), (2, 0))))
    cases.append(case('roll two axes', 'roll', {'shift': [1, -2], 'axis': [1, 2]}, [('x', m, True)], lambda v: torch.roll(v, (1, -2), (1, 2))))
    cases.append(case('roll flattened', 'roll', {'shift': 3}, [('x', m, True)], lambda v: torch.roll(v, 3)))
    idx = torch.tensor([[4, 0, -1], [2, 2, 1]])
    cases.append(case('take flattened', 'take', {}, [('x', normal([2, 3]), True), ('indices', torch.tensor([5, 0, 2, 2]), False)],
                      lambda v, i: v.reshape(-1)[i]))
    cases.append(case('take along axis 1', 'take', {'axis': 1}, [('x', normal([2, 5]), True), ('indices', idx, False)],
                      lambda v, i: v[:, i % 5]))
    along = torch.tensor([[[1, 0]], [[3, 3]], [[0, 2]]])
    cases.append(case('takeAlongAxis axis 1 (broadcast)', 'takeAlongAxis', {'axis': 1}, [('x', normal([3, 4, 2]), True), ('indices', along, False)],
                      lambda v, i: torch.take_along_dim(v, i.expand(3, 1, 2), 1)))
    cases.append(case('unstack axis 1 (piece 2)', 'unstack', {'axis': 1, 'piece': 2}, [('x', m, True)], lambda v: v.unbind(1)[2]))
    cases.append(int_case('countNonzero axis 1', 'countNonzero', {'axis': 1}, [('x', f32(torch.tensor([[0.0, 1.5, 0.0], [2.0, -1.0, 3.0]])), False)],
                          torch.tensor([1, 3])))
    return cases


# ---------------------------------------------------------------------------------------------
# scans, einsum, norms and products


def exclusive(fn, identity):
    def run(x, dim):
        y = fn(x, dim)
        first = torch.full_like(x.narrow(dim, 0, 1), identity)
        return torch.cat([first, y.narrow(dim, 0, x.shape[dim] - 1)], dim)
    return run


def scan_case(op, fn, identity, x, axis, excl, rev, label=None):
    def run(v):
        if rev:
            v = v.flip(axis)
        y = exclusive(fn, identity)(v, axis) if excl else fn(v, axis)
        return y.flip(axis) if rev else y
    name = '%s %s axis %d%s%s' % (label or op, list(x.shape), axis, ' exclusive' if excl else '', ' reverse' if rev else '')
    return case(name, op, {'axis': axis, 'exclusive': excl, 'reverse': rev}, [('x', x, True)], run)


def scan_einsum_cases():
    cases = []
    for excl, rev in ((False, False), (True, False), (False, True), (True, True)):
        cases.append(scan_case('cumsum', torch.cumsum, 0.0, normal([3, 7]), 1, excl, rev))
        cases.append(scan_case('cumprod', torch.cumprod, 1.0, f32(uniform([3, 6], 0.5, 1.5) * torch.sign(normal([3, 6]))), 1, excl, rev))
    cases.append(scan_case('cumsum', torch.cumsum, 0.0, normal([9, 2]), 0, False, False))
    x = f32(uniform([2, 5], 0.5, 1.5))
    x[0, 2] = 0.0
    x[1, 1] = 0.0
    x[1, 3] = 0.0
    cases.append(scan_case('cumprod', torch.cumprod, 1.0, x, 1, False, False, 'cumprod with zeros'))
    specs = [
        ('ij,jk->ik', [[3, 4], [4, 5]]),
        ('bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]),
        ('ij->ji', [[3, 4]]),
        ('ii->i', [[4, 4]]),
        ('ii', [[4, 4]]),
        ('ij->', [[3, 4]]),
        ('i,j->ij', [[3], [4]]),
        ('ij,ij->i', [[3, 4], [3, 4]]),
        ('bhqd,bhkd->bhqk', [[2, 3, 4, 5], [2, 3, 6, 5]]),
        ('...ij,...jk->...ik', [[2, 3, 4], [4, 5]]),
        ('ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]),
        ('iij->j', [[3, 3, 2]]),
        ('ab,cd', [[2, 3], [2, 2]]),
        ('bi,bj', [[3, 2], [3, 4]]),
    ]
    for eq, shapes in specs:
        inputs = [('operands[%d]' % i, normal(s), True) for i, s in enumerate(shapes)]
        cases.append(case('einsum %s' % eq, 'einsum', {'equation': eq}, inputs, lambda *xs, eq=eq: torch.einsum(eq, *xs)))
    m = normal([3, 4], 2.0)
    for ord_ in ('euclidean', 1, 3, float('inf'), float('-inf')):
        torch_ord = 2 if ord_ == 'euclidean' else ord_
        cases.append(case('norm vector %s axis 1' % ord_, 'norm', {'ord': str(ord_) if isinstance(ord_, float) else ord_, 'axis': 1},
                          [('x', m, True)], lambda v, o=torch_ord: torch.linalg.vector_norm(v, o, dim=1)))
    for ord_ in ('fro', 1, -1, float('inf'), float('-inf')):
        cases.append(case('norm matrix %s' % ord_, 'norm', {'ord': str(ord_) if isinstance(ord_, float) else ord_, 'axis': [0, 1]},
                          [('x', m, True)], lambda v, o=ord_: torch.linalg.matrix_norm(v, o)))
    cases.append(case('norm of all elements keepDims', 'norm', {'ord': 'euclidean', 'keepDims': True}, [('x', normal([2, 3, 2]), True)],
                      lambda v: torch.linalg.vector_norm(v).reshape(1, 1, 1)))
    cases.append(case('euclideanNorm axis 0', 'euclideanNorm', {'axis': 0}, [('x', m, True)], lambda v: torch.linalg.vector_norm(v, dim=0)))
    cases.append(case('outerProduct', 'outerProduct', {}, [('v1', normal([3]), True), ('v2', normal([4]), True)], torch.outer))
    d = normal([2, 2])
    cases.append(case('diag of a matrix', 'diag', {}, [('x', d, True)],
                      lambda v: torch.einsum('ij,ik,jl->ijkl', v, torch.eye(2), torch.eye(2))))
    cases.append(case('diag of a vector', 'diag', {}, [('x', normal([4]), True)], torch.diag))
    return cases


# ---------------------------------------------------------------------------------------------
# indexing and rearrangements


def strided_case(name, shape, begin, end, strides, masks, index):
    x = normal(shape)
    mapped = positions(shape)[index]
    options = {'begin': begin, 'end': end, 'strides': strides}
    options.update(masks)
    return case('stridedSlice ' + name, 'stridedSlice', options, [('x', x, True)], lambda v: by_index(v, mapped))


def depth_to_space_map(shape, b):
    """TensorFlow's definition, element by element: out[n, h*b + i, w*b + j, c] = x[n, h, w, (i*b + j)*C' + c]."""
    n, h, w, c = shape
    depth = c // (b * b)
    pos = positions(shape)
    out = np.zeros((n, h * b, w * b, depth), dtype=np.int64)
    for i in range(b):
        for j in range(b):
            for k in range(depth):
                out[:, i::b, j::b, k] = pos[:, :, :, (i * b + j) * depth + k]
    return out


def space_to_batch_map(shape, block, paddings):
    """TensorFlow's definition: pad, then output batch (i1*b2 + i2)*B + n holds pixels i (mod b) of sample n."""
    pos = np.pad(positions(shape), [(0, 0)] + [tuple(p) for p in paddings] + [(0, 0)], constant_values=-1)
    batch = shape[0]
    b1, b2 = block
    out = []
    for i1 in range(b1):
        for i2 in range(b2):
            out.append(pos[:, i1::b1, i2::b2, :])
    return np.concatenate(out, 0), batch


def indexing_cases():
    cases = []
    cases.append(case('reverse axis 1', 'reverse', {'axis': 1}, [('x', normal([3, 4, 2]), True)], lambda v: v.flip(1)))
    cases.append(case('reverse axes [0, 2]', 'reverse', {'axis': [0, 2]}, [('x', normal([3, 4, 2]), True)], lambda v: v.flip(0, 2)))
    cases.append(case('reverse all axes', 'reverse', {}, [('x', normal([3, 4]), True)], lambda v: v.flip(0, 1)))
    shape = [3, 5, 6, 2]
    cases += [
        strided_case('steps 2 and 3', shape, [0, 1, 0, 0], [3, 5, 6, 2], [1, 2, 3, 1], {}, np.s_[0:3, 1:5:2, 0:6:3, 0:2]),
        strided_case('negative steps', shape, [2, -1, 5, 0], [0, 0, 0, 2], [-1, -2, -2, 1], {}, np.s_[2:0:-1, -1:0:-2, 5:0:-2, 0:2]),
        strided_case('begin and end masks', shape, [9, 3, 1, 0], [0, 0, 4, 0], [1, -1, 1, 1], {'beginMask': 1, 'endMask': 11},
                     np.s_[:, 3::-1, 1:4, :]),
        strided_case('shrink axis', shape, [1, 2, 1], [0, 4, 5], [1, 1, 2], {'shrinkAxisMask': 1}, np.s_[1, 2:4, 1:5:2]),
        strided_case('ellipsis', shape, [0, 1], [1, 2], [1, 1], {'ellipsisMask': 1}, np.s_[..., 1:2]),
        strided_case('new axis and shrink', shape, [0, 0, 1], [1, 0, 4], [1, 1, 1], {'newAxisMask': 2, 'shrinkAxisMask': 1},
                     np.s_[0, None, 1:4]),
        strided_case('out-of-range bounds clamp', shape, [-10, 2], [10, 100], [1, 3], {}, np.s_[-10:10, 2:100:3]),
    ]
    x = normal([4, 3, 2])
    idx = torch.tensor([[3, 1], [0, 2], [3, 1]])
    cases.append(case('gatherND pairs', 'gatherND', {}, [('x', x, True), ('indices', idx, False)], lambda v, i: v[i[:, 0], i[:, 1]]))
    idx = torch.tensor([[[2], [0]], [[1], [1]]])
    cases.append(case('gatherND rows', 'gatherND', {}, [('x', x, True), ('indices', idx, False)], lambda v, i: v[i[..., 0]]))
    idx = torch.tensor([[1, 0], [3, 2], [1, 0], [0, 1]])
    u = normal([4, 2])
    cases.append(case('scatterND (repeats add up)', 'scatterND', {'shape': [4, 3, 2]}, [('indices', idx, False), ('updates', u, True)],
                      lambda i, w: torch.zeros(4, 3, 2).index_put((i[:, 0], i[:, 1]), w, accumulate=True)))
    idx = torch.tensor([[2], [0]])
    cases.append(case('tensorScatterUpdate rows', 'tensorScatterUpdate', {},
                      [('x', normal([4, 3]), True), ('indices', idx, False), ('updates', normal([2, 3]), True)],
                      lambda v, i, w: v.index_put((i[:, 0],), w)))
    seg = torch.tensor([2, 0, 2, -1, 1, 2])
    cases.append(case('unsortedSegmentSum (negative ids dropped)', 'unsortedSegmentSum', {'numSegments': 4},
                      [('x', normal([6, 3]), True), ('segmentIds', seg, False)],
                      lambda v, s: torch.zeros(4, 3).index_add(0, s[s >= 0], v[s >= 0])))
    vals = torch.tensor([1, 4, 1, 0, 2, 9, 4, 1])
    cases.append(case('bincount weights (values >= size ignored)', 'bincount', {'size': 5}, [('x', vals, False), ('weights', normal([8]), True)],
                      lambda v, w: torch.zeros(5).index_add(0, v[v < 5], w[v < 5])))
    for mode in ('reflect', 'symmetric'):
        pads = [[1, 2], [2, 1]] if mode == 'reflect' else [[3, 1], [0, 3]]
        mapped = np.pad(positions([3, 4]), pads, mode=mode)
        cases.append(case('mirrorPad %s' % mode, 'mirrorPad', {'paddings': pads, 'mode': mode}, [('x', normal([3, 4]), True)],
                          lambda v, m=mapped: by_index(v, m)))
    cases.append(case('mirrorPad reflect 3-D (torch)', 'mirrorPad', {'paddings': [[0, 0], [2, 1], [1, 3]], 'mode': 'reflect'},
                      [('x', normal([2, 3, 4]), True)], lambda v: F.pad(v.unsqueeze(0), (1, 3, 2, 1), mode='reflect').squeeze(0)))
    shape = [2, 2, 3, 8]
    mapped = depth_to_space_map(shape, 2)
    cases.append(case('depthToSpace NHWC', 'depthToSpace', {'blockSize': 2}, [('x', normal(shape), True)], lambda v: by_index(v, mapped)))
    nchw = mapped.transpose(0, 3, 1, 2)
    cases.append(case('depthToSpace NCHW', 'depthToSpace', {'blockSize': 2, 'dataFormat': 'NCHW'}, [('x', normal([2, 8, 2, 3]), True)],
                      lambda v: by_index(v.permute(0, 2, 3, 1).contiguous(), nchw)))
    inverse = np.argsort(mapped.reshape(-1)).reshape(shape)
    cases.append(case('spaceToDepth NHWC', 'spaceToDepth', {'blockSize': 2}, [('x', normal([2, 4, 6, 2]), True)],
                      lambda v: by_index(v, inverse)))
    shape, block, pads = [2, 4, 3, 2], [2, 3], [[0, 2], [1, 2]]
    mapped, _ = space_to_batch_map(shape, block, pads)

    def to_batch(v, m=mapped):
        padded = torch.cat([v.reshape(-1), torch.zeros(1)])
        return padded[torch.as_tensor(np.where(m < 0, v.numel(), m))]
    cases.append(case('spaceToBatchND', 'spaceToBatchND', {'blockShape': block, 'paddings': pads}, [('x', normal(shape), True)], to_batch))
    flat = np.where(mapped < 0, -1, np.arange(mapped.size).reshape(mapped.shape))
    source = np.full(int(np.prod(shape)), -1)
    source[mapped[mapped >= 0]] = flat[mapped >= 0]
    cases.append(case('batchToSpaceND', 'batchToSpaceND', {'blockShape': block, 'crops': pads}, [('x', normal(list(mapped.shape)), True)],
                      lambda v, s=source.reshape(shape): by_index(v, s)))
    x = normal([3, 6], 2.0)
    cases.append(case('topk values', 'topk', {'k': 3}, [('x', x, True)], lambda v: torch.topk(v, 3).values))
    cases.append(case('sort values axis 0', 'sort', {'axis': 0}, [('x', normal([5, 3]), True)], lambda v: torch.sort(v, dim=0, stable=True).values))
    cases.append(case('sort values descending', 'sort', {'axis': -1, 'descending': True}, [('x', normal([3, 5]), True)],
                      lambda v: torch.sort(v, dim=-1, descending=True, stable=True).values))
    return cases


def conv_cases():
    """Convolutions tfjs has as ops (Strata's layers ran them already): valid padding, NHWC."""
    cases = []
    x, f = normal([2, 9, 3]), uniform([3, 3, 4], -0.5, 0.5)
    cases.append(case('conv1d stride 2 dilation 1', 'conv1d', {'stride': 2}, [('x', x, True), ('filter', f, True)],
                      lambda v, w: F.conv1d(v.transpose(1, 2), w.permute(2, 1, 0), stride=2).transpose(1, 2)))
    cases.append(case('conv1d dilation 2', 'conv1d', {'dilation': 2}, [('x', x, True), ('filter', f, True)],
                      lambda v, w: F.conv1d(v.transpose(1, 2), w.permute(2, 1, 0), dilation=2).transpose(1, 2)))
    x, d = normal([2, 6, 5, 3]), uniform([3, 2, 3, 2], -0.5, 0.5)

    def depthwise(v, w, stride=1):
        kh, kw, c, m = w.shape
        weight = w.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
        return F.conv2d(v.permute(0, 3, 1, 2), weight, stride=stride, groups=c).permute(0, 2, 3, 1)
    cases.append(case('depthwiseConv2d multiplier 2 stride 2', 'depthwiseConv2d', {'strides': 2}, [('x', x, True), ('filter', d, True)],
                      lambda v, w: depthwise(v, w, 2)))
    p = uniform([1, 1, 6, 4], -0.5, 0.5)
    cases.append(case('separableConv2d', 'separableConv2d', {}, [('x', x, True), ('depthwiseFilter', d, True), ('pointwiseFilter', p, True)],
                      lambda v, w, q: torch.einsum('nhwc,co->nhwo', depthwise(v, w), q[0, 0])))
    y, t = normal([2, 3, 2, 4]), uniform([3, 3, 5, 4], -0.5, 0.5)
    cases.append(case('conv2dTranspose stride 2', 'conv2dTranspose', {'outputShape': [2, 7, 5, 5], 'strides': 2},
                      [('x', y, True), ('filter', t, True)],
                      lambda v, w: F.conv_transpose2d(v.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=2).permute(0, 2, 3, 1)))
    return cases


def same_pads_3d(shape, kernel, strides):
    """TensorFlow's 'same' padding of the three spatial axes, as F.pad's argument (last axis first)."""
    pads = [base.same_pads(n, k, s, 1) for n, k, s in zip(shape, kernel, strides)]
    return [p for pair in reversed(pads) for p in pair]


def conv3d_cases():
    """3-D convolution and pooling (NDHWC, filters [kd, kh, kw, in, out]), 'same' padding written out as in 2-D."""
    cases = []
    to_ncdhw, to_ndhwc = (lambda v: v.permute(0, 4, 1, 2, 3)), (lambda v: v.permute(0, 2, 3, 4, 1))
    specs = [('valid', [2, 5, 4, 6, 3], [2, 3, 2, 3, 2], [1, 1, 1], [1, 1, 1]),
             ('same stride 2', [1, 5, 6, 4, 2], [3, 2, 3, 2, 3], [2, 2, 1], [1, 1, 1]),
             ('valid dilation 2', [1, 6, 5, 5, 2], [2, 2, 2, 2, 2], [1, 1, 1], [2, 1, 2])]
    for name, xs, fs, strides, dilation in specs:
        padding = 'same' if name.startswith('same') else 'valid'

        def fn(v, w, s=strides, d=dilation, p=padding, xs=xs, fs=fs):
            v = to_ncdhw(v)
            if p == 'same':
                v = F.pad(v, same_pads_3d(xs[1:4], fs[:3], s))
            return to_ndhwc(F.conv3d(v, w.permute(4, 3, 0, 1, 2), stride=s, dilation=d))
        cases.append(case('conv3d ' + name, 'conv3d', {'strides': strides, 'padding': padding, 'dilation': dilation},
                          [('x', normal(xs), True), ('filter', uniform(fs, -0.5, 0.5), True)], fn))
    cases.append(case('conv3dTranspose stride 2', 'conv3dTranspose', {'outputShape': [2, 5, 7, 4, 3], 'strides': [2, 2, 1]},
                      [('x', normal([2, 2, 3, 3, 4]), True), ('filter', uniform([2, 3, 2, 3, 4], -0.5, 0.5), True)],
                      lambda v, w: to_ndhwc(F.conv_transpose3d(to_ncdhw(v), w.permute(4, 3, 0, 1, 2), stride=(2, 2, 1), output_padding=(1, 0, 0)))))
    for name, xs, pool, strides, padding in (('valid', [2, 4, 5, 6, 2], [2, 2, 3], [2, 2, 3], 'valid'),
                                              ('same stride 2', [1, 5, 5, 4, 3], [3, 3, 2], [2, 2, 2], 'same')):
        x = normal(xs)
        pads = same_pads_3d(xs[1:4], pool, strides) if padding == 'same' else [0] * 6

        def max_fn(v, pool=pool, strides=strides, pads=pads):
            return to_ndhwc(F.max_pool3d(F.pad(to_ncdhw(v), pads, value=-float('inf')), pool, strides))

        def avg_fn(v, pool=pool, strides=strides, pads=pads):
            sums = F.avg_pool3d(F.pad(to_ncdhw(v), pads), pool, strides)
            counts = F.avg_pool3d(F.pad(torch.ones(1, 1, *v.shape[1:4]), pads), pool, strides)
            return to_ndhwc(sums / counts)
        options = {'poolSize': pool, 'strides': strides, 'padding': padding}
        cases.append(case('maxPool3d ' + name, 'maxPool3d', options, [('x', x, True)], max_fn))
        cases.append(case('avgPool3d ' + name, 'avgPool3d', options, [('x', x, True)], avg_fn))
    # Dilation: TensorFlow's definition written out, max over each window of x + filter (padding excluded).
    for name, xs, ks, strides, rates, padding in (('valid', [2, 5, 6, 2], [2, 3, 2], [1, 1], [1, 1], 'valid'),
                                                   ('same stride 2 rate 2', [1, 6, 5, 3], [3, 2, 3], [2, 2], [2, 1], 'same')):
        def dilate(v, w, ks=ks, s=strides, r=rates, p=padding):
            n, h, wd, c = v.shape
            if p == 'same':
                top, bottom = base.same_pads(h, ks[0], s[0], r[0])
                left, right = base.same_pads(wd, ks[1], s[1], r[1])
                v = F.pad(v.permute(0, 3, 1, 2), (left, right, top, bottom), value=-float('inf')).permute(0, 2, 3, 1)
            out_h = (v.shape[1] - (ks[0] - 1) * r[0] - 1) // s[0] + 1
            out_w = (v.shape[2] - (ks[1] - 1) * r[1] - 1) // s[1] + 1
            rows = []
            for i in range(out_h):
                cols = []
                for j in range(out_w):
                    window = torch.stack([v[:, i * s[0] + a * r[0], j * s[1] + b * r[1], :] + w[a, b]
                                          for a in range(ks[0]) for b in range(ks[1])], 0)
                    cols.append(window.amax(0))
                rows.append(torch.stack(cols, 1))
            return torch.stack(rows, 1)
        cases.append(case('dilation2d ' + name, 'dilation2d', {'strides': strides, 'padding': padding, 'dilations': rates},
                          [('x', normal(xs), True), ('filter', normal(ks), True)], dilate))
    x = normal([2, 3, 2, 9])
    cases.append(case('localResponseNormalization radius 2', 'localResponseNormalization',
                      {'depthRadius': 2, 'bias': 1.5, 'alpha': 0.3, 'beta': 0.75}, [('x', x, True)],
                      lambda v: F.local_response_norm(v.permute(0, 3, 1, 2), 5, alpha=0.3 * 5, beta=0.75, k=1.5).permute(0, 2, 3, 1)))
    return cases


def int_cases():
    cases = []
    seq = torch.tensor([[-1.5, 0.0, 0.0, 2.0, 3.5], [1.0, 1.0, 1.0, 4.0, 8.0]])
    vals = torch.tensor([[0.0, -3.0, 2.5, 9.0], [1.0, 4.0, 0.5, 8.0]])
    for side in ('left', 'right'):
        cases.append(int_case('searchSorted batched %s' % side, 'searchSorted', {'side': side},
                              [('sortedSequence', f32(seq), False), ('values', f32(vals), False)],
                              torch.searchsorted(seq, vals, right=side == 'right')))
    x = f32(torch.tensor([[3.0, 1.0, 2.0, 1.0, 5.0], [0.0, -2.0, 0.0, 7.0, -2.0]]))
    cases.append(int_case('argsort stable', 'argsort', {'axis': -1}, [('x', x, False)], torch.sort(x, dim=-1, stable=True).indices))
    cases.append(int_case('topk indices (ties: lower index first)', 'topkIndices', {'k': 3}, [('x', x, False)],
                          torch.tensor([[4, 0, 2], [3, 0, 2]])))
    v = torch.tensor([4, 1, 1, 3, 0, 4, 9, 1])
    cases.append(int_case('bincount counts', 'bincount', {'size': 6}, [('x', v, False)], torch.bincount(v[v < 6], minlength=6)))
    u = torch.tensor([5, 2, 5, 7, 2, 2])
    uniq, inverse = [], []
    for value in u.tolist():
        if value not in uniq:
            uniq.append(value)
        inverse.append(uniq.index(value))
    cases.append(int_case('unique indices (order of first appearance)', 'uniqueIndices', {}, [('x', u, False)], torch.tensor(inverse)))
    return cases


# ---------------------------------------------------------------------------------------------
# losses (Keras 3's definitions, written with torch ops)


def hinge_labels(t):
    return 2 * t - 1 if bool(((t == 0) | (t == 1)).all()) else t


def l2_normalize(x, axis):
    return x * torch.minimum(torch.rsqrt((x * x).sum(axis, keepdim=True)), torch.tensor(1 / EPSILON))


def bce_elementwise(t, p):
    q = p.clamp(EPSILON, 1 - EPSILON)
    return -(t * q.log() + (1 - t) * (1 - q).log())


def binary_focal(balance=False, alpha=0.25, gamma=2.0, logits=False, ls=0.0):
    def fn(t, p):
        if ls:
            t = t * (1 - ls) + 0.5 * ls
        if logits:
            p = torch.sigmoid(p)
        pt = t * p + (1 - t) * (1 - p)
        focal = (1 - pt) ** gamma * bce_elementwise(t, p)
        if balance:
            focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
        return focal.mean(-1)
    return fn


def categorical_focal(alpha=0.25, gamma=2.0, logits=False, ls=0.0):
    def fn(t, p):
        if ls:
            t = t * (1 - ls) + ls / t.shape[-1]
        if logits:
            p = F.softmax(p, -1)
        q = (p / p.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
        return (alpha * (1 - q) ** gamma * -(t * q.log())).sum(-1)
    return fn


def dice(axis=None):
    def fn(t, p):
        dims = axis if axis is not None else list(range(t.dim()))
        return 1 - 2 * (t * p).sum(dims) / (t.sum(dims) + p.sum(dims) + EPSILON)
    return fn


def tversky(alpha=0.5, beta=0.5, axis=None):
    def fn(t, p):
        dims = axis if axis is not None else list(range(t.dim()))
        tp = (t * p).sum(dims)
        return 1 - tp / (tp + alpha * (t * (1 - p)).sum(dims) + beta * (p * (1 - t)).sum(dims) + EPSILON)
    return fn


REDUCE = {'sum_over_batch_size': lambda v: v.mean(), 'sum': lambda v: v.sum(), 'none': lambda v: v}


def loss_cases():
    binary = torch.randint(0, 2, (4, 5)).double()
    signs = 2 * torch.randint(0, 2, (4, 5)).double() - 1
    pos = uniform([4, 5], 0.1, 3.0)
    variants = [
        ('hinge {0, 1} labels', 'hinge', {}, binary, normal([4, 5]),
         lambda t, p: torch.clamp(1 - hinge_labels(t) * p, min=0).mean(-1), False),
        ('hinge {-1, 1} labels', 'hinge', {}, signs, normal([4, 5]), lambda t, p: torch.clamp(1 - t * p, min=0).mean(-1), False),
        ('squaredHinge', 'squaredHinge', {}, binary, normal([4, 5]),
         lambda t, p: (torch.clamp(1 - hinge_labels(t) * p, min=0) ** 2).mean(-1), False),
        ('categoricalHinge', 'categoricalHinge', {}, base.one_hot([4, 5]), uniform([4, 5], 0, 1),
         lambda t, p: torch.clamp(((1 - t) * p).amax(-1) - (t * p).sum(-1) + 1, min=0), False),
        ('logCosh', 'logCosh', {}, normal([4, 5], 2.0), normal([4, 5], 2.0), lambda t, p: torch.log(torch.cosh(p - t)).mean(-1), True),
        ('poisson', 'poisson', {}, uniform([4, 5], 0, 4), pos, lambda t, p: (p - t * torch.log(p + EPSILON)).mean(-1), True),
        ('cosineSimilarity', 'cosineSimilarity', {}, normal([4, 5]), normal([4, 5]),
         lambda t, p: -(l2_normalize(t, -1) * l2_normalize(p, -1)).sum(-1), True),
        ('cosineSimilarity axis 0', 'cosineSimilarity', {'axis': 0}, normal([4, 5]), normal([4, 5]),
         lambda t, p: -(l2_normalize(t, 0) * l2_normalize(p, 0)).sum(0), True),
        ('meanSquaredLogarithmicError', 'meanSquaredLogarithmicError', {}, uniform([4, 5], 0.1, 5), uniform([4, 5], 0.1, 5),
         lambda t, p: ((torch.log(p.clamp(min=EPSILON) + 1) - torch.log(t.clamp(min=EPSILON) + 1)) ** 2).mean(-1), True),
        ('meanAbsolutePercentageError', 'meanAbsolutePercentageError', {}, f32(pos * signs), normal([4, 5], 2.0),
         lambda t, p: 100 * ((t - p) / t.abs().clamp(min=EPSILON)).abs().mean(-1), True),
        ('binaryFocalCrossentropy', 'binaryFocalCrossentropy', {}, binary, base.probabilities([4, 5]), binary_focal(), True),
        ('binaryFocalCrossentropy balanced, gamma 3, logits, smoothing 0.1', 'binaryFocalCrossentropy',
         {'applyClassBalancing': True, 'alpha': 0.4, 'gamma': 3, 'fromLogits': True, 'labelSmoothing': 0.1},
         binary, normal([4, 5], 2.0), binary_focal(True, 0.4, 3.0, True, 0.1), True),
        ('categoricalFocalCrossentropy', 'categoricalFocalCrossentropy', {}, base.one_hot([4, 5]), uniform([4, 5], 0.05, 1.0),
         categorical_focal(), True),
        ('categoricalFocalCrossentropy logits, alpha 0.5, gamma 1.5, smoothing 0.2', 'categoricalFocalCrossentropy',
         {'fromLogits': True, 'alpha': 0.5, 'gamma': 1.5, 'labelSmoothing': 0.2}, base.one_hot([4, 5]), normal([4, 5], 2.0),
         categorical_focal(0.5, 1.5, True, 0.2), True),
        ('dice over everything', 'dice', {}, binary, base.probabilities([4, 5]), dice(), True),
        ('dice per image', 'dice', {'axis': [1, 2, 3]}, torch.randint(0, 2, (2, 3, 3, 2)).double(),
         base.probabilities([2, 3, 3, 2]), dice([1, 2, 3]), True),
        ('tversky', 'tversky', {}, binary, base.probabilities([4, 5]), tversky(), True),
        ('tversky alpha 0.7 beta 0.3 per row', 'tversky', {'alpha': 0.7, 'beta': 0.3, 'axis': [1]}, binary,
         base.probabilities([4, 5]), tversky(0.7, 0.3, [1]), True),
    ]
    cases = []
    for name, op, options, t, p, fn, t_diff in variants:
        for reduction in ('sum_over_batch_size', 'sum', 'none'):
            cases.append(case('%s reduction %s' % (name, reduction), op, dict(options, reduction=reduction),
                              [('yTrue', f32(t), t_diff), ('yPred', f32(p), True)],
                              lambda t_, p_, fn=fn, r=reduction: REDUCE[r](fn(t_, p_))))
    # CTC: labels padded with the blank 0, a repeated label (needs a blank between), an empty label.
    labels = torch.tensor([[1, 2, 2, 3], [4, 1, 0, 0], [0, 0, 0, 0]])
    logits = normal([3, 9, 5], 1.5)

    def ctc_torch(t, p):
        lengths = (t != 0).sum(-1)
        log_probs = F.log_softmax(p, -1).transpose(0, 1)
        return F.ctc_loss(log_probs, t, torch.full((t.shape[0],), p.shape[1]), lengths, blank=0, reduction='none')
    for reduction in ('sum_over_batch_size', 'none'):
        cases.append(case('ctc reduction %s' % reduction, 'ctc', {'reduction': reduction},
                          [('yTrue', labels, False), ('yPred', logits, True)], lambda t, p, r=reduction: REDUCE[r](ctc_torch(t, p))))
    frames = torch.tensor([9, 6, 4])
    cases.append(case('ctcLoss with frame lengths and blank 4', 'ctcLoss', {'maskIndex': 4},
                      [('target', torch.tensor([[0, 1, 1], [2, 3, 0], [3, 3, 3]]), False), ('output', logits, True),
                       ('targetLength', torch.tensor([3, 2, 1]), False), ('outputLength', frames, False)],
                      lambda t, p, tl, ol: F.ctc_loss(F.log_softmax(p, -1).transpose(0, 1), t, ol, tl, blank=4, reduction='none')))
    return cases


def main():
    base.write('torch-parity-math.json', math_cases() + newer_activation_cases())
    base.write('torch-parity-numpy.json', numpy_cases())
    base.write('torch-parity-scan.json', scan_einsum_cases())
    base.write('torch-parity-indexing.json', indexing_cases() + int_cases())
    base.write('torch-parity-conv.json', conv_cases() + conv3d_cases())
    base.write('torch-parity-losses.json', loss_cases())


if __name__ == '__main__':
    main()
