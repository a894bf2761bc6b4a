// A DCGAN on MNIST (Radford et al. 2015; the PyTorch DCGAN tutorial and Keras's "GAN overriding
// train_step" example): a generator turns 64 random numbers into a 28x28 digit through transposed
// convolutions, a discriminator learns to tell its digits from real ones, and each trains against
// the other in a custom loop with Adam (learning rate 2e-4, beta1 0.5). After every epoch the
// generator draws the same 64 noise vectors, so the pictures show one set of digits taking shape.
// Run: npm run example:gan  (options: --epochs N, --images N per epoch, --threads N, --quick, --out DIR, --seed N)
import { writeFileSync } from 'node:fs';
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { meanOfLast, movingAverage, permutation } from './lib/loop.js';
import { mosaic, saveImageGrid, saveLineChart, type GridImage } from './lib/pictures.js';

const args = exampleArgs('gan', { epochs: { type: 'string' }, images: { type: 'string' }, threads: { type: 'string' }, batch: { type: 'string' } });
// One thread is faster on a machine already busy with other work (the test suite runs files side by side).
if (args.values.threads) st.setNumThreads(Number(args.values.threads));
const LATENT = 64;
// Small batches: for a given amount of computing, more updates of a GAN give better digits sooner.
const BATCH = Number(args.values.batch ?? (args.quick ? 16 : 32));
const EPOCHS = Number(args.values.epochs ?? (args.quick ? 2 : 5));
const IMAGES_PER_EPOCH = Number(args.values.images ?? (args.quick ? 1_280 : 19_200));
st.setSeed(args.seed);

const { xTrain } = await st.data.mnist();
// The generator ends in tanh, so real images are scaled to the same [-1, 1].
const real = xTrain.mul(2).sub(1);

// Generator: dense -> 7x7x128 -> (transposed conv, batch norm, ReLU) 14x14x64 -> tanh 28x28x1.
const noise = st.input({ shape: [LATENT] });
let g = st.layers.dense({ units: 7 * 7 * 128, useBias: false }).apply(noise);
g = st.layers.batchNormalization().apply(g);
g = st.layers.reLU().apply(g);
g = st.layers.reshape({ targetShape: [7, 7, 128] }).apply(g);
g = st.layers.conv2dTranspose({ filters: 64, kernelSize: 4, strides: 2, padding: 'same', useBias: false }).apply(g);
g = st.layers.batchNormalization().apply(g);
g = st.layers.reLU().apply(g);
g = st.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }).apply(g);
const generator = st.model({ name: 'generator', inputs: noise, outputs: g });

// Discriminator: two strided convolutions with leaky ReLU, dropout, then one logit (real vs fake).
// (Dropout after the first convolution as well left it near chance, ln 4, for the whole run.)
const image = st.input({ shape: [28, 28, 1] });
let d = st.layers.conv2d({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', activation: 'leakyRelu' }).apply(image);
d = st.layers.conv2d({ filters: 64, kernelSize: 4, strides: 2, padding: 'same', activation: 'leakyRelu' }).apply(d);
d = st.layers.dropout({ rate: 0.3 }).apply(d);
d = st.layers.flatten().apply(d);
const logit = st.layers.dense({ units: 1 }).apply(d);
const discriminator = st.model({ name: 'discriminator', inputs: image, outputs: logit });

if (!args.quick) {
  generator.summary();
  discriminator.summary();
}

const adam = () => st.optimizers.adam({ learningRate: 2e-4, beta1: 0.5 });
const optD = adam();
const optG = adam();
const gVars = generator.trainableWeights.map((w) => w.value);
const dVars = discriminator.trainableWeights.map((w) => w.value);
const bce = (labels: number, logits: st.Tensor) => st.losses.binaryCrossentropy(st.full(logits.shape, labels), logits, { fromLogits: true });

/** The gradient of `loss()` with respect to `vars`, applied by `optimizer`; returns the loss. */
function step(optimizer: st.Optimizer, vars: st.Tensor[], loss: () => st.Tensor): st.Tensor {
  const { value, grads } = st.valueAndGrad(loss)(...vars);
  optimizer.applyGradients(vars.map((variable, i) => ({ variable, grad: grads[i] })));
  return value;
}

/** One training step on a batch of real images (the PyTorch tutorial's order: D, then G on the same fakes). */
function trainStep(realBatch: st.Tensor): { lossD: st.Tensor; lossG: st.Tensor; fooled: st.Tensor } {
  const z = st.randomNormal([realBatch.shape[0], LATENT]);
  const fake = generator.apply(z, { training: true });
  // The discriminator: real images labeled 1, generated ones 0; the generator is held still.
  const lossD = step(optD, dVars, () =>
    bce(1, discriminator.apply(realBatch, { training: true })).add(bce(0, discriminator.apply(st.stopGradient(fake), { training: true }))),
  );
  // The generator: make the (just updated) discriminator call its digits real (the
  // non-saturating loss of Goodfellow et al.), gradients flowing through the discriminator.
  let logits: st.Tensor | undefined;
  const lossG = step(optG, gVars, () => {
    logits = discriminator.apply(fake, { training: true });
    return bce(1, logits);
  });
  const fooled = st.noGrad(() => logits!.greater(0).cast('float32').mean());
  return { lossD, lossG, fooled };
}

// The fixed noise the pictures are drawn from.
const fixedNoise = st.randomNormal([64, LATENT], { seed: args.seed + 1 });
/** Generated digits for the fixed noise, in [0, 1]. */
const draw = () => st.noGrad(() => generator.apply(fixedNoise).add(1).div(2));

// Note [Pixel distance]
// A number that says the generator improves, cheap enough for every epoch and for the few dozen
// steps of --quick: the 1-D Wasserstein distance between the values of all pixels of the 64
// generated digits and of 64 real ones (the mean absolute difference of the two sorted lists).
// MNIST is mostly black background with a few white strokes; an untrained generator paints
// everything mid-gray (tanh of small numbers), so the distance starts near 0.4 and falls as the
// generator learns black backgrounds and saturated strokes, long before digits are recognizable.
// It is necessary, not sufficient: a generator painting shuffled real pixels would score 0; the
// pictures show the rest.
const realPixels = Float32Array.from(await xTrain.slice([0, 0, 0, 0], [64, 28, 28, 1]).data()).sort();
async function pixelDistance(samples: st.Tensor): Promise<number> {
  const fake = Float32Array.from(await samples.data()).sort();
  let sum = 0;
  for (let i = 0; i < fake.length; i++) sum += Math.abs(fake[i] - realPixels[i]);
  return sum / fake.length;
}

const startSamples = draw();
const distances = [await pixelDistance(startSamples)];
const lossD: number[] = [];
const lossG: number[] = [];
const fooledPerEpoch: number[] = [];
const epochSeconds: number[] = [];
const epochMosaics: GridImage[] = [];
const steps = Math.floor(IMAGES_PER_EPOCH / BATCH);
const count = xTrain.shape[0];

for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const start = performance.now();
  let fooledSum = 0;
  const order = permutation(count, args.seed * 1000 + epoch);
  for (let s = 0; s < steps; s++) {
    const indices = st.tensor(order.subarray(s * BATCH, (s + 1) * BATCH), [BATCH], 'int32');
    const out = trainStep(st.gather(real, indices, 0));
    // One read per step keeps the curves; the losses are scalars.
    const [dl, gl, fo] = await Promise.all([out.lossD.data(), out.lossG.data(), out.fooled.data()]);
    lossD.push(dl[0]);
    lossG.push(gl[0]);
    fooledSum += fo[0];
  }
  epochSeconds.push((performance.now() - start) / 1000);
  fooledPerEpoch.push(fooledSum / steps);
  const samples = draw();
  distances.push(await pixelDistance(samples));
  await saveImageGrid(args.file(`epoch-${String(epoch).padStart(2, '0')}.png`), samples, { columns: 8, scale: 2, title: `DCGAN, epoch ${epoch}` });
  epochMosaics.push({ ...(await mosaic(samples, { columns: 8, count: 32 })), caption: `epoch ${epoch}` });
  console.log(
    `epoch ${epoch}/${EPOCHS}: D loss ${meanOfLast(lossD, steps).toFixed(3)}, G loss ${meanOfLast(lossG, steps).toFixed(3)}, D fooled on ${(fooledPerEpoch.at(-1)! * 100).toFixed(1)} % of fakes, pixel distance ${distances.at(-1)!.toFixed(3)}, ${epochSeconds.at(-1)!.toFixed(1)} s`,
  );
}

await saveImageGrid(args.file('epochs.png'), epochMosaics, { columns: Math.min(EPOCHS, 5), scale: 1, title: 'The same noise after each epoch' });
const window = Math.max(1, Math.min(25, Math.round(lossD.length / 10)));
await saveLineChart(
  args.file('losses.png'),
  { discriminator: movingAverage(lossD, window), generator: movingAverage(lossG, window) },
  { title: `DCGAN losses (moving average of ${window} steps)`, xTitle: 'step', yTitle: 'binary cross-entropy' },
);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const perEpoch = (xs: number[]) => Array.from({ length: EPOCHS }, (_, e) => mean(xs.slice(e * steps, (e + 1) * steps)));
// The curves step by step go to their own file; the summary keeps one number per epoch.
writeFileSync(args.file('losses.json'), `${JSON.stringify({ discriminator: lossD, generator: lossG })}\n`);
await reportResult(args, {
  epochs: EPOCHS,
  stepsPerEpoch: steps,
  batchSize: BATCH,
  backend: st.getBackend().name,
  threads: st.getNumThreads(),
  secondsPerEpoch: mean(epochSeconds),
  firstLossD: lossD[0],
  firstLossG: lossG[0],
  lossD: perEpoch(lossD),
  lossG: perEpoch(lossG),
  finite: [...lossD, ...lossG].every(Number.isFinite),
  fooledPerEpoch,
  // Note [Pixel distance]: before training, then after each epoch.
  pixelDistance: distances,
});
