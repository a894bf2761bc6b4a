// Keras 3's ContrastLimitedAdaptiveHistogramEqualization (CLAHE): histogram equalization per tile
// with clipped histograms, the tiles' lookup tables blended bilinearly per pixel. Deterministic,
// so applied at inference too, as Keras does. Images [H, W, C] or [N, H, W, C], channels last.
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, cast, clip, div, equal, minimum, mul, sub, where } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduction.js';
import { cumsum } from '../../ops/scan.js';
import { mirrorPad } from '../../ops/space.js';
import { concat, gather, reshape, slice, transpose } from '../../ops/shape-ops.js';
import { arange, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { ImageLayer } from './image-layer.js';

const BINS = 256;
/** Comparisons per chunk: bounds the [tiles, pixels, chunk] temporary of the histograms. */
const CHUNK_ELEMENTS = 1 << 22;

/** Histograms [B, 256] of the int32 byte values [B, P], counted on the device a chunk of bins at a time. */
function histograms(bytes: Tensor, dtype: Tensor['dtype']): Tensor {
  const [b, p] = bytes.shape;
  const values = reshape(bytes, [b, p, 1]);
  const chunk = Math.max(1, Math.min(BINS, Math.floor(CHUNK_ELEMENTS / (b * p))));
  const parts: Tensor[] = [];
  for (let b0 = 0; b0 < BINS; b0 += chunk) {
    const bins = Array.from({ length: Math.min(chunk, BINS - b0) }, (_, k) => b0 + k);
    parts.push(sum(cast(equal(values, tensor(bins, [1, 1, bins.length], 'int32')), dtype), 1));
  }
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

/** Repeats the first and last entries of `axis` once more on each side. */
function edgePad(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis];
  const at = (i: number) =>
    slice(
      x,
      x.shape.map((_, k) => (k === axis ? i : 0)),
      x.shape.map((s, k) => (k === axis ? 1 : s)),
    );
  return concat([at(0), x, at(n - 1)], axis);
}

/** Options of `st.layers.contrastLimitedAdaptiveHistogramEqualization`. */
export interface ClaheArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** Histogram counts above clipLimit · (tile pixels) / 256 are spread over all bins; 0 turns clipping off. Default 4. */
  clipLimit?: number;
  /** [rows, columns] of tiles. Default [8, 8]. */
  tileGridSize?: readonly [number, number];
}

/**
 * Contrast-limited adaptive histogram equalization (Keras 3.16's CLAHE layer). On the 0..255
 * scale the image is padded symmetrically (edge included) to a whole number of tiles of
 * ceil(H/rows) x ceil(W/cols); each tile's 256-bin histogram of trunc(x) is clipped at
 * clipLimit · tile pixels / 256 with the excess spread evenly, and turned into the lookup table
 * clip((cdf − cdf[0]) · 255 / (tile pixels − cdf[0]), 0, 255); each pixel's value is the bilinear
 * blend of the tables of the four tiles whose centres surround it (the tile grid extended by its
 * edge tables), then mapped back to valueRange.
 */
export class ContrastLimitedAdaptiveHistogramEqualization extends ImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ContrastLimitedAdaptiveHistogramEqualization';
  /** The range of the values. */
  readonly valueRange: [number, number];
  /** The clip limit (0: none). */
  readonly clipLimit: number;
  /** [rows, columns] of tiles. */
  readonly tileGridSize: [number, number];

  constructor(args: ClaheArgs = {}) {
    super(args as ClaheArgs & Record<string, unknown>, ['valueRange', 'clipLimit', 'tileGridSize']);
    const v = args.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] === v[1])
      throw new ValueError(`${this.name}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(args.valueRange)}`);
    this.valueRange = v[0] < v[1] ? [v[0], v[1]] : [v[1], v[0]];
    const limit = args.clipLimit ?? 4;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 0)
      throw new ValueError(`${this.name}: clipLimit must be a non-negative number; received ${fmtValue(args.clipLimit)}`);
    this.clipLimit = limit;
    const g = args.tileGridSize ?? [8, 8];
    if (!Array.isArray(g) || g.length !== 2 || !g.every((x) => Number.isInteger(x) && x > 0))
      throw new ValueError(`${this.name}: tileGridSize must be two positive integers [rows, columns]; received ${fmtValue(args.tileGridSize)}`);
    this.tileGridSize = [g[0], g[1]];
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    const [n, h, w, c] = images.shape;
    const [gh, gw] = this.tileGridSize;
    const th = Math.ceil(h / gh),
      tw = Math.ceil(w / gw);
    const hp = th * gh,
      wp = tw * gw;
    if (hp - h > h || wp - w > w)
      throw new ValueError(
        `${this.name}: images of ${h}x${w} are too small for a ${gh}x${gw} tile grid (the symmetric padding needs at most the image's size)`,
      );
    const [vlo, vhi] = this.valueRange;
    const dtype = images.dtype;
    const scaled = mul(sub(images, vlo), 255 / (vhi - vlo));
    const padded =
      hp === h && wp === w
        ? scaled
        : mirrorPad(
            scaled,
            [
              [0, 0],
              [0, hp - h],
              [0, wp - w],
              [0, 0],
            ],
            'symmetric',
          );
    const bytes = clip(cast(padded, 'int32'), 0, 255);
    // Tiles [N, gh, gw, C, th·tw].
    const tiles = reshape(transpose(reshape(bytes, [n, gh, th, gw, tw, c]), [0, 1, 3, 5, 2, 4]), [n * gh * gw * c, th * tw]);
    let hist = histograms(tiles, dtype);
    const pixels = th * tw;
    if (this.clipLimit > 0) {
      const clipped = minimum(hist, (this.clipLimit * pixels) / BINS);
      hist = add(clipped, div(sum(sub(hist, clipped), 1, true), BINS));
    }
    const cdf = cumsum(hist, 1);
    const first = slice(cdf, [0, 0], [cdf.shape[0], 1]);
    const spread = sub(pixels, first);
    const table = clip(div(mul(sub(cdf, first), 255), where(equal(spread, 0), 1, spread)), 0, 255);
    const grid = edgePad(edgePad(reshape(table, [n, gh, gw, c, BINS]), 1), 2);
    const flat = reshape(grid, [grid.size]);
    // Each padded row y blends the tables of grid rows y0 and y0 + 1 (the grid extended by one).
    const axis = (size: number, tile: number, tilesOnAxis: number) => {
      const lo: number[] = [],
        hi: number[] = [],
        wt: number[] = [];
      for (let i = 0; i < size; i++) {
        const g = (i - tile / 2) / tile + 1;
        const g0 = Math.floor(g);
        wt.push(g - g0);
        lo.push(Math.min(Math.max(g0, 0), tilesOnAxis + 1));
        hi.push(Math.min(Math.max(g0 + 1, 0), tilesOnAxis + 1));
      }
      return { lo, hi, wt };
    };
    const rows = axis(hp, th, gh),
      cols = axis(wp, tw, gw);
    const strideX = BINS * c,
      strideY = strideX * (gw + 2),
      strideB = strideY * (gh + 2);
    const base = add(
      add(mul(reshape(arange(0, n, 1, 'int32'), [n, 1, 1, 1]), strideB), mul(reshape(arange(0, c, 1, 'int32'), [1, 1, 1, c]), BINS)),
      bytes,
    );
    const rowOffset = (g: number[]) =>
      tensor(
        g.map((v) => v * strideY),
        [1, hp, 1, 1],
        'int32',
      );
    const colOffset = (g: number[]) =>
      tensor(
        g.map((v) => v * strideX),
        [1, 1, wp, 1],
        'int32',
      );
    const look = (r: number[], q: number[]) => gather(flat, add(add(base, rowOffset(r)), colOffset(q)));
    const wy = tensor(rows.wt, [1, hp, 1, 1], dtype),
      wx = tensor(cols.wt, [1, 1, wp, 1], dtype);
    const top = add(mul(look(rows.lo, cols.lo), sub(1, wx)), mul(look(rows.lo, cols.hi), wx));
    const bottom = add(mul(look(rows.hi, cols.lo), sub(1, wx)), mul(look(rows.hi, cols.hi), wx));
    const blended = add(mul(top, sub(1, wy)), mul(bottom, wy));
    const cropped = hp === h && wp === w ? blended : slice(blended, [0, 0, 0, 0], [n, h, w, c]);
    return this.fromBatch(add(mul(cropped, (vhi - vlo) / 255), vlo), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), valueRange: this.valueRange, clipLimit: this.clipLimit, tileGridSize: this.tileGridSize };
  }
}

registerLayer('ContrastLimitedAdaptiveHistogramEqualization', (c) => new ContrastLimitedAdaptiveHistogramEqualization(c as ClaheArgs));
