// examples/fashion-resnet.ts in its short mode, run as a user runs it: both networks train on
// Fashion-MNIST (the loss falls), the ResNet has its residual blocks and batch normalization and
// fewer parameters than the book's convnet, both test accuracies are far above chance, and the
// curves and the augmentation picture are written as PNG. One thread, as the suite runs files
// side by side.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isPng, runExample } from './example-runner.js';

interface Outcome {
  params: number;
  loss: number[];
  testAccuracy: number[];
}

describe('example:fashion-resnet --quick', () => {
  it('trains the small ResNet with augmentation and the book convnet, and draws their curves', async () => {
    const run = await runExample('fashion-resnet.ts', ['--threads', '1']);
    const r = run.result as { epochs: number; resnet: Outcome; convnet: Outcome; pictures: string[] };
    assert.equal(r.epochs, 2);
    for (const [name, o] of Object.entries({ resnet: r.resnet, convnet: r.convnet })) {
      assert.equal(o.loss.length, 2);
      assert.ok(o.loss[1] < o.loss[0], `${name}: the loss falls ${o.loss.join(' → ')}`);
      assert.equal(o.testAccuracy.length, 2);
      assert.ok(o.testAccuracy[1] > 0.3, `${name}: test accuracy ${o.testAccuracy[1]} (chance is 0.1)`);
    }
    assert.equal(r.convnet.params, 104_202);
    assert.ok(r.resnet.params < r.convnet.params, `the ResNet has ${r.resnet.params} parameters`);
    assert.match(run.stdout, /small_resnet: \d+ parameters/);
    for (const picture of r.pictures) {
      assert.ok(run.files[picture] > 5_000, `${picture} was written (${run.files[picture]} bytes)`);
      assert.ok(isPng(join(run.out, picture)), `${picture} is a PNG`);
    }
    assert.deepEqual(r.pictures, ['curves.png', 'augmentation.png']);
  });
});
