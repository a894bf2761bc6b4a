// Keras 3's Equalization: histogram equalization of each channel of each image, deterministic and
// so applied at inference too. Images [H, W, C] or [N, H, W, C], channels last.
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, cast, clip, div, equal, greater, mul, round, sub, where } from '../../ops/elementwise.js';
import { min, sum } from '../../ops/reduction.js';
import { cumsum } from '../../ops/scan.js';
import { concat, gather, reshape, slice } from '../../ops/shape-ops.js';
import { arange, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { ImageLayer } from './image-layer.js';

/** Comparisons per chunk: bounds the [N, H·W, C, chunk] temporary of the histogram. */
const CHUNK_ELEMENTS = 1 << 22;

/**
 * The histograms [N, C, bins] of the bin indices [N, H·W, C, 1], counted on the device by
 * comparing with a chunk of bin values at a time (the GPU backends cannot bincount device values).
 */
function histograms(bin: Tensor, bins: number, dtype: Tensor['dtype']): Tensor {
  const [n, pixels, c] = bin.shape;
  const chunk = Math.max(1, Math.min(bins, Math.floor(CHUNK_ELEMENTS / (n * pixels * c))));
  const parts: Tensor[] = [];
  for (let b0 = 0; b0 < bins; b0 += chunk) {
    const values = Array.from({ length: Math.min(chunk, bins - b0) }, (_, k) => b0 + k);
    const hits = cast(equal(bin, tensor(values, [1, 1, 1, values.length], 'int32')), dtype);
    parts.push(sum(hits, 1));
  }
  return parts.length === 1 ? parts[0] : concat(parts, 2);
}

/** Options of `st.layers.equalization`. */
export interface EqualizationArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** The number of histogram bins, at least 2. Default 256. */
  bins?: number;
}

/**
 * Histogram equalization (Keras 3.16's Equalization). On the 0..255 scale, a value x falls in bin
 * trunc(x · (bins − 1)/255) (clipped to the bins); with the cumulative histogram cdf of the
 * channel and cdf_min its first non-zero entry, the value becomes
 * clip(round((cdf[bin] − cdf_min) · 255 / (cdf[last] − cdf_min)), 0, 255) (a zero denominator
 * counts as 1); a channel whose values fill at most one bin is left as it is.
 *
 * The histogram is taken per image and channel. Keras's layer flattens the whole batch's channel
 * into one histogram, so there an image's result depends on the images batched with it; for a
 * single image the two agree.
 */
export class Equalization extends ImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Equalization';
  /** The range of the values. */
  readonly valueRange: [number, number];
  /** The number of histogram bins. */
  readonly bins: number;

  constructor(args: EqualizationArgs = {}) {
    super(args as EqualizationArgs & Record<string, unknown>, ['valueRange', 'bins']);
    const v = args.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] === v[1])
      throw new ValueError(`${this.name}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(args.valueRange)}`);
    this.valueRange = v[0] < v[1] ? [v[0], v[1]] : [v[1], v[0]];
    const bins = args.bins ?? 256;
    if (!Number.isInteger(bins) || bins < 2) throw new ValueError(`${this.name}: bins must be an integer >= 2; received ${fmtValue(args.bins)}`);
    this.bins = bins;
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    const [n, h, w, c] = images.shape;
    const bins = this.bins;
    const [vlo, vhi] = this.valueRange;
    const bytes = mul(sub(images, vlo), 255 / (vhi - vlo));
    const bin = clip(cast(mul(bytes, (bins - 1) / 255), 'int32'), 0, bins - 1);
    // Each (image, channel) owns a block of `bins` entries of the flattened lookup table.
    const block = mul(reshape(arange(0, n * c, 1, 'int32'), [n, 1, 1, c]), bins);
    const flatBin = add(bin, block);
    const hist = reshape(histograms(reshape(bin, [n, h * w, c, 1]), bins, images.dtype), [n * c, bins]);
    const cdf = cumsum(hist, 1);
    const total = slice(cdf, [0, bins - 1], [n * c, 1]);
    // The first non-zero entry of the cdf is its smallest positive one.
    const cdfMin = min(where(greater(cdf, 0), cdf, add(total, 1)), 1, true);
    const spread = sub(total, cdfMin);
    const lookup = clip(round(div(mul(sub(cdf, cdfMin), 255), where(equal(spread, 0), 1, spread))), 0, 255);
    const equalized = reshape(gather(reshape(lookup, [n * c * bins]), flatBin), [n, h, w, c]);
    const usedBins = reshape(sum(cast(greater(hist, 0), images.dtype), 1), [n, 1, 1, c]);
    const out = where(greater(usedBins, 1), equalized, bytes);
    return this.fromBatch(add(mul(out, (vhi - vlo) / 255), vlo), single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), valueRange: this.valueRange, bins: this.bins };
  }
}

registerLayer('Equalization', (c) => new Equalization(c as EqualizationArgs));
