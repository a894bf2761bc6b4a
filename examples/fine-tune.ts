// Transfer learning: nsfwjs's pretrained MobileNetV2 (a TensorFlow.js LayersModel from npm) cut at
// its last feature layer, frozen, with a new head for five Fashion-MNIST classes; then its top
// blocks unfrozen and trained with a small learning rate. Against the same architecture trained
// from scratch for the same wall-clock time.
// Run: npm run example:fine-tune   (4-5 minutes on 2 CPU cores; results in README.md)
//
// The frozen part runs once: its output for every image is cached, and the trainable part trains
// on the cache. That is the same as training the whole network with the lower part frozen (its
// batch normalizations in inference mode, as Keras does for frozen layers), at a fraction of the cost.
import * as st from 'strata';
import { nsfwjsFiles, toArtifacts } from '../test/tfjs-fixtures.js';

const CLASSES = [0, 1, 2, 3, 7]; // T-shirt/top, Trouser, Pullover, Dress, Sneaker
const TRAIN_PER_CLASS = 120;
const TEST_PER_CLASS = 80;
const SIZE = 224; // MobileNetV2's input; nsfwjs scales pixels to [0, 1], as Fashion-MNIST already is
const BATCH = 32;
const CUT = 'block_14_add'; // the activation entering the top blocks (block_15, block_16, Conv_1)
const FEATURES = 'out_relu'; // the last feature layer, before nsfwjs's pooling and classifier

const seconds = (since: number) => (performance.now() - since) / 1000;

// ---- Data: the first images of each chosen class, labels renumbered 0..4.
const fashion = await st.data.fashionMnist();
async function pick(x: st.Tensor, y: st.Tensor, perClass: number): Promise<{ images: Float32Array; labels: Int32Array }> {
  const [xs, ys] = [(await x.data()) as Float32Array, (await y.data()) as Int32Array];
  const rows: number[] = [];
  const counts = CLASSES.map(() => 0);
  for (let i = 0; i < ys.length && rows.length < perClass * CLASSES.length; i++) {
    const c = CLASSES.indexOf(ys[i]);
    if (c >= 0 && counts[c] < perClass) {
      counts[c]++;
      rows.push(i);
    }
  }
  const images = new Float32Array(rows.length * 784);
  rows.forEach((r, k) => images.set(xs.subarray(r * 784, (r + 1) * 784), k * 784));
  return { images, labels: Int32Array.from(rows, (r) => CLASSES.indexOf(ys[r])) };
}
const train = await pick(fashion.xTrain, fashion.yTrain, TRAIN_PER_CLASS);
const test = await pick(fashion.xTest, fashion.yTest, TEST_PER_CLASS);
const yTrain = st.tensor(train.labels, [train.labels.length], 'int32');
const yTest = st.tensor(test.labels, [test.labels.length], 'int32');
const names = CLASSES.map((c) => fashion.classNames[c]).join(', ');
console.log(`${train.labels.length} training and ${test.labels.length} test images of ${names}, resized to ${SIZE}x${SIZE}x3`);

// Images [n, 28, 28, 1] become the network's [n, 224, 224, 3]: bilinear resize, grey copied to RGB.
const resize = st.layers.resizing({ height: SIZE, width: SIZE });
function toInput(images: Float32Array, rows: readonly number[]): st.Tensor {
  const batch = new Float32Array(rows.length * 784);
  rows.forEach((r, k) => batch.set(images.subarray(r * 784, (r + 1) * 784), k * 784));
  const big = resize.apply(st.tensor(batch, [rows.length, 28, 28, 1])) as st.Tensor;
  return st.tile(big, [1, 1, 1, 3]);
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Runs `model` over all images in batches and stacks its outputs (`training`: batch statistics). */
async function runOver(model: st.Model, images: Float32Array, training = false): Promise<st.Tensor> {
  const n = images.length / 784;
  const parts: st.Tensor[] = [];
  for (let at = 0; at < n; at += BATCH) {
    const x = toInput(images, range(at, Math.min(n, at + BATCH)));
    const y = training ? st.noGrad(() => model.apply(x, { training: true }) as st.Tensor) : (model.predict(x) as st.Tensor);
    await y.data();
    x.dispose();
    parts.push(y);
  }
  return st.concat(parts, 0);
}

/** The fraction of rows whose largest probability is at the label. */
async function accuracy(probabilities: st.Tensor, labels: Int32Array): Promise<number> {
  const p = (await probabilities.data()) as Float32Array;
  const k = p.length / labels.length;
  let right = 0;
  labels.forEach((label, i) => {
    const row = p.subarray(i * k, (i + 1) * k);
    if (row.indexOf(Math.max(...row)) === label) right++;
  });
  return right / labels.length;
}

const trainable = (m: st.Model) => m.trainableWeights.reduce((n, w) => n + w.value.size, 0);
const rows: { approach: string; params: number; seconds: number; accuracy: number }[] = [];

// ---- The pretrained network, cut in two at CUT: the frozen base and the top blocks.
const pretrained = await st.tfjs.load(toArtifacts(nsfwjsFiles('mobilenet_v2')));
const cut = pretrained.getLayer(CUT).output as st.SymbolicTensor; // Keras's layer.output
const base = st.model({ inputs: pretrained.inputs, outputs: cut, name: 'base' });
const node = (name: string) => pretrained.graphNodes.find((n) => n.layer.name === name)!;

// The top blocks again on a new input (graphNodes: the recorded layer calls in execution order):
// each layer after the cut applied to the mapped inputs, the same layer objects and so the same
// pretrained weights (checked: top(base(x)) equals the network's own out_relu to the last bit).
const topInput = st.input({ shape: cut.shape.slice(1) as number[] });
const mapped = new Map<st.SymbolicTensor, st.SymbolicTensor>([[cut, topInput]]);
const nodes = pretrained.graphNodes;
const topLayers: st.Layer[] = [];
for (const n of nodes.slice(nodes.indexOf(node(CUT)) + 1, nodes.indexOf(node(FEATURES)) + 1)) {
  const inputs = n.inputs.map((s) => mapped.get(s)!);
  const out = n.layer.apply(n.listInput ? inputs : inputs[0]) as st.SymbolicTensor;
  mapped.set(n.outputs[0], out);
  topLayers.push(n.layer);
}
const pooled = st.layers.globalAveragePooling2d().apply(mapped.get(node(FEATURES).outputs[0])!) as st.SymbolicTensor;
const top = st.model({ inputs: topInput, outputs: pooled, name: 'top_blocks' });
console.log(`cut at ${CUT} ${JSON.stringify(cut.shape.slice(1))}: ${top.layers.length - 1} top layers, ${top.countParams()} parameters`);

// The new head: dropout and a softmax over the five classes, on the 1280 pooled features.
const dropout = st.layers.dropout({ rate: 0.2 });
const classifier = st.layers.dense({ units: CLASSES.length, activation: 'softmax', name: 'new_head' });
const head = (x: st.SymbolicTensor) => classifier.apply(dropout.apply(x)) as st.SymbolicTensor;

// ---- Phase 1: the whole pretrained network frozen, the head trained on cached features.
let start = performance.now();
const cachedTrain = await runOver(base, train.images); // the expensive part: 600 forward passes
const featuresTrain = top.predict(cachedTrain) as st.Tensor;
const cacheSeconds = seconds(start);
console.log(`cached the frozen base's output for the training images in ${cacheSeconds.toFixed(1)} s`);
const evalStart = performance.now();
const cachedTest = await runOver(base, test.images);
const featuresTest = top.predict(cachedTest) as st.Tensor;
console.log(`... and for the test images in ${seconds(evalStart).toFixed(1)} s (evaluation, not counted as training)`);

const featureInput = st.input({ shape: [pooled.shape[1] as number] });
const headModel = st.model({ inputs: featureInput, outputs: head(featureInput), name: 'head' });
headModel.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
start = performance.now();
await headModel.fit(featuresTrain, yTrain, { epochs: 40, batchSize: BATCH, shuffle: true, verbose: 0 });
const headSeconds = cacheSeconds + seconds(start);
const headAccuracy = (await headModel.evaluate(featuresTest, yTest, { verbose: 0 })).accuracy;
rows.push({ approach: 'pretrained, frozen + new head', params: trainable(headModel), seconds: headSeconds, accuracy: headAccuracy });
console.log(`frozen + new head: test accuracy ${(headAccuracy * 100).toFixed(2)} %`);

// ---- Phase 2: the top blocks unfrozen (batch normalizations stay in inference mode), trained
// with the head on the cached activations at a small learning rate.
for (const l of topLayers) l.trainable = l.className !== 'BatchNormalization';
const fineInput = st.input({ shape: cut.shape.slice(1) as number[] });
const fineModel = st.model({ inputs: fineInput, outputs: head(top.apply(fineInput) as st.SymbolicTensor), name: 'fine_tuned' });
fineModel.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-4 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
start = performance.now();
await fineModel.fit(cachedTrain, yTrain, { epochs: 8, batchSize: BATCH, shuffle: true, verbose: 0 });
const fineSeconds = headSeconds + seconds(start);
const fineAccuracy = (await fineModel.evaluate(cachedTest, yTest, { verbose: 0 })).accuracy;
rows.push({ approach: 'then top blocks unfrozen (Adam 1e-4)', params: trainable(fineModel), seconds: fineSeconds, accuracy: fineAccuracy });
console.log(`top blocks fine-tuned: test accuracy ${(fineAccuracy * 100).toFixed(2)} %`);

// ---- Baseline: the same architecture (Keras's MobileNetV2, the same head), randomly
// initialised, trained end to end on the same images for the same wall-clock time.
const scratchInput = st.input({ shape: [SIZE, SIZE, 3] });
const backbone = st.applications.mobileNetV2({ inputShape: [SIZE, SIZE, 3], includeTop: false, pooling: 'avg' });
const scratchClassifier = st.layers.dense({ units: CLASSES.length, activation: 'softmax' });
const scratch = st.model({
  inputs: scratchInput,
  outputs: scratchClassifier.apply(st.layers.dropout({ rate: 0.2 }).apply(backbone.apply(scratchInput) as st.SymbolicTensor)) as st.SymbolicTensor,
  name: 'from_scratch',
});
scratch.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
start = performance.now();
let steps = 0;
let lastAccuracy = 0;
while (seconds(start) < fineSeconds) {
  const order = range(0, train.labels.length);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let at = 0; at < order.length && seconds(start) < fineSeconds; at += BATCH) {
    const batch = order.slice(at, at + BATCH);
    const x = toInput(train.images, batch);
    const logs = await scratch.trainOnBatch(
      x,
      st.tensor(
        Int32Array.from(batch, (r) => train.labels[r]),
        [batch.length],
        'int32',
      ),
    );
    x.dispose();
    lastAccuracy = logs.accuracy;
    steps++;
  }
}
const scratchSeconds = seconds(start);
const scratchAccuracy = await accuracy(await runOver(scratch, test.images), test.labels);
rows.push({ approach: 'same architecture from scratch', params: trainable(scratch), seconds: scratchSeconds, accuracy: scratchAccuracy });
// Keras's MobileNetV2 moves its batch-norm statistics by 0.1 % a step (momentum 0.999), so after a
// few dozen steps inference still normalizes with the initial ones; the test images normalized
// with their own batch's statistics show what the weights themselves have learned.
const batchStatsAccuracy = await accuracy(await runOver(scratch, test.images, true), test.labels);
rows.push({ approach: '(same, tested with batch statistics)', params: trainable(scratch), seconds: scratchSeconds, accuracy: batchStatsAccuracy });
console.log(
  `from scratch: ${steps} steps of ${BATCH} (${((steps * BATCH) / train.labels.length).toFixed(2)} epochs), last batch's training accuracy ${(lastAccuracy * 100).toFixed(1)} %`,
);

// ---- The table.
console.log(
  `\n${CLASSES.length} Fashion-MNIST classes, ${train.labels.length} training / ${test.labels.length} test images, backend '${st.getBackend().name}'`,
);
console.log('| approach | trainable params | training seconds | test accuracy |');
console.log('|---|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${r.approach} | ${r.params.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${(r.accuracy * 100).toFixed(2)} % |`);
console.log(`(chance: ${(100 / CLASSES.length).toFixed(0)} %)`);
