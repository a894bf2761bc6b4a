// Keras 3's always-on preprocessing layers: CenterCrop, Rescaling and Resizing. They act the
// same in training and inference and have no weights, so they save with their config only.

import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add, cast, mul } from '../../ops/elementwise.js';
import { slice } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, aspectCropBox, resizeImages, type Interpolation } from '../image-sampling.js';
import { Layer, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { ImageLayer, positiveInteger } from './image-layer.js';
import { resizeToFit } from './random-geometric.js';

/** Options of `st.layers.centerCrop`. */
export interface CenterCropArgs extends LayerArgs {
  /** The output height in pixels. */
  height: number;
  /** The output width in pixels. */
  width: number;
}

/**
 * Cuts the centred height x width window (start floor((H − height) / 2), so an odd surplus
 * leaves the extra row at the bottom). An image smaller than the window on either side is
 * resized to fit as Keras does: its largest centred window of the target aspect ratio, resized.
 */
export class CenterCrop extends ImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'CenterCrop';
  /** The output height. */
  readonly height: number;
  /** The output width. */
  readonly width: number;

  constructor(args: CenterCropArgs) {
    super(args as CenterCropArgs & Record<string, unknown>, ['height', 'width']);
    this.height = positiveInteger(this.name, 'height', args.height);
    this.width = positiveInteger(this.name, 'width', args.width);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    const [n, h, w, c] = images.shape;
    const { height, width } = this;
    const out =
      h >= height && w >= width
        ? slice(images, [0, Math.floor((h - height) / 2), Math.floor((w - width) / 2), 0], [n, height, width, c])
        : resizeToFit(images, height, width);
    return this.fromBatch(out, single);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.withSpatial(inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}

/** Options of `st.layers.rescaling`. */
export interface RescalingArgs extends LayerArgs {
  /** Multiplies the inputs: a number, or one per channel (last axis). */
  scale: number | readonly number[];
  /** Added after scaling (default 0): a number or one per channel. */
  offset?: number | readonly number[];
}

const isNumberOrList = (v: unknown): v is number | number[] =>
  (typeof v === 'number' && Number.isFinite(v)) || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x)));

/** x · scale + offset in the layer's dtype, e.g. rescaling({scale: 1 / 255}) for 8-bit images. */
export class Rescaling extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Rescaling';
  /** The factor, or one per channel. */
  readonly scale: number | readonly number[];
  /** The offset, or one per channel. */
  readonly offset: number | readonly number[];

  constructor(args: RescalingArgs) {
    super(args as RescalingArgs & Record<string, unknown>, ['scale', 'offset']);
    if (!isNumberOrList(args.scale))
      throw new ValueError(`${this.name}: scale must be a finite number or a list of them; received ${fmtValue(args.scale)}`);
    const offset = args.offset ?? 0;
    if (!isNumberOrList(offset))
      throw new ValueError(`${this.name}: offset must be a finite number or a list of them; received ${fmtValue(args.offset)}`);
    this.scale = typeof args.scale === 'number' ? args.scale : [...args.scale];
    this.offset = typeof offset === 'number' ? offset : [...offset];
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = cast(inputs as Tensor, this.dtype);
    const operand = (v: number | readonly number[]) => (typeof v === 'number' ? v : tensor([...v], [v.length], this.dtype));
    return add(mul(x, operand(this.scale)), operand(this.offset));
  }

  protected override computeOutputDtype(_inputDtypes: DType[]): DType {
    return this.dtype;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

/** Options of `st.layers.resizing`. */
export interface ResizingArgs extends LayerArgs {
  /** The output height in pixels. */
  height: number;
  /** The output width in pixels. */
  width: number;
  /** 'bilinear' (default) or 'nearest', both with TF's half-pixel centres and no antialiasing. */
  interpolation?: Interpolation;
  /** Crop the largest centred window of the target aspect ratio first, so nothing is stretched. */
  cropToAspectRatio?: boolean;
}

/** Resizes images to height x width (Keras 3's Resizing, TF's resize semantics). */
export class Resizing extends ImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Resizing';
  /** The output height. */
  readonly height: number;
  /** The output width. */
  readonly width: number;
  /** 'bilinear' or 'nearest'. */
  readonly interpolation: Interpolation;
  /** Whether the largest centred window of the target aspect ratio is cut before resizing. */
  readonly cropToAspectRatio: boolean;

  constructor(args: ResizingArgs) {
    super(args as ResizingArgs & Record<string, unknown>, ['height', 'width', 'interpolation', 'cropToAspectRatio']);
    this.height = positiveInteger(this.name, 'height', args.height);
    this.width = positiveInteger(this.name, 'width', args.width);
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
    this.cropToAspectRatio = args.cropToAspectRatio ?? false;
    if (typeof this.cropToAspectRatio !== 'boolean')
      throw new ValueError(`${this.name}: cropToAspectRatio must be a boolean; received ${fmtValue(args.cropToAspectRatio)}`);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    let window = images;
    if (this.cropToAspectRatio) {
      const [n, h, w, c] = images.shape;
      const [top, left, ch, cw] = aspectCropBox(h, w, this.height, this.width);
      if (ch !== h || cw !== w) window = slice(images, [0, top, left, 0], [n, ch, cw, c]);
    }
    return this.fromBatch(resizeImages(window, this.height, this.width, this.interpolation), single);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.withSpatial(inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      height: this.height,
      width: this.width,
      interpolation: this.interpolation,
      cropToAspectRatio: this.cropToAspectRatio,
    };
  }
}

registerLayer('CenterCrop', (c) => new CenterCrop(c as unknown as CenterCropArgs));
registerLayer('Rescaling', (c) => new Rescaling(c as unknown as RescalingArgs));
registerLayer('Resizing', (c) => new Resizing(c as unknown as ResizingArgs));
