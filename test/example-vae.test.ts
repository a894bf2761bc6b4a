// examples/vae.ts in its short mode, run as a user runs it: the negative ELBO falls from the
// 784·ln 2 ≈ 543 of a decoder that knows nothing, the KL term is non-negative, the test loss is
// of the same order as the training loss, and the five pictures are written as PNG. One thread,
// as the suite runs files side by side.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPng, runExample } from './example-runner.js';

describe('example:vae --quick', () => {
  it('trains the encoder and decoder (the loss falls) and draws reconstructions, samples, the manifold and the latent scatter', async () => {
    const run = await runExample('vae.ts', ['--threads', '1']);
    const { stepLosses, epochs } = run.result as {
      stepLosses: number[];
      epochs: { train: number; test: number; reconstruction: number; kl: number }[];
    };
    assert.ok(stepLosses.length >= 20, `steps taken: ${stepLosses.length}`);
    assert.ok(stepLosses.every(Number.isFinite), 'every loss is finite');
    assert.ok(Math.abs(stepLosses[0] - 784 * Math.log(2)) < 30, `the first loss ${stepLosses[0]} is near 784 ln 2`);
    const lastFive = stepLosses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    assert.ok(lastFive < 0.75 * stepLosses[0], `the loss falls: ${stepLosses[0].toFixed(1)} → ${lastFive.toFixed(1)}`);
    const end = epochs[epochs.length - 1];
    assert.ok(end.kl >= 0, `KL divergence ${end.kl} is non-negative`);
    assert.ok(Math.abs(end.reconstruction + end.kl - end.test) < 1e-3 * end.test, 'the test loss is reconstruction + KL');
    assert.ok(end.test < 0.75 * stepLosses[0], `the test loss ${end.test} is below the untrained ${stepLosses[0]}`);
    for (const picture of ['reconstructions.png', 'samples.png', 'manifold.png', 'latent-scatter.png', 'loss.png']) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.match(run.stdout, /epoch 1\/1: train loss [\d.]+, test loss [\d.]+/);
  });
});
