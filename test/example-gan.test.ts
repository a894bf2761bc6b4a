// examples/gan.ts in its short mode, run as a user runs it. A GAN's losses do not fall the way a
// classifier's do (each network's loss is the other's gain), so the test checks what a short run
// can show: both losses finite, the discriminator learning to tell real from fake (its loss below
// the ln 4 of guessing), the generator's loss moving in answer, and the generator's digits getting
// closer to real ones by the pixel distance of Note [Pixel distance] in the example (all pixels'
// values, sorted, against real digits': an untrained generator's gray pictures are far from
// MNIST's black backgrounds and white strokes). One thread, as the suite runs files side by side.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPng, runExample } from './example-runner.js';

describe('example:gan --quick', () => {
  it('trains the discriminator and generator against each other and draws the epochs and the losses', async () => {
    const run = await runExample('gan.ts', ['--threads', '1']);
    const { lossD, lossG, firstLossD, finite, stepsPerEpoch, pixelDistance, epochs, secondsPerEpoch } = run.result as {
      lossD: number[];
      lossG: number[];
      firstLossD: number;
      finite: boolean;
      stepsPerEpoch: number;
      pixelDistance: number[];
      epochs: number;
      secondsPerEpoch: number;
    };
    assert.ok(epochs >= 2 && stepsPerEpoch * epochs >= 100, `steps taken: ${epochs} x ${stepsPerEpoch}`);
    assert.equal(lossD.length, epochs);
    assert.ok(finite, 'every loss is finite');
    // D's loss starts near chance (two cross-entropies of ln 2 each) and ends below it; G's moves in answer.
    assert.ok(Math.abs(firstLossD - Math.log(4)) < 0.1, `D's first loss ${firstLossD} is near ln 4`);
    assert.ok(lossD[epochs - 1] < Math.log(4) - 0.3, `the discriminator learns: ${lossD.join(' → ')} (per epoch)`);
    assert.ok(Math.abs(lossG[epochs - 1] - lossG[0]) > 0.1, `the generator's loss moves: ${lossG.join(' → ')} (per epoch)`);
    assert.equal(pixelDistance.length, epochs + 1);
    assert.ok(
      pixelDistance[epochs] < 0.7 * pixelDistance[0],
      `the generated pixels move toward real ones: ${pixelDistance.map((d) => d.toFixed(3)).join(' → ')}`,
    );
    assert.ok(secondsPerEpoch > 0);
    assert.ok(run.files['losses.json'] > 100, 'the losses of every step are written to losses.json');
    const pictures = ['losses.png', 'epochs.png', ...Array.from({ length: epochs }, (_, i) => `epoch-${String(i + 1).padStart(2, '0')}.png`)];
    for (const picture of pictures) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.match(run.stdout, new RegExp(`epoch ${epochs}/${epochs}: D loss [\\d.]+, G loss [\\d.]+`));
  });
});
