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
    const { stepsPerEpoch, epochs, firstLoss, lastLoss, finite } = run.result as {
      stepsPerEpoch: number;
      epochs: { train: number; test: number; reconstruction: number; kl: number }[];
      firstLoss: number;
      lastLoss: number;
      finite: boolean;
    };
    assert.ok(stepsPerEpoch >= 20, `steps taken: ${stepsPerEpoch}`);
    assert.ok(finite, 'every loss is finite');
    assert.ok(Math.abs(firstLoss - 784 * Math.log(2)) < 30, `the first loss ${firstLoss} is near 784 ln 2`);
    assert.ok(lastLoss < 0.75 * firstLoss, `the loss falls: ${firstLoss.toFixed(1)} → ${lastLoss.toFixed(1)} (last 10 steps)`);
    const end = epochs[epochs.length - 1];
    assert.ok(end.kl >= 0, `KL divergence ${end.kl} is non-negative`);
    assert.ok(Math.abs(end.reconstruction + end.kl - end.test) < 1e-3 * end.test, 'the test loss is reconstruction + KL');
    assert.ok(end.test < 0.75 * firstLoss, `the test loss ${end.test} is below the untrained ${firstLoss}`);
    assert.ok(run.files['losses.json'] > 100, 'the loss of every step is written to losses.json');
    for (const picture of ['reconstructions.png', 'samples.png', 'manifold.png', 'latent-scatter.png', 'loss.png']) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.match(run.stdout, /epoch 1\/1: train loss [\d.]+, test loss [\d.]+/);
  });
});
