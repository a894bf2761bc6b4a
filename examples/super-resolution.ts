// Super-resolution with a sub-pixel convolution network (ESPCN: Shi et al. 2016, "Real-Time
// Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
// Network"). Fashion-MNIST images are shrunk 2× (14×14, each pixel the mean of a 2×2 block) and
// the network learns to bring back the 28×28 original. All its convolutions work at low
// resolution; the last one makes r² = 4 channels per pixel and st.layers.depthToSpace shuffles
// them into 2×2 blocks of output pixels, which are added to the nearest-neighbour enlargement
// of the input (a global skip: the network draws only the missing detail).
//
// Compared on the test set, in PSNR (dB, per image with values clipped to [0, 1], then averaged):
// nearest neighbour and bicubic interpolation (Keys' kernel, a = -0.5, computed on the host).
// Writes a before/after picture: low resolution, bicubic, network, original.
// Run: npm run example:super-resolution [-- --quick] [--out DIR] [--seed N] [--epochs N]
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { saveImageGrid, saveLineChart } from './lib/pictures.js';
import { bicubicResize, nearestUpscale, psnrPerImage } from './lib/resize.js';

const args = exampleArgs('super-resolution', { epochs: { type: 'string' } });
const quick = args.quick;
const scale = 2;
const epochs = Number(args.values.epochs ?? (quick ? 1 : 2));
// Larger batches use the CPU better; the short run takes small ones to make enough steps.
const batchSize = quick ? 32 : 128;
const trainCount = quick ? 600 : 60_000;
const testCount = quick ? 200 : 10_000;
st.setSeed(args.seed);

const data = await st.data.fashionMnist();
const hiTrain = data.xTrain.slice([0, 0, 0, 0], [trainCount, 28, 28, 1]);
const hiTest = data.xTest.slice([0, 0, 0, 0], [testCount, 28, 28, 1]);
// The low-resolution inputs: 2×2 block means (area downscaling).
const shrink = (x: st.Tensor) => st.avgPool2d(x, { poolSize: scale });
const loTrain = shrink(hiTrain),
  loTest = shrink(hiTest);

// --- ESPCN: feature extraction at low resolution, then the sub-pixel shuffle --------------------

const inputs = st.input({ shape: [14, 14, 1] });
let x = st.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'tanh' }).apply(inputs);
x = st.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x);
x = st.layers.conv2d({ filters: scale * scale, kernelSize: 3, padding: 'same' }).apply(x);
const detail = st.layers.depthToSpace({ blockSize: scale }).apply(x);
// A global skip (as in VDSR, Kim et al. 2016): the network adds detail to the nearest-neighbour
// enlargement instead of drawing the whole image, so it starts near that baseline and learns fast.
const enlarged = st.layers.upSampling2d({ size: scale }).apply(inputs);
const outputs = st.layers.add().apply([enlarged, detail]);
const model = st.model({ inputs, outputs, name: 'espcn' });
model.summary();
model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'meanSquaredError' });

// The loss on a fixed sample of training images before and after training (the short run's check).
const probeCount = Math.min(trainCount, 1000);
const probe = () =>
  model.evaluate(loTrain.slice([0, 0, 0, 0], [probeCount, 14, 14, 1]), hiTrain.slice([0, 0, 0, 0], [probeCount, 28, 28, 1]), {
    batchSize: 500,
    verbose: 0,
  });
const lossBefore = (await probe()).loss;
const start = performance.now();
const cpuStart = process.cpuUsage();
const history = await model.fit(loTrain, hiTrain, { epochs, batchSize, verbose: quick ? 0 : 1 });
const trainSeconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const lossAfter = (await probe()).loss;
const losses = history.history.loss as number[];

// --- PSNR of the network and the two interpolations on the test set --------------------------------

const truth = Float32Array.from(await hiTest.data());
const low = Float32Array.from(await loTest.data());
const predicted = Float32Array.from(await (model.predict(loTest, { batchSize: 500 }) as st.Tensor).data());
const bicubic = bicubicResize(low, testCount, 14, 14, 28, 28);
const nearest = nearestUpscale(low, testCount, 14, 14, scale);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const psnr = {
  nearest: mean(psnrPerImage(nearest, truth, testCount)),
  bicubic: mean(psnrPerImage(bicubic, truth, testCount)),
  network: mean(psnrPerImage(predicted, truth, testCount)),
};
const perImageNetwork = psnrPerImage(predicted, truth, testCount),
  perImageBicubic = psnrPerImage(bicubic, truth, testCount);
const betterThanBicubic = perImageNetwork.filter((p, i) => p > perImageBicubic[i]).length / testCount;
console.log(
  `test PSNR over ${testCount} images: nearest ${psnr.nearest.toFixed(2)} dB, bicubic ${psnr.bicubic.toFixed(2)} dB, ESPCN ${psnr.network.toFixed(2)} dB ` +
    `(better than bicubic on ${(betterThanBicubic * 100).toFixed(1)} % of images); training ${trainSeconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU) on '${st.getBackend().name}'`,
);

// --- the before/after picture: one column per test image, one row per method ------------------

const shown = 8;
const rows: [string, Float32Array][] = [
  ['low-res', nearest],
  ['bicubic', bicubic],
  ['ESPCN', predicted],
  ['original', truth],
];
const tile = 28 * 28;
const images = rows.flatMap(([, values]) =>
  Array.from({ length: shown }, (_, i) => values.slice(i * tile, (i + 1) * tile).map((v) => Math.min(Math.max(v, 0), 1))),
);
const captions = rows.flatMap(([name, values]) =>
  Array.from({ length: shown }, (_, i) =>
    `${name} ${name === 'original' ? '' : `${psnrPerImage(values.subarray(i * tile, (i + 1) * tile), truth.subarray(i * tile, (i + 1) * tile), 1)[0].toFixed(1)} dB`}`.trim(),
  ),
);
await saveImageGrid(
  args.file('before-after.png'),
  { shape: [images.length, 28, 28], data: async () => Float32Array.from(images.flatMap((im) => [...im])) },
  {
    columns: shown,
    scale: 4,
    title: 'Fashion-MNIST 2× super-resolution (rows: 14×14 input, bicubic, ESPCN, original)',
    captions,
  },
);
await saveLineChart(args.file('loss.png'), { 'training MSE': losses }, { xTitle: 'epoch', yTitle: 'mean squared error', logY: true });

await reportResult(args, {
  backend: st.getBackend().name,
  epochs,
  batchSize,
  trainImages: trainCount,
  testImages: testCount,
  params: model.countParams(),
  lossBefore,
  lossAfter,
  loss: losses,
  psnrNearest: Number(psnr.nearest.toFixed(3)),
  psnrBicubic: Number(psnr.bicubic.toFixed(3)),
  psnrNetwork: Number(psnr.network.toFixed(3)),
  betterThanBicubic: Number(betterThanBicubic.toFixed(4)),
  seconds: Number(trainSeconds.toFixed(1)),
  cpuSeconds: Number(cpuSeconds.toFixed(1)),
});
