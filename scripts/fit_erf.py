#!/usr/bin/env python3
"""Fits the polynomials of st.erf and st.erfc (src/ops/special.ts, Note [erf in float64]).

Run as `/usr/bin/python3 scripts/fit_erf.py`; it prints the coefficients and the worst relative
errors measured against mpmath at 40 digits. Needs numpy and mpmath (no network, no PyTorch).

  |x| < 1/2:  erf(x) = x * P(x^2),                      P of degree 7, fitted on x^2 in [0, 1/4]
  x >= 1/2:   erfc(x) = exp(-x^2) * 3 / (x + 3) * Q(u),  u = 1 - 7 / (x + 3) in [-1, 1)

Q is exp(x^2) erfc(x) (1 + x/3), which tends to 3 / (x sqrt(pi)) * (x + 3) / 3 -> 1/sqrt(pi) as
x grows, so one polynomial in u covers [1/2, infinity). Both are least-squares fits on Chebyshev
nodes (close to minimax), converted to monomials for Horner's rule.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
NODES = 400
node = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)  # Chebyshev nodes on [-1, 1]


def small_fit(degree=7):
    s = 0.125 + 0.125 * node
    vals = [float(mp.erf(mp.sqrt(v)) / mp.sqrt(v)) for v in map(mp.mpf, s)]
    cheb = np.polynomial.Chebyshev.fit(s, vals, degree, domain=[0, 0.25])
    return cheb.convert(kind=np.polynomial.Polynomial).coef


def large_fit(degree=18):
    vals = []
    for u in map(mp.mpf, node):
        x = 7 / (1 - u) - 3
        vals.append(float(mp.erfc(x) * mp.exp(x * x) * (1 + x / 3)))
    cheb = np.polynomial.Chebyshev.fit(node, vals, degree, domain=[-1, 1])
    return cheb.convert(kind=np.polynomial.Polynomial).coef


def horner(coef, z):
    p = 0.0
    for c in coef[::-1]:
        p = p * z + c
    return p


def main():
    p, q = small_fit(), large_fit()
    worst_small = max(abs(x * horner(p, x * x) / float(mp.erf(mp.mpf(float(x)))) - 1) for x in np.linspace(1e-6, 0.5, 2001))
    worst_large = 0.0
    for x in np.concatenate([np.linspace(0.5, 6, 2000), np.geomspace(6, 1e6, 400)]):
        approx = horner(q, 1 - 7 / (x + 3)) * 3 / (x + 3)
        m = mp.mpf(float(x))  # x * x in float64 would round the exponent
        worst_large = max(worst_large, abs(approx / float(mp.erfc(m) * mp.exp(m * m)) - 1))
    print('// erf(x) / x on x^2 in [0, 1/4]: worst relative error %.2g' % worst_small)
    print('const ERF_SMALL = [%s];' % ', '.join(repr(float(c)) for c in p))
    print('// exp(x^2) erfc(x) (1 + x/3) on u = 1 - 7/(x + 3): worst relative error of erfc %.2g' % worst_large)
    print('const ERFC_LARGE = [%s];' % ', '.join(repr(float(c)) for c in q))


if __name__ == '__main__':
    main()
