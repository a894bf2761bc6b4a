// Keras's Dot merge layer: the per-sample dot product of two inputs along one axis of each.
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { div, maximum, sqrt, square } from '../../ops/elementwise.js';
import { einsum } from '../../ops/einsum.js';
import { sum } from '../../ops/reduction.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs, isShapeList } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';

/** Options of `st.layers.dot`. */
export interface DotArgs extends LayerArgs {
  /**
   * The axis of both inputs summed over, or [axis of the first, axis of the second]; negative
   * counts from the end; never the batch axis 0.
   */
  axes: number | readonly [number, number];
  /** L2-normalize both inputs along their axes first, which makes the output the cosine similarity. Default false. */
  normalize?: boolean;
}

/** Keras's epsilon: the smallest norm divided by in `normalize` (keras.ops.normalize). */
const NORM_EPSILON = 1e-7;

/**
 * The dot product of each sample of two inputs along `axes` (Keras's Dot, a batch dot): the output
 * holds the first input's other axes, then the second's other non-batch axes; a result of rank 1
 * becomes [batch, 1]. `{axes: 1}` on two [batch, n] inputs gives [batch, 1]; `{axes: [2, 2]}` on
 * [batch, t, d] and [batch, s, d] gives [batch, t, s] (attention scores).
 */
export class Dot extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Dot';
  /** The axes as given. */
  readonly axes: number | [number, number];
  /** Whether the inputs are L2-normalized first. */
  readonly normalize: boolean;

  constructor(args: DotArgs) {
    super(args as DotArgs & Record<string, unknown>, ['axes', 'normalize']);
    const a = args.axes;
    const ok = Number.isInteger(a) || (Array.isArray(a) && a.length === 2 && a.every(Number.isInteger));
    if (!ok) throw new ValueError(`${this.name}: axes must be an integer or a pair of integers; received ${fmtValue(a)}`);
    if (args.normalize !== undefined && typeof args.normalize !== 'boolean') {
      throw new ValueError(`${this.name}: normalize must be a boolean; received ${fmtValue(args.normalize)}`);
    }
    this.axes = typeof a === 'number' ? a : [a[0], a[1]];
    this.normalize = args.normalize ?? false;
  }

  /** The two shapes and the axis of each that is summed, checked. */
  private plan(shapes: Shape | Shape[]): { s1: Shape; s2: Shape; a1: number; a2: number } {
    if (!isShapeList(shapes) || shapes.length !== 2) {
      throw new ValueError(`${this.name}: expects a list of exactly 2 inputs; received ${isShapeList(shapes) ? shapes.length : 'one tensor'}`);
    }
    const [s1, s2] = shapes;
    if (s1.length < 2 || s2.length < 2)
      throw new ShapeError(`${this.name}: inputs must have rank >= 2 (batch first); received ${formatShape(s1)} and ${formatShape(s2)}`);
    const [r1, r2] = typeof this.axes === 'number' ? [this.axes, this.axes] : this.axes;
    const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);
    const a1 = norm(r1, s1.length),
      a2 = norm(r2, s2.length);
    if (a1 < 1 || a1 >= s1.length || a2 < 1 || a2 >= s2.length) {
      throw new ValueError(
        `${this.name}: axes ${fmtValue(this.axes)} are out of range or the batch axis for inputs ${formatShape(s1)} and ${formatShape(s2)}`,
      );
    }
    const d1 = s1[a1],
      d2 = s2[a2];
    if (d1 !== null && d2 !== null && d1 !== d2) {
      throw new ShapeError(
        `${this.name}: the summed axes differ in size: ${formatShape(s1)} axis ${a1} is ${d1}, ${formatShape(s2)} axis ${a2} is ${d2}`,
      );
    }
    const b1 = s1[0],
      b2 = s2[0];
    if (b1 !== null && b2 !== null && b1 !== b2)
      throw new ShapeError(`${this.name}: the batch sizes differ: ${formatShape(s1)} and ${formatShape(s2)}`);
    return { s1, s2, a1, a2 };
  }

  private l2Normalize(x: Tensor, axis: number): Tensor {
    return div(x, maximum(sqrt(sum(square(x), axis, true)), NORM_EPSILON));
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    const { s1, s2, a1, a2 } = this.plan(xs.map((x) => x.shape));
    let [x, y] = xs;
    if (this.normalize) {
      x = this.l2Normalize(x, a1);
      y = this.l2Normalize(y, a2);
    }
    // One einsum: 'a' the batch, 'b' the summed axis, the others each a letter of its own.
    let next = 2;
    const letter = () => String.fromCharCode(97 + next++);
    const l1 = s1.map((_, i) => (i === 0 ? 'a' : i === a1 ? 'b' : letter()));
    const l2 = s2.map((_, i) => (i === 0 ? 'a' : i === a2 ? 'b' : letter()));
    const out = [...l1.filter((l) => l !== 'b'), ...l2.filter((l) => l !== 'a' && l !== 'b')];
    const z = einsum(`${l1.join('')},${l2.join('')}->${out.join('')}`, x, y);
    return z.rank === 1 ? reshape(z, [z.shape[0], 1]) : z;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const { s1, s2, a1, a2 } = this.plan(inputShape);
    const out = [...s1.filter((_, i) => i !== a1), ...s2.filter((_, i) => i !== 0 && i !== a2)];
    return out.length === 1 ? [out[0], 1] : out;
  }

  /** Keras's Dot drops masks. */
  override computeMask(): null {
    return null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axes: this.axes, normalize: this.normalize };
  }
}

registerLayer('Dot', (c) => new Dot(c as unknown as DotArgs));
