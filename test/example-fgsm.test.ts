// examples/fgsm.ts in its short mode, run as a user runs it: the convnet trains (its loss falls),
// the FGSM attack costs accuracy at every larger ε, and the three pictures are written as PNG.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPng, runExample } from './example-runner.js';

describe('example:fgsm --quick', () => {
  it('trains the convnet, loses accuracy as ε grows, and draws its pictures', async () => {
    // One native thread: the suite runs test files side by side, and two threads that wait for
    // each other on a busy machine are many times slower than one.
    const run = await runExample('fgsm.ts', ['--threads', '1']);
    const { loss, accuracy, epsilons } = run.result as { loss: number[]; accuracy: number[]; epsilons: number[] };
    assert.ok(loss.length >= 2 && loss[loss.length - 1] < 0.7 * loss[0], `the training loss falls: ${loss.join(' → ')}`);
    assert.deepEqual(epsilons, [0, 0.05, 0.1, 0.2]);
    // Trained well above chance (10 %) on clean images, then every larger ε costs accuracy.
    assert.ok(accuracy[0] > 0.6, `clean accuracy ${accuracy[0]}`);
    for (let i = 1; i < accuracy.length; i++) {
      assert.ok(
        accuracy[i] < accuracy[i - 1],
        `accuracy at ε = ${epsilons[i]} (${accuracy[i]}) is below ε = ${epsilons[i - 1]} (${accuracy[i - 1]})`,
      );
    }
    assert.ok(accuracy[3] < accuracy[0] - 0.2, `ε = 0.2 costs more than 20 points: ${accuracy.join(', ')}`);
    for (const picture of ['fgsm-accuracy.png', 'fgsm-examples.png', 'saliency.png']) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.match(run.stdout, /ε = 0\.20: test accuracy [\d.]+ %/);
  });
});
