// tfjs's RandomWidth (Keras 2's; Keras 3 dropped it): images stretched or squeezed horizontally by
// a random factor while training, so the output width varies from call to call.
import { ValueError } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, resizeImages, type Interpolation } from '../image-sampling.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { RandomImageLayer, between, factorRange, type Factor } from './image-layer.js';

/** Options of `st.layers.randomWidth`. */
export interface RandomWidthArgs extends LayerArgs {
  /**
   * f or [lo, hi]: the width is multiplied by a factor drawn from [1 + lo, 1 + hi] (f means
   * [−f, f]); lo must be > −1. [−0.2, 0.3] gives widths from 80% to 130%.
   */
  factor: Factor;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * Resizes each batch of images to a random width while training (tfjs's randomWidth): one factor
 * per call, width round(W · factor) (at least 1), height kept; inference passes images through.
 * The resize is TF's with half-pixel centres (Keras's tf.image.resize; tfjs's layer calls
 * resizeBilinear without them, which shifts the samples by half a pixel).
 */
export class RandomWidth extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomWidth';
  /** The factor range, as given. */
  readonly factor: Factor;
  /** 'bilinear' or 'nearest'. */
  readonly interpolation: Interpolation;
  private readonly range: [number, number];

  constructor(args: RandomWidthArgs) {
    super(args as RandomWidthArgs & Record<string, unknown>, ['factor', 'interpolation']);
    const [lo, hi] = factorRange(this.name, 'factor', args.factor, (f) => [-f, f]);
    if (!(lo > -1)) throw new ValueError(`${this.name}: factor's lower bound must be > -1 (a width above 0); received ${lo}`);
    this.range = [1 + lo, 1 + hi];
    this.factor = Array.isArray(args.factor) ? [args.factor[0], args.factor[1]] : args.factor;
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const [, h, w] = images.shape;
    const width = Math.max(Math.round(w * between(this.range, this.uniforms(1, 1)[0])), 1);
    return this.fromBatch(width === w ? images : resizeImages(images, h, width, this.interpolation), single);
  }

  /** The width is only known per call. */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    this.checkRank(s);
    return [...s.slice(0, -2), null, s[s.length - 1]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, interpolation: this.interpolation, seed: this.seed };
  }
}

registerLayer('RandomWidth', (c) => new RandomWidth(c as unknown as RandomWidthArgs));
