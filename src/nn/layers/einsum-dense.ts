// Keras's EinsumDense: a dense layer whose contraction is an einsum equation of the input and
// the kernel, e.g. 'ab,bc->ac' (Dense), '...b,bc->...c' (Dense on the last axis of any rank),
// 'abc,cde->abde' (a projection to heads, as MultiHeadAttention's). The kernel's and bias's
// shapes follow Keras 3's _analyze_split_string: a kernel axis takes its size from the input when
// its letter is an input axis, else from `outputShape` (the output's shape without the batch
// axis); the bias covers the output from the first of `biasAxes` on, size 1 on other axes.
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { einsum } from '../../ops/einsum.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { weightConfig, type KernelBiasArgs } from './dense.js';

/** Options of `st.layers.einsumDense`; the kernel and bias options are those of {@link DenseArgs}. */
export interface EinsumDenseArgs extends LayerArgs, KernelBiasArgs {
  /** 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...': input, kernel and output subscripts. */
  equation: string;
  /** The output's shape without the batch axis (null for a size taken from the input); one number for rank 2. */
  outputShape: number | readonly (number | null)[];
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** The output letters the bias varies along (e.g. 'c'); none without it. Default null. */
  biasAxes?: string | null;
}

interface Analysis {
  kernelShape: number[];
  biasShape: number[] | null;
  /** The full output shape, batch axis first. */
  outputShape: Shape;
}

/** Keras's split of the equation: which side the ellipsis is on and the three subscript strings. */
function splitEquation(layer: string, equation: string): { input: string; weight: string; output: string; elision: 'none' | 'left' | 'right' } {
  const plain = /^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/.exec(equation);
  if (plain) return { input: plain[1], weight: plain[2], output: plain[3], elision: 'none' };
  const left = /^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$/.exec(equation);
  if (left) return { input: left[1], weight: left[2], output: left[3], elision: 'left' };
  const right = /^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]{2,})\.\.\.$/.exec(equation);
  if (right) return { input: right[1], weight: right[2], output: right[3], elision: 'right' };
  throw new ValueError(`${layer}: equation must be of the form 'ab,bc->ac', '...ab,bc->...ac' or 'ab...,bc->ac...'; received ${fmtValue(equation)}`);
}

/** Keras 3's _analyze_split_string: the kernel's, bias's and output's shapes for an input shape. */
function analyze(layer: string, equation: string, biasAxes: string | null, inputShape: Shape, outputShapeArg: readonly (number | null)[]): Analysis {
  const { input, weight, output, elision } = splitEquation(layer, equation);
  const elided = inputShape.length - input.length;
  if (elided < 0 || (elision === 'none' && elided !== 0)) {
    throw new ShapeError(`${layer}: the equation's input '${input}' does not fit an input of rank ${inputShape.length} (${formatShape(inputShape)})`);
  }
  const out: (number | null)[] = [inputShape[0], ...outputShapeArg];
  if (elided > 0 && elision === 'left') for (let i = 1; i < elided; i++) out.splice(1, 0, inputShape[i]);
  else if (elided > 0 && elision === 'right') for (let i = inputShape.length - elided; i < inputShape.length; i++) out.push(inputShape[i]);
  // Keras's maps from a letter to its axis (negative, from the end, when the ellipsis is on the left).
  const inputAt = new Map([...input].map((ch, i) => [ch, elision === 'left' ? i + elided - inputShape.length : i]));
  const outputAt = new Map([...output].map((ch, i) => [ch, elision === 'left' ? i + elided - out.length : i]));
  const dim = (shape: Shape, i: number) => shape[i < 0 ? shape.length + i : i];
  for (const ch of input) {
    if (!outputAt.has(ch)) continue;
    const o = dim(out, outputAt.get(ch)!),
      n = dim(inputShape, inputAt.get(ch)!);
    if (o !== null && n !== null && o !== n) {
      throw new ShapeError(`${layer}: outputShape gives axis '${ch}' size ${o}, but the input ${formatShape(inputShape)} has ${n} there`);
    }
  }
  for (const ch of output) {
    if (!input.includes(ch) && !weight.includes(ch))
      throw new ValueError(`${layer}: output axis '${ch}' of '${equation}' is in neither the input nor the kernel`);
  }
  const kernelShape = [...weight].map((ch) => {
    const size = inputAt.has(ch) ? dim(inputShape, inputAt.get(ch)!) : outputAt.has(ch) ? dim(out, outputAt.get(ch)!) : undefined;
    if (size === undefined) throw new ValueError(`${layer}: kernel axis '${ch}' of '${equation}' is in neither the input nor the output`);
    if (size === null) throw new ShapeError(`${layer}: the size of kernel axis '${ch}' is unknown for input ${formatShape(inputShape)}`);
    return size;
  });
  let biasShape: number[] | null = null;
  if (biasAxes !== null) {
    for (const ch of biasAxes) if (!output.includes(ch)) throw new ValueError(`${layer}: bias axis '${ch}' is not an output axis of '${equation}'`);
    const first = Math.min(...[...biasAxes].map((ch) => output.indexOf(ch)));
    biasShape = [...output.slice(first)].map((ch) => {
      if (!biasAxes.includes(ch)) return 1;
      const size = dim(out, outputAt.get(ch)!);
      if (size === null) throw new ShapeError(`${layer}: the size of bias axis '${ch}' is unknown`);
      return size;
    });
    if (elision !== 'left') for (let i = 0; i < elided; i++) biasShape.push(1);
  }
  return { kernelShape, biasShape, outputShape: out };
}

/** Keras's EinsumDense layer; see the file's comment. */
export class EinsumDense extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'EinsumDense';
  /** The einsum equation of input and kernel. */
  readonly equation: string;
  /** The output's shape without the batch axis, as given. */
  readonly partialOutputShape: (number | null)[];
  /** The output letters the bias varies along, or null. */
  readonly biasAxes: string | null;
  /** The activation applied to the output. */
  readonly activation: Activation;
  private readonly args: EinsumDenseArgs;
  /** The kernel; null until built. */
  kernel: Tensor | null = null;
  /** The bias; null until built or without biasAxes. */
  bias: Tensor | null = null;

  constructor(args: EinsumDenseArgs) {
    super(args as EinsumDenseArgs & Record<string, unknown>, [
      'equation',
      'outputShape',
      'activation',
      'biasAxes',
      'kernelInitializer',
      'biasInitializer',
      'kernelRegularizer',
      'biasRegularizer',
    ]);
    if (typeof args.equation !== 'string')
      throw new ValueError(`${this.name}: equation is required (e.g. 'ab,bc->ac'); received ${fmtValue(args.equation)}`);
    splitEquation(this.name, args.equation);
    this.equation = args.equation;
    const shape = typeof args.outputShape === 'number' ? [args.outputShape] : Array.isArray(args.outputShape) ? [...args.outputShape] : null;
    if (!shape || shape.some((d) => d !== null && (!Number.isInteger(d) || d < 1))) {
      throw new ValueError(
        `${this.name}: outputShape must be a positive integer or a list of them (null for sizes from the input); received ${fmtValue(args.outputShape)}`,
      );
    }
    this.partialOutputShape = shape;
    if (args.biasAxes !== undefined && args.biasAxes !== null && (typeof args.biasAxes !== 'string' || !/^[a-zA-Z]+$/.test(args.biasAxes))) {
      throw new ValueError(`${this.name}: biasAxes must be a string of output letters or null; received ${fmtValue(args.biasAxes)}`);
    }
    this.biasAxes = args.biasAxes ?? null;
    this.activation = getActivation(args.activation);
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const { kernelShape, biasShape } = analyze(this.name, this.equation, this.biasAxes, singleShape(this.name, inputShape), this.partialOutputShape);
    this.kernel = this.addWeight('kernel', kernelShape, {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    if (biasShape)
      this.bias = this.addWeight('bias', biasShape, { initializer: this.args.biasInitializer ?? 'zeros', regularizer: this.args.biasRegularizer });
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    let y = einsum(this.equation, inputs as Tensor, this.kernel!);
    if (this.bias) y = add(y, this.bias);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return analyze(this.name, this.equation, this.biasAxes, singleShape(this.name, inputShape), this.partialOutputShape).outputShape;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      equation: this.equation,
      outputShape: this.partialOutputShape,
      activation: weightConfig.activation(this.activation),
      biasAxes: this.biasAxes,
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

registerLayer('EinsumDense', (c) => new EinsumDense(c as unknown as EinsumDenseArgs));

/** The factory, spread into `st.layers`. */
export const einsumDenseLayers = {
  /**
   * A dense layer whose contraction is an einsum equation (Keras's EinsumDense).
   * @example
   * ```ts
   * const heads = st.layers.einsumDense({ equation: 'abc,cde->abde', outputShape: [null, 4, 8], biasAxes: 'de' });
   * console.log(heads.apply(st.randomNormal([2, 5, 16])).shape); // [2, 5, 4, 8]
   * ```
   */
  einsumDense: (args: EinsumDenseArgs) => new EinsumDense(args),
};
