import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { add, div, logicalAnd, maximum, minimum, mul, sub } from '../../ops/elementwise.js';
import { concat } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, isShapeList, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';

function shapeList(layer: string, s: Shape | Shape[], min: number): Shape[] {
  if (!isShapeList(s) || s.length < min) {
    throw new ValueError(`${layer}: expects a list of at least ${min} inputs; received ${isShapeList(s) ? s.length : 'one tensor'}`);
  }
  return s;
}

/** NumPy broadcasting of shapes with unknown (null) sizes. */
function broadcastShapes(layer: string, shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: (number | null)[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => (i < rank - s.length ? 1 : s[i - (rank - s.length)]));
    const known = [...new Set(dims.filter((d): d is number => d !== null && d !== 1))];
    if (known.length > 1) throw new ShapeError(`${layer}: inputs cannot be broadcast together: ${shapes.map(formatShape).join(' and ')}`);
    out.push(known.length ? known[0] : dims.includes(null) ? null : 1);
  }
  return out;
}

/** Combines a list of same-shaped (broadcastable) inputs elementwise. */
abstract class ElementwiseMerge extends Layer {
  constructor(args: LayerArgs = {}) {
    super(args as LayerArgs & Record<string, unknown>, []);
  }
  protected abstract combine(xs: Tensor[]): Tensor;
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    shapeList(
      this.name,
      xs.map((x) => x.shape),
      this.minInputs(),
    );
    return this.combine(xs);
  }
  protected minInputs(): number {
    return 2;
  }
  /** A step is kept when every masked input keeps it (Keras's rule for merges). */
  override computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | null {
    const masks = (Array.isArray(mask) ? mask : [mask]).filter((m): m is Tensor => m !== null);
    return masks.length ? masks.reduce((a, b) => logicalAnd(a, b)) : null;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return broadcastShapes(this.name, shapeList(this.name, inputShape, this.minInputs()));
  }
}

/** The layer `st.layers.add` makes: the elementwise sum of its inputs. */
export class Add extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Add';
  protected combine(xs: Tensor[]): Tensor {
    return xs.reduce((a, b) => add(a, b));
  }
}
/** The layer `st.layers.subtract` makes: the first input minus the second. */
export class Subtract extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Subtract';
  protected combine(xs: Tensor[]): Tensor {
    if (xs.length !== 2) throw new ValueError(`${this.name}: expects exactly 2 inputs; received ${xs.length}`);
    return sub(xs[0], xs[1]);
  }
}
/** The layer `st.layers.multiply` makes: the elementwise product of its inputs. */
export class Multiply extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Multiply';
  protected combine(xs: Tensor[]): Tensor {
    return xs.reduce((a, b) => mul(a, b));
  }
}
/** The layer `st.layers.average` makes: the elementwise mean of its inputs. */
export class Average extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Average';
  protected combine(xs: Tensor[]): Tensor {
    return div(
      xs.reduce((a, b) => add(a, b)),
      xs.length,
    );
  }
}
/** The layer `st.layers.maximum` makes: the elementwise maximum of its inputs. */
export class Maximum extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Maximum';
  protected combine(xs: Tensor[]): Tensor {
    return xs.reduce((a, b) => maximum(a, b));
  }
}
/** The layer `st.layers.minimum` makes: the elementwise minimum of its inputs. */
export class Minimum extends ElementwiseMerge {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Minimum';
  protected combine(xs: Tensor[]): Tensor {
    return xs.reduce((a, b) => minimum(a, b));
  }
}

/** Options of `st.layers.concatenate`. */
export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along (not the batch axis). Default -1. */
  axis?: number;
}

/** Joins inputs along `axis` (the last by default); all other sizes must agree. */
export class Concatenate extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Concatenate';
  /** The axis inputs are joined along. */
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args as ConcatenateArgs & Record<string, unknown>, ['axis']);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`${this.name}: axis must be an integer; received ${fmtValue(args.axis)}`);
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    this.computeOutputShape(xs.map((x) => x.shape));
    return concat(xs, this.axis);
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = shapeList(this.name, inputShape, 1);
    const rank = shapes[0].length;
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 1 || a >= rank)
      throw new ValueError(`${this.name}: axis ${this.axis} is out of range for inputs of rank ${rank} (the batch axis cannot be joined)`);
    const mismatch = shapes.some(
      (s) => s.length !== rank || s.some((d, i) => i !== a && i !== 0 && d !== null && shapes[0][i] !== null && d !== shapes[0][i]),
    );
    if (mismatch) throw new ShapeError(`${this.name}: inputs must agree on every axis but ${a}; received ${shapes.map(formatShape).join(', ')}`);
    const sizes = shapes.map((s) => s[a]);
    const out = [...shapes[0]];
    out[a] = sizes.some((d) => d === null) ? null : (sizes as number[]).reduce((x, y) => x + y, 0);
    return out;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

for (const cls of [Add, Subtract, Multiply, Average, Maximum, Minimum]) registerLayer(cls.className, (c) => new cls(c as LayerArgs));
registerLayer('Concatenate', (c) => new Concatenate(c as ConcatenateArgs));
