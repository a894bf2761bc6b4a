// DepthToSpace (pixel shuffle): the upscaling step of sub-pixel convolution networks (Shi et al.
// 2016, ESPCN). A convolution computes blockSize² channels per output channel at low resolution
// and this layer spreads them over a blockSize × blockSize block of pixels. Weightless: a reshape,
// a transpose and a reshape (st.depthToSpace), so it runs on every backend and carries gradients.
//
// Note [Depth order]
// Strata follows TensorFlow's depth_to_space ("DCR": depth, column, row): input channel
// (i·b + j)·C + c lands on pixel (i, j) of its block as output channel c. PyTorch's PixelShuffle
// (and ONNX DepthToSpace mode "CRD") reads channel c·b² + i·b + j instead. The two agree after
// permuting the channels of the convolution that feeds the layer; the fixture test compares
// against PixelShuffle with that permutation.
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { depthToSpace } from '../../ops/space.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { requireRank } from './conv-options.js';

/**
 * Where the channels are: last (the default) or right after the batch axis (Keras's data_format).
 * @inline
 */
export type DepthToSpaceDataFormat = 'channelsLast' | 'channelsFirst';

/** Options of `st.layers.depthToSpace`. */
export interface DepthToSpaceArgs extends LayerArgs {
  /** The upscaling factor b (an integer >= 2): the depth must be divisible by b². */
  blockSize: number;
  /** 'channelsLast' (default: [batch, height, width, channels]) or 'channelsFirst' ([batch, channels, height, width]). */
  dataFormat?: DepthToSpaceDataFormat;
}

const times = (n: number | null, k: number) => (n === null ? null : n * k);

/**
 * Rearranges blocks of channels into blocks of pixels: [N, H, W, C] becomes
 * [N, H·b, W·b, C / b²] in TensorFlow's channel order (see Note [Depth order]).
 */
export class DepthToSpace extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'DepthToSpace';
  /** The upscaling factor. */
  readonly blockSize: number;
  /** Where the channels are. */
  readonly dataFormat: DepthToSpaceDataFormat;

  constructor(args: DepthToSpaceArgs) {
    super((args ?? {}) as DepthToSpaceArgs & Record<string, unknown>, ['blockSize', 'dataFormat']);
    const b = args?.blockSize;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 2) {
      throw new ValueError(`${this.name}: blockSize must be an integer >= 2; received ${fmtValue(b)}`);
    }
    this.blockSize = b;
    this.dataFormat = checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast', 'channelsFirst'] as const);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return depthToSpace(inputs as Tensor, this.blockSize, this.dataFormat === 'channelsLast' ? 'NHWC' : 'NCHW');
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const last = this.dataFormat === 'channelsLast';
    const shape = requireRank(
      this.name,
      singleShape(this.name, inputShape),
      4,
      last ? '[batch, height, width, channels]' : '[batch, channels, height, width]',
    );
    const b = this.blockSize;
    const [n, h, w, c] = last ? shape : [shape[0], shape[2], shape[3], shape[1]];
    if (c === null || c % (b * b) !== 0) {
      throw new ValueError(
        `${this.name}: the channels (${c ?? 'unknown'}) must be a known multiple of blockSize² = ${b * b}; received shape ${formatShape(shape)}`,
      );
    }
    const depth = c / (b * b);
    return last ? [n, times(h, b), times(w, b), depth] : [n, depth, times(h, b), times(w, b)];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), blockSize: this.blockSize, dataFormat: this.dataFormat };
  }
}

registerLayer('DepthToSpace', (c) => new DepthToSpace(c as unknown as DepthToSpaceArgs));

/** The factory spread into st.layers. */
export const depthToSpaceLayers = {
  /**
   * Pixel shuffle (TensorFlow's depth_to_space as a layer): [N, H, W, C] becomes
   * [N, H·b, W·b, C / b²], channel (i·b + j)·C/b² + c moving to pixel (i, j) of each b × b block.
   * The upscaling step of sub-pixel networks (ESPCN). PyTorch's PixelShuffle orders the channels
   * c·b² + i·b + j instead.
   * @throws ValueError for a blockSize that is not an integer >= 2, an unknown dataFormat, or
   * channels not divisible by blockSize².
   * @example
   * ```ts
   * const shuffle = st.layers.depthToSpace({ blockSize: 2 });
   * console.log(shuffle.apply(st.zeros([1, 14, 14, 4])).shape); // [1, 28, 28, 1]
   * ```
   */
  depthToSpace: (args: DepthToSpaceArgs) => new DepthToSpace(args),
};
