// A small transformer learns to reverse sequences of digits: 3 1 4 1 5 9 2 6 5 3 -> 3 5 6 2 9 5 1 4 1 3.
// Every output position must find its mirror position in the input, which only attention over
// learned position embeddings can do (a per-position dense layer sees one digit).
// Run: npm run example:transformer
import * as st from 'strata';

const LENGTH = 10;
const DIGITS = 10;
const EMBED_DIM = 64;

st.setSeed(0);

/** `count` random digit sequences and their reversals, int32 [count, LENGTH] each. */
function reversalData(count: number): [st.Tensor, st.Tensor] {
  const x = st.randomUniform([count, LENGTH], { max: DIGITS }).floor().cast('int32');
  const reversedPositions = Array.from({ length: LENGTH }, (_, i) => LENGTH - 1 - i);
  return [x, st.gather(x, reversedPositions, 1)];
}
const [xTrain, yTrain] = reversalData(20000);
const [xTest, yTest] = reversalData(2000);

const inputs = st.input({ shape: [LENGTH], dtype: 'int32' });
// maskZero: false, since 0 is a digit here and not padding.
let x = st.layers.positionalEmbedding({ sequenceLength: LENGTH, inputDim: DIGITS, outputDim: EMBED_DIM, maskZero: false }).apply(inputs);
for (let block = 0; block < 2; block++) {
  x = st.layers.transformerEncoder({ embedDim: EMBED_DIM, denseDim: 128, numHeads: 4, keyDim: 16 }).apply(x);
}
const outputs = st.layers.dense({ units: DIGITS }).apply(x); // logits for the digit at every position
const model = st.model({ name: 'reverser', inputs, outputs });
model.summary();
model.compile({
  optimizer: st.optimizers.adam({ learningRate: 1e-3 }),
  loss: (yTrue: st.Tensor, yPred: st.Tensor) => st.losses.sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: true }),
});

const start = performance.now();
await model.fit(xTrain, yTrain, { epochs: 3, batchSize: 64, shuffle: true, validationSplit: 0.1, verbose: 2 });
const seconds = (performance.now() - start) / 1000;

// Accuracy on held-out sequences: per digit, and per whole sequence (all 10 digits right).
const predicted = st.argMax(model.predict(xTest, { batchSize: 500 }) as st.Tensor, -1).cast('int32');
const right = predicted.equal(yTest).cast('float32');
const tokenAccuracy = right.mean().item();
const sequenceAccuracy = right.min(1).mean().item();

const example = xTest.slice([0, 0], [1, LENGTH]);
console.log(`\ninput     ${example.dataSync().join(' ')}\npredicted ${predicted.slice([0, 0], [1, LENGTH]).dataSync().join(' ')}`);
console.log(
  `held-out token accuracy ${(tokenAccuracy * 100).toFixed(2)} %, sequence accuracy ${(sequenceAccuracy * 100).toFixed(2)} % on ${xTest.shape[0]} sequences; training ${seconds.toFixed(1)} s on backend '${st.getBackend().name}'`,
);
