// `strata project`: the embedding projector. A trained image classifier's activations at one
// layer, for the test images of the data it was trained on, reduced to 2-D or 3-D by PCA
// (st.vis.pca) or UMAP (umap-js, seeded), and written as one self-contained HTML page
// (projector-page.ts) that draws them coloured by class and shows each image on hover.

import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UMAP } from 'umap-js';
import * as st from '../index.js';
import { absoluteSpec, loadDataset } from './datasets.js';
import type { ProjectorData } from './projector-data.js';
import { projectorHtml, thumbnailSprite } from './projector-page.js';
import { readRecord } from './run-record.js';

export interface ProjectOptions {
  layer: string;
  method: 'pca' | 'umap';
  dims: '2' | '3';
  limit: number;
  seed: number;
  out?: string;
}

/** UMAP's settings: umap-js's defaults for the neighbourhood, a tighter min distance so classes read as clusters. */
const UMAP_NEIGHBOURS = 15;
const UMAP_MIN_DIST = 0.1;

/** A seeded uniform generator in [0, 1) (mulberry32), so the same run, layer and seed give the same UMAP picture. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model's class count, or an error saying why the run is not an image classifier. */
function checkImageClassifier(model: st.Model, dir: string, classNames: string[]): number {
  const input = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || input?.length !== 4 || input.slice(1).some((d) => d === null))
    throw new st.ValueError(
      `project: the model in ${dir} does not take images of a fixed size (input ${JSON.stringify(input)}); the projector shows image classifiers`,
    );
  const output = model.outputs[0]?.shape;
  if (model.outputs.length !== 1 || output?.length !== 2 || typeof output[1] !== 'number' || output[1] < 2)
    throw new st.ValueError(`project: the model in ${dir} is not a classifier (output ${JSON.stringify(output)}; expected [null, classes])`);
  if (classNames.length && classNames.length !== output[1])
    throw new st.ValueError(`project: the model in ${dir} has ${output[1]} outputs but its classes.json names ${classNames.length} classes`);
  return output[1];
}

/** Writes the projector page for the run in `dir`; returns the file written. */
export async function projectRun(dir: string, o: ProjectOptions): Promise<string> {
  const model = await st.loadModel(dir, { compile: false });
  const record = readRecord(dir);
  if (record?.samples === 'rows')
    throw new st.ValueError(`project: the run in ${dir} was trained on csv rows (${record.dataset}); the projector shows image classifiers`);
  const classes = checkImageClassifier(model, dir, record?.classNames ?? []);
  const names = model.layers.map((l) => l.name);
  if (!names.includes(o.layer))
    throw new st.ValueError(`project: ${model.name} has no layer ${JSON.stringify(o.layer)}; --layer takes one of: ${names.join(', ')}`);
  const layer = model.getLayer(o.layer);
  const output = layer.output;
  if (Array.isArray(output)) throw new st.ValueError(`project: layer ${o.layer} has ${output.length} outputs; choose a layer with one`);
  const dims = Number(o.dims) as 2 | 3;

  const [, h, w, c] = model.inputs[0].shape as number[];
  const data = await loadDataset(absoluteSpec(record?.dataset ?? 'mnist'), {
    limit: o.limit,
    imageSize: [h, w],
    grayscale: c !== 3,
    labelColumn: record?.labelColumn,
  });
  const x = data.xTest;
  const n = x.shape[0];
  if (n < dims + 1) throw new st.ValueError(`project: needs at least ${dims + 1} test images; the data gives ${n}`);

  let t = performance.now();
  const cut = st.model({ inputs: model.inputs, outputs: output });
  const activations = cut.predict(x, { batchSize: 256 }) as st.Tensor;
  const predicted = Array.from((st.argMax(model.predict(x, { batchSize: 256 }) as st.Tensor, -1) as st.Tensor).dataSync());
  const features = activations.shape.slice(1).reduce((a, b) => a * b, 1);
  const activationSeconds = (performance.now() - t) / 1000;
  if (dims > features) throw new st.ValueError(`project: layer ${o.layer} has ${features} features per image, fewer than --dims ${dims}`);

  t = performance.now();
  let points: number[];
  let extra: Pick<ProjectorData, 'axes' | 'methodDetail' | 'explainedVarianceRatio'>;
  if (o.method === 'pca') {
    const r = await st.vis.pca(activations, { components: dims });
    points = Array.from(await r.projected.data());
    extra = {
      axes: Array.from({ length: dims }, (_, i) => `PC${i + 1}`),
      methodDetail: `PCA of ${features} features by st.vis.pca`,
      explainedVarianceRatio: r.explainedVarianceRatio,
    };
  } else {
    const flat = activations.reshape([n, features]).dataSync();
    const rows = Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * features, (i + 1) * features)));
    const umap = new UMAP({
      nComponents: dims,
      nNeighbors: Math.min(UMAP_NEIGHBOURS, n - 1),
      minDist: UMAP_MIN_DIST,
      random: seededRandom(o.seed),
    });
    points = umap.fit(rows).flat();
    extra = {
      axes: Array.from({ length: dims }, (_, i) => `UMAP ${i + 1}`),
      methodDetail: `UMAP (umap-js) with ${Math.min(UMAP_NEIGHBOURS, n - 1)} neighbours, min distance ${UMAP_MIN_DIST}, seed ${o.seed}`,
    };
  }
  const reductionSeconds = (performance.now() - t) / 1000;

  const page: ProjectorData = {
    run: basename(resolve(dir)),
    model: model.name,
    layer: { name: layer.name, className: layer.className, shape: activations.shape.slice(1) },
    features,
    method: o.method,
    dims,
    ...extra,
    dataset: data.name,
    testSplit: data.testSplit,
    classNames: data.classNames.length === classes ? data.classNames : Array.from({ length: classes }, (_, i) => String(i)),
    points: points.map((v) => Math.round(v * 1e5) / 1e5),
    labels: Array.from(data.yTest.dataSync(), Number),
    predicted: predicted.map(Number),
    sprite: thumbnailSprite(x),
    seconds: { activations: activationSeconds, reduction: reductionSeconds },
  };
  const file = o.out ?? join(dir, `projector-${o.layer}-${o.method}-${dims}d.html`);
  writeFileSync(file, projectorHtml(page));
  const variance = page.explainedVarianceRatio?.map((r, i) => `${page.axes[i]} ${(r * 100).toFixed(1)} %`).join(', ');
  console.log(
    `${n} test images at layer ${layer.name} (${features} features) -> ${o.method.toUpperCase()} ${dims}-D${variance ? ` (${variance})` : ''} in ${reductionSeconds.toFixed(1)} s; activations in ${activationSeconds.toFixed(1)} s`,
  );
  console.log(`wrote ${file}`);
  return file;
}
