#!/usr/bin/env python3
"""Generates test/fixtures/optimizers.json for test/optimizers.test.ts.

Run as `/usr/bin/python3 scripts/make_optimizer_fixtures.py` (numpy; PyTorch only for the
cross-checks). Deterministic: fixed seed, no clock, no network.

The problem: two variables, W [3, 4] and b [4], with random float32-exact initial values, and
six fixed sets of random float32-exact gradients (so no loss function is involved: each case
replays `applyGradients` six times and records the variables after each step). The gradient
sets have different scales (0.2 to 2), so the clipping options are active on some steps and
not on others, second-moment estimates go down as well as up (which AMSGrad and Adamax's max
notice), and one gradient element is exactly zero on the first step (0 / epsilon paths).

The update rules are Keras 3's (keras/src/optimizers/*.py; re-read on 2026-12-07 against Keras
3.16.0, keras-team/keras commit 3422977: sgd.py, rmsprop.py, adam.py, adagrad.py, adamax.py,
nadam.py and base_optimizer.py's _apply_weight_decay for AdamW), written out by hand in numpy and
computed in float64. The base optimizer's order per applyGradients call is:
  1. clip the gradients (clipnorm per variable, else global_clipnorm, else clipvalue);
  2. lr = schedule(iterations) (iterations before this update: 0 on the first call);
  3. decoupled weight decay w -= lr * weight_decay * w, for every variable;
  4. the optimizer's update_step for each variable (local_step t = iterations + 1);
  5. iterations += 1.

Float32 tolerances, chosen honestly per case: every rule is also run in float32 numpy under
four rounding models (FLOAT32_MODELS: whether 1 - beta is formed in double or from the float32
constant, and whether per-step scalars such as Adam's alpha are computed in double or float32;
Keras 3 itself does the first in double and the second in float32). The case's float32 atol is
the smallest of 1e-6, 3e-6, 1e-5 (rtol 1e-5) that every model meets with a 3x margin; it is
stored with the case (`float32Atol`). Cases with beta2 = 0.999 need more than 1e-6: 0.999 is
not exact in float32, so any float32 implementation is inconsistent somewhere (Keras's own
float32 1 - beta2^t is off by 1.3e-5 relative while its 1 - beta2 is exact, which moves a
variable by ~1.5e-6 over these six steps at lr 0.05).

Cross-checks against torch.optim (PyTorch 1.13), asserted below; where the two libraries
disagree the check uses a configuration that makes them agree, and the disagreement is stated:
  * SGD, momentum, nesterov: identical (Keras keeps v = -lr * torch's buffer; with a constant
    learning rate the updates are the same).
  * RMSprop (plain, momentum, centered): Keras puts epsilon INSIDE the square root,
    sqrt(v + eps); torch outside, sqrt(v) + eps. Checked with a negligible epsilon (1e-24 inside
    vs 1e-12 = sqrt(1e-24) outside, identical when v = 0). torch's momentum buffer holds
    g / denom and multiplies by lr at the end, Keras's holds lr * g / denom: same with a
    constant learning rate.
  * Adam / AMSGrad / AdamW: Keras's epsilon is "epsilon hat": w -= alpha m / (sqrt(v) + eps)
    with alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t); torch's is
    w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps). They agree exactly when
    torch's eps = Keras's eps / sqrt(1 - beta2^t), so they differ for any fixed eps: checked with
    a negligible epsilon (1e-20). torch's AdamW decay w *= 1 - lr * wd before the step is Keras's
    decoupled weight decay. torch.optim.SGD's weight_decay is an L2 term added to the gradient,
    NOT Keras's decoupled decay, so weight decay is cross-checked only through AdamW.
  * Adagrad: epsilon inside (Keras) vs outside (torch), as RMSprop; negligible-epsilon check.
  * Adadelta: identical, epsilon included (both put it inside both square roots).
  * Adamax: Keras u = max(beta2 u, |g|), w -= lr m / ((1 - beta1^t)(u + eps)); torch
    u = max(beta2 u, |g| + eps), w -= lr / (1 - beta1^t) m / u. Negligible-epsilon check.
  * Nadam: Keras 3 uses the momentum cache u_t = beta1 (1 - 0.5 * 0.96^t) -- 0.96 to the power
    t itself, see keras/src/optimizers/nadam.py -- while Keras 2's legacy Nadam, PyTorch and
    Dozat's report use 0.96^(0.004 t) (torch: momentum_decay=0.004). The fixture follows
    Keras 3 and also stores, per nadam case, the trajectory under the 0.004 schedule
    (`legacyExpected`) so the test can say which variant an implementation follows.
    Moreover torch 1.13's NAdam multiplies mu_t into the product twice for the momentum term
    (mu_product_next = mu_product * mu * mu_next after mu_product *= mu), a torch bug; the
    numpy implementation reproduces torch only with that quirk switched on, which is how it is
    cross-checked (with momentum_decay=1.0, the Keras 3 cache). Epsilon placement is the same
    in both (outside sqrt(v_hat)).
  * Clipping: torch's clip_grad_norm_ divides by (norm + 1e-6); Keras divides by max(norm, c)
    exactly, so clipping is not cross-checked against torch (clip_grad_value_ is identical to
    Keras's clipvalue and is checked).

JSON layout:
  initial:   {W: {shape, values}, b: {shape, values}}        float32-exact
  gradients: [{W: [...], b: [...]}, ...]                      6 steps, float32-exact
  cases: [{name, optimizer, options, float32Atol, learningRates, expected: [{W, b}] per step,
           legacyExpected? (nadam only)}]
  options.learningRate is a number, or {schedule: name, config: {...}} for st.schedules.*,
  or {function: name} for a plain (step) => number defined in the test (FUNCTIONS below).
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'optimizers.json')
STEPS = 6
SCALES = [1.0, 0.3, 2.0, 0.5, 1.5, 0.2]

# The float32 tolerances the test uses: rtol, and the atol candidates (see the docstring).
F32_RTOL, F32_ATOLS, F32_MARGIN = 1e-5, (1e-6, 3e-6, 1e-5), 3.0

rng = np.random.RandomState(20240613)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


INITIAL = {'W': f32(rng.normal(size=(3, 4))), 'b': f32(rng.normal(size=(4,)))}
GRADIENTS = []
for s in SCALES:
    GRADIENTS.append({'W': f32(rng.normal(size=(3, 4)) * s), 'b': f32(rng.normal(size=(4,)) * s)})
GRADIENTS[0]['W'][0, 0] = 0.0
NAMES = ['W', 'b']

# ---------------------------------------------------------------------------------------------
# learning rates: Keras schedules and the plain functions the test defines under the same names


def exponential_decay(c):
    def f(step):
        p = step / c['decaySteps']
        if c.get('staircase', False):
            p = math.floor(p)
        return c['initialLearningRate'] * c['decayRate'] ** p
    return f


def cosine_decay(c):
    init, steps = c['initialLearningRate'], c['decaySteps']
    alpha, target, warm = c.get('alpha', 0.0), c.get('warmupTarget'), c.get('warmupSteps', 0)

    def decay(step, peak):
        frac = min(step, steps) / steps
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)

    def f(step):
        if target is None:
            return decay(step, init)
        if step < warm:
            return init + (target - init) * step / warm
        return decay(step - warm, target)
    return f


def piecewise_constant(c):
    def f(step):
        for bound, value in zip(c['boundaries'], c['values']):
            if step <= bound:
                return value
        return c['values'][-1]
    return f


SCHEDULES = {'exponentialDecay': exponential_decay, 'cosineDecay': cosine_decay, 'piecewiseConstant': piecewise_constant}
# Mirrored in test/optimizers.test.ts.
FUNCTIONS = {
    'inverseTime': lambda step: 0.05 / (1 + step),
    'stepDown': lambda step: 0.02 if step < 3 else 0.005,
}


def lr_function(lr):
    if isinstance(lr, dict):
        if 'schedule' in lr:
            return SCHEDULES[lr['schedule']](lr['config'])
        return FUNCTIONS[lr['function']]
    return lambda step: lr


# ---------------------------------------------------------------------------------------------
# Keras 3 rules. `dt` is np.float64 or np.float32; in float32 every intermediate is rounded.

DEFAULTS = {
    'sgd': dict(learningRate=0.01, momentum=0.0, nesterov=False),
    'rmsprop': dict(learningRate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    'adam': dict(learningRate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7, amsgrad=False),
    'adamw': dict(learningRate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7, amsgrad=False, weightDecay=0.004),
    'adagrad': dict(learningRate=0.001, initialAccumulatorValue=0.1, epsilon=1e-7),
    'adadelta': dict(learningRate=0.001, rho=0.95, epsilon=1e-7),
    'adamax': dict(learningRate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7),
    'nadam': dict(learningRate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7),
}
COMMON = dict(clipNorm=None, clipValue=None, globalClipNorm=None, weightDecay=0.0)


def clip(grads, o, dt):
    if o['clipNorm'] is not None:
        c = dt(o['clipNorm'])
        out = []
        for g in grads:
            n = np.sqrt(np.sum(g * g))
            out.append(g * c / np.maximum(n, c) if n > 0 else g)
        return out
    if o['globalClipNorm'] is not None:
        c = dt(o['globalClipNorm'])
        n = np.sqrt(sum(np.sum(g * g) for g in grads))
        scale = np.minimum(c / n, dt(1))
        return [g * scale for g in grads]
    if o['clipValue'] is not None:
        c = dt(o['clipValue'])
        return [np.clip(g, -c, c) for g in grads]
    return grads


# How a float32 implementation may round, as two independent choices (the fixture is float64;
# these only estimate how far an honest float32 implementation can drift from it):
#   diff64:    1 - beta (and 1 - rho) computed in double, then rounded (Keras: `1 - self.beta_2`
#              is Python arithmetic) -- or in float32 from the rounded constant (0.999 is not
#              exact in float32, so 1 - float32(0.999) is off by 1.3e-5 relative);
#   scalars64: per-step scalars (bias corrections, Adam's alpha, Nadam's momentum cache, lr * wd)
#              computed in double, then rounded -- or in float32 (Keras: ops.power(cast(beta_2)),
#              so 1 - beta2^t suffers the same cancellation).
FLOAT32_MODELS = {
    'all float32': (False, False),
    'Keras 3 (1 - beta in double, powers in float32)': (True, False),
    '1 - beta in float32, step scalars in double': (False, True),
    'scalars in double': (True, True),
}


class Run:
    """One optimizer over the fixed problem; `nadam_decay` and `torch_nadam_quirk` only for cross-checks."""

    def __init__(self, kind, options, dt=np.float64, model=(True, True), nadam_decay=1.0, torch_nadam_quirk=False):
        unknown = set(options) - set(DEFAULTS[kind]) - set(COMMON)
        assert not unknown, unknown
        self.kind, self.dt = kind, dt
        self.diff64, self.scalars64 = model
        self.o = {**COMMON, **DEFAULTS[kind], **options}
        self.lr_of = lr_function(self.o['learningRate'])
        self.params = {k: INITIAL[k].astype(dt) for k in NAMES}
        self.state = {k: None for k in NAMES}
        self.iterations = 0
        self.u_product = self.scalar(lambda d: d(1))
        self.nadam_decay = nadam_decay
        self.torch_nadam_quirk = torch_nadam_quirk

    def scalar(self, f):
        """A per-step scalar: f(d) where d converts constants to the working precision."""
        if self.scalars64:
            return self.dt(f(np.float64))
        return f(self.dt)

    def one_minus(self, x):
        return self.dt(1 - x) if self.diff64 else self.dt(1) - self.dt(x)

    def step(self, grads):
        dt, o = self.dt, self.o
        gs = clip([grads[k].astype(dt) for k in NAMES], o, dt)
        lr_value = self.lr_of(self.iterations)
        lr = dt(lr_value)
        if o['weightDecay']:
            decay = self.scalar(lambda d: d(lr_value) * d(o['weightDecay']))
            for k in NAMES:
                self.params[k] = self.params[k] - self.params[k] * decay
        t = self.iterations + 1
        if self.kind == 'nadam':
            self.u_product = self.scalar(lambda d: d(self.u_product) * self.u(d, t))
        for k, g in zip(NAMES, gs):
            self.params[k] = self.update(k, self.params[k], g, lr, lr_value, t)
        self.iterations += 1
        return lr_value

    def u(self, d, t):
        return d(self.o['beta1']) * (d(1) - d(0.5) * d(0.96) ** d(t * self.nadam_decay))

    def slots(self, k, w, n, init=0.0):
        if self.state[k] is None:
            self.state[k] = [np.full_like(w, init) for _ in range(n)]
        return self.state[k]

    def update(self, k, w, g, lr, lr_value, t):
        dt, o, kind = self.dt, self.o, self.kind
        if kind == 'sgd':
            mom = dt(o['momentum'])
            if o['momentum'] == 0:
                return w - g * lr
            s = self.slots(k, w, 1)
            s[0] = mom * s[0] - g * lr
            if o['nesterov']:
                return w + (mom * s[0] - g * lr)
            return w + s[0]
        if kind == 'rmsprop':
            rho, eps, rho1 = dt(o['rho']), dt(o['epsilon']), self.one_minus(o['rho'])
            s = self.slots(k, w, 3)  # velocity, momentum, average gradient
            s[0] = rho * s[0] + rho1 * g * g
            if o['centered']:
                s[2] = rho * s[2] + rho1 * g
                denom = s[0] - s[2] * s[2] + eps
            else:
                denom = s[0] + eps
            inc = lr * g / np.sqrt(denom)
            if o['momentum'] > 0:
                s[1] = dt(o['momentum']) * s[1] + inc
                return w - s[1]
            return w - inc
        if kind in ('adam', 'adamw'):
            b1, b2, eps = o['beta1'], o['beta2'], dt(o['epsilon'])
            s = self.slots(k, w, 3)  # m, v, vhat
            alpha = self.scalar(lambda d: d(lr_value) * np.sqrt(d(1) - d(b2) ** d(t)) / (d(1) - d(b1) ** d(t)))
            s[0] = s[0] + (g - s[0]) * self.one_minus(b1)
            s[1] = s[1] + (g * g - s[1]) * self.one_minus(b2)
            v = s[1]
            if o['amsgrad']:
                s[2] = np.maximum(s[2], s[1])
                v = s[2]
            return w - (s[0] * alpha) / (np.sqrt(v) + eps)
        if kind == 'adagrad':
            s = self.slots(k, w, 1, o['initialAccumulatorValue'])
            s[0] = s[0] + g * g
            return w - lr * g / np.sqrt(s[0] + dt(o['epsilon']))
        if kind == 'adadelta':
            rho, eps, rho1 = dt(o['rho']), dt(o['epsilon']), self.one_minus(o['rho'])
            s = self.slots(k, w, 2)  # accumulated grad, accumulated delta
            s[0] = rho * s[0] + rho1 * g * g
            delta = -(np.sqrt(s[1] + eps) * g) / np.sqrt(s[0] + eps)
            s[1] = rho * s[1] + rho1 * delta * delta
            return w + lr * delta
        if kind == 'adamax':
            b1, b2, eps = o['beta1'], dt(o['beta2']), dt(o['epsilon'])
            s = self.slots(k, w, 2)  # m, u
            s[0] = s[0] + (g - s[0]) * self.one_minus(b1)
            s[1] = np.maximum(b2 * s[1], np.abs(g))
            bias = self.scalar(lambda d: d(1) - d(b1) ** d(t))
            return w - (lr * s[0]) / (bias * (s[1] + eps))
        if kind == 'nadam':
            b1, b2, eps = o['beta1'], o['beta2'], dt(o['epsilon'])
            s = self.slots(k, w, 2)  # m, v
            u_t, u_next = self.scalar(lambda d: self.u(d, t)), self.scalar(lambda d: self.u(d, t + 1))
            prod_t = self.u_product
            quirk = u_t if self.torch_nadam_quirk else dt(1)
            # m_hat = c_m * m + c_g * g, with the scalar coefficients computed per step
            c_m = self.scalar(lambda d: d(u_next) / (d(1) - d(prod_t) * d(u_next) * d(quirk)))
            c_g = self.scalar(lambda d: (d(1) - d(u_t)) / (d(1) - d(prod_t)))
            s[0] = s[0] + (g - s[0]) * self.one_minus(b1)
            s[1] = s[1] + (g * g - s[1]) * self.one_minus(b2)
            m_hat = c_m * s[0] + c_g * g
            v_hat = s[1] / self.scalar(lambda d: d(1) - d(b2) ** d(t))
            return w - m_hat * lr / (np.sqrt(v_hat) + eps)
        raise ValueError(kind)


def trajectory(kind, options, dt=np.float64, **kw):
    run = Run(kind, options, dt, **kw)
    out, lrs = [], []
    for grads in GRADIENTS:
        lrs.append(run.step(grads))
        out.append({k: run.params[k].astype(np.float64).copy() for k in NAMES})
    return out, lrs


# ---------------------------------------------------------------------------------------------
# cross-checks against torch.optim


def torch_trajectory(make, clip_value=None):
    torch.set_default_dtype(torch.float64)
    ps = [torch.tensor(INITIAL[k], requires_grad=True) for k in NAMES]
    opt = make(ps)
    out = []
    for grads in GRADIENTS:
        for p, k in zip(ps, NAMES):
            p.grad = torch.tensor(grads[k])
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(ps, clip_value)
        opt.step()
        out.append({k: p.detach().numpy().copy() for p, k in zip(ps, NAMES)})
    return out


def assert_same(a, b, what, rtol=1e-10, atol=1e-12):
    for step, (x, y) in enumerate(zip(a, b)):
        for k in NAMES:
            if not np.allclose(x[k], y[k], rtol=rtol, atol=atol):
                raise AssertionError(f'{what}: step {step + 1} {k}: numpy {x[k]} vs torch {y[k]}')


def differs(a, b, what, min_diff=1e-4):
    d = max(np.max(np.abs(x[k] - y[k])) for x, y in zip(a, b) for k in NAMES)
    assert d > min_diff, f'{what}: expected the variants to differ, max difference {d}'
    return d


O = torch.optim
TINY_IN, TINY_OUT = 1e-24, 1e-12  # epsilon inside a sqrt vs outside: sqrt(1e-24) = 1e-12


def cross_check():
    checks = [
        ('sgd', {'learningRate': 0.1}, lambda p: O.SGD(p, lr=0.1)),
        ('sgd', {'learningRate': 0.05, 'momentum': 0.9}, lambda p: O.SGD(p, lr=0.05, momentum=0.9)),
        ('sgd', {'learningRate': 0.05, 'momentum': 0.9, 'nesterov': True}, lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
        ('rmsprop', {'learningRate': 0.01, 'rho': 0.8, 'epsilon': TINY_IN}, lambda p: O.RMSprop(p, lr=0.01, alpha=0.8, eps=TINY_OUT)),
        ('rmsprop', {'learningRate': 0.01, 'momentum': 0.9, 'epsilon': TINY_IN}, lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.9, eps=TINY_OUT)),
        ('rmsprop', {'learningRate': 0.01, 'centered': True, 'momentum': 0.5, 'epsilon': TINY_IN},
         lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, eps=TINY_OUT)),
        ('adam', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 1e-20}, lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-20)),
        ('adam', {'learningRate': 0.02, 'beta2': 0.9, 'amsgrad': True, 'epsilon': 1e-20}, lambda p: O.Adam(p, lr=0.02, betas=(0.9, 0.9), eps=1e-20, amsgrad=True)),
        ('adamw', {'learningRate': 0.01, 'weightDecay': 0.1, 'epsilon': 1e-20}, lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-20)),
        ('adagrad', {'learningRate': 0.1, 'initialAccumulatorValue': 0.05, 'epsilon': TINY_IN},
         lambda p: O.Adagrad(p, lr=0.1, initial_accumulator_value=0.05, eps=TINY_OUT)),
        ('adadelta', {'learningRate': 1.0, 'rho': 0.9, 'epsilon': 1e-3}, lambda p: O.Adadelta(p, lr=1.0, rho=0.9, eps=1e-3)),
        ('adamax', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.9, 'epsilon': 1e-20}, lambda p: O.Adamax(p, lr=0.02, betas=(0.8, 0.9), eps=1e-20)),
    ]
    for kind, options, make in checks:
        assert_same(trajectory(kind, options)[0], torch_trajectory(make), f'{kind} {options}')
    # clipvalue: torch.nn.utils.clip_grad_value_ is Keras's clipvalue
    assert_same(trajectory('sgd', {'learningRate': 0.1, 'momentum': 0.9, 'clipValue': 0.5})[0],
                torch_trajectory(lambda p: O.SGD(p, lr=0.1, momentum=0.9), clip_value=0.5), 'sgd clipValue')
    # Nadam: torch 1.13 with its product quirk; both momentum-cache schedules
    for decay in (1.0, 0.004):
        opts = {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 1e-2}
        ours = trajectory('nadam', opts, nadam_decay=decay, torch_nadam_quirk=True)[0]
        theirs = torch_trajectory(lambda p: O.NAdam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-2, momentum_decay=decay))
        assert_same(ours, theirs, f'nadam (torch 1.13 quirk, momentum_decay {decay})')
    # Where the libraries disagree, show that the fixture's settings make the difference visible.
    print('  epsilon placement, rmsprop eps=1e-2 Keras vs torch: max |dw| = %.3g' % differs(
        trajectory('rmsprop', {'learningRate': 0.01, 'rho': 0.8, 'epsilon': 1e-2})[0],
        torch_trajectory(lambda p: O.RMSprop(p, lr=0.01, alpha=0.8, eps=1e-2)), 'rmsprop eps'))
    print('  epsilon hat, adam eps=0.1 Keras vs torch: max |dw| = %.3g' % differs(
        trajectory('adam', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 0.1})[0],
        torch_trajectory(lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=0.1)), 'adam eps'))
    print('  nadam 0.96^t (Keras 3) vs 0.96^(0.004 t): max |dw| = %.3g' % differs(
        trajectory('nadam', {'learningRate': 0.01})[0], trajectory('nadam', {'learningRate': 0.01}, nadam_decay=0.004)[0], 'nadam'))
    print('  nadam torch 1.13 quirk vs Keras 3: max |dw| = %.3g' % differs(
        trajectory('nadam', {'learningRate': 0.01})[0], trajectory('nadam', {'learningRate': 0.01}, torch_nadam_quirk=True)[0],
        'nadam quirk', 1e-6))


# ---------------------------------------------------------------------------------------------
# the cases

EXP_STAIR = {'schedule': 'exponentialDecay', 'config': {'initialLearningRate': 0.1, 'decaySteps': 2, 'decayRate': 0.5, 'staircase': True}}
EXP_SMOOTH = {'schedule': 'exponentialDecay', 'config': {'initialLearningRate': 0.02, 'decaySteps': 3, 'decayRate': 0.3}}
COSINE = {'schedule': 'cosineDecay', 'config': {'initialLearningRate': 0.0, 'decaySteps': 3, 'alpha': 0.1, 'warmupTarget': 0.1, 'warmupSteps': 2}}
PIECEWISE = {'schedule': 'piecewiseConstant', 'config': {'boundaries': [1, 3], 'values': [0.1, 0.05, 0.01]}}

CASES = [
    ('sgd', 'sgd', {'learningRate': 0.1}),
    ('sgd defaults', 'sgd', {}),
    ('sgd momentum', 'sgd', {'learningRate': 0.05, 'momentum': 0.9}),
    ('sgd nesterov', 'sgd', {'learningRate': 0.05, 'momentum': 0.9, 'nesterov': True}),
    ('rmsprop', 'rmsprop', {'learningRate': 0.01, 'rho': 0.8, 'epsilon': 1e-2}),
    ('rmsprop defaults', 'rmsprop', {'learningRate': 0.01}),
    ('rmsprop momentum', 'rmsprop', {'learningRate': 0.01, 'momentum': 0.9, 'epsilon': 1e-3}),
    ('rmsprop centered', 'rmsprop', {'learningRate': 0.01, 'centered': True, 'epsilon': 1e-2}),
    ('rmsprop centered momentum', 'rmsprop', {'learningRate': 0.01, 'centered': True, 'momentum': 0.5, 'rho': 0.8}),
    ('adam', 'adam', {'learningRate': 0.01}),
    ('adam hyperparameters', 'adam', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 0.1}),
    ('adam amsgrad', 'adam', {'learningRate': 0.02, 'beta2': 0.9, 'amsgrad': True}),
    ('adamw', 'adamw', {'learningRate': 0.01, 'weightDecay': 0.1}),
    ('adamw default decay', 'adamw', {'learningRate': 0.05}),
    ('adagrad', 'adagrad', {'learningRate': 0.1, 'initialAccumulatorValue': 0.05, 'epsilon': 1e-2}),
    ('adagrad defaults', 'adagrad', {'learningRate': 0.1}),
    ('adadelta', 'adadelta', {'learningRate': 1.0, 'rho': 0.9, 'epsilon': 1e-3}),
    ('adadelta defaults', 'adadelta', {'learningRate': 1.0}),
    ('adamax', 'adamax', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.9, 'epsilon': 1e-2}),
    ('adamax defaults', 'adamax', {'learningRate': 0.01}),
    ('nadam', 'nadam', {'learningRate': 0.01}),
    ('nadam hyperparameters', 'nadam', {'learningRate': 0.02, 'beta1': 0.8, 'beta2': 0.95, 'epsilon': 1e-2}),
    # common options
    ('sgd clipNorm', 'sgd', {'learningRate': 0.1, 'momentum': 0.5, 'clipNorm': 1.0}),
    ('sgd clipValue', 'sgd', {'learningRate': 0.1, 'momentum': 0.5, 'clipValue': 0.5}),
    ('sgd globalClipNorm', 'sgd', {'learningRate': 0.1, 'momentum': 0.5, 'globalClipNorm': 2.0}),
    ('sgd weightDecay', 'sgd', {'learningRate': 0.1, 'momentum': 0.5, 'weightDecay': 0.2}),
    ('adam clipNorm', 'adam', {'learningRate': 0.02, 'epsilon': 0.1, 'clipNorm': 1.0}),
    ('adam clipValue', 'adam', {'learningRate': 0.02, 'epsilon': 0.1, 'clipValue': 0.5}),
    ('adam globalClipNorm', 'adam', {'learningRate': 0.02, 'epsilon': 0.1, 'globalClipNorm': 2.0}),
    ('adam weightDecay', 'adam', {'learningRate': 0.02, 'weightDecay': 0.2}),
    ('rmsprop clipNorm weightDecay', 'rmsprop', {'learningRate': 0.01, 'momentum': 0.5, 'clipNorm': 1.0, 'weightDecay': 0.2}),
    # schedules (the weight decay also uses the scheduled learning rate)
    ('sgd momentum exponentialDecay staircase', 'sgd', {'learningRate': EXP_STAIR, 'momentum': 0.9}),
    ('adamw exponentialDecay', 'adamw', {'learningRate': EXP_SMOOTH, 'weightDecay': 0.5}),
    ('sgd cosineDecay warmup', 'sgd', {'learningRate': COSINE, 'weightDecay': 0.2}),
    ('rmsprop piecewiseConstant', 'rmsprop', {'learningRate': PIECEWISE, 'momentum': 0.5}),
    ('adam function schedule', 'adam', {'learningRate': {'function': 'inverseTime'}}),
    ('sgd nesterov function schedule', 'sgd', {'learningRate': {'function': 'stepDown'}, 'momentum': 0.9, 'nesterov': True}),
]


def short32(v):
    return float(repr(np.float32(v)))


def short64(v):
    return float('%.13g' % v)


def arr32(a):
    return [short32(v) for v in np.asarray(a).ravel()]


def arr64(a):
    return [short64(v) for v in np.asarray(a).ravel()]


def max_f32_excess(a, b, atol):
    """Largest |a - b| / (atol + rtol |b|) over everything: below 1 passes the test's tolerance."""
    return max(np.max(np.abs(x[k] - y[k]) / (atol + F32_RTOL * np.abs(y[k]))) for x, y in zip(a, b) for k in NAMES)


def float32_atol(kind, options, expected):
    """The smallest atol candidate every float32 rounding model meets with the margin; (atol, used fraction)."""
    sims = [trajectory(kind, options, np.float32, model=m)[0] for m in FLOAT32_MODELS.values()]
    for atol in F32_ATOLS:
        worst = max(max_f32_excess(sim, expected, atol) for sim in sims)
        if worst * F32_MARGIN < 1:
            return atol, worst
    raise AssertionError(f'{kind} {options}: float32 rounding alone exceeds every tolerance candidate ({worst:.2f})')


def clip_activity():
    """How often each clipping option bites, so the cases are known to test something."""
    for key, limit in (('clipNorm', 1.0), ('globalClipNorm', 2.0), ('clipValue', 0.5)):
        active = []
        for grads in GRADIENTS:
            if key == 'clipNorm':
                active.append(''.join('y' if np.sqrt(np.sum(grads[k] ** 2)) > limit else 'n' for k in NAMES))
            elif key == 'globalClipNorm':
                active.append('y' if math.sqrt(sum(np.sum(grads[k] ** 2) for k in NAMES)) > limit else 'n')
            else:
                active.append(str(sum(int(np.sum(np.abs(grads[k]) > limit)) for k in NAMES)))
        print(f'  {key} {limit} active per step: {" ".join(active)}')
        assert any(a not in ('n', 'nn', '0') for a in active) and any(a in ('n', 'nn', '0') or 'n' in a for a in active), key


def main():
    print('cross-checks against torch.optim:')
    cross_check()
    print('  all passed')
    clip_activity()

    # The AMSGrad case must differ from plain Adam, i.e. v must decrease somewhere.
    d = differs(trajectory('adam', {'learningRate': 0.02, 'beta2': 0.9, 'amsgrad': True})[0],
                trajectory('adam', {'learningRate': 0.02, 'beta2': 0.9})[0], 'amsgrad', 1e-4)
    print(f'  amsgrad vs adam: max |dw| = {d:.3g}')

    cases = []
    print('cases (float32 atol; the worst float32 model deviation as a fraction of the tolerance; total movement):')
    for name, kind, options in CASES:
        expected, lrs = trajectory(kind, options)
        atol, used = float32_atol(kind, options, expected)
        moved = max(np.max(np.abs(expected[-1][k] - INITIAL[k])) for k in NAMES)
        print(f'  {name:42s} atol {atol:.0e} used {used:5.3f}  moved {moved:.3g}')
        assert moved > 1e-3, f'{name}: the variables barely move ({moved})'
        case = {'name': name, 'optimizer': kind, 'options': options, 'float32Atol': atol, 'learningRates': [short64(v) for v in lrs],
                'expected': [{k: arr64(s[k]) for k in NAMES} for s in expected]}
        if kind == 'nadam':
            legacy, _ = trajectory(kind, options, nadam_decay=0.004)
            case['legacyExpected'] = [{k: arr64(s[k]) for k in NAMES} for s in legacy]
        cases.append(case)

    doc = {
        'description': 'Keras 3 optimizer updates, 6 applyGradients steps on fixed float32-exact variables and gradients; '
                       'written by scripts/make_optimizer_fixtures.py (float64 numpy, cross-checked against torch.optim).',
        'initial': {k: {'shape': list(INITIAL[k].shape), 'values': arr32(INITIAL[k])} for k in NAMES},
        'gradients': [{k: arr32(g[k]) for k in NAMES} for g in GRADIENTS],
        'cases': cases,
    }
    with open(OUT, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()
