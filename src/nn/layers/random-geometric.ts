// Keras 3's geometric augmentation layers: RandomFlip, RandomRotation, RandomTranslation,
// RandomZoom and RandomCrop. Identity at inference (RandomCrop: Keras's resize-to-fit); while
// training, each image gets its own random parameters. The pixels move by gathers on the
// backend (Note [Sampling by gather] in ../image-sampling.ts), so gradients reach the input.

import { checkOneOf } from '../../core/options.js';
import { slice } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  aspectCropBox,
  gatherPixels,
  resizeImages,
  transformImages,
  type AffineRow,
  type FillMode,
  type Interpolation,
  type SampleOptions,
} from '../image-sampling.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { RandomImageLayer, between, factorRange, positiveInteger, sampleOptions, type Factor } from './image-layer.js';

/** @inline */
export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';
const FLIP_MODES: readonly FlipMode[] = ['horizontal', 'vertical', 'horizontal_and_vertical'];

/** Options of `st.layers.randomFlip`. */
export interface RandomFlipArgs extends LayerArgs {
  /** Which flips may happen (default 'horizontal_and_vertical'). */
  mode?: FlipMode;
  /**
   * A seed for reproducible draws (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}

/**
 * Flips each image left-right and/or top-bottom, each with probability 1/2. With
 * 'horizontal_and_vertical' the two flips are drawn independently per image.
 */
export class RandomFlip extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomFlip';
  /** Which flips may happen. */
  readonly mode: FlipMode;

  constructor(args: RandomFlipArgs = {}) {
    super(args as RandomFlipArgs & Record<string, unknown>, ['mode']);
    this.mode = checkOneOf(this.name, 'mode', args.mode ?? 'horizontal_and_vertical', FLIP_MODES);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [n, h, w] = images.shape;
    const u = this.uniforms(n, 2);
    const horizontal = this.mode !== 'vertical',
      vertical = this.mode !== 'horizontal';
    const rows = new Int32Array(n * h * w);
    let flipped = false;
    for (let b = 0; b < n; b++) {
      const flipX = horizontal && u[2 * b] < 0.5,
        flipY = vertical && u[2 * b + 1] < 0.5;
      flipped ||= flipX || flipY;
      for (let i = 0; i < h; i++) {
        const from = b * h * w + (flipY ? h - 1 - i : i) * w;
        for (let j = 0; j < w; j++) rows[(b * h + i) * w + j] = from + (flipX ? w - 1 - j : j);
      }
    }
    return this.fromBatch(flipped ? gatherPixels(images, rows, images.shape) : images, single);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode, seed: this.seed };
  }
}

/** Options shared by randomRotation, randomTranslation and randomZoom. */
interface GeometricArgs extends LayerArgs {
  /** Outside pixels: 'reflect' (default), 'wrap', 'constant' (fillValue) or 'nearest'. */
  fillMode?: FillMode;
  /** How pixels between grid points are read: 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** The value of outside pixels with fillMode 'constant'. Default 0. */
  fillValue?: number;
  /**
   * A seed for reproducible draws (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}
const GEOMETRIC_KEYS = ['fillMode', 'interpolation', 'fillValue'];

/** A layer that resamples each image through a random affine map. */
abstract class RandomAffine extends RandomImageLayer {
  /** @internal */
  readonly sampling: SampleOptions;

  protected constructor(args: GeometricArgs & Record<string, unknown>, ownKeys: string[]) {
    super(args, [...GEOMETRIC_KEYS, ...ownKeys]);
    this.sampling = sampleOptions(this.name, args);
  }

  /** The affine map of each image of a batch of n images of h x w, drawn at random. */
  protected abstract transforms(n: number, h: number, w: number): AffineRow[];

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [n, h, w] = images.shape;
    return this.fromBatch(transformImages(images, this.transforms(n, h, w), this.sampling), single);
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    const { fillMode, interpolation, fillValue } = this.sampling;
    return { ...super.getConfig(), fillMode, interpolation, fillValue, seed: this.seed };
  }
}

/** Options of `st.layers.randomRotation`. */
export interface RandomRotationArgs extends GeometricArgs {
  /** Fraction of a full turn: b means an angle in [-2πb, 2πb]; [lo, hi] means [2πlo, 2πhi]. Positive turns counter-clockwise. */
  factor: Factor;
}

/** Rotates each image about its centre by a random angle (Keras's rotation matrix). */
export class RandomRotation extends RandomAffine {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomRotation';
  /** The rotation range, as given. */
  readonly factor: Factor;
  private readonly range: [number, number];

  constructor(args: RandomRotationArgs) {
    super(args as RandomRotationArgs & Record<string, unknown>, ['factor']);
    this.range = factorRange(this.name, 'factor', args.factor, (b) => [-b, b]);
    this.factor = args.factor;
  }

  protected transforms(n: number, h: number, w: number): AffineRow[] {
    const u = this.uniforms(n, 1);
    const cy = (h - 1) / 2,
      cx = (w - 1) / 2;
    return Array.from({ length: n }, (_, b) => {
      const angle = between(this.range, u[b]) * 2 * Math.PI;
      const cos = Math.cos(angle),
        sin = Math.sin(angle);
      // The source of output offset (dx, dy) from the centre is that offset turned by the angle
      // (y points down, so this turns the picture counter-clockwise).
      return [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy];
    });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor };
  }
}

/** Options of `st.layers.randomTranslation`. */
export interface RandomTranslationArgs extends GeometricArgs {
  /** Fraction of the height: b means a shift in [-b·H, b·H]; positive moves the picture down. */
  heightFactor: Factor;
  /** Fraction of the width: positive moves the picture right. */
  widthFactor: Factor;
}

/** Shifts each image by random fractions of its height and width (not rounded to whole pixels). */
export class RandomTranslation extends RandomAffine {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomTranslation';
  /** The vertical shift range, as given. */
  readonly heightFactor: Factor;
  /** The horizontal shift range, as given. */
  readonly widthFactor: Factor;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number];

  constructor(args: RandomTranslationArgs) {
    super(args as RandomTranslationArgs & Record<string, unknown>, ['heightFactor', 'widthFactor']);
    this.heightRange = factorRange(this.name, 'heightFactor', args.heightFactor, (b) => [-b, b], [-1, 1]);
    this.widthRange = factorRange(this.name, 'widthFactor', args.widthFactor, (b) => [-b, b], [-1, 1]);
    this.heightFactor = args.heightFactor;
    this.widthFactor = args.widthFactor;
  }

  protected transforms(n: number, h: number, w: number): AffineRow[] {
    const u = this.uniforms(n, 2);
    return Array.from({ length: n }, (_, b) => {
      const dy = between(this.heightRange, u[2 * b]) * h,
        dx = between(this.widthRange, u[2 * b + 1]) * w;
      return [1, 0, -dx, 0, 1, -dy];
    });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

/** Options of `st.layers.randomZoom`. */
export interface RandomZoomArgs extends GeometricArgs {
  /**
   * Zoom range as a fraction: the input region read grows by a factor in [1 + lo, 1 + hi], so a
   * positive value zooms OUT and a negative one zooms in (Keras's convention). b means [-b, b].
   */
  heightFactor: Factor;
  /** Like heightFactor for the width; when absent, the width uses the height's factor (aspect kept). */
  widthFactor?: Factor | null;
}

/** Scales each image about its centre by random factors. */
export class RandomZoom extends RandomAffine {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomZoom';
  /** The vertical zoom range, as given. */
  readonly heightFactor: Factor;
  /** The horizontal zoom range, or null to follow the height's. */
  readonly widthFactor: Factor | null;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number] | null;

  constructor(args: RandomZoomArgs) {
    super(args as RandomZoomArgs & Record<string, unknown>, ['heightFactor', 'widthFactor']);
    this.heightRange = factorRange(this.name, 'heightFactor', args.heightFactor, (b) => [-b, b], [-1, 1]);
    this.widthFactor = args.widthFactor ?? null;
    this.widthRange = this.widthFactor === null ? null : factorRange(this.name, 'widthFactor', this.widthFactor, (b) => [-b, b], [-1, 1]);
    this.heightFactor = args.heightFactor;
  }

  protected transforms(n: number, h: number, w: number): AffineRow[] {
    const u = this.uniforms(n, 2);
    const cy = (h - 1) / 2,
      cx = (w - 1) / 2;
    return Array.from({ length: n }, (_, b) => {
      const zy = 1 + between(this.heightRange, u[2 * b]);
      const zx = this.widthRange ? 1 + between(this.widthRange, u[2 * b + 1]) : zy;
      return [zx, 0, cx * (1 - zx), 0, zy, cy * (1 - zy)];
    });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

/** Options of `st.layers.randomCrop`. */
export interface RandomCropArgs extends LayerArgs {
  /** The crop's height in pixels. */
  height: number;
  /** The crop's width in pixels. */
  width: number;
  /**
   * A seed for reproducible draws (each training call then takes the next seed); default: the
   * global stream.
   */
  seed?: number | null;
}

/**
 * Crops a height x width window at a random position of each image while training. At
 * inference, and for images smaller than the window, it does what Keras does: crops the largest
 * centred window of the target aspect ratio and resizes it (bilinear) to height x width.
 * (Keras uses one position for the whole batch; here each image draws its own.)
 */
export class RandomCrop extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomCrop';
  /** The crop's height. */
  readonly height: number;
  /** The crop's width. */
  readonly width: number;

  constructor(args: RandomCropArgs) {
    super(args as RandomCropArgs & Record<string, unknown>, ['height', 'width']);
    this.height = positiveInteger(this.name, 'height', args.height);
    this.width = positiveInteger(this.name, 'width', args.width);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    const [n, h, w, c] = images.shape;
    const { height, width } = this;
    if (!options.training || h < height || w < width) return this.fromBatch(resizeToFit(images, height, width), single);
    const u = this.uniforms(n, 2);
    const rows = new Int32Array(n * height * width);
    for (let b = 0; b < n; b++) {
      const top = Math.min(Math.floor(u[2 * b] * (h - height + 1)), h - height);
      const left = Math.min(Math.floor(u[2 * b + 1] * (w - width + 1)), w - width);
      for (let i = 0; i < height; i++) {
        const from = (b * h + top + i) * w + left;
        for (let j = 0; j < width; j++) rows[(b * height + i) * width + j] = from + j;
      }
    }
    return this.fromBatch(gatherPixels(images, rows, [n, height, width, c]), single);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.withSpatial(inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width, seed: this.seed };
  }
}

/** Keras's smart resize: the largest centred window of the target aspect ratio, resized (bilinear). */
export function resizeToFit(images: Tensor, height: number, width: number): Tensor {
  const [n, h, w, c] = images.shape;
  if (h === height && w === width) return images;
  const [top, left, ch, cw] = aspectCropBox(h, w, height, width);
  const window = ch === h && cw === w ? images : slice(images, [0, top, left, 0], [n, ch, cw, c]);
  return resizeImages(window, height, width, 'bilinear');
}

registerLayer('RandomFlip', (c) => new RandomFlip(c as RandomFlipArgs));
registerLayer('RandomRotation', (c) => new RandomRotation(c as unknown as RandomRotationArgs));
registerLayer('RandomTranslation', (c) => new RandomTranslation(c as unknown as RandomTranslationArgs));
registerLayer('RandomZoom', (c) => new RandomZoom(c as unknown as RandomZoomArgs));
registerLayer('RandomCrop', (c) => new RandomCrop(c as unknown as RandomCropArgs));
