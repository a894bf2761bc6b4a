// Keras's generic RNN layer, which steps any cell through time, and StackedRNNCells, which runs
// several cells as one. The loop, masks, initial and stateful states and output forms are the
// built-in recurrent layers' own (SequenceLayer in rnn-base.ts); a built-in cell also gets its
// input projected for every step at once (one matmul, or one convolution for ConvLSTM cells).
import { ValueError, fmtValue } from '../../core/errors.js';
import { cast } from '../../ops/elementwise.js';
import { transpose } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, isShapeList, type CallOptions, type LayerArgs, type LayerWeight } from '../layer.js';
import { deserializeLayer, registerLayer, serializeLayer, type SerializedLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { unstackTime } from './recurrent-base.js';
import { SequenceLayer, type SequenceArgs, type StepResult } from './rnn-base.js';
import { cellStep, isSteppingCell, stateSizes, type RnnCell } from './rnn-cells.js';

/**
 * A cell given as a layer or in its serialized {className, config} form.
 * @inline
 */
type CellSpec = Layer | SerializedLayer;

function cellFrom(owner: string, spec: CellSpec): Layer {
  const cell = spec instanceof Layer ? spec : typeof spec === 'object' && spec !== null ? deserializeLayer(spec, `${owner} cell`) : null;
  if (!cell) throw new ValueError(`${owner}: cell must be a layer with stateSize (a cell); received ${fmtValue(spec)}`);
  stateSizes(owner, cell);
  return cell;
}

/** The symbolic output and state shapes of one step of a cell. */
function cellStepShapes(owner: string, cell: Layer, stepShape: Shape): { output: Shape; states: Shape[] } {
  if (isSteppingCell(cell) && cell.stepShapes) return cell.stepShapes(stepShape);
  const sizes = stateSizes(owner, cell);
  const outputSize = (cell as Partial<RnnCell>).outputSize ?? sizes[0];
  return { output: [stepShape[0], outputSize], states: sizes.map((s) => [stepShape[0], s]) };
}

/** The concrete state shapes of a cell for a step input of this shape. */
function cellStateShapes(owner: string, cell: Layer, stepShape: readonly number[]): number[][] {
  if (isSteppingCell(cell) && cell.stateShapes) return cell.stateShapes(stepShape);
  return stateSizes(owner, cell).map((s) => [stepShape[0], s]);
}

/** Options of `st.layers.stackedRNNCells`. */
export interface StackedRnnCellsArgs extends LayerArgs {
  /** The cells, run in order: each one's output is the next one's input. */
  cells: CellSpec[];
}

/**
 * Several cells run as one (Keras's StackedRNNCells): each step feeds each cell's output to the
 * next; the states are every cell's states in order, the output the last cell's.
 */
export class StackedRNNCells extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'StackedRNNCells';
  /** The cells, in order. */
  readonly cells: Layer[];

  constructor(args: StackedRnnCellsArgs) {
    super(args as StackedRnnCellsArgs & Record<string, unknown>, ['cells']);
    if (!Array.isArray(args.cells) || args.cells.length === 0)
      throw new ValueError(`${this.name}: cells must be a non-empty list of cells; received ${fmtValue(args.cells)}`);
    this.cells = args.cells.map((c) => cellFrom(this.name, c));
    if (args.trainable === false) this.trainable = false;
  }

  /** Every cell's state sizes, in order. */
  get stateSize(): number[] {
    return this.cells.flatMap((c) => stateSizes(this.name, c));
  }

  /** The last cell's output size. */
  get outputSize(): number {
    const last = this.cells[this.cells.length - 1];
    return (last as Partial<RnnCell>).outputSize ?? stateSizes(this.name, last)[0];
  }

  override get weights(): LayerWeight[] {
    return this.cells.flatMap((c) => c.weights);
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    for (const c of this.cells ?? []) c.trainable = value;
  }

  /** Builds each cell on the previous one's output shape. */
  override build(inputShape: Shape | Shape[]): void {
    let shape = isShapeList(inputShape) ? inputShape[0] : inputShape;
    for (const c of this.cells) {
      c.ensureBuilt(shape);
      shape = cellStepShapes(this.name, c, shape).output;
    }
  }

  /** One step of every cell; the states are split among the cells in order. */
  step(x: Tensor, states: Tensor[], training: boolean): StepResult {
    let input = x,
      at = 0;
    const next: Tensor[] = [];
    for (const c of this.cells) {
      const count = stateSizes(this.name, c).length;
      const r = cellStep(c, input, states.slice(at, at + count), training);
      at += count;
      next.push(...r.states);
      input = r.output;
    }
    return { output: input, states: next };
  }

  /** Keras's cells draw their dropout masks once per sequence. */
  resetDropoutMasks(): void {
    for (const c of this.cells) if (isSteppingCell(c)) c.resetDropoutMasks();
  }

  /** One step on [input, ...states] (every cell's states in order): returns [output, ...new states]. */
  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    if (states.length !== this.stateSize.length) {
      throw new ValueError(`${this.name}: the stacked cells have ${this.stateSize.length} states; received ${states.length}`);
    }
    this.resetDropoutMasks();
    const r = this.step(x, states, options.training === true);
    return [r.output, ...r.states];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    let shape = isShapeList(inputShape) ? inputShape[0] : inputShape;
    const states: Shape[] = [];
    for (const c of this.cells) {
      const s = cellStepShapes(this.name, c, shape);
      states.push(...s.states);
      shape = s.output;
    }
    return [shape, ...states];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cells: this.cells.map(serializeLayer) };
  }
}

/** Options of `st.layers.rnn`. */
export interface RnnArgs extends SequenceArgs {
  /**
   * The cell run at every step: a built-in cell (simpleRNNCell, lstmCell, gruCell, ...), a list
   * of cells (run as stackedRNNCells), or a user cell: a Layer subclass with `stateSize` whose
   * `call([input, ...states])` returns `[output, ...newStates]`.
   */
  cell: CellSpec | CellSpec[];
}

/**
 * Keras's RNN layer: steps a cell through time over [batch, time, ...features], with the
 * recurrent layers' masks, initial states (`apply(x, {initialState})`), stateful states and
 * output forms. Its weights are the cell's.
 */
export class RNN extends SequenceLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className: string = 'RNN';
  /** The cell stepped through time. */
  readonly cell: Layer;
  readonly stateCount: number;
  private builtShape: Shape | null = null;

  /** ownKeys: the option names of a subclass that makes its own cell (the convolutional LSTMs). */
  constructor(args: RnnArgs, ownKeys: readonly string[] = []) {
    const owner = (args as { name?: string }).name ?? 'RNN';
    const cell = Array.isArray(args.cell) ? new StackedRNNCells({ cells: args.cell }) : cellFrom(owner, args.cell);
    super({ ...args, dtype: args.dtype ?? cell.dtype } as RnnArgs & Record<string, unknown>, ['cell', ...ownKeys]);
    this.cell = cell;
    this.stateCount = stateSizes(this.name, cell).length;
    if (args.trainable === false) this.trainable = false;
  }

  protected override inputRank(): { rank: number; layout: string } {
    const stepRank = (isSteppingCell(this.cell) ? this.cell.stepRank : undefined) ?? 2;
    return stepRank === 2
      ? { rank: 3, layout: '[batch, timesteps, features]' }
      : {
          rank: stepRank + 1,
          layout: `[batch, timesteps, ${stepRank === 3 ? 'steps' : stepRank === 4 ? 'height, width' : 'depth, height, width'}, channels]`,
        };
  }

  /**
   * The cell's weights, their paths under this layer's name (Keras's rnn/lstm_cell/kernel), so
   * that two rnn layers over cells of the same name (Bidirectional's two directions) differ.
   */
  override get weights(): LayerWeight[] {
    return this.cell.weights.map((w) => ({ ...w, path: `${this.name}/${w.path}` }));
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    if (this.cell) this.cell.trainable = value;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = this.sequenceShape(inputShape);
    this.cell.ensureBuilt([shape[0], ...shape.slice(2)]);
    this.builtShape = [null, null, ...shape.slice(2)];
    this.createStatefulStates(shape);
  }

  /** Any number of time steps is fine; the other axes must be those the cell was built for. */
  protected override checkInput(shapes: Shape[]): void {
    const s = this.sequenceShape(shapes.length === 1 ? shapes[0] : shapes);
    if (this.builtShape && s.some((d, i) => i > 1 && d !== null && this.builtShape![i] !== null && d !== this.builtShape![i])) {
      throw new ValueError(`${this.name} (RNN): was built for inputs of shape ${formatShape(this.builtShape)}; received ${formatShape(s)}`);
    }
  }

  protected stateShapes(inputShape: readonly number[]): number[][] {
    return cellStateShapes(this.name, this.cell, [inputShape[0], ...inputShape.slice(2)]);
  }

  protected stepOutputShapes(inputShape: Shape): { output: Shape; states: Shape[] } {
    return cellStepShapes(this.name, this.cell, [inputShape[0], ...inputShape.slice(2)]);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor | Tensor[] {
    let x = inputs as Tensor;
    this.sequenceShape(x.shape);
    if (x.dtype !== this.dtype) x = cast(x, this.dtype);
    const [batch, steps] = x.shape;
    if (steps === 0) throw new ValueError(`${this.name}: the input has no time steps: shape [${x.shape.join(', ')}]`);
    const states = this.initialStates(options.initialState, x.shape);
    const training = options.training === true;
    const cell = this.cell;
    // Time-major, so that each step is a contiguous block (Note [Unstacking the time axis]).
    const xt = transpose(x, [1, 0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)]);
    let stepInputs: Tensor[];
    let step: (input: Tensor, states: Tensor[]) => StepResult;
    if (isSteppingCell(cell)) {
      cell.resetDropoutMasks();
      stepInputs = unstackTime(cell.projectInputs(xt, training));
      step = (xp, s) => cell.stepProjected(xp, s, training);
    } else {
      if (cell instanceof StackedRNNCells) cell.resetDropoutMasks();
      stepInputs = unstackTime(xt);
      step = cell instanceof StackedRNNCells ? (xs, s) => cell.step(xs, s, training) : (xs, s) => cellStep(cell, xs, s, training);
    }
    const result = this.loopOverTime(stepInputs, states, this.stepMasks(options.mask, batch, steps), step);
    return this.finish(result.output, result.states);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cell: serializeLayer(this.cell) };
  }
}

registerLayer('RNN', (c) => new RNN(c as unknown as RnnArgs));
registerLayer('StackedRNNCells', (c) => new StackedRNNCells(c as unknown as StackedRnnCellsArgs));
