// A convolutional variational autoencoder on MNIST with a 2-D latent space (Kingma & Welling 2013;
// the Keras example "Variational AutoEncoder"). The encoder maps a digit to the mean and log-variance
// of a Gaussian over two latent numbers; a code is drawn from it by the reparameterization
// z = mean + exp(logVar / 2) * eps, so gradients reach the encoder through the sampling; the decoder
// draws a digit from the code. The loss is the binary cross-entropy of the reconstruction summed
// over the 784 pixels plus the KL divergence of the encoder's Gaussian from N(0, I), trained in a
// custom loop with Adam. Two latent dimensions can be drawn on paper: the pictures show the digits
// the decoder makes across the latent plane and where the test digits land in it.
// Run: npm run example:vae  (options: --epochs N, --images N per epoch, --threads N, --quick, --out DIR, --seed N)
import { writeFileSync } from 'node:fs';
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { movingAverage, permutation } from './lib/loop.js';
import { mosaic, saveImageGrid, saveVegaLite } from './lib/pictures.js';

const args = exampleArgs('vae', { epochs: { type: 'string' }, images: { type: 'string' }, threads: { type: 'string' } });
// One thread is faster on a machine already busy with other work (the test suite runs files side by side).
if (args.values.threads) st.setNumThreads(Number(args.values.threads));
const LATENT = 2;
const BATCH = 128;
const EPOCHS = Number(args.values.epochs ?? (args.quick ? 1 : 5));
const IMAGES_PER_EPOCH = Number(args.values.images ?? (args.quick ? 3_840 : 60_000));
const TEST_IMAGES = args.quick ? 1_000 : 10_000;
st.setSeed(args.seed);

const { xTrain, xTest, yTest } = await st.data.mnist();

// Encoder: two strided convolutions, a small dense layer, then the mean and log-variance of z.
const image = st.input({ shape: [28, 28, 1] });
let e = st.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(image);
e = st.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(e);
e = st.layers.flatten().apply(e);
e = st.layers.dense({ units: 16, activation: 'relu' }).apply(e);
const zMean = st.layers.dense({ units: LATENT, name: 'z_mean' }).apply(e);
const zLogVar = st.layers.dense({ units: LATENT, name: 'z_log_var' }).apply(e);
const encoder = st.model({ name: 'encoder', inputs: image, outputs: [zMean, zLogVar] });

// Decoder: the mirror image, upsampling with transposed convolutions; it returns logits (the
// loss takes them directly, which is exact for any value; the pictures apply the sigmoid).
const code = st.input({ shape: [LATENT] });
let dd = st.layers.dense({ units: 7 * 7 * 64, activation: 'relu' }).apply(code);
dd = st.layers.reshape({ targetShape: [7, 7, 64] }).apply(dd);
dd = st.layers.conv2dTranspose({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(dd);
dd = st.layers.conv2dTranspose({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(dd);
const logits = st.layers.conv2dTranspose({ filters: 1, kernelSize: 3, padding: 'same' }).apply(dd);
const decoder = st.model({ name: 'decoder', inputs: code, outputs: logits });

if (!args.quick) {
  encoder.summary();
  decoder.summary();
}

const optimizer = st.optimizers.adam({ learningRate: 1e-3 });
const variables = [...encoder.trainableWeights, ...decoder.trainableWeights].map((w) => w.value);

/** The negative evidence lower bound of a batch, as its two terms (each a mean over the batch). */
function vaeLoss(x: st.Tensor): { total: st.Tensor; reconstruction: st.Tensor; kl: st.Tensor } {
  const [mean, logVar] = encoder.apply(x, { training: true }) as unknown as st.Tensor[];
  const eps = st.randomNormal(mean.shape);
  const z = mean.add(logVar.mul(0.5).exp().mul(eps));
  const n = x.shape[0];
  const pixels = x.reshape([n, 784]);
  const out = decoder.apply(z, { training: true }).reshape([n, 784]);
  // binaryCrossentropy averages over the pixels; times 784 it is the sum the ELBO needs.
  const reconstruction = st.losses.binaryCrossentropy(pixels, out, { fromLogits: true }).mul(784);
  // KL(N(mean, exp(logVar)) || N(0, I)) = -1/2 sum(1 + logVar - mean^2 - exp(logVar)).
  const kl = logVar.add(1).sub(mean.square()).sub(logVar.exp()).sum(1).mul(-0.5).mean();
  return { total: reconstruction.add(kl), reconstruction, kl };
}

/** The test loss on the first `count` test images (one draw of eps per image). */
async function testLoss(count: number): Promise<{ total: number; reconstruction: number; kl: number }> {
  const sums = { total: 0, reconstruction: 0, kl: 0 };
  const size = 500;
  for (let start = 0; start < count; start += size) {
    const n = Math.min(size, count - start);
    const parts = st.noGrad(() => vaeLoss(xTest.slice([start, 0, 0, 0], [n, 28, 28, 1])));
    for (const k of ['total', 'reconstruction', 'kl'] as const) sums[k] += (await parts[k].data())[0] * n;
  }
  return { total: sums.total / count, reconstruction: sums.reconstruction / count, kl: sums.kl / count };
}

const stepLosses: number[] = [];
const epochs: { epoch: number; train: number; test: number; reconstruction: number; kl: number; seconds: number }[] = [];
const steps = Math.floor(IMAGES_PER_EPOCH / BATCH);
const count = xTrain.shape[0];
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const start = performance.now();
  const order = permutation(count, args.seed * 1000 + epoch);
  let sum = 0;
  for (let s = 0; s < steps; s++) {
    const batch = st.gather(xTrain, st.tensor(order.subarray(s * BATCH, (s + 1) * BATCH), [BATCH], 'int32'), 0);
    const { value, grads } = st.valueAndGrad(() => vaeLoss(batch).total)(...variables);
    optimizer.applyGradients(variables.map((variable, i) => ({ variable, grad: grads[i] })));
    const loss = (await value.data())[0];
    stepLosses.push(loss);
    sum += loss;
  }
  const seconds = (performance.now() - start) / 1000;
  const test = await testLoss(Math.min(TEST_IMAGES, 2_000));
  epochs.push({ epoch, train: sum / steps, test: test.total, reconstruction: test.reconstruction, kl: test.kl, seconds });
  console.log(
    `epoch ${epoch}/${EPOCHS}: train loss ${(sum / steps).toFixed(1)}, test loss ${test.total.toFixed(1)} (reconstruction ${test.reconstruction.toFixed(1)} + KL ${test.kl.toFixed(2)}), ${seconds.toFixed(1)} s`,
  );
}

const finalTest = await testLoss(TEST_IMAGES);
console.log(
  `test loss on ${TEST_IMAGES} digits: ${finalTest.total.toFixed(1)} (reconstruction ${finalTest.reconstruction.toFixed(1)} + KL ${finalTest.kl.toFixed(2)})`,
);

/** The decoder's digits for latent codes [n, 2], in [0, 1]. */
const decode = (z: st.Tensor) => st.noGrad(() => st.sigmoid(decoder.apply(z)));

// Reconstructions: 16 test digits over what the decoder makes of their mean codes.
const originals = xTest.slice([0, 0, 0, 0], [16, 28, 28, 1]);
const [means16] = st.noGrad(() => encoder.apply(originals) as unknown as st.Tensor[]);
await saveImageGrid(args.file('reconstructions.png'), st.concat([originals, decode(means16)], 0), {
  columns: 16,
  scale: 2,
  title: 'Test digits (top) and their reconstructions (bottom)',
});

// Samples: codes drawn from the prior N(0, I).
await saveImageGrid(args.file('samples.png'), [await mosaic(decode(st.randomNormal([64, LATENT], { seed: args.seed + 1 })), { columns: 8 })], {
  scale: 2,
  title: 'Digits decoded from z ~ N(0, I)',
});

// Where the test digits land: the encoder's mean for each, colored by its class.
const meansTest: number[][] = [];
for (let start = 0; start < TEST_IMAGES; start += 1000) {
  const n = Math.min(1000, TEST_IMAGES - start);
  const [m] = st.noGrad(() => encoder.apply(xTest.slice([start, 0, 0, 0], [n, 28, 28, 1])) as unknown as st.Tensor[]);
  meansTest.push(...((await m.array()) as number[][]));
}
const labels = await yTest.slice([0], [TEST_IMAGES]).data();
await saveVegaLite(args.file('latent-scatter.png'), {
  width: 520,
  height: 520,
  title: `Latent means of ${TEST_IMAGES.toLocaleString('en-US')} test digits`,
  data: { values: meansTest.map(([z1, z2], i) => ({ z1, z2, digit: String(labels[i]) })) },
  mark: { type: 'circle', size: 9, opacity: 0.6 },
  encoding: {
    x: { field: 'z1', type: 'quantitative', title: 'z1', scale: { zero: false } },
    y: { field: 'z2', type: 'quantitative', title: 'z2', scale: { zero: false } },
    color: { field: 'digit', type: 'nominal', title: 'digit', scale: { scheme: 'category10' } },
  },
});

// The manifold: the decoder's digit at each point of a grid over the part of the latent plane
// where the test digits' codes lie (from the 1st to the 99th percentile of each coordinate; a
// fixed square around the origin would show mostly one class while the codes are not yet spread
// as N(0, I), which takes Keras's example its 30 epochs).
const SIDE = 20;
const percentile = (values: number[], p: number) => values.slice().sort((a, b) => a - b)[Math.floor(p * (values.length - 1))];
const [z1Range, z2Range] = [0, 1].map((k) => {
  const column = meansTest.map((m) => m[k]);
  return [percentile(column, 0.01), percentile(column, 0.99)];
});
const along = ([lo, hi]: number[], i: number) => lo + ((hi - lo) * i) / (SIDE - 1);
// Rows run from the top (largest z2) down, as on the scatter plot.
const grid = Array.from({ length: SIDE }, (_, row) =>
  Array.from({ length: SIDE }, (_, col) => [along(z1Range, col), along(z2Range, SIDE - 1 - row)]),
).flat();
const fmt = ([lo, hi]: number[]) => `${lo.toFixed(1)} to ${hi.toFixed(1)}`;
await saveImageGrid(args.file('manifold.png'), [await mosaic(decode(st.tensor(grid)), { columns: SIDE })], {
  scale: 1,
  title: 'The latent plane, decoded',
  subtitle: `z1 ${fmt(z1Range)} left to right, z2 ${fmt(z2Range)} bottom to top`,
});

// The loss per step (moving average) and the test loss after each epoch, as points on the same axes.
await saveVegaLite(args.file('loss.png'), {
  width: 480,
  height: 280,
  title: 'VAE loss: reconstruction (summed BCE) + KL',
  layer: [
    {
      data: { values: movingAverage(stepLosses).map(([step, loss]) => ({ step, loss, series: 'train (moving average)' })) },
      mark: { type: 'line', strokeWidth: 2 },
    },
    {
      data: { values: epochs.map((e) => ({ step: e.epoch * steps, loss: e.test, series: 'test, after each epoch' })) },
      mark: { type: 'point', filled: true, size: 60 },
    },
  ],
  encoding: {
    x: { field: 'step', type: 'quantitative', title: 'step' },
    y: { field: 'loss', type: 'quantitative', title: 'loss per digit', scale: { zero: false } },
    color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
  },
});

// The curve step by step goes to its own file; the summary keeps one number per epoch.
writeFileSync(args.file('losses.json'), `${JSON.stringify(stepLosses)}\n`);
await reportResult(args, {
  epochs,
  test: { images: TEST_IMAGES, ...finalTest },
  stepsPerEpoch: steps,
  batchSize: BATCH,
  backend: st.getBackend().name,
  threads: st.getNumThreads(),
  secondsPerEpoch: epochs.reduce((a, e) => a + e.seconds, 0) / epochs.length,
  firstLoss: stepLosses[0],
  // The mean of the last 10 steps' losses.
  lastLoss: stepLosses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, stepLosses.length),
  finite: stepLosses.every(Number.isFinite),
});
