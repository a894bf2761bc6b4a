// A second anchor for the inference row: the benchmark's convnet built from Strata's layers,
// exported with st.onnx.toBytes and run by onnxruntime-node with the same thread count, on the
// same 10,000 images in batches of 500. onnxruntime is what many users would deploy for
// inference, and unlike PyTorch it has no Python or allocator in the way.
import * as ort from 'onnxruntime-node';
import * as st from '../dist/index.js';
import { timeIt } from './measure.js';
import type { InferenceRun } from './suite.js';

export interface OrtInference {
  version: string;
  measure(budget: number): Promise<InferenceRun>;
}

/** conv 32 relu, pool, conv 64 relu, pool, conv 128 relu, flatten, dense 10: bench/models.ts's convnet as layers. */
function convnetLayers(): st.Model {
  const inputs = st.input({ shape: [28, 28, 1] });
  let x = st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(inputs);
  x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }).apply(x);
  x = st.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }).apply(x);
  x = st.layers.flatten().apply(x);
  return st.model({ inputs, outputs: st.layers.dense({ units: 10 }).apply(x) });
}

export async function ortConvnetInference(threads: number): Promise<OrtInference> {
  const model = convnetLayers();
  const session = await ort.InferenceSession.create(await st.onnx.toBytes(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const input = session.inputNames[0];
  // Same check as the ONNX rows: both must compute the same thing before either is timed.
  const probe = st.randomUniform([4, 28, 28, 1]);
  const want = (model.predict(probe) as st.Tensor).dataSync();
  const got = (await session.run({ [input]: new ort.Tensor('float32', probe.dataSync() as Float32Array, [4, 28, 28, 1]) }))[session.outputNames[0]]
    .data as Float32Array;
  const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i])));
  if (!(diff < 1e-3)) throw new Error(`the exported convnet differs from Strata's by ${diff} on one batch`);
  const images = st.randomUniform([10000, 28, 28, 1]).dataSync() as Float32Array;
  return {
    version: ort.env.versions.common,
    async measure(budget) {
      const pass = async () => {
        for (let s = 0; s < 10000; s += 500) {
          const out = await session.run({ [input]: new ort.Tensor('float32', images.subarray(s * 784, (s + 500) * 784), [500, 28, 28, 1]) });
          for (const t of Object.values(out)) t.dispose();
        }
      };
      const t = await timeIt(pass, { warmup: 1, budgetSeconds: budget, minReps: 3, maxReps: 5 });
      return { imagesPerSec: 10000 / (t.median / 1000), passMs: t.median };
    },
  };
}
