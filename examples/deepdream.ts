// Looking inside a trained convnet through gradients with respect to its input: train the MNIST
// convnet of Deep Learning with Python (chapter 8) briefly, then
//   - activation maximization (st.vis.activationMaximization): for each class, the image the
//     network scores highest as that class, grown by gradient ascent from faint noise ("ideal
//     digits"), and the patterns that excite single filters of each convolution;
//   - DeepDream (st.vis.deepDream): a test digit changed so that a layer's activations grow,
//     which paints what that layer detects into the digit, over three octaves.
// The pictures show what the network responds to, not what digits look like: a class's ideal
// image is whatever raises its score fastest, strokes and the absence of other classes' strokes.
// Run: npm run example:deepdream  (options: --epochs N, --threads N, --train N images, --steps N, --quick, --out DIR, --seed N)
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { gridImages, saveImageGrid, saveLineChart, type GridImage } from './lib/pictures.js';

const args = exampleArgs('deepdream', {
  epochs: { type: 'string' },
  threads: { type: 'string' },
  train: { type: 'string' },
  steps: { type: 'string' },
});
const EPOCHS = Number(args.values.epochs ?? 2);
const TRAIN = Number(args.values.train ?? (args.quick ? 1500 : 60_000));
const STEPS = Number(args.values.steps ?? (args.quick ? 24 : 256)); // activation maximization
const DREAM_STEPS = args.quick ? 6 : 40; // per octave
const FILTERS = 16; // filters shown per convolution
const UPSCALE = 3; // the digit is dreamed at 84x84, so patterns have room at three octaves
// --threads 1 is much faster when other programs keep the cores busy (threads then wait on each other).
if (args.values.threads) st.setNumThreads(Number(args.values.threads));
st.setSeed(args.seed);
const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const started = performance.now();

const mnist = await st.data.mnist();
const xTrain = mnist.xTrain.slice([0], [TRAIN]);
const yTrain = mnist.yTrain.slice([0], [TRAIN]);

// The book's convnet, its layers named so the pictures can say which is which.
const inputs = st.input({ shape: [28, 28, 1] });
let h = st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', name: 'conv1' }).apply(inputs);
h = st.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(h);
h = st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', name: 'conv2' }).apply(h);
h = st.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(h);
h = st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu', name: 'conv3' }).apply(h);
h = st.layers.flatten().apply(h);
const outputs = st.layers.dense({ units: 10, activation: 'softmax', name: 'classes' }).apply(h);
const model = st.model({ name: 'convnet', inputs, outputs });
model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const trainStart = performance.now();
const history = await model.fit(xTrain, yTrain, { epochs: EPOCHS, batchSize: 64, verbose: args.quick ? 0 : 1 });
const trainSeconds = (performance.now() - trainStart) / 1000;
const { accuracy } = await model.evaluate(mnist.xTest, mnist.yTest, { batchSize: 512, verbose: 0 });
const losses = history.history.loss;
console.log(
  `trained ${EPOCHS} epoch(s) on ${TRAIN} images in ${trainSeconds.toFixed(1)} s: loss ${losses.map((l) => l.toFixed(4)).join(' → ')}, test accuracy ${(accuracy * 100).toFixed(2)} %`,
);

// ---- Ideal digits: one image per class, its score (before the softmax) maximized.
const amStart = performance.now();
const classes = Array.from({ length: 10 }, (_, i) => i);
const ideal = await st.vis.activationMaximization(model, { classIndex: classes, steps: STEPS, stepSize: 0.02, seed: args.seed });
const probabilities = Array.from(await (model.predict(ideal.images) as st.Tensor).data());
const own = classes.map((c) => probabilities[c * 10 + c]);
await saveImageGrid(args.file('ideal-digits.png'), ideal.images, {
  columns: 10,
  scale: 4,
  title: `What the convnet scores highest as each digit (${STEPS} ascent steps from noise)`,
  subtitle: 'caption: the class, and the probability the network gives it',
  captions: classes.map((c) => `${c}: ${(own[c] * 100).toFixed(0)} %`),
});
console.log(
  `ideal digits: each class's probability ${own.map((p) => p.toFixed(3)).join(' ')} (${((performance.now() - amStart) / 1000).toFixed(1)} s)`,
);

// ---- Filters' preferred patterns, for the FILTERS filters of conv2 and conv3 most active on test
// digits. The value maximized is the filter's response before its ReLU: after it, a filter silent
// on the starting noise has a zero gradient and its picture would stay gray.
// conv1's 3x3 filters are better seen as their weights (strata inspect draws them): the mean of a
// 3x3 edge detector over the whole image is highest for a plain bright image.
const probe = mnist.xTest.slice([0], [256]);
const filterTiles: GridImage[] = [];
const filterGain: Record<string, [number, number]> = {};
for (const layer of ['conv2', 'conv3']) {
  // Keras's cut: a model from the network's input to the layer's output.
  const cut = st.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as st.SymbolicTensor });
  const activity = Array.from(await st.mean(cut.predict(probe) as st.Tensor, [0, 1, 2]).data());
  const filter = activity
    .map((a, i) => [a, i])
    .sort((p, q) => q[0] - p[0])
    .slice(0, FILTERS)
    .map(([, i]) => i);
  const r = await st.vis.activationMaximization(model, { layer, filter, beforeActivation: true, steps: STEPS, stepSize: 0.02, seed: args.seed });
  filterTiles.push(
    ...(await gridImages(
      r.images,
      filter.map((f) => `${layer} #${f}`),
    )),
  );
  filterGain[layer] = [meanOf(r.start), meanOf(r.end)];
}
await saveImageGrid(args.file('filter-patterns.png'), filterTiles, {
  columns: 8,
  scale: 3,
  title: 'The input each filter responds to most (its mean response over positions)',
  subtitle: `the ${FILTERS} filters of conv2 (10x10 pixels in view) and conv3 (the whole digit) most active on test digits`,
});

// ---- DeepDream on a test digit, enlarged 3x, with each convolution and with conv2 + conv3.
const digit = mnist.xTest.slice([0], [1]);
const big = st.layers.resizing({ height: 28 * UPSCALE, width: 28 * UPSCALE, interpolation: 'bilinear' }).apply(digit) as st.Tensor;
const dreams: { label: string; layers: Record<string, number> }[] = [
  { label: 'conv1', layers: { conv1: 1 } },
  { label: 'conv2', layers: { conv2: 1 } },
  { label: 'conv3', layers: { conv3: 1 } },
  { label: 'conv2 + conv3', layers: { conv2: 1, conv3: 1 } },
];
const dreamTiles: GridImage[] = await gridImages(big, [`test digit (label ${(await mnist.yTest.slice([0], [1]).data())[0]})`]);
const dreamCurves: Record<string, number[]> = {};
const dreamGain: Record<string, [number, number]> = {}; // the objective at full size, before and after
for (const d of dreams) {
  const r = await st.vis.deepDream(model, big, {
    layers: d.layers,
    steps: DREAM_STEPS,
    stepSize: 0.02,
    octaves: 3,
    octaveScale: 1.4,
    seed: args.seed,
  });
  dreamTiles.push(...(await gridImages(r.image, [`dream: ${d.label}`])));
  dreamCurves[d.label] = r.objective;
  dreamGain[d.label] = [r.start, r.end];
}
const sizes = `${[0, 1, 2].map((k) => Math.round((28 * UPSCALE) / 1.4 ** (2 - k))).join(', ')} px`;
await saveImageGrid(args.file('deepdream.png'), dreamTiles, {
  columns: dreamTiles.length,
  scale: 2,
  title: 'DeepDream: a test digit changed to excite a layer more',
  subtitle: `3 octaves (${sizes}), ${DREAM_STEPS} steps each`,
});
await saveLineChart(args.file('objectives.png'), Object.fromEntries(Object.entries(dreamCurves).map(([k, v]) => [`dream: ${k}`, v])), {
  title: 'DeepDream: mean squared activation, octave after octave',
  xTitle: `step (${DREAM_STEPS} per octave; each octave starts on a larger image)`,
  yTitle: 'objective',
  logY: true,
});
await saveLineChart(
  args.file('ideal-objective.png'),
  { 'mean over the 10 classes': ideal.objective },
  { title: 'Ideal digits: the class score (before the softmax) over the ascent', xTitle: 'step', yTitle: 'score' },
);

await reportResult(args, {
  epochs: EPOCHS,
  trainImages: TRAIN,
  trainSeconds: Number(trainSeconds.toFixed(1)),
  losses,
  testAccuracy: accuracy,
  steps: STEPS,
  idealScoreStart: meanOf(ideal.start),
  idealScoreEnd: meanOf(ideal.end),
  idealProbabilities: own,
  filterActivation: filterGain,
  dream: dreamGain,
  seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  backend: st.getBackend().name,
  threads: st.getNumThreads(),
  pictures: ['ideal-digits.png', 'filter-patterns.png', 'deepdream.png', 'objectives.png', 'ideal-objective.png'],
});
