// Deep Learning with Python, chapter 8: a small convnet on MNIST (104,202 parameters).
// Run: npm run example:convnet
import * as st from 'strata';

const { xTrain, yTrain, xTest, yTest } = await st.data.mnist();

const inputs = st.input({ shape: [28, 28, 1] });
let x = st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(inputs);
x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
x = st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }).apply(x);
x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
x = st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }).apply(x);
x = st.layers.flatten().apply(x);
const outputs = st.layers.dense({ units: 10, activation: 'softmax' }).apply(x);
const model = st.model({ inputs, outputs });
model.summary();

model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const start = performance.now();
await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 64 });
const seconds = (performance.now() - start) / 1000;
const { accuracy } = await model.evaluate(xTest, yTest, { batchSize: 512 });
console.log(
  `test accuracy ${(accuracy * 100).toFixed(2)} % (book: about 99.1 %), training ${seconds.toFixed(1)} s on backend '${st.getBackend().name}'`,
);
