import { ValueError, fmtValue } from '../../core/errors.js';
import { add } from '../../ops/elementwise.js';
import { fusedMatMul } from '../../ops/fused.js';
import { matmul } from '../../ops/linalg.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, serializeActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { serializeInitializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { serializeRegularizer, type Regularizer } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { getInitializer } from '../initializers.js';
import { getRegularizer } from '../regularizers.js';

/** Options of `st.layers.dense`. */
export interface DenseArgs extends LayerArgs, KernelBiasArgs {
  /** The number of outputs (a positive integer): the size of the last axis of the output. */
  units: number;
  /** Applied to the output: a name ('relu', 'softmax', ...) or a function. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias vector. Default true. */
  useBias?: boolean;
}

const DENSE_KEYS = ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer'];

export function positiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ValueError(`${layer}: ${name} must be a positive integer; received ${fmtValue(v)}`);
  }
  return v;
}

/** The weight options of layers with a kernel and a bias (dense and the convolutions). */
export interface KernelBiasArgs {
  /** How the kernel starts. Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** How the bias starts. Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** A penalty on the kernel added to the loss (`st.regularizers.l2()`, 'l2', ...). Default none. */
  kernelRegularizer?: Regularizer | string | null;
  /** A penalty on the bias added to the loss. Default none. */
  biasRegularizer?: Regularizer | string | null;
}

/** Serialized forms shared by layers with weights and an activation. */
export const weightConfig = {
  initializer: (id: InitializerIdentifier) => serializeInitializer(getInitializer(id)),
  regularizer: (r: Regularizer | string | null | undefined) => (r ? serializeRegularizer(getRegularizer(r)) : null),
  activation: (a: Activation) => serializeActivation(a),
  /** The four kernel/bias entries of getConfig, with Keras's defaults (glorotUniform, zeros). */
  kernelAndBias: (a: KernelBiasArgs) => ({
    kernelInitializer: weightConfig.initializer(a.kernelInitializer ?? 'glorotUniform'),
    biasInitializer: weightConfig.initializer(a.biasInitializer ?? 'zeros'),
    kernelRegularizer: weightConfig.regularizer(a.kernelRegularizer),
    biasRegularizer: weightConfig.regularizer(a.biasRegularizer),
  }),
};

/** A fully connected layer: activation(x · kernel + bias) over the last axis, kernel [inputDim, units]. */
export class Dense extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Dense';
  override supportsMasking = true;
  /** The number of outputs. */
  readonly units: number;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  private readonly args: DenseArgs;
  /** The kernel variable, [inputDim, units]; null until built. */
  kernel: Tensor | null = null;
  /** The bias variable, [units]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: DenseArgs) {
    super(args as DenseArgs & Record<string, unknown>, DENSE_KEYS);
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const inputDim = knownDim(this.name, shape, -1, 'last input dimension');
    this.kernel = this.addWeight('kernel', [inputDim, this.units], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.units], { initializer: this.args.biasInitializer ?? 'zeros', regularizer: this.args.biasRegularizer });
    }
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    // matmul broadcasts batch axes, but a [B, T, in] input is one [B*T, in] product: flatten it.
    const flat = x.rank > 2 ? reshape(x, [-1, x.shape[x.rank - 1]]) : x;
    // With a bias and a linear or ReLU activation, one fused kernel where the backend has it
    // (st.fused.matMul), as the convolutions do.
    const act = this.activation.name;
    if (this.bias && (act === 'relu' || act === 'linear')) {
      const y = fusedMatMul({ a: flat, b: this.kernel!, bias: this.bias, activation: act });
      return x.rank > 2 ? reshape(y, [...x.shape.slice(0, -1), this.units]) : y;
    }
    let y = matmul(flat, this.kernel!);
    if (this.bias) y = add(y, this.bias);
    if (x.rank > 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [...singleShape(this.name, inputShape).slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

registerLayer('Dense', (c) => new Dense(c as unknown as DenseArgs));
