// What every layer that steps a cell through time shares (Keras's RNN base): the options
// returnSequences, returnState, goBackwards, stateful, unroll and zeroOutputForMask; initial
// and carried states; the loop over time with Keras's mask rules; the output forms and masks.
// The built-in recurrent layers (RecurrentLayer: simpleRNN, lstm, gru, with their projections
// and whole-sequence kernels), the generic rnn layer over any cell and the convolutional LSTMs
// all run on this one loop.
import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { variable } from '../../autograd/functional.js';
import { cast, where } from '../../ops/elementwise.js';
import { reshape, slice, stack, transpose } from '../../ops/shape-ops.js';
import { zeros } from '../../tensor/create.js';
import { noGrad } from '../../tensor/tape.js';
import { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type LayerArgs } from '../layer.js';
import { formatShape, type Shape } from '../symbolic.js';

/** The options of Keras's RNN base, shared by every recurrent layer. */
export interface SequenceArgs extends LayerArgs {
  /** Return the output of every step [N, T, ...] instead of the last one [N, ...]. */
  returnSequences?: boolean;
  /** Return [output, ...final states] (LSTM: [output, h, c]; GRU, SimpleRNN: [output, h]). */
  returnState?: boolean;
  /** Process the sequence from its end; the returned sequence is in processing (reversed) order. */
  goBackwards?: boolean;
  /** Keep the final states between calls as the next call's initial states (needs a fixed batch size). */
  stateful?: boolean;
  /**
   * Step through time with one op per step even where a whole-sequence kernel exists (Note
   * [Whole-sequence recurrent kernels]); the loop itself always runs eagerly. Needed for second derivatives.
   */
  unroll?: boolean;
  /** Masked steps output zeros instead of repeating the previous output (Bidirectional sets it). */
  zeroOutputForMask?: boolean;
}

export const SEQUENCE_KEYS = ['returnSequences', 'returnState', 'goBackwards', 'stateful', 'unroll', 'zeroOutputForMask'];

/** A boolean option with its default, or a ValueError naming the option. */
export function flag(layer: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ValueError(`${layer}: ${name} must be a boolean; received ${fmtValue(v)}`);
  return v;
}

/** One step's result: the step's output and the new states. */
export interface StepResult {
  /** The step's output. */
  output: Tensor;
  /** The states after the step, in the order the cell carries them. */
  states: Tensor[];
}

/**
 * The loop over time and the state rules of Keras's RNN layer. Subclasses say what the states
 * look like (stateShapes) and what one step computes.
 */
export abstract class SequenceLayer extends Layer {
  override supportsMasking = true;
  /** Whether the output has every step ([N, T, ...]) or only the last ([N, ...]). */
  readonly returnSequences: boolean;
  /** Whether the layer returns [output, ...final states]. */
  readonly returnState: boolean;
  /** Whether the sequence is processed from its end. */
  readonly goBackwards: boolean;
  /** Whether the final states carry over to the next call. */
  readonly stateful: boolean;
  /** Whether the layer steps with one op per step instead of a whole-sequence kernel. */
  readonly unroll: boolean;
  /** Whether masked steps output zeros instead of repeating the previous output. */
  zeroOutputForMask: boolean;
  /** The carried states of a stateful layer (not weights: Keras does not save them either). */
  states: Tensor[] | null = null;

  /** How many state tensors the layer carries (LSTM 2: h and c). */
  abstract readonly stateCount: number;

  /** The shapes of the states for a batch of inputs of this full shape [batch, time, ...]. */
  protected abstract stateShapes(inputShape: readonly number[]): number[][];

  /** The symbolic shapes of the output of one step and of the states, for an input shape [batch, time, ...]. */
  protected abstract stepOutputShapes(inputShape: Shape): { output: Shape; states: Shape[] };

  /** The input's rank and its layout, for errors ([batch, timesteps, features] for the plain layers). */
  protected inputRank(): { rank: number; layout: string } {
    return { rank: 3, layout: '[batch, timesteps, features]' };
  }

  protected constructor(args: SequenceArgs & Record<string, unknown>, ownKeys: readonly string[]) {
    super(args, [...SEQUENCE_KEYS, ...ownKeys]);
    this.returnSequences = flag(this.name, 'returnSequences', args.returnSequences, false);
    this.returnState = flag(this.name, 'returnState', args.returnState, false);
    this.goBackwards = flag(this.name, 'goBackwards', args.goBackwards, false);
    this.stateful = flag(this.name, 'stateful', args.stateful, false);
    this.unroll = flag(this.name, 'unroll', args.unroll, false);
    this.zeroOutputForMask = flag(this.name, 'zeroOutputForMask', args.zeroOutputForMask, false);
  }

  /** Checks the input's rank (a ShapeError naming the layout otherwise). */
  protected sequenceShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    const { rank, layout } = this.inputRank();
    if (shape.length !== rank) throw new ShapeError(`${this.name}: expected input of rank ${rank} ${layout}; received shape ${formatShape(shape)}`);
    return shape;
  }

  /** Creates the carried states of a stateful layer (from build, when the input shape is known). */
  protected createStatefulStates(shape: Shape): void {
    if (!this.stateful) return;
    const batch = shape[0] ?? this.batchInputShape?.[0] ?? null;
    if (batch === null || shape.slice(2).some((d) => d === null)) {
      const { layout } = this.inputRank();
      throw new ValueError(
        `${this.name}: a stateful layer needs a fixed batch size (give it batchInputShape, e.g. ${layout.replace('batch', '32')}); received input shape ${formatShape(shape)}`,
      );
    }
    const concrete = [batch, 1, ...(shape.slice(2) as number[])];
    this.states = this.stateShapes(concrete).map((s) => variable(zeros(s, this.dtype), { trainable: false }));
  }

  /** Sets a stateful layer's states to zeros (Keras's reset_states). */
  resetStates(): void {
    if (!this.stateful) throw new ValueError(`${this.name}: resetStates needs a stateful layer (stateful: true)`);
    if (this.states) noGrad(() => this.states!.forEach((s) => s.assign(zeros(s.shape, s.dtype))));
  }

  /** Keras 3's name for resetStates. */
  resetState(): void {
    this.resetStates();
  }

  /** The initial states: given ones (checked), the stateful layer's carried ones, or zeros. */
  protected initialStates(given: unknown, inputShape: readonly number[]): Tensor[] {
    const shapes = this.stateShapes(inputShape);
    const batch = inputShape[0];
    if (given === undefined || given === null) {
      if (this.stateful) {
        const s = this.states!;
        if (s[0].shape[0] !== batch) {
          throw new ShapeError(`${this.name}: a stateful layer was built for batch size ${s[0].shape[0]}; received a batch of ${batch}`);
        }
        return [...s];
      }
      return shapes.map((s) => zeros(s, this.dtype));
    }
    const list = Array.isArray(given) ? given : [given];
    if (list.length !== shapes.length || !list.every((s) => s instanceof Tensor)) {
      throw new ValueError(
        `${this.name}: initialState must be a list of ${shapes.length} tensor(s) ${shapes.map((s) => fmtShape(s)).join(', ')}; received ${Array.isArray(given) ? `a list of ${given.length}` : typeof given}`,
      );
    }
    return list.map((s: Tensor, i) => {
      if (fmtShape(s.shape) !== fmtShape(shapes[i])) {
        throw new ShapeError(`${this.name}: initialState[${i}] must have shape ${fmtShape(shapes[i])}; received ${fmtShape(s.shape)}`);
      }
      return s.dtype === this.dtype ? s : cast(s, this.dtype);
    });
  }

  /** The mask's steps as [N, 1] bool tensors, or null when unmasked. */
  protected stepMasks(mask: unknown, batch: number, steps: number): Tensor[] | null {
    const m = maskTensor(mask);
    if (!m) return null;
    if (m.rank !== 2 || m.shape[0] !== batch || m.shape[1] !== steps) {
      throw new ShapeError(`${this.name}: the mask must have shape [${batch}, ${steps}] (batch, timesteps); received ${fmtShape(m.shape)}`);
    }
    return noGrad(() => {
      const timeMajor = reshape(transpose(m.dtype === 'bool' ? m : cast(m, 'bool'), [1, 0]), [steps, batch, 1]);
      return Array.from({ length: steps }, (_, t) => reshape(slice(timeMajor, [t], [1]), [batch, 1]));
    });
  }

  /**
   * Keras's loop over time: step t (reversed for goBackwards) from the step inputs (in time order)
   * and the states. Note [Masks]: a masked step keeps the states and repeats the previous output
   * (zeros before any real step, or always zeros with zeroOutputForMask). The result is the
   * stacked outputs in processing order (returnSequences) or the last one, and the final states.
   */
  protected loopOverTime(
    stepInputs: readonly Tensor[],
    initial: Tensor[],
    masks: Tensor[] | null,
    step: (x: Tensor, states: Tensor[]) => StepResult,
  ): { output: Tensor; states: Tensor[] } {
    const steps = stepInputs.length;
    let states = initial;
    const outputs: Tensor[] = [];
    let previous: Tensor | null = null;
    // A [N, 1] mask broadcast against a state or output of any rank.
    const fit = (m: Tensor, like: Tensor) => (like.rank === 2 ? m : reshape(m, [m.shape[0], ...new Array<number>(like.rank - 1).fill(1)]));
    for (let k = 0; k < steps; k++) {
      const t = this.goBackwards ? steps - 1 - k : k;
      const next = step(stepInputs[t], states);
      let output = next.output;
      const m = masks?.[t];
      if (m) {
        const prior = states;
        states = next.states.map((s, i) => where(fit(m, s), s, prior[i]));
        output = where(fit(m, output), output, this.zeroOutputForMask || previous === null ? 0 : previous);
      } else {
        states = next.states;
      }
      previous = output;
      if (this.returnSequences) outputs.push(output);
    }
    return { output: this.returnSequences ? stack(outputs, 1) : previous!, states };
  }

  /** Output (the sequence or the last step's output) and states, in Keras's returnState form. */
  protected finish(out: Tensor, states: Tensor[]): Tensor | Tensor[] {
    // assign takes its own reference to the storage, so freeing the step's graph keeps the states.
    if (this.stateful) noGrad(() => this.states!.forEach((s, i) => s.assign(states[i])));
    return this.returnState ? [out, ...states] : out;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shape = this.sequenceShape(inputShape);
    const { output, states } = this.stepOutputShapes(shape);
    const out: Shape = this.returnSequences ? [output[0], shape[1], ...output.slice(1)] : output;
    return this.returnState ? [out, ...states] : out;
  }

  override computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | (Tensor | null)[] | null {
    const m = Array.isArray(mask) ? mask[0] : mask;
    const outMask = this.returnSequences ? (m ?? null) : null;
    if (!this.returnState) return outMask;
    return [outMask, ...Array.from({ length: this.stateCount }, () => null)];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      unroll: this.unroll,
      zeroOutputForMask: this.zeroOutputForMask,
    };
  }
}

/** The sequence mask among a call's mask option (a tensor, or the first of a list), or null. */
export function maskTensor(mask: unknown): Tensor | null {
  if (mask === undefined || mask === null) return null;
  return ((Array.isArray(mask) ? mask[0] : mask) as Tensor | null) ?? null;
}
