// Heat maps and points: a value in [-1, 1] is orange at -1, near-white at 0 and blue at +1 (the
// playground's colors), so the sign of a neuron's output or of the network's answer reads at a glance.
import { DOMAIN, type Point } from './datasets.js';

const NEGATIVE = [245, 147, 34];
const MIDDLE = [232, 234, 235];
const POSITIVE = [8, 119, 189];
const STEPS = 256;

/** RGB for each of STEPS values spread over [-1, 1]; computed once, looked up per pixel. */
const TABLE: Uint8ClampedArray = (() => {
  const t = new Uint8ClampedArray(STEPS * 3);
  for (let i = 0; i < STEPS; i++) {
    const v = (i / (STEPS - 1)) * 2 - 1;
    const [from, to, f] = v < 0 ? [MIDDLE, NEGATIVE, -v] : [MIDDLE, POSITIVE, v];
    for (let c = 0; c < 3; c++) t[i * 3 + c] = from[c] + (to[c] - from[c]) * f;
  }
  return t;
})();

function tableIndex(v: number): number {
  const clipped = v > 1 ? 1 : v < -1 ? -1 : Number.isNaN(v) ? 0 : v;
  return Math.round(((clipped + 1) / 2) * (STEPS - 1));
}

/** CSS color of a value, for points and weight lines. */
export function colorOf(v: number): string {
  const i = tableIndex(v) * 3;
  return `rgb(${TABLE[i]},${TABLE[i + 1]},${TABLE[i + 2]})`;
}

export interface HeatmapSource {
  /** Row-major values of an n × n grid (row 0 at the top), possibly one column of a wider matrix. */
  values: ArrayLike<number>;
  n: number;
  /** Values per grid point in `values` (a layer's units) and which of them to show. Default 1 and 0. */
  stride?: number;
  column?: number;
}

/**
 * Paints the grid into the canvas at `size` × `size` pixels, sampling the grid evenly (a 100 × 100
 * grid gives a 25 × 25 thumbnail with size 25); CSS scales the canvas to its place. Discretized
 * output shows only the sign, as a classifier's decision.
 */
export function paintHeatmap(canvas: HTMLCanvasElement, source: HeatmapSource, size: number, discretize = false): void {
  if (canvas.width !== size || canvas.height !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(size, size);
  const { values, n } = source;
  const stride = source.stride ?? 1;
  const column = source.column ?? 0;
  const px = image.data;
  for (let row = 0; row < size; row++) {
    const gridRow = Math.floor(((row + 0.5) * n) / size);
    for (let col = 0; col < size; col++) {
      const gridCol = Math.floor(((col + 0.5) * n) / size);
      let v = values[(gridRow * n + gridCol) * stride + column];
      if (discretize) v = v >= 0 ? 1 : -1;
      const t = tableIndex(v) * 3;
      const o = (row * size + col) * 4;
      px[o] = TABLE[t];
      px[o + 1] = TABLE[t + 1];
      px[o + 2] = TABLE[t + 2];
      px[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/**
 * Draws the points over a transparent canvas laid on the heat map: training points filled with a
 * white ring, test points (when shown) with a dark ring, as the playground tells them apart.
 */
export function paintPoints(canvas: HTMLCanvasElement, train: readonly Point[], test: readonly Point[] | undefined, radiusPx?: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const scale = width / (2 * DOMAIN);
  const radius = radiusPx ?? Math.max(2, width / 110);
  const dot = (p: Point, ring: string) => {
    const x = (p.x + DOMAIN) * scale;
    const y = (DOMAIN - p.y) * scale;
    if (x < -radius || y < -radius || x > width + radius || y > height + radius) return;
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fillStyle = colorOf(p.label);
    ctx.fill();
    ctx.strokeStyle = ring;
    ctx.stroke();
  };
  ctx.lineWidth = Math.max(1, width / 400);
  for (const p of train) dot(p, 'white');
  if (test) for (const p of test) dot(p, '#1f2328');
}
