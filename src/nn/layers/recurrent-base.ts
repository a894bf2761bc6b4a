import { noGrad } from '../../tensor/tape.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { add, cast, div, greaterEqual, mul } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { isGradEnabled } from '../../tensor/tape.js';
import { gather, reshape, slice, transpose } from '../../ops/shape-ops.js';
import { randomUniform, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InitializerIdentifier } from '../initializers.js';
import { knownDim, type CallOptions } from '../layer.js';
import type { Regularizer } from '../regularizers.js';
import { formatShape, type Shape } from '../symbolic.js';
import { maskRuns, runsFirst, runsInPlace } from './masked-sequence.js';
import { positiveInt, weightConfig } from './dense.js';
import { SequenceLayer, flag, maskTensor, type SequenceArgs } from './rnn-base.js';

export { flag };

/** The weight and dropout options every recurrent layer and cell shares (Keras 3's names, camelCase). */
export interface RecurrentWeightArgs {
  /** Whether the gates have biases. Default true. */
  useBias?: boolean;
  /** How the input kernel starts. Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** How the recurrent kernel starts. Default 'orthogonal'. */
  recurrentInitializer?: InitializerIdentifier;
  /** How the bias starts. Default 'zeros' (LSTM's `unitForgetBias` sets its forget-gate part to 1). */
  biasInitializer?: InitializerIdentifier;
  /** A penalty on the input kernel added to the loss. Default none. */
  kernelRegularizer?: Regularizer | string | null;
  /** A penalty on the recurrent kernel added to the loss. Default none. */
  recurrentRegularizer?: Regularizer | string | null;
  /** A penalty on the bias added to the loss. Default none. */
  biasRegularizer?: Regularizer | string | null;
  /** Fraction of the input features dropped while training (one mask for every time step). */
  dropout?: number;
  /** Fraction of the recurrent state dropped before the recurrent kernel is applied, while training. */
  recurrentDropout?: number;
  /** Seed of the dropout masks (the global seeded stream when absent). */
  seed?: number | null;
}

/** The options of a dense recurrent unit: its size and the shared weight options. */
export interface RecurrentUnitArgs extends RecurrentWeightArgs {
  /** The size of the output and of each state (a positive integer). */
  units: number;
}

/** What a dense recurrent unit (a layer or a cell) saves of its size and weight options, in Keras's order. */
export function recurrentUnitConfig(
  unit: { units: number; useBias: boolean; dropout: number; recurrentDropout: number; seed: number | null },
  args: RecurrentWeightArgs,
): Record<string, unknown> {
  return {
    units: unit.units,
    useBias: unit.useBias,
    kernelInitializer: weightConfig.initializer(args.kernelInitializer ?? 'glorotUniform'),
    recurrentInitializer: weightConfig.initializer(args.recurrentInitializer ?? 'orthogonal'),
    biasInitializer: weightConfig.initializer(args.biasInitializer ?? 'zeros'),
    kernelRegularizer: weightConfig.regularizer(args.kernelRegularizer),
    recurrentRegularizer: weightConfig.regularizer(args.recurrentRegularizer),
    biasRegularizer: weightConfig.regularizer(args.biasRegularizer),
    dropout: unit.dropout,
    recurrentDropout: unit.recurrentDropout,
    seed: unit.seed,
  };
}

/** Options shared by simpleRNN, lstm and gru (Keras 3's names, camelCase). */
export interface RecurrentArgs extends SequenceArgs, RecurrentUnitArgs {}

export const RECURRENT_KEYS = [
  'units',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'dropout',
  'recurrentDropout',
  'seed',
];

export function rate(layer: string, name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ValueError(`${layer}: ${name} must be a number in [0, 1); received ${fmtValue(v)}`);
  return v;
}

// Note [Unstacking the time axis]
// Slicing step t out of a [T, N, F] tensor has a full-size gradient (slice's VJP pads back to
// [T, N, F]) that the tape then adds up: T slices cost O(T²) memory traffic in the backward pass,
// which dominated a 50-step LSTM. Splitting in halves recursively gives every slice a parent
// only twice its size, so the backward pass moves O(T log T) instead. Without a tape (inference,
// or inputs and weights that need no gradient) plain slices are cheaper.
// Note [Projecting the input per step]
// With a tape, the step inputs' gradients flow back through the unstacking, whose cost grows
// with the width of what is unstacked. An LSTM's projection is 4·units wide, usually far wider
// than its input features, so while training the input itself is unstacked and each step
// multiplies its slice by the kernel (a small matmul per step instead of one large one, which
// measured about 20 % faster on a [64, 50, 32] → LSTM(128) training step). Without a tape the
// one large matmul and plain slices are cheapest.
/** Splits a time-major [T, N, ...] tensor into T tensors [N, ...]. */
export function unstackTime(x: Tensor): Tensor[] {
  const [steps, ...rest] = x.shape;
  if (!x.requiresGrad) return Array.from({ length: steps }, (_, t) => reshape(slice(x, [t], [1]), rest));
  const out: Tensor[] = [];
  const visit = (part: Tensor): void => {
    const n = part.shape[0];
    if (n === 1) return void out.push(reshape(part, rest));
    const half = n >> 1;
    visit(slice(part, [0], [half]));
    visit(slice(part, [half], [n - half]));
  };
  visit(x);
  return out;
}

/** An inverted-dropout mask (0 or 1 / (1 - rate)) drawn once per call, like Keras's cell masks. */
export function dropoutMask(shape: readonly number[], r: number, dtype: Tensor['dtype'], seed: number | undefined): Tensor {
  return noGrad(() => div(cast(greaterEqual(randomUniform(shape, { seed }), r), dtype), 1 - r));
}

/** One step of a cell: the new states from the step's projected input; the output is states[0]. */
export type StepFn = (projected: Tensor, states: Tensor[], recurrentInput: Tensor) => Tensor[];

/**
 * The shared machinery of Keras's RNN layer: input projection for the whole sequence, the loop
 * over time with masks, dropout, initial and stateful states, and the output forms. Subclasses
 * (SimpleRNN, LSTM, GRU) create the weights and supply one step.
 */
export abstract class RecurrentLayer extends SequenceLayer {
  /** The size of the output and of each state. */
  readonly units: number;
  /** Whether the gates have biases. */
  readonly useBias: boolean;
  /** The input dropout rate while training. */
  readonly dropout: number;
  /** The recurrent-state dropout rate while training. */
  readonly recurrentDropout: number;
  /** The dropout masks' seed, or null for the global stream. */
  readonly seed: number | null;
  protected readonly args: RecurrentArgs;
  /**
   * The input kernel, [inputDim, gates · units] (gates: LSTM 4, GRU 3, SimpleRNN 1); null until
   * built.
   */
  kernel: Tensor | null = null;
  /** The recurrent kernel, [units, gates · units]; null until built. */
  recurrentKernel: Tensor | null = null;
  /**
   * The bias ([gates · units]; GRU with resetAfter: [2, 3 · units]); null until built or without
   * one.
   */
  bias: Tensor | null = null;
  private calls = 0;

  /** The number of gate columns of the kernel (LSTM 4, GRU 3, SimpleRNN 1). */
  protected abstract readonly gates: number;
  /** The bias added to the whole projected input sequence (null when there is none). */
  protected abstract inputBias(): Tensor | null;
  /** The step function for one call (may precompute slices of the weights). */
  protected abstract makeStep(): StepFn;

  protected constructor(args: RecurrentArgs, ownKeys: readonly string[]) {
    super(args as RecurrentArgs & Record<string, unknown>, [...RECURRENT_KEYS, ...ownKeys]);
    this.units = positiveInt(this.name, 'units', args.units);
    this.useBias = flag(this.name, 'useBias', args.useBias, true);
    this.dropout = rate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = rate(this.name, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && args.seed !== null && !Number.isInteger(args.seed)) {
      throw new ValueError(`${this.name}: seed must be an integer or null; received ${fmtValue(args.seed)}`);
    }
    this.seed = args.seed ?? null;
    this.args = args;
  }

  /** Creates kernel [in, gates·units], recurrent_kernel [units, gates·units] and the bias. */
  protected buildWeights(inputShape: Shape | Shape[], biasShape: number[], biasInitializer: InitializerIdentifier): void {
    const shape = this.sequenceShape(inputShape);
    const inputDim = knownDim(this.name, shape, -1, 'feature dimension (last axis)');
    const width = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [inputDim, width], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], {
      initializer: this.args.recurrentInitializer ?? 'orthogonal',
      regularizer: this.args.recurrentRegularizer,
    });
    if (this.useBias) this.bias = this.addWeight('bias', biasShape, { initializer: biasInitializer, regularizer: this.args.biasRegularizer });
    this.createStatefulStates(shape);
  }

  protected stateShapes(inputShape: readonly number[]): number[][] {
    return Array.from({ length: this.stateCount }, () => [inputShape[0], this.units]);
  }

  protected stepOutputShapes(inputShape: Shape): { output: Shape; states: Shape[] } {
    const one: Shape = [inputShape[0], this.units];
    return { output: one, states: Array.from({ length: this.stateCount }, () => one) };
  }

  /** Any number of time steps is fine: the weights fix only the feature size. */
  protected override checkInput(shapes: Shape[]): void {
    const s = this.sequenceShape(shapes.length === 1 ? shapes[0] : shapes);
    const features = this.kernel?.shape[0];
    if (features !== undefined && s[2] !== null && s[2] !== features) {
      throw new ShapeError(
        `${this.name} (${this.className}): was built for inputs with ${features} features (last axis); received shape ${formatShape(s)}`,
      );
    }
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor | Tensor[] {
    let x = inputs as Tensor;
    if (x.rank !== 3)
      throw new ShapeError(`${this.name}: expected input of rank 3 [batch, timesteps, features]; received shape ${fmtShape(x.shape)}`);
    if (x.dtype !== this.dtype) x = cast(x, this.dtype);
    const [batch, steps, features] = x.shape;
    if (steps === 0) throw new ShapeError(`${this.name}: the input has no time steps: shape ${fmtShape(x.shape)}`);
    const states = this.initialStates(options.initialState, x.shape);
    const training = options.training === true;
    const seed = this.seed === null ? undefined : this.seed + 2 * this.calls++;

    const kernel = this.unroll || (training && this.recurrentDropout > 0) ? null : this.sequenceKernel(x);
    if (kernel) {
      const whole = this.wholeSequence(kernel, x, states, maskTensor(options.mask), training, seed);
      if (whole) return whole;
    }

    // Time-major, so each step is a contiguous block. Note [Projecting the input per step]:
    // unstacking costs backward traffic proportional to what is unstacked, so the narrower of
    // the input [T, N, F] and its projection [T, N, g·units] is split into steps.
    let xt = transpose(x, [1, 0, 2]);
    if (training && this.dropout > 0) xt = mul(xt, dropoutMask([batch, features], this.dropout, this.dtype, seed));
    const b = this.inputBias();
    const width = this.gates * this.units;
    let stepInputs: Tensor[];
    if (features < width && isGradEnabled() && (xt.requiresGrad || this.kernel!.requiresGrad)) {
      stepInputs = unstackTime(xt).map((xs) => {
        const p = matmul(xs, this.kernel!);
        return b ? add(p, b) : p;
      });
    } else {
      let projected = matmul(reshape(xt, [steps * batch, features]), this.kernel!);
      if (b) projected = add(projected, b);
      stepInputs = unstackTime(reshape(projected, [steps, batch, width]));
    }
    const stepMasks = this.stepMasks(options.mask, batch, steps);
    const recMask =
      training && this.recurrentDropout > 0
        ? dropoutMask([batch, this.units], this.recurrentDropout, this.dtype, seed === undefined ? undefined : seed + 1)
        : null;

    const step = this.makeStep();
    const result = this.loopOverTime(stepInputs, states, stepMasks, (xp, current) => {
      const h = current[0];
      const next = step(xp, current, recMask ? mul(h, recMask) : h);
      return { output: next[0], states: next };
    });
    return this.finish(result.output, result.states);
  }

  /**
   * A subclass's whole-sequence kernel for x (Note [Whole-sequence recurrent kernels]), or null to
   * step through time: it maps the input and initial states to every step's output [B, T, u] in
   * processing order and the final states.
   */
  protected sequenceKernel(_x: Tensor): SequenceKernel | null {
    return null;
  }

  /**
   * The layer's result through a whole-sequence kernel, masked batches included where Note
   * [Masked sequences in one kernel] allows; null when the mask needs the step loop.
   */
  private wholeSequence(
    kernel: SequenceKernel,
    x: Tensor,
    states: Tensor[],
    mask: Tensor | null,
    training: boolean,
    seed: number | undefined,
  ): Tensor | Tensor[] | null {
    const [batch, steps] = x.shape;
    const runs = mask === null ? null : maskRuns(this.name, mask, batch, steps, this.goBackwards);
    if (mask !== null && runs === null) return null;
    const padded = runs !== null && !runs.full;
    // An LSTM's c after each row's run is not among the kernel's outputs.
    if (padded && this.stateCount > 1 && (this.returnState || this.stateful)) return null;
    const input = this.sequenceInput(x, training, seed);
    const whole = kernel(padded ? runsFirst(input, runs) : input, states);
    if (!padded) return this.finish(this.returnSequences ? whole.sequence : whole.states[0], whole.states);
    const { sequence, last } = runsInPlace(whole.sequence, runs, this.zeroOutputForMask);
    // Only h is replaced: c is read only when returned or kept, which the check above excludes.
    return this.finish(this.returnSequences ? sequence : last, [last, ...whole.states.slice(1)]);
  }

  /** The input as a whole-sequence kernel sees it: input dropout applied, reversed for goBackwards. */
  private sequenceInput(x: Tensor, training: boolean, seed: number | undefined): Tensor {
    const [batch, steps, features] = x.shape;
    // The same mask as the step loop draws (one per sample and feature, shared by all steps).
    if (training && this.dropout > 0) x = mul(x, reshape(dropoutMask([batch, features], this.dropout, this.dtype, seed), [batch, 1, features]));
    if (this.goBackwards)
      x = gather(
        x,
        tensor(
          Array.from({ length: steps }, (_, t) => steps - 1 - t),
          [steps],
          'int32',
        ),
        1,
      );
    return x;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...recurrentUnitConfig(this, this.args) };
  }
}

/** A whole-sequence kernel bound to a layer's weights: input [B, T, F] and initial states → outputs and final states. */
export type SequenceKernel = (x: Tensor, states: Tensor[]) => { sequence: Tensor; states: Tensor[] };
