// Adversarial examples with the fast gradient sign method (Goodfellow, Shlens and Szegedy,
// "Explaining and Harnessing Adversarial Examples", 2015): train the MNIST convnet of Deep
// Learning with Python (chapter 8), then move every test image by ε in the direction that raises
// its loss fastest, x' = clip(x + ε·sign(∇x loss), 0, 1), and measure the accuracy left for
// ε = 0, 0.05, 0.1, 0.2. Pictures: accuracy against ε, original / perturbation / adversarial
// digits with the model's predictions, and saliency maps (which pixels move the class score).
// Run: npm run example:fgsm  (options: --epochs N, --train N images, --test N images, --threads N, --quick, --out DIR, --seed N)
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { saveImageGrid, saveLineChart, type GridImage } from './lib/pictures.js';

const args = exampleArgs('fgsm', { epochs: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, threads: { type: 'string' } });
// On a machine busy with other work, one native thread is faster than two that wait for each other.
if (args.values.threads) st.setNumThreads(Number(args.values.threads));
const EPOCHS = Number(args.values.epochs ?? (args.quick ? 3 : 2));
const TRAIN = Number(args.values.train ?? (args.quick ? 1000 : 60_000));
const TEST = Number(args.values.test ?? (args.quick ? 500 : 10_000));
const EPSILONS = [0, 0.05, 0.1, 0.2];
const PICTURE_EPSILONS = [0.1, 0.2]; // the adversarial rows of the picture
const SHOWN = 10; // digits in the pictures
const BATCH = 500; // images per attack step
st.setSeed(args.seed);
const started = performance.now();

const mnist = await st.data.mnist();
const xTrain = mnist.xTrain.slice([0], [TRAIN]);
const yTrain = mnist.yTrain.slice([0], [TRAIN]);
const xTest = mnist.xTest.slice([0], [TEST]);
const yTest = mnist.yTest.slice([0], [TEST]);

// The book's convnet, with its softmax as a layer of its own: `model` (probabilities) is trained
// and attacked, and `scores` (the same layers up to the class scores) gives the attack its loss
// from logits. Cross-entropy computed from probabilities clips them to [1e-7, 1 - 1e-7], so for a
// digit the model is sure of the loss is flat and its gradient exactly zero: sign(0) moves no
// pixel and the attack would miss exactly the confident digits (gradient masking by saturation).
const inputs = st.input({ shape: [28, 28, 1] });
let h = st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(inputs);
h = st.layers.maxPooling2d({ poolSize: 2 }).apply(h);
h = st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }).apply(h);
h = st.layers.maxPooling2d({ poolSize: 2 }).apply(h);
h = st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }).apply(h);
h = st.layers.flatten().apply(h);
const logits = st.layers.dense({ units: 10 }).apply(h);
const model = st.model({ name: 'convnet', inputs, outputs: st.layers.activation({ activation: 'softmax' }).apply(logits) });
const scores = st.model({ name: 'convnet_scores', inputs, outputs: logits });
if (!args.quick) model.summary();

model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const trainStart = performance.now();
const history = await model.fit(xTrain, yTrain, { epochs: EPOCHS, batchSize: 64, verbose: args.quick ? 0 : 1 });
const trainSeconds = (performance.now() - trainStart) / 1000;
const losses = history.history.loss;
console.log(
  `trained ${EPOCHS} epochs on ${TRAIN} images in ${trainSeconds.toFixed(1)} s; loss per epoch ${losses.map((l) => l.toFixed(4)).join(' → ')}`,
);

/** The sign of ∇x of the cross-entropy, for images x and their labels y (the attack's direction). */
function attackDirection(x: st.Tensor, y: st.Tensor): st.Tensor {
  const grad = st.vis.inputGradient(scores, x, (out) => st.losses.sparseCategoricalCrossentropy(y, out, { fromLogits: true }));
  return st.sign(grad);
}

/** The images moved by ε along `direction`, kept in the valid pixel range [0, 1]. */
const perturb = (x: st.Tensor, direction: st.Tensor, epsilon: number) => st.clip(st.add(x, st.mul(direction, epsilon)), 0, 1);

/** Predicted classes of a batch of images. */
const predictions = (x: st.Tensor) => st.argMax(model.predict(x, { batchSize: BATCH }) as st.Tensor, 1);

// The gradient does not depend on ε, so each batch's direction is computed once and every ε
// applied to it. An attack sees the true label (the white-box setting of Goodfellow et al.).
const attackStart = performance.now();
const correct = EPSILONS.map(() => 0);
let shownDirection: st.Tensor | undefined;
for (let begin = 0; begin < TEST; begin += BATCH) {
  const size = Math.min(BATCH, TEST - begin);
  const x = xTest.slice([begin], [size]);
  const y = yTest.slice([begin], [size]);
  const direction = attackDirection(x, y);
  if (begin === 0) shownDirection = direction.slice([0], [SHOWN]);
  for (const [i, epsilon] of EPSILONS.entries()) {
    const hits = st.sum(st.cast(st.equal(predictions(perturb(x, direction, epsilon)), y), 'int32'));
    correct[i] += (await hits.data())[0];
  }
}
const attackSeconds = (performance.now() - attackStart) / 1000;
const accuracy = correct.map((c) => c / TEST);
for (const [i, epsilon] of EPSILONS.entries()) console.log(`ε = ${epsilon.toFixed(2)}: test accuracy ${(accuracy[i] * 100).toFixed(2)} %`);

await saveLineChart(
  args.file('fgsm-accuracy.png'),
  { 'test accuracy under FGSM': EPSILONS.map((e, i) => [e, accuracy[i]] as [number, number]) },
  { title: `MNIST convnet under FGSM (${TEST} test images)`, xTitle: 'ε (pixel range 0..1)', yTitle: 'accuracy' },
);

// Original / perturbation / adversarial for the first test digits, with the model's predictions.
const shown = xTest.slice([0], [SHOWN]);
const shownLabels = Array.from(await yTest.slice([0], [SHOWN]).data());
const direction = shownDirection as st.Tensor;
/** "7 (98 %)": the predicted class and its probability, crossed when it is not the label. */
const predictionCaptions = async (x: st.Tensor) => {
  const probs = Array.from(await (model.predict(x) as st.Tensor).data());
  return shownLabels.map((label, i) => {
    const row = probs.slice(i * 10, (i + 1) * 10);
    const best = row.indexOf(Math.max(...row));
    return `${best} (${Math.round(row[best] * 100)} %)${best === label ? '' : ' ✗'}`;
  });
};
const tiles = async (batch: st.Tensor, captions: string[]): Promise<GridImage[]> => {
  const values = Float32Array.from(await batch.data());
  return captions.map((caption, i) => ({ pixels: values.subarray(i * 784, (i + 1) * 784), height: 28, width: 28, caption }));
};
await saveImageGrid(
  args.file('fgsm-examples.png'),
  [
    ...(await tiles(shown, await predictionCaptions(shown))),
    // The perturbation's direction sign(∇x loss) on mid grey: white pixels are raised by ε, black
    // ones lowered; grey ones have a zero gradient (the last rows and columns, which the valid
    // convolutions and the second pooling never read).
    ...(await tiles(
      st.add(st.mul(direction, 0.5), 0.5),
      shownLabels.map(() => 'sign(∇x loss)'),
    )),
    ...(
      await Promise.all(
        PICTURE_EPSILONS.map(async (epsilon) => {
          const adversarial = perturb(shown, direction, epsilon);
          return tiles(
            adversarial,
            (await predictionCaptions(adversarial)).map((c) => `ε ${epsilon}: ${c}`),
          );
        }),
      )
    ).flat(),
  ],
  {
    columns: SHOWN,
    title: `FGSM: original, perturbation direction, adversarial at ε = ${PICTURE_EPSILONS.join(' and ')}`,
    subtitle: 'captions: the model’s prediction and its probability, ✗ where it is wrong',
  },
);

// Saliency maps of the true class's score (before the softmax; st.vis.saliency cuts it off): the
// plain gradient, and SmoothGrad's mean over 25 noisy copies (Smilkov et al. 2017), which keeps
// what the noise does not wash out. A few pixels dwarf the rest, so each map is shown divided by
// its 99th percentile (and clipped) rather than stretched to its maximum.
const plainMaps = st.vis.saliency(model, shown, shownLabels);
const smoothMaps = st.vis.saliency(model, shown, shownLabels, { samples: 25, noise: 0.15, seed: args.seed });
async function toPercentile(maps: st.Tensor): Promise<st.Tensor> {
  const values = Float32Array.from(await maps.data());
  const size = 28 * 28;
  for (let i = 0; i < SHOWN; i++) {
    const map = values.subarray(i * size, (i + 1) * size);
    const top = Float32Array.from(map).sort()[Math.floor(0.99 * (size - 1))] || 1;
    for (let j = 0; j < size; j++) map[j] = Math.min(map[j] / top, 1);
  }
  return st.tensor(values, [SHOWN, 28, 28, 1]);
}
await saveImageGrid(
  args.file('saliency.png'),
  [
    ...(await tiles(
      shown,
      shownLabels.map((l) => `digit ${l}`),
    )),
    ...(await tiles(
      await toPercentile(plainMaps),
      shownLabels.map((l) => `gradient, class ${l}`),
    )),
    ...(await tiles(
      await toPercentile(smoothMaps),
      shownLabels.map((l) => `SmoothGrad, class ${l}`),
    )),
  ],
  {
    columns: SHOWN,
    title: 'Saliency: |∂ class score / ∂ pixel|, largest over channels',
    subtitle: 'middle: the gradient; bottom: its mean over 25 copies with noise σ = 0.15 (SmoothGrad)',
  },
);

const seconds = (performance.now() - started) / 1000;
await reportResult(args, {
  backend: st.getBackend().name,
  threads: st.getNumThreads(),
  epochs: EPOCHS,
  trainImages: TRAIN,
  testImages: TEST,
  loss: losses,
  epsilons: EPSILONS,
  accuracy,
  trainSeconds: Number(trainSeconds.toFixed(1)),
  attackSeconds: Number(attackSeconds.toFixed(1)),
  seconds: Number(seconds.toFixed(1)),
  pictures: ['fgsm-accuracy.png', 'fgsm-examples.png', 'saliency.png'],
});
