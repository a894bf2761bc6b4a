// Draws the README's pictures of the course's computational graph, z = x*y + 5*y + 5, with
// st.graph.toSvg: the forward pass (docs/images/graph-xy.svg) and the forward and backward
// passes (docs/images/graph-xy-gradients.svg), each also as PNG for viewers that show no SVG.
// Run: npx tsx scripts/draw-graph-xy.ts
import { writeFileSync } from 'node:fs';
import * as st from '../src/index.js';
import { svgToPng } from '../src/report/index.js';

const x = st.variable(st.tensor(2));
const y = st.variable(st.tensor(3));
const z = st.add(st.add(st.mul(x, y), st.mul(5, y)), 5);
for (const [file, gradients] of [
  ['graph-xy', false],
  ['graph-xy-gradients', true],
] as const) {
  const svg = await st.graph.toSvg(z, { names: { x, y, z }, gradients });
  writeFileSync(`docs/images/${file}.svg`, svg);
  writeFileSync(`docs/images/${file}.png`, await svgToPng(svg));
  console.log(`docs/images/${file}.svg, .png`);
}
