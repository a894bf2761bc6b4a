// Keras 3's SpectralNormalization wrapper (Miyato et al. 2018): while training, the wrapped
// layer's kernel is divided by its largest singular value, estimated by power iteration.
import { ValueError, fmtValue } from '../../core/errors.js';
import { div, equal, maximum, sqrt, square, where } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { sum } from '../../ops/reduction.js';
import { reshape } from '../../ops/shape-ops.js';
import { noGrad } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { initializers } from '../initializers.js';
import { type CallOptions, Layer, type LayerArgs, type LayerOutput, type LayerWeight } from '../layer.js';
import { deserializeLayer, registerLayer, serializeLayer, type SerializedLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';

/** Options of `st.layers.spectralNormalization`. */
export interface SpectralNormalizationArgs extends LayerArgs {
  /** The layer whose kernel is normalized (a layer with a weight named `kernel`: dense, conv...), or its serialized form. */
  layer: Layer | SerializedLayer;
  /** Power-iteration steps per training call. Default 1 (Keras's). */
  powerIterations?: number;
}

/** x / max(||x||, 1e-7) over all values (Keras's ops.normalize with axis=None). */
const unit = (x: Tensor) => div(x, maximum(sqrt(sum(square(x))), 1e-7));

/**
 * Spectral normalization of a layer's kernel (Keras's SpectralNormalization): at each training
 * call, `powerIterations` steps of power iteration on the kernel reshaped to [−1, units] refine the
 * non-trainable estimate `vector_u` of its top singular vector; the kernel is then replaced, in
 * place as Keras does, by kernel / σ with σ = v·W·uᵀ, before the wrapped layer runs. Inference
 * runs the wrapped layer on the kernel as it is.
 */
export class SpectralNormalization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SpectralNormalization';
  /** The wrapped layer. */
  readonly layer: Layer;
  /** Power-iteration steps per training call. */
  readonly powerIterations: number;
  private vectorU: Tensor | null = null;

  constructor(args: SpectralNormalizationArgs) {
    super(args as SpectralNormalizationArgs & Record<string, unknown>, ['layer', 'powerIterations']);
    const l = args.layer;
    if (l instanceof Layer) this.layer = l;
    else if (typeof l === 'object' && l !== null) this.layer = deserializeLayer(l, `${this.name} layer`);
    else throw new ValueError(`${this.name}: the layer option is required, e.g. {layer: st.layers.dense({units: 8})}; received ${fmtValue(l)}`);
    const p = args.powerIterations ?? 1;
    if (!Number.isInteger(p) || p < 1) throw new ValueError(`${this.name}: powerIterations must be a positive integer; received ${fmtValue(p)}`);
    this.powerIterations = p;
    this.supportsMasking = this.layer.supportsMasking;
  }

  private kernel(): LayerWeight {
    const k = this.layer.weights.find((w) => w.name === 'kernel');
    if (!k) {
      throw new ValueError(
        `${this.name}: the wrapped layer ${this.layer.name} (${this.layer.className}) has no weight named 'kernel'; its weights are ${this.layer.weights.map((w) => w.name).join(', ') || 'none'}`,
      );
    }
    return k;
  }

  /** The wrapped layer's weights, then vector_u. */
  override get weights(): LayerWeight[] {
    return [...(this.layer?.weights ?? []), ...super.weights];
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    // Also reached from the Layer constructor, before the wrapped layer is set.
    if (this.layer) this.layer.trainable = value;
  }

  override build(inputShape: Shape | Shape[]): void {
    this.layer.ensureBuilt(inputShape);
    const shape = this.kernel().value.shape;
    this.vectorU = this.addWeight('vector_u', [1, shape[shape.length - 1]], {
      initializer: initializers.truncatedNormal({ stddev: 0.02 }),
      trainable: false,
    });
  }

  /** Power iteration, then kernel / σ written into the kernel and u kept, without gradient (Keras's stop_gradient). */
  private normalize(): void {
    const k = this.kernel().value;
    noGrad(() => {
      const w = reshape(k, [-1, k.shape[k.rank - 1]]);
      let u: Tensor = this.vectorU!,
        v = u;
      for (let i = 0; i < this.powerIterations; i++) {
        v = unit(matmul(u, w, false, true));
        u = unit(matmul(v, w));
      }
      const sigma = matmul(matmul(v, w), u, false, true);
      // An all-zero kernel (σ = 0) keeps its kernel and u, as Keras's cond does, without reading σ back.
      const zero = equal(sigma, 0);
      this.vectorU!.assign(where(zero, this.vectorU!, u));
      k.assign(reshape(div(w, where(zero, 1, sigma)), k.shape));
    });
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput {
    if (options.training) this.normalize();
    return this.layer.call(inputs, options);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return this.layer.computeOutputShape(inputShape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: serializeLayer(this.layer), powerIterations: this.powerIterations };
  }
}

registerLayer('SpectralNormalization', (c) => new SpectralNormalization(c as unknown as SpectralNormalizationArgs));
