// `strata inspect RUN --layer NAME [--image FILE] [--out DIR]`: one layer of a trained image
// classifier made visible. Its activations for an image (one tile per channel, on one gray scale
// so that strong and weak channels can be compared) and, for a convolution, its filters (one tile
// per output filter, each stretched to its own range, since a filter's sign pattern is what
// matters). The network is cut at the layer the Keras way: a model from its input to the layer's
// output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as st from '../index.js';
import { filterImages, imageGridPng, type GridImage } from '../node/report/index.js';
import { absoluteSpec, loadDataset } from './datasets.js';
import { readRecord } from './run-record.js';

export interface InspectOptions {
  layer: string;
  image?: string;
  out?: string;
}

/** The layer called `name`, or an error that lists the model's layers. */
function findLayer(model: st.Model, name: string, dir: string): st.Layer {
  const layers = model.layers.filter((l) => l.className !== 'InputLayer');
  const found = layers.find((l) => l.name === name);
  if (!found) throw new st.ValueError(`inspect: no layer '${name}' in the model in ${dir}; its layers are ${layers.map((l) => l.name).join(', ')}`);
  return found;
}

/** The image to look through: the file given, or the first test image of the run's dataset. */
async function inputImage(dir: string, o: InspectOptions, size: [number, number], channels: number): Promise<{ image: st.Tensor; what: string }> {
  if (o.image !== undefined) {
    try {
      return { image: await st.data.readImage(o.image, { size, channels: channels === 3 ? 3 : 1 }), what: basename(o.image) };
    } catch (e) {
      throw new st.ValueError(`inspect: --image ${o.image} is not an image strata can read (PNG or JPEG): ${(e as Error).message}`);
    }
  }
  const record = readRecord(dir);
  const spec = absoluteSpec(record?.dataset ?? 'mnist');
  const data = await loadDataset(spec, { limit: 1, imageSize: size, grayscale: channels !== 3, labelColumn: record?.labelColumn });
  const label = (await st.slice(data.yTest, [0], [1]).data())[0];
  const className = record?.classNames[label] ?? String(label);
  return { image: st.slice(data.xTest, [0], [1]).reshape(data.xTest.shape.slice(1)), what: `the first test image of ${data.name} (${className})` };
}

/** A batch of activations [1, ..., c] as tiles: one per channel of a feature map, or one grid of a vector's units. */
async function activationTiles(activation: st.Tensor): Promise<{ tiles: GridImage[]; description: string; min: number; max: number }> {
  const shape = activation.shape;
  const values = Float32Array.from(await activation.data());
  let min = Infinity,
    max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max > min ? max - min : 1;
  const scaled = values.map((v) => (v - min) / span);
  if (shape.length === 4) {
    const [, h, w, c] = shape;
    const tiles = Array.from({ length: c }, (_, k) => {
      const pixels = new Float32Array(h * w);
      for (let p = 0; p < h * w; p++) pixels[p] = scaled[p * c + k];
      return { pixels, height: h, width: w, caption: `#${k}` };
    });
    return { tiles, description: `${c} channels of ${h}x${w}`, min, max };
  }
  // A vector (a dense layer, pooled features): its units row by row in one near-square tile.
  const n = scaled.length;
  const width = Math.ceil(Math.sqrt(n));
  const height = Math.ceil(n / width);
  const pixels = new Float32Array(width * height);
  pixels.set(scaled);
  return { tiles: [{ pixels, height, width, caption: `${n} units, row by row` }], description: `${n} units`, min, max };
}

const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3));

/** Writes the layer's activations for one image and, for a convolution, its filters; prints what it wrote. */
export async function inspectRun(dir: string, o: InspectOptions): Promise<void> {
  const model = await st.loadModel(dir, { compile: false });
  const record = readRecord(dir);
  if (record?.samples === 'rows')
    throw new st.ValueError(`inspect: the model in ${dir} was trained on csv rows (${record.dataset}); inspect draws what a layer sees of an image`);
  const shape = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || shape?.length !== 4 || shape.slice(1).some((d) => d === null))
    throw new st.ValueError(`inspect: the model in ${dir} does not take images of a fixed size (input ${JSON.stringify(shape)})`);
  const [, h, w, c] = shape as number[];
  const layer = findLayer(model, o.layer, dir);
  const out = resolve(o.out ?? join(dir, 'inspect', layer.name));
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  const write = (name: string, png: Uint8Array, what: string) => {
    const path = join(out, name);
    writeFileSync(path, png);
    written.push(`${path}: ${what}`);
  };

  const { image, what } = await inputImage(dir, o, [h, w], c);
  write(
    'input.png',
    await imageGridPng([{ pixels: Float32Array.from(await image.data()), height: h, width: w }], { scale: 4 }),
    `the image (${what})`,
  );

  // Keras's cut: a model from the network's input to the layer's output.
  const cut = st.model({ inputs: model.inputs, outputs: layer.output as st.SymbolicTensor });
  const activation = cut.predict(image.expandDims(0)) as st.Tensor;
  const a = await activationTiles(activation);
  write(
    `${layer.name}-activations.png`,
    await imageGridPng(a.tiles, {
      columns: Math.min(a.tiles.length, 16),
      title: `${layer.name} (${layer.className}) on ${what}`,
      subtitle: `${a.description}; one gray scale for all: black ${fmt(a.min)}, white ${fmt(a.max)}`,
    }),
    `activations, ${a.description}, from ${fmt(a.min)} (black) to ${fmt(a.max)} (white)`,
  );

  const kernel = layer.getWeights()[0];
  if (kernel?.rank === 4 && layer.className.startsWith('Conv')) {
    const [kh, kw, cin, cout] = kernel.shape;
    const tiles = filterImages(Float32Array.from(await kernel.data()), kernel.shape).map((t, k) => ({ ...t, caption: `#${k}` }));
    const shown = cin === 3 ? 'in colour (the 3 input channels as RGB)' : cin === 1 ? '' : `the mean over its ${cin} input channels`;
    write(
      `${layer.name}-filters.png`,
      await imageGridPng(tiles, {
        columns: Math.min(cout, 16),
        normalize: 'each',
        title: `${layer.name}: ${cout} filters of ${kh}x${kw}`,
        subtitle: `each stretched to its own range (black most negative, white most positive)${shown ? `; ${shown}` : ''}`,
      }),
      `filters, ${cout} of ${kh}x${kw}x${cin}`,
    );
  }
  console.log(`inspect ${layer.name} (${layer.className}, output ${JSON.stringify(activation.shape.slice(1))}):`);
  for (const line of written) console.log(`  ${line}`);
}
