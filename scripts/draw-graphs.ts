// Draws the README's pictures of computational graphs with st.graph.toSvg, each also as PNG for
// viewers that show no SVG:
// - the course's z = x*y + 5*y + 5, forward (docs/images/graph-xy.svg) and with the backward pass
//   (docs/images/graph-xy-gradients.svg);
// - the loss of a small classifier (dense relu 3→4, dense softmax 4→2, sparse categorical
//   cross-entropy on 5 examples) with its backward pass, weights named by their paths
//   (docs/images/graph-mlp-loss.svg): the tape as recorded, every primitive of every layer.
// Run: npx tsx scripts/draw-graphs.ts
import { writeFileSync } from 'node:fs';
import * as st from '../src/index.js';
import { svgToPng } from '../src/node/report/index.js';

/** Writes the SVG and a PNG (twice the SVG's size, or `width` pixels wide for a tall graph). */
async function save(file: string, svg: string, width?: number): Promise<void> {
  writeFileSync(`docs/images/${file}.svg`, svg);
  writeFileSync(`docs/images/${file}.png`, await svgToPng(svg, width === undefined ? {} : { width }));
  console.log(`docs/images/${file}.svg, .png`);
}

st.setBackend('reference');
st.setSeed(0);
const x = st.variable(st.tensor(2));
const y = st.variable(st.tensor(3));
const z = st.add(st.add(st.mul(x, y), st.mul(5, y)), 5);
await save('graph-xy', await st.graph.toSvg(z, { names: { x, y, z } }));
await save('graph-xy-gradients', await st.graph.toSvg(z, { names: { x, y, z }, gradients: true }));

const model = st.sequential({
  layers: [st.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), st.layers.dense({ units: 2, activation: 'softmax' })],
});
const loss = st.losses.sparseCategoricalCrossentropy(st.tensor([0, 1, 0, 1, 1], [5], 'int32'), model.apply(st.randomNormal([5, 3])) as st.Tensor);
await save('graph-mlp-loss', await st.graph.toSvg(loss, { names: model.weights, gradients: true }), 1000);
