// example:super-resolution: the bicubic baseline (Keys' kernel) on cases known by hand, and the
// example's short mode (--quick) run as a user runs it: it trains (the loss falls), reports
// finite PSNRs and writes its before/after picture.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bicubicResize, cubicTaps, keysKernel, nearestUpscale, psnrPerImage } from '../examples/lib/resize.js';
import { isPng, runExample } from './example-runner.js';

describe('bicubic interpolation (Keys, a = -0.5)', () => {
  it('the kernel: 1 at 0, 0 at the other integers, continuous at 1 and 2', () => {
    assert.equal(keysKernel(0), 1);
    for (const x of [1, -1, 2, -2, 2.5]) assert.equal(keysKernel(x), 0);
    assert.ok(Math.abs(keysKernel(1 - 1e-9) - keysKernel(1 + 1e-9)) < 1e-8);
  });

  it('2× upscaling samples at offsets 1/4 and 3/4, with the weights computed by hand', () => {
    // Output pixel 2 of 8 samples input position (2 + 0.5) / 2 - 0.5 = 0.75: taps at -1, 0, 1, 2
    // at distances 1.75, 0.75, 0.25, 1.25. With a = -0.5, W(t) = 1.5t³ - 2.5t² + 1 for t <= 1 and
    // -0.5t³ + 2.5t² - 4t + 2 for 1 < t < 2.
    const { index, weight } = cubicTaps(4, 8);
    assert.deepEqual(Array.from(index.subarray(8, 12)), [0, 0, 1, 2]);
    assert.deepEqual(Array.from(weight.subarray(8, 12)), [-0.0234375, 0.2265625, 0.8671875, -0.0703125]);
    // Every output's weights sum to 1 (a constant image stays constant).
    for (let o = 0; o < 8; o++) assert.ok(Math.abs(weight.subarray(o * 4, o * 4 + 4).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  it('reproduces a quadratic exactly away from the edges (third-order accuracy)', () => {
    const f = (y: number, x: number) => 0.3 + 0.05 * x - 0.02 * y + 0.01 * x * y + 0.004 * x * x - 0.003 * y * y;
    const n = 10;
    const image = Float32Array.from({ length: n * n }, (_, i) => f(Math.floor(i / n), i % n));
    const out = bicubicResize(image, 1, n, n, 2 * n, 2 * n);
    // Output pixel o sits at input coordinate (o + 0.5) / 2 - 0.5; taps reach 2 pixels out.
    for (let oy = 6; oy < 2 * n - 6; oy++) {
      for (let ox = 6; ox < 2 * n - 6; ox++) {
        const expected = f((oy + 0.5) / 2 - 0.5, (ox + 0.5) / 2 - 0.5);
        assert.ok(Math.abs(out[oy * 2 * n + ox] - expected) < 1e-5, `(${oy}, ${ox}): ${out[oy * 2 * n + ox]} vs ${expected}`);
      }
    }
  });

  it('nearest repeats pixels; PSNR of an image against itself with one error is as computed', () => {
    assert.deepEqual(Array.from(nearestUpscale([1, 2, 3, 4], 1, 2, 2, 2)), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // One pixel off by 0.5 in 4: MSE 0.0625, PSNR 10·log10(16) = 12.04 dB.
    const [p] = psnrPerImage([0.5, 0, 0, 0], [0, 0, 0, 0], 1);
    assert.ok(Math.abs(p - 10 * Math.log10(16)) < 1e-12);
  });
});

describe('example:super-resolution --quick', () => {
  it('trains, reports PSNRs and writes its pictures', async () => {
    const run = await runExample('super-resolution.ts');
    const r = run.result as { lossBefore: number; lossAfter: number; psnrNearest: number; psnrBicubic: number; psnrNetwork: number };
    assert.ok(r.lossAfter < r.lossBefore, `the loss fell: ${r.lossBefore} -> ${r.lossAfter}`);
    for (const p of [r.psnrNearest, r.psnrBicubic, r.psnrNetwork]) assert.ok(Number.isFinite(p) && p > 10 && p < 60, `PSNR ${p}`);
    // Bicubic beats nearest on these images; that is the baseline's known order.
    assert.ok(r.psnrBicubic > r.psnrNearest);
    for (const file of ['before-after.png', 'loss.png']) {
      assert.ok(run.files[file] > 1000, `${file} written`);
      assert.ok(isPng(join(run.out, file)));
    }
  });
});
