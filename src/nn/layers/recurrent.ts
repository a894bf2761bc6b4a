import type { DType } from '../../core/dtype.js';
import { add, mul, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { gruSequence, hasSequenceKernel, lstmSequence, simpleRnnSequence } from '../../ops/recurrent-sequence.js';
import { gruCell, lstmCell } from '../../ops/recurrent-cells.js';
import { concat, slice, split } from '../../ops/shape-ops.js';
import { ones, zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { getInitializer, type Initializer } from '../initializers.js';
import type { Shape } from '../symbolic.js';
import { registerLayer } from '../registry.js';
import { weightConfig } from './dense.js';
import { RecurrentLayer, flag, type RecurrentArgs, type SequenceKernel, type StepFn } from './recurrent-base.js';

// Keras 3's recurrent layers. Weights are in Keras's layout and gate order:
//   kernel [in, g·units], recurrent_kernel [units, g·units], columns grouped by gate:
//   SimpleRNN (g = 1); LSTM i, f, c, o (g = 4), bias [4u]; GRU z, r, h (g = 3), bias [2, 3u]
//   (input bias, recurrent bias) with resetAfter, else [3u].
// Each step is a handful of public ops on [N, g·units] blocks (Note [Unstacking the time axis]
// in recurrent-base.ts for the loop around it); gradients through time come from the tape.
// With the default activations, the pointwise part of an LSTM or GRU (resetAfter) step is one
// op, lstmCell / gruCell, which is one kernel where the backend has it (Note [Fused recurrent
// cells] in ops/recurrent-cells.ts) and otherwise these same ops.

/**
 * Whether a cell uses Keras's default tanh and sigmoid, the only pair the fused cells compute.
 * getActivation gives one shared object per built-in, whether named or passed as the function.
 */
export const defaultActivations = (activation: Activation, recurrentActivation: Activation): boolean =>
  activation.apply === getActivation('tanh').apply && recurrentActivation.apply === getActivation('sigmoid').apply;

/** `null` means linear, as in Keras; undefined takes the layer's default. */
export const activationOr = (id: ActivationIdentifier, fallback: string): Activation => getActivation(id === undefined ? fallback : id);

// The steps of the three cells, shared by the layers (after their whole-sequence projection)
// and by the cells of recurrent-cells.ts (after their own): xp is the step's projected input
// x W + b, h the state as the recurrent matmul sees it (after recurrent dropout).

/** A SimpleRNN step: h_t = activation(xp + h U). */
export function simpleRnnStep(u: Tensor, activation: Activation): StepFn {
  return (xp, _states, h) => [activation.apply(add(xp, matmul(h, u)))];
}

/**
 * The pointwise part of an LSTM step from the gate pre-activations z [B, 4n] (i, f, c, o) and
 * c [B, n]: [h, c]. One fused cell op with the default activations.
 */
export function lstmGates(z: Tensor, c: Tensor, n: number, activation: Activation, recurrentActivation: Activation): Tensor[] {
  if (defaultActivations(activation, recurrentActivation)) return lstmCell(z, c);
  // One activation over all four blocks (the c block's value is unused): fewer, larger ops.
  const gates = recurrentActivation.apply(z);
  const batch = z.shape[0];
  const [i, f, o] = [0, 1, 3].map((k) => slice(gates, [0, k * n], [batch, n]));
  const cNext = add(mul(f, c), mul(i, activation.apply(slice(z, [0, 2 * n], [batch, n]))));
  return [mul(o, activation.apply(cNext)), cNext];
}

/** An LSTM step (gates i, f, c, o): one fused cell op with the default activations. */
export function lstmStep(u: Tensor, n: number, activation: Activation, recurrentActivation: Activation): StepFn {
  return (xp, [, c], h) => lstmGates(add(xp, matmul(h, u)), c, n, activation, recurrentActivation);
}

/** The part of a GRU's bias added to the projected input: row 0 with resetAfter, else all of it. */
export function gruInputBias(bias: Tensor | null, resetAfter: boolean): Tensor | null {
  if (!bias) return null;
  return resetAfter ? slice(bias, [0, 0], [1, -1]) : bias;
}

/** A GRU step (gates z, r, h); resetAfter applies r after the recurrent matmul (bias row 1 inside). */
export function gruStep(
  u: Tensor,
  bias: Tensor | null,
  n: number,
  activation: Activation,
  recurrentActivation: Activation,
  resetAfter: boolean,
): StepFn {
  const sig = recurrentActivation.apply,
    act = activation.apply;
  const mix = (h: Tensor, z: Tensor, hh: Tensor) => add(hh, mul(z, sub(h, hh)));
  if (resetAfter) {
    const recurrentBias = bias ? slice(bias, [1, 0], [1, -1]) : null;
    const fused = defaultActivations(activation, recurrentActivation);
    return (xp, [h], hIn) => {
      let hu = matmul(hIn, u);
      if (recurrentBias) hu = add(hu, recurrentBias);
      if (fused) return [gruCell(xp, hu, h)];
      const batch = xp.shape[0];
      const [z, r] = split(sig(slice(add(xp, hu), [0, 0], [batch, 2 * n])), 2, 1);
      const hh = act(add(slice(xp, [0, 2 * n], [batch, n]), mul(r, slice(hu, [0, 2 * n], [batch, n]))));
      return [mix(h, z, hh)];
    };
  }
  const uzr = slice(u, [0, 0], [n, 2 * n]),
    uh = slice(u, [0, 2 * n], [n, n]);
  return (xp, [h], hIn) => {
    const batch = xp.shape[0];
    const [z, r] = split(sig(add(slice(xp, [0, 0], [batch, 2 * n]), matmul(hIn, uzr))), 2, 1);
    const hh = act(add(slice(xp, [0, 2 * n], [batch, n]), matmul(mul(r, hIn), uh)));
    return [mix(h, z, hh)];
  };
}

/** Options of `st.layers.simpleRNN`. */
export interface SimpleRnnArgs extends RecurrentArgs {
  /** The activation of the state. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
}

/** h_t = activation(x_t W + h_{t-1} U + b). */
export class SimpleRNN extends RecurrentLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SimpleRNN';
  readonly stateCount = 1;
  protected readonly gates = 1;
  /** The activation of the state. */
  readonly activation: Activation;

  constructor(args: SimpleRnnArgs) {
    super(args, ['activation']);
    this.activation = activationOr(args.activation, 'tanh');
  }

  override build(inputShape: Shape | Shape[]): void {
    this.buildWeights(inputShape, [this.units], this.args.biasInitializer ?? 'zeros');
  }

  protected inputBias(): Tensor | null {
    return this.bias;
  }

  /** Note [Whole-sequence recurrent kernels]: one kernel for all steps (tanh or relu) where the backend has it. */
  protected override sequenceKernel(x: Tensor): SequenceKernel | null {
    const activation = (['tanh', 'relu'] as const).find((name) => this.activation.apply === getActivation(name).apply);
    if (activation === undefined || !hasSequenceKernel(x)) return null;
    const bias = this.bias ?? zeros([this.units], x.dtype);
    return (xs, [h0]) => simpleRnnSequence(xs, h0, this.kernel!, this.recurrentKernel!, bias, activation);
  }

  protected makeStep(): StepFn {
    return simpleRnnStep(this.recurrentKernel!, this.activation);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: weightConfig.activation(this.activation) };
  }
}

/** Options of `st.layers.lstm`. */
export interface LstmArgs extends RecurrentArgs {
  /** The activation of the cell input and output. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
  /** The activation of the gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Start the forget gate's bias at 1 (Jozefowicz et al. 2015), as Keras does by default. */
  unitForgetBias?: boolean;
}

/** The LSTM bias with unitForgetBias: the initializer's values, the forget slice set to ones. */
export class UnitForgetBias implements Initializer {
  readonly className = 'UnitForgetBias';
  constructor(
    private readonly base: Initializer,
    private readonly units: number,
  ) {}
  init(_shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const u = this.units;
    return concat([this.base.init([u], dtype), ones([u], dtype), this.base.init([2 * u], dtype)], 0);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/**
 * Long short-term memory, Keras gate order i, f, c, o:
 * i, f, o = σ(·), g = tanh(·); c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
 */
export class LSTM extends RecurrentLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'LSTM';
  readonly stateCount = 2;
  protected readonly gates = 4;
  /** The activation of the cell input and output. */
  readonly activation: Activation;
  /** The activation of the gates. */
  readonly recurrentActivation: Activation;
  /** Whether the forget gate's bias starts at 1. */
  readonly unitForgetBias: boolean;

  constructor(args: LstmArgs) {
    super(args, ['activation', 'recurrentActivation', 'unitForgetBias']);
    this.activation = activationOr(args.activation, 'tanh');
    this.recurrentActivation = activationOr(args.recurrentActivation, 'sigmoid');
    this.unitForgetBias = flag(this.name, 'unitForgetBias', args.unitForgetBias, true);
  }

  override build(inputShape: Shape | Shape[]): void {
    const base = getInitializer(this.args.biasInitializer ?? 'zeros');
    this.buildWeights(inputShape, [4 * this.units], this.unitForgetBias ? new UnitForgetBias(base, this.units) : base);
  }

  protected inputBias(): Tensor | null {
    return this.bias;
  }

  /** Note [Whole-sequence recurrent kernels]: one kernel for all steps where the backend has it. */
  protected override sequenceKernel(x: Tensor): SequenceKernel | null {
    if (!defaultActivations(this.activation, this.recurrentActivation) || !hasSequenceKernel(x)) return null;
    const bias = this.bias ?? zeros([4 * this.units], x.dtype);
    return (xs, [h0, c0]) => lstmSequence(xs, h0, c0, this.kernel!, this.recurrentKernel!, bias);
  }

  protected makeStep(): StepFn {
    return lstmStep(this.recurrentKernel!, this.units, this.activation, this.recurrentActivation);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      activation: weightConfig.activation(this.activation),
      recurrentActivation: weightConfig.activation(this.recurrentActivation),
      unitForgetBias: this.unitForgetBias,
    };
  }
}

/** Options of `st.layers.gru`. */
export interface GruArgs extends RecurrentArgs {
  /** The activation of the candidate state. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
  /** The activation of the update and reset gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Apply the reset gate after the recurrent matmul (Keras 3's default, cuDNN's and PyTorch's form). */
  resetAfter?: boolean;
}

/**
 * Gated recurrent unit, Keras gate order z, r, h: z, r = σ(·);
 * resetAfter: hh = tanh(x W_h + b_ih + r (h U_h + b_hh)); else hh = tanh(x W_h + (r h) U_h + b_h);
 * h_t = z h_{t-1} + (1 - z) hh.
 */
export class GRU extends RecurrentLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GRU';
  readonly stateCount = 1;
  protected readonly gates = 3;
  /** The activation of the candidate state. */
  readonly activation: Activation;
  /** The activation of the update and reset gates. */
  readonly recurrentActivation: Activation;
  /** Whether the reset gate applies after the recurrent matmul (two bias rows). */
  readonly resetAfter: boolean;

  constructor(args: GruArgs) {
    super(args, ['activation', 'recurrentActivation', 'resetAfter']);
    this.activation = activationOr(args.activation, 'tanh');
    this.recurrentActivation = activationOr(args.recurrentActivation, 'sigmoid');
    this.resetAfter = flag(this.name, 'resetAfter', args.resetAfter, true);
  }

  override build(inputShape: Shape | Shape[]): void {
    const u3 = 3 * this.units;
    this.buildWeights(inputShape, this.resetAfter ? [2, u3] : [u3], this.args.biasInitializer ?? 'zeros');
  }

  protected inputBias(): Tensor | null {
    return gruInputBias(this.bias, this.resetAfter);
  }

  /** Note [Whole-sequence recurrent kernels]: one kernel for all steps (resetAfter) where the backend has it. */
  protected override sequenceKernel(x: Tensor): SequenceKernel | null {
    if (!this.resetAfter || !defaultActivations(this.activation, this.recurrentActivation) || !hasSequenceKernel(x)) return null;
    const bias = this.bias ?? zeros([2, 3 * this.units], x.dtype);
    return (xs, [h0]) => gruSequence(xs, h0, this.kernel!, this.recurrentKernel!, bias);
  }

  protected makeStep(): StepFn {
    return gruStep(this.recurrentKernel!, this.bias, this.units, this.activation, this.recurrentActivation, this.resetAfter);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      activation: weightConfig.activation(this.activation),
      recurrentActivation: weightConfig.activation(this.recurrentActivation),
      resetAfter: this.resetAfter,
    };
  }
}

registerLayer('SimpleRNN', (c) => new SimpleRNN(c as unknown as SimpleRnnArgs));
registerLayer('LSTM', (c) => new LSTM(c as unknown as LstmArgs));
registerLayer('GRU', (c) => new GRU(c as unknown as GruArgs));
