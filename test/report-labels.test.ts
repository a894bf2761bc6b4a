// Labels of the run pictures that people read first (issue 15): the confusion matrix's class
// names under its columns, and the key of an image grid's captions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { confusionSvg, imageGridPng } from '../src/node/report/index.js';
import { textWidth } from '../src/node/report/text.js';

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The x-axis labels of a confusion matrix: each label's transform, lines and x position. */
function columnLabels(svg: string): { transform: string; lines: string[]; x: number; size: number }[] {
  const groups = [...svg.matchAll(/<g class="mark-text role-axis-label[^"]*"[^>]*>(.*?)<\/g>/g)].map((g) => g[1]);
  // Vega draws the x axis (columns) first, then the y axis.
  const texts = [...groups[0].matchAll(/<text([^>]*)>(.*?)<\/text>/g)];
  return texts.map(([, attributes, body]) => {
    const transform = /transform="([^"]*)"/.exec(attributes)?.[1] ?? '';
    const tspans = [...body.matchAll(/<tspan[^>]*>(.*?)<\/tspan>/g)].map((m) => m[1]);
    return {
      transform,
      lines: tspans.length ? tspans : [body],
      x: Number(/translate\(([-\d.]+)/.exec(transform)?.[1]),
      size: Number(/font-size="([\d.]+)px"/.exec(attributes)?.[1]),
    };
  });
}

describe('confusion matrix labels', () => {
  const matrix = (k: number) => Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 50 : 2)));

  for (const [what, names] of [
    ['digits', DIGITS],
    ["Fashion-MNIST's class names", FASHION],
  ] as const) {
    it(`${what} stand upright under their columns and fit between their neighbours`, async () => {
      const labels = columnLabels(await confusionSvg(matrix(names.length), [...names]));
      assert.equal(labels.length, names.length);
      labels.forEach((l, i) => {
        assert.doesNotMatch(l.transform, /rotate\((?!0\))/, `${names[i]} is not rotated: ${l.transform}`);
        assert.equal(l.lines.join(' ').replace(/\/ /g, '/'), names[i]);
      });
      const spacing = labels[1].x - labels[0].x;
      for (const l of labels) for (const line of l.lines) assert.ok(textWidth(line, l.size) <= spacing - 4, `'${line}' fits in ${spacing} px`);
    });
  }
});

describe('image grid key', () => {
  it('a subtitle adds a line of text between the title and the tiles', async () => {
    const images = Array.from({ length: 4 }, (_, i) => ({
      pixels: new Float32Array(28 * 28).fill(0.5),
      height: 28,
      width: 28,
      caption: `${i} → ${i + 1}`,
    }));
    const titled = PNG.sync.read(Buffer.from(await imageGridPng(images, { title: 'Mistakes' })));
    const keyed = PNG.sync.read(Buffer.from(await imageGridPng(images, { title: 'Mistakes', subtitle: 'true class → predicted class' })));
    assert.equal(keyed.width, titled.width);
    assert.ok(keyed.height > titled.height, 'the key takes a band of its own');
  });
});
