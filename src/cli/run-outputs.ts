import { join } from 'node:path';
import { writeFileAtomic } from '../node/io/atomic-write.js';
import * as st from '../index.js';
import type { LabelledData } from './datasets.js';

export interface RunResults {
  model: st.Model;
  data: LabelledData;
  history: { epoch: number[]; history: Record<string, number[]> };
  test: Record<string, number>;
  epochSeconds: number[];
  options: object;
}

/**
 * history.csv: one row per epoch, Keras's CSVLogger columns (epoch, then the sorted log keys),
 * then the epoch's wall-clock seconds, which history.json also holds.
 */
export function historyCsv(h: RunResults['history'], epochSeconds: number[]): string {
  const keys = Object.keys(h.history).sort();
  const rows = h.epoch.map((e, i) => [e, ...keys.map((k) => h.history[k][i] ?? ''), epochSeconds[e] ?? ''].join(','));
  return ['epoch,' + [...keys, 'seconds'].join(','), ...rows].join('\n') + '\n';
}

/** A PNG's width in pixels, from its IHDR chunk. */
const pngWidth = (png: Uint8Array) => new DataView(png.buffer, png.byteOffset).getUint32(16);

/**
 * What the model learned to look for first, as pictures: the first convolution's filters, or,
 * for a network that starts with a dense layer on flattened images, the first 32 units' weights
 * laid out as images. Undefined when the model starts otherwise.
 */
async function firstLayerKernel(
  model: st.Model,
  imageShape: readonly number[],
): Promise<{ values: Float32Array; shape: number[]; what: string } | undefined> {
  const layer = model.layers.find((l) => l.weights.length > 0);
  if (!layer) return undefined;
  const kernel = layer.getWeights()[0];
  // Read with await: on the GPU (`--backend webgpu`) there is no synchronous read.
  if (layer.className === 'Conv2D') return { values: (await kernel.data()) as Float32Array, shape: [...kernel.shape], what: `${layer.name} filters` };
  const pixels = imageShape.reduce((a, b) => a * b, 1);
  if (layer.className === 'Dense' && kernel.shape[0] === pixels) {
    const units = Math.min(32, kernel.shape[1]);
    const first = st.slice(kernel, [0, 0], [pixels, units]);
    return { values: (await first.data()) as Float32Array, shape: [...imageShape, units], what: `${layer.name} weights of the first ${units} units` };
  }
  return undefined;
}

/**
 * Everything a run leaves next to the saved model: history.json and history.csv, the training
 * curves (SVG and PNG), the confusion matrix, a grid of misclassified test images, the first
 * layer's filters, and report.html showing all of it.
 */
export async function writeRunOutputs(dir: string, r: RunResults): Promise<void> {
  const summary = { test: r.test, epochSeconds: r.epochSeconds, options: r.options, ...r.history };
  await writeFileAtomic(join(dir, 'history.json'), JSON.stringify(summary, null, 1) + '\n');
  await writeFileAtomic(join(dir, 'history.csv'), historyCsv(r.history, r.epochSeconds));

  // The chart libraries load only here: importing them costs about 200 ms.
  const report = await import('../node/report/index.js');
  const { data, model } = r;
  const title = `${model.name} on ${data.name}`;
  const images: { title: string; file: string; width: number }[] = [];
  const write = async (file: string, caption: string, png: Uint8Array, scale = 2) => {
    await writeFileAtomic(join(dir, file), png);
    images.push({ title: caption, file, width: pngWidth(png) / scale });
  };

  const curves = await report.curvesSvg(r.history, { title: `${title}: training and validation` });
  await writeFileAtomic(join(dir, 'curves.svg'), curves);
  await write('curves.png', 'Loss and accuracy per epoch', await report.svgToPng(curves));

  const probabilities = model.predict(data.xTest, { batchSize: 512 }) as st.Tensor;
  const yPred = (await st.argMax(probabilities, -1).data()) as Int32Array;
  const yTrue = (await data.yTest.data()) as Int32Array;
  const k = data.classNames.length;
  await write(
    'confusion.png',
    'Confusion matrix on the test images',
    await report.confusionPng(report.confusionMatrix(yTrue, yPred, k), data.classNames),
  );
  if (!data.images) return finish();
  const mistakes = report.mistakeImages((await data.xTest.data()) as Float32Array, data.xTest.shape, yTrue, yPred, data.classNames, 32);
  // The key sits on the picture itself: the file is often opened alone, without report.html's caption.
  if (mistakes.length) {
    const picture = await report.imageGridPng(mistakes, {
      title: `Misclassified test images (the first ${mistakes.length})`,
      subtitle: 'Under each image: true class → predicted class',
    });
    await write('mistakes.png', `Misclassified test images (true → predicted), the first ${mistakes.length}`, picture, 1);
  }
  const kernel = await firstLayerKernel(model, data.xTest.shape.slice(1));
  if (kernel)
    await write(
      'filters.png',
      `First layer: ${kernel.what}`,
      await report.imageGridPng(report.filterImages(kernel.values, kernel.shape), { normalize: 'each', title: kernel.what }),
      1,
    );

  return finish();

  async function finish(): Promise<void> {
    const last = Object.fromEntries(Object.entries(r.history.history).map(([key, v]) => [key, v[v.length - 1]]));
    const metrics = { ...last, test_loss: r.test.loss, test_accuracy: r.test.accuracy };
    const html = report.reportHtml({
      title,
      summary: model.summary({ printFn: () => {} }),
      metrics,
      epochSeconds: r.epochSeconds.filter(Number.isFinite),
      images,
    });
    await writeFileAtomic(join(dir, 'report.html'), html);
  }
}
