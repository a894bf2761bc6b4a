// Deep Learning with Python, chapter 2: a two-layer network on MNIST.
// Run: npm run example:mlp
import * as st from 'strata';

const { xTrain, yTrain, xTest, yTest } = await st.data.mnist();
// The book feeds the network flat vectors of 784 pixels.
const flatTrain = xTrain.reshape([-1, 28 * 28]);
const flatTest = xTest.reshape([-1, 28 * 28]);

const model = st.sequential({
  layers: [st.layers.dense({ units: 512, activation: 'relu', inputShape: [28 * 28] }), st.layers.dense({ units: 10, activation: 'softmax' })],
});
model.summary();
model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const start = performance.now();
await model.fit(flatTrain, yTrain, { epochs: 5, batchSize: 128 });
const seconds = (performance.now() - start) / 1000;
const { accuracy } = await model.evaluate(flatTest, yTest, { batchSize: 512 });
console.log(
  `test accuracy ${(accuracy * 100).toFixed(2)} % (book: about 97.8 %), training ${seconds.toFixed(1)} s on backend '${st.getBackend().name}'`,
);
