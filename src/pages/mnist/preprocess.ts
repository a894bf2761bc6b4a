// A drawing made into an MNIST digit, the way the MNIST images were made from NIST's: the ink's
// bounding box scaled (aspect ratio kept, averaging the pixels each output pixel covers, which is
// the antialiasing) so its larger side is 20 px, then put into a 28x28 field so that its center of
// mass lands on pixel (14, 14). The MNIST test images' centers of mass average (14.0, 14.0) in
// pixel indices, so that is the point, not the field's geometric middle (13.5). White ink on black,
// values in [0, 1]. Pure functions: nothing here touches the DOM or Strata.

export const SIDE = 28;
/** The larger side of the ink's box after scaling, as in MNIST. */
const BOX = 20;
/** Below this a pixel is background when looking for the ink's bounding box (canvas antialiasing leaves faint edges). */
const INK = 0.05;

/** A single-channel image, row-major, values in [0, 1]. */
export interface Gray {
  width: number;
  height: number;
  values: Float32Array;
}

/** The brightness of RGBA pixels (a canvas's ImageData), in [0, 1]. */
export function grayscale(rgba: Uint8ClampedArray, width: number, height: number): Gray {
  const values = new Float32Array(width * height);
  for (let i = 0; i < values.length; i++) values[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
  return { width, height, values };
}

/** The smallest box holding every pixel brighter than INK, or undefined for a blank image. */
export function inkBox(g: Gray): { x: number; y: number; width: number; height: number } | undefined {
  let x0 = g.width,
    y0 = g.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      if (g.values[y * g.width + x] <= INK) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * For each of `m` output cells spanning `n` input cells, the input cells it covers and how much of
 * each (the weights sum to 1): a box filter, exact for any ratio, shrinking or growing.
 */
function coverage(n: number, m: number): { index: number; weight: number }[][] {
  const step = n / m;
  const cells: { index: number; weight: number }[][] = [];
  for (let o = 0; o < m; o++) {
    const start = o * step;
    const end = start + step;
    const parts: { index: number; weight: number }[] = [];
    for (let i = Math.floor(start); i < Math.min(n, Math.ceil(end)); i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 0) parts.push({ index: i, weight: overlap / step });
    }
    cells.push(parts);
  }
  return cells;
}

/** The part of `g` inside the box, resized to `width` x `height` by area averaging (rows, then columns). */
export function resizeArea(g: Gray, box: { x: number; y: number; width: number; height: number }, width: number, height: number): Gray {
  const across = coverage(box.width, width);
  const down = coverage(box.height, height);
  const rows = new Float32Array(box.height * width);
  for (let y = 0; y < box.height; y++) {
    const row = (box.y + y) * g.width + box.x;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const { index, weight } of across[x]) sum += g.values[row + index] * weight;
      rows[y * width + x] = sum;
    }
  }
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const { index, weight } of down[y]) sum += rows[index * width + x] * weight;
      values[y * width + x] = sum;
    }
  }
  return { width, height, values };
}

/** The center of mass (brightness-weighted mean position, in pixel indices). */
export function centerOfMass(g: Gray): { x: number; y: number } {
  let mass = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      const v = g.values[y * g.width + x];
      mass += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return mass > 0 ? { x: sx / mass, y: sy / mass } : { x: (g.width - 1) / 2, y: (g.height - 1) / 2 };
}

/** The 28x28 MNIST-style input for a drawing (white ink on black), or undefined when nothing is drawn. */
export function toMnist(g: Gray): Float32Array | undefined {
  const box = inkBox(g);
  if (!box) return undefined;
  const scale = BOX / Math.max(box.width, box.height);
  const digit = resizeArea(g, box, Math.max(1, Math.round(box.width * scale)), Math.max(1, Math.round(box.height * scale)));
  const center = centerOfMass(digit);
  // Whole-pixel shifts, as MNIST's own centering: a fractional one would blur the strokes.
  const dx = Math.round(SIDE / 2 - center.x);
  const dy = Math.round(SIDE / 2 - center.y);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < digit.height; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= SIDE) continue;
    for (let x = 0; x < digit.width; x++) {
      const tx = x + dx;
      if (tx >= 0 && tx < SIDE) out[ty * SIDE + tx] = Math.min(1, digit.values[y * digit.width + x]);
    }
  }
  return out;
}
