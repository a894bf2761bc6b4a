// examples/deepdream.ts in its short mode, run as a user runs it: the convnet trains (the loss
// falls over its two epochs), activation maximization raises every class score and the filters'
// activations, the ideal digits are taken for their classes more often than not, DeepDream raises
// its objective for every layer, and the five pictures are written as PNG. One thread, as the
// suite runs files side by side.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPng, runExample } from './example-runner.js';

describe('example:deepdream --quick', () => {
  it('trains the convnet, then draws ideal digits, filter patterns and DeepDreams whose objectives rose', async () => {
    const run = await runExample('deepdream.ts', ['--threads', '1']);
    const r = run.result as {
      losses: number[];
      testAccuracy: number;
      idealScoreStart: number;
      idealScoreEnd: number;
      idealProbabilities: number[];
      filterActivation: Record<string, [number, number]>;
      dream: Record<string, [number, number]>;
      pictures: string[];
    };
    assert.equal(r.losses.length, 2);
    assert.ok(r.losses[1] < r.losses[0], `the loss falls: ${r.losses.join(' → ')}`);
    assert.ok(r.testAccuracy > 0.6, `test accuracy ${r.testAccuracy}`);
    assert.ok(r.idealScoreEnd > r.idealScoreStart + 1, `class scores rise: ${r.idealScoreStart} → ${r.idealScoreEnd}`);
    assert.equal(r.idealProbabilities.length, 10);
    const taken = r.idealProbabilities.filter((p) => p > 0.5).length;
    assert.ok(taken >= 6, `the ideal digits are given their class with probability > 0.5 for ${taken} of 10`);
    assert.deepEqual(Object.keys(r.filterActivation), ['conv2', 'conv3']);
    for (const [layer, [start, end]] of Object.entries(r.filterActivation)) assert.ok(end > start, `${layer}: ${start} → ${end}`);
    assert.deepEqual(Object.keys(r.dream), ['conv1', 'conv2', 'conv3', 'conv2 + conv3']);
    for (const [layers, [start, end]] of Object.entries(r.dream)) assert.ok(end > start, `dream ${layers}: ${start} → ${end}`);
    for (const picture of r.pictures) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.deepEqual(r.pictures, ['ideal-digits.png', 'filter-patterns.png', 'deepdream.png', 'objectives.png', 'ideal-objective.png']);
  });
});
