// `strata evaluate` and `strata predict`: a trained run used on data, with what its classes.json
// recorded about the data it was trained and tested on.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as st from '../index.js';
import { absoluteSpec, loadDataset, samples } from './datasets.js';
import { borderBrightness, readRecord, type RunRecord } from './run-record.js';
import { checkModelFits } from './train.js';

export interface EvaluateOptions {
  dataset?: string;
  limit?: number;
  labelColumn?: string;
}

/**
 * Loss and accuracy of the run in `dir` on the test split it was trained with (its dataset,
 * limit, label column and hold-out), or on `--dataset`'s test split when one is given.
 */
export async function evaluateRun(dir: string, o: EvaluateOptions): Promise<void> {
  const model = await st.loadModel(dir);
  if (!model.isCompiled) model.compile({ loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const record = readRecord(dir);
  // The run's own settings apply to its own dataset; another dataset takes only what is given.
  const own = o.dataset === undefined ? record : undefined;
  const spec = absoluteSpec(o.dataset ?? record?.dataset ?? 'mnist');
  const [, h, w, c] = model.inputs[0]?.shape ?? [];
  const data = await loadDataset(spec, {
    limit: o.limit ?? own?.limit,
    imageSize: typeof h === 'number' && typeof w === 'number' ? [h, w] : own?.imageSize,
    grayscale: c !== 3,
    labelColumn: o.labelColumn ?? own?.labelColumn,
  });
  checkModelFits(model, data, `evaluate: the model in ${dir}`, data.name);
  if (own && o.limit === undefined) for (const note of await changes(own, spec, data.xTest.shape[0])) console.error(`note: ${note}`);
  const logs = await model.evaluate(data.xTest, data.yTest, { batchSize: 512, verbose: 0 });
  const n = data.xTest.shape[0];
  console.log(
    Object.entries(logs)
      .map(([k, v]) => `${k}: ${v.toFixed(4)}`)
      .join(' - ') + ` (${samples(data, n, 'test')}: ${data.testSplit})`,
  );
}

/** How the data differs from what the run was tested on, if it does. */
async function changes(record: RunRecord, spec: string, testSamples: number): Promise<string[]> {
  const notes: string[] = [];
  if (record.sha256 && spec.startsWith('csv:')) {
    const now = createHash('sha256')
      .update(await readFile(spec.slice(4)))
      .digest('hex');
    if (now !== record.sha256)
      notes.push(
        `${spec.slice(4)} changed since the run was trained (its SHA-256 differs), so its test rows may not be the ones the run was tested on`,
      );
  }
  if (record.split && record.split.testSamples !== testSamples) {
    notes.push(`the run was tested on ${record.split.testSamples} samples (${record.split.test}); the data now gives ${testSamples}`);
  }
  return notes;
}

export interface PredictOptions {
  top: number;
  invert: 'auto' | 'always' | 'never';
}

/** Whether an image's background (its border brightness) is the opposite of the training images'. */
function oppositeBackground(border: number, training: RunRecord['background']): boolean {
  // Only a background the training images agree on can be compared with (MNIST's is black in every image).
  if (!training || training.spread > 0.2) return false;
  const distance = Math.abs(border - training.border);
  return distance > 0.4 && Math.abs(1 - border - training.border) < distance;
}

/** The top classes of each image, with a note when an image is the training images' negative. */
export async function predictImages(dir: string, files: string[], o: PredictOptions): Promise<void> {
  const model = await st.loadModel(dir, { compile: false });
  const record = readRecord(dir);
  if (record?.samples === 'rows') {
    throw new st.ValueError(
      `predict: the model in ${dir} was trained on csv rows (${record.dataset}), and predict reads images; strata evaluate ${dir} tests it on its rows`,
    );
  }
  const shape = model.inputs[0]?.shape;
  if (shape?.length !== 4 || shape.slice(1).some((d) => d === null))
    throw new st.ValueError(`predict: the model in ${dir} does not take images of a fixed size (input ${JSON.stringify(shape)})`);
  const [, h, w, c] = shape as number[];
  const classNames = record?.classNames ?? [];
  for (const file of files) {
    let image = await st.data.readImage(file, { size: [h, w], channels: c === 3 ? 3 : 1 });
    const border = borderBrightness(image.dataSync(), h, w, c === 3 ? 3 : 1);
    const opposite = oppositeBackground(border, record?.background);
    const invert = o.invert === 'always' || (o.invert === 'auto' && opposite);
    if (invert) image = st.sub(1, image);
    let p = model.predict(image.expandDims(0)) as st.Tensor;
    // Models that end in logits get a softmax; a softmax layer's output is left as it is.
    if (Math.abs(p.sum().item() - 1) > 1e-3 || p.min().item() < 0) p = st.softmax(p);
    const probs = Array.from(p.dataSync());
    // Classes that would print as 0.0 % say nothing; the most likely one is always shown.
    const top = probs
      .map((q, i) => ({ q, i }))
      .sort((a, b) => b.q - a.q)
      .slice(0, o.top)
      .filter(({ q }, k) => k === 0 || q >= 0.0005);
    console.log(`${file}: ${top.map(({ q, i }) => `${classNames[i] ?? i} (${(q * 100).toFixed(1)} %)`).join(', ')}`);
    if (opposite) {
      const mismatch =
        border > 0.5
          ? 'the image is dark on a light background, the training images light on dark'
          : 'the image is light on a dark background, the training images dark on light';
      console.log(
        invert
          ? `  (inverted before predicting: ${mismatch}; --invert never keeps it as it is)`
          : `  (${mismatch}; predicted as it is, --invert auto would invert it)`,
      );
    } else if (invert) {
      console.log('  (inverted before predicting, as --invert always asks)');
    }
  }
}
