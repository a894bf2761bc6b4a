import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { ShapeError, ValueError } from '../src/core/errors.js';
import {
  confusionMatrix,
  confusionPng,
  confusionSvg,
  curvesSvg,
  filterImages,
  imageGridPng,
  mistakeImages,
  reportHtml,
  svgToPng,
} from '../src/node/report/index.js';
import { randomValues } from './helpers.js';

// ---- independent checkers ----------------------------------------------------------------

/** A small XML well-formedness check: every tag balanced, attributes quoted, no raw '<' or stray '&' in text. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    assert.ok(!text.includes('<'), `malformed tag near: ${body.slice(m.index - 40, m.index)}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text), `stray '&' in text: ${text.slice(0, 60)}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name);
  }
  assert.equal(body.slice(last).trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], 'unclosed elements');
}

/** Width and height from the PNG signature and IHDR chunk, read by hand. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), 'IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function decode(png: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(png));
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Text contents of all <text> elements (entities decoded). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

interface Point {
  x: number;
  y: number;
  fill: string;
}

/** The point symbols of each panel's symbol mark, in document order. */
function panelPoints(svg: string): Point[][] {
  return [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].map((group) =>
    [...group[1].matchAll(/<path[^>]*transform="translate\(([-\d.e]+),([-\d.e]+)\)"[^>]*fill="([^"]+)"/g)].map((p) => ({
      x: Number(p[1]),
      y: Number(p[2]),
      fill: p[3],
    })),
  );
}

/** Asserts y_i = a + b * v_i for all i (the chart's linear scale), with b < 0 (up is larger). */
function assertAffine(ys: number[], values: number[], what: string): void {
  const i = values.indexOf(Math.min(...values));
  const j = values.indexOf(Math.max(...values));
  const b = (ys[j] - ys[i]) / (values[j] - values[i]);
  assert.ok(b < 0, `${what}: larger values are drawn higher`);
  ys.forEach((y, k) => assert.ok(Math.abs(y - (ys[i] + b * (values[k] - values[i]))) < 1e-6, `${what}: point ${k} at y=${y}`));
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;

function randomHistory(epochs: number, seed: number): { epoch: number[]; history: Record<string, number[]> } {
  return {
    epoch: Array.from({ length: epochs }, (_, i) => i),
    history: {
      loss: randomValues(epochs, seed, 0.1, 2).map(round),
      accuracy: randomValues(epochs, seed + 1, 0.5, 1).map(round),
      val_loss: randomValues(epochs, seed + 2, 0.1, 2).map(round),
      val_accuracy: randomValues(epochs, seed + 3, 0.5, 1).map(round),
    },
  };
}

// ---- tests ---------------------------------------------------------------------------------

describe('report: training curves', () => {
  it('is well-formed SVG with titles, legend and one point per epoch per series at the right height', async () => {
    const h = randomHistory(5, 11);
    const svg = await curvesSvg(h, { title: 'Run <1> & co' });
    assertWellFormedXml(svg);
    const t = texts(svg);
    for (const label of ['Epoch', 'Loss', 'Accuracy', 'training', 'validation', 'Run <1> & co']) {
      assert.ok(t.includes(label), `text '${label}' present`);
    }
    assert.equal(t.filter((s) => s === 'Epoch').length, 2, 'each panel has an x-axis title');
    const panels = panelPoints(svg);
    assert.equal(panels.length, 2, 'a loss panel and an accuracy panel');
    const series = [
      ['loss', 'val_loss'],
      ['accuracy', 'val_accuracy'],
    ];
    panels.forEach((points, p) => {
      assert.equal(points.length, 10, 'five epochs x two series');
      const fills = [...new Set(points.map((q) => q.fill))];
      assert.equal(fills.length, 2, 'training and validation have distinct colours');
      fills.forEach((fill, s) => {
        const pts = points.filter((q) => q.fill === fill);
        assert.equal(pts.length, 5);
        // Epochs evenly spaced left to right.
        const dx = pts[1].x - pts[0].x;
        assert.ok(dx > 0);
        pts.forEach((q, k) => assert.ok(Math.abs(q.x - (pts[0].x + k * dx)) < 1e-6));
        assertAffine(
          pts.map((q) => q.y),
          h.history[series[p][s]],
          series[p][s],
        );
      });
    });
  });

  it('skips non-finite values and rejects bad histories and options', async () => {
    const h = randomHistory(4, 3);
    h.history.val_loss[2] = NaN;
    const panels = panelPoints(await curvesSvg(h));
    assert.equal(panels[0].length, 7, 'the NaN epoch is left out');
    await assert.rejects(async () => curvesSvg({ epoch: [0, 1], history: { loss: [1] } }), ShapeError);
    await assert.rejects(async () => curvesSvg({ epoch: [], history: {} }), ValueError);
    await assert.rejects(async () => curvesSvg(h, { titel: 'x' } as never), ValueError);
  });

  it('renders to a PNG of the requested or doubled size, with text drawn', async () => {
    const svg = await curvesSvg(randomHistory(5, 5));
    const { width, height } = svgSize(svg);
    const png = await svgToPng(svg, { width: 700 });
    assert.deepEqual(pngSize(png), { width: 700, height: Math.round((700 * height) / width) });
    const doubled = await svgToPng(svg);
    assert.deepEqual(pngSize(doubled), { width: 2 * width, height: 2 * height });
    // The left strip holds only the y-axis title and labels: dark pixels there mean fonts were found.
    const img = decode(png);
    let dark = 0;
    for (let y = 0; y < img.height; y++) for (let x = 0; x < 40; x++) if (img.data[(y * img.width + x) * 4] < 100) dark++;
    assert.ok(dark > 20, `axis text rendered (${dark} dark pixels)`);
    await assert.rejects(async () => svgToPng('not svg'), ValueError);
    await assert.rejects(async () => svgToPng(svg, { width: 0 }), ValueError);
  });
});

describe('report: confusion matrix', () => {
  it('counts a hand-computed case', () => {
    // pairs (t,p): (0,0) (0,1) (1,1) (2,0) (2,2) (2,2) (1,1)
    const m = confusionMatrix(new Int32Array([0, 0, 1, 2, 2, 2, 1]), [0, 1, 1, 0, 2, 2, 1], 3);
    assert.deepEqual(m, [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
  });

  it('matches pair counting on random labels and rejects bad input', () => {
    const n = 500;
    const yTrue = randomValues(n, 21, 0, 7).map(Math.floor);
    const yPred = randomValues(n, 22, 0, 7).map(Math.floor);
    const counts = new Map<string, number>();
    yTrue.forEach((t, i) => counts.set(`${t},${yPred[i]}`, (counts.get(`${t},${yPred[i]}`) ?? 0) + 1));
    const m = confusionMatrix(yTrue, yPred, 7);
    for (let t = 0; t < 7; t++) for (let p = 0; p < 7; p++) assert.equal(m[t][p], counts.get(`${t},${p}`) ?? 0);
    assert.throws(() => confusionMatrix([0, 1], [0], 2), ShapeError);
    assert.throws(() => confusionMatrix([0, 2], [0, 1], 2), ValueError);
    assert.throws(() => confusionMatrix([0, 1.5], [0, 1], 2), ValueError);
  });

  it('draws every count and class name, and renders to PNG', async () => {
    const names = ['cat', 'dog', 'bird <x>', 'fish'];
    const m = confusionMatrix(randomValues(200, 31, 0, 4).map(Math.floor), randomValues(200, 32, 0, 4).map(Math.floor), 4);
    const svg = await confusionSvg(m, names);
    assertWellFormedXml(svg);
    const cellTexts = [...svg.matchAll(/<g class="mark-text role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].flatMap((g) => texts(g[1]));
    assert.deepEqual(
      cellTexts.map(Number).sort((a, b) => a - b),
      m.flat().sort((a, b) => a - b),
    );
    const t = texts(svg);
    for (const label of [...names, 'True class', 'Predicted class']) assert.ok(t.includes(label), `'${label}' shown`);
    const png = await confusionPng(m, names);
    const { width, height } = svgSize(svg);
    assert.deepEqual(pngSize(png), { width: 2 * width, height: 2 * height });
    assert.equal(decode(png).width, 2 * width);
    await assert.rejects(async () => confusionPng([[1, 2]], ['a', 'b']), ShapeError);
  });
});

describe('report: image grids', () => {
  // Layout constants of images.ts: 14 px margins, 14 px between columns, 10 px between rows.
  const MARGIN = 14;
  const GAP_X = 14;
  const GAP_Y = 10;

  it('places each image pixel, enlarged, at its grid cell', async () => {
    const images = Array.from({ length: 5 }, (_, i) => ({ pixels: randomValues(28 * 28, 40 + i, -0.2, 1.2), height: 28, width: 28 }));
    const scale = 2;
    const png = await imageGridPng(images, { columns: 3, scale });
    const tile = 28 * scale;
    const expected = { width: 2 * MARGIN + 3 * tile + 2 * GAP_X, height: 2 * MARGIN + 2 * tile + GAP_Y };
    assert.deepEqual(pngSize(png), expected);
    const img = decode(png);
    images.forEach((im, i) => {
      const x0 = MARGIN + (i % 3) * (tile + GAP_X);
      const y0 = MARGIN + Math.floor(i / 3) * (tile + GAP_Y);
      for (let k = 0; k < 28 * 28; k += 7) {
        const want = Math.round(Math.min(1, Math.max(0, im.pixels[k])) * 255);
        for (const [dy, dx] of [
          [0, 0],
          [1, 1],
        ]) {
          const o = ((y0 + Math.floor(k / 28) * scale + dy) * img.width + x0 + (k % 28) * scale + dx) * 4;
          assert.deepEqual([img.data[o], img.data[o + 1], img.data[o + 2], img.data[o + 3]], [want, want, want, 255], `image ${i} pixel ${k}`);
        }
      }
    });
  });

  it("normalizes each image to its own range with normalize: 'each'", async () => {
    const pixels = randomValues(25, 50, -3, 5);
    const lo = Math.min(...pixels);
    const hi = Math.max(...pixels);
    const img = decode(await imageGridPng([{ pixels, height: 5, width: 5 }], { scale: 1, normalize: 'each' }));
    pixels.forEach((v, k) => {
      const o = ((MARGIN + Math.floor(k / 5)) * img.width + MARGIN + (k % 5)) * 4;
      assert.equal(img.data[o], Math.round(((v - lo) / (hi - lo)) * 255));
    });
  });

  it('renders captions and a title below and above the tiles', async () => {
    const images = Array.from({ length: 4 }, (_, i) => ({
      pixels: new Float32Array(28 * 28).fill(0.5),
      height: 28,
      width: 28,
      caption: `${i} → ${i + 1}`,
    }));
    const plain = pngSize(
      await imageGridPng(
        images.map(({ caption: _c, ...im }) => im),
        { columns: 4 },
      ),
    );
    const captioned = await imageGridPng(images, { columns: 4 });
    const size = pngSize(captioned);
    assert.equal(size.width, plain.width, 'short captions fit under the tiles');
    assert.ok(size.height > plain.height, 'captions add a band below the tiles');
    const img = decode(captioned);
    // Dark pixels in the caption band (below the 84-px tiles) mean the text was drawn with a font.
    let dark = 0;
    for (let y = MARGIN + 84 + 2; y < img.height; y++) for (let x = 0; x < img.width; x++) if (img.data[(y * img.width + x) * 4] < 100) dark++;
    assert.ok(dark > 30, `captions rendered (${dark} dark pixels)`);
    const titled = pngSize(await imageGridPng(images, { columns: 4, title: 'Mistakes' }));
    assert.ok(titled.height > size.height);
  });

  it('accepts RGB images and rejects bad sizes and options', async () => {
    const rgb = { pixels: randomValues(4 * 4 * 3, 60, 0, 1), height: 4, width: 4 };
    const img = decode(await imageGridPng([rgb], { scale: 1 }));
    const o = (MARGIN * img.width + MARGIN) * 4;
    assert.deepEqual(
      [img.data[o], img.data[o + 1], img.data[o + 2]],
      rgb.pixels.slice(0, 3).map((v) => Math.round(v * 255)),
    );
    await assert.rejects(async () => imageGridPng([{ pixels: [1, 2, 3], height: 2, width: 2 }]), ShapeError);
    await assert.rejects(async () => imageGridPng([]), ValueError);
    await assert.rejects(async () => imageGridPng([rgb], { normalize: 'all' as never }), ValueError);
    await assert.rejects(async () => imageGridPng([rgb], { cols: 2 } as never), ValueError);
  });

  it('filterImages takes one [kh, kw] slice per output filter (mean over input channels)', () => {
    const [kh, kw, cin, cout] = [3, 2, 2, 4];
    const flatValues = randomValues(kh * kw * cin * cout, 70);
    let n = 0;
    const nested = Array.from({ length: kh }, () =>
      Array.from({ length: kw }, () => Array.from({ length: cin }, () => Array.from({ length: cout }, () => flatValues[n++]))),
    );
    const images = filterImages(flatValues, [kh, kw, cin, cout]);
    assert.equal(images.length, cout);
    images.forEach((im, o) => {
      assert.deepEqual([im.height, im.width], [kh, kw]);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const mean = (nested[y][x][0][o] + nested[y][x][1][o]) / 2;
          assert.ok(Math.abs(im.pixels[y * kw + x] - mean) < 1e-6);
        }
    });
    const rgb = filterImages(randomValues(2 * 2 * 3 * 1, 71), [2, 2, 3, 1]);
    assert.equal(rgb[0].pixels.length, 12, 'three input channels stay RGB');
    assert.throws(() => filterImages([1, 2, 3], [1, 1, 2, 2]), ShapeError);
  });

  it('mistakeImages keeps only misclassified samples, captioned true → predicted', () => {
    const x = Float32Array.from(randomValues(6 * 2 * 2, 80, 0, 1));
    const yTrue = [0, 1, 2, 0, 1, 2];
    const yPred = [0, 2, 2, 1, 1, 0];
    const images = mistakeImages(x, [6, 2, 2, 1], yTrue, yPred, ['cat', 'dog', 'bird']);
    assert.deepEqual(
      images.map((im) => im.caption),
      ['dog → bird', 'cat → dog', 'bird → cat'],
    );
    assert.deepEqual([...images[1].pixels], [...x.slice(12, 16)]);
    assert.equal(mistakeImages(x, [6, 2, 2, 1], yTrue, yPred, [], 2).length, 2, 'limit');
    assert.equal(mistakeImages(x, [6, 2, 2, 1], yTrue, yPred, [])[0].caption, '1 → 2', 'indices without names');
  });
});

describe('report: HTML page', () => {
  const parts = {
    title: 'Run <script>alert(1)</script>',
    summary: 'Layer "dense" <script>x</script> & more',
    metrics: { 'val_<b>acc</b>': 0.87654321, loss: 0.25 },
    epochSeconds: [1.5, 2.5],
    images: [
      { title: 'Curves <i>', file: 'curves.svg' },
      { title: 'Confusion', file: 'confusion.png', width: 600 },
    ],
  };

  it('escapes all text and links the images', () => {
    const html = reportHtml(parts);
    assert.ok(!html.includes('<script>'), 'no raw script tag');
    assert.ok(!html.includes('<b>') && !html.includes('<i>'));
    assert.ok(html.includes('Run &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('Layer &quot;dense&quot; &lt;script&gt;x&lt;/script&gt; &amp; more'));
    assert.ok(html.includes('<img src="curves.svg" alt="Curves &lt;i&gt;">'));
    assert.ok(html.includes('<img src="confusion.png" width="600" alt="Confusion">'));
    assert.ok(html.includes('0.8765'), 'metrics to 4 significant digits');
    assert.ok(html.includes('4.00'), 'total time of the epochs');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
  });

  it('refuses links outside the run folder and bad timings', () => {
    assert.throws(() => reportHtml({ ...parts, images: [{ title: 'x', file: 'javascript:alert(1)' }] }), ValueError);
    assert.throws(() => reportHtml({ ...parts, images: [{ title: 'x', file: '/etc/passwd' }] }), ValueError);
    assert.throws(() => reportHtml({ ...parts, epochSeconds: [NaN] }), ValueError);
    assert.throws(() => reportHtml({ ...parts, images: [{ title: 'x', file: 'a.png', width: -1 }] }), ValueError);
  });
});
