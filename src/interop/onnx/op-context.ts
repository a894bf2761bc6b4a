// What an ONNX operator's handler sees: its inputs in ONNX order, its attributes, its opset,
// and the layout its 4-D values are held in (Note [Channels-last inside, ONNX shapes outside]
// in layout.ts).
import { ValueError, fmtValue } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxTensor } from './tensors.js';

/** An attribute value as stored in a layer config (JSON): tensors as {onnxType, shape, values}. */
export type AttrValue = number | number[] | string | string[] | { onnxType: string; shape: number[]; values: number[] };

export interface OpContext {
  /** `OpType 'node name'`, for messages. */
  where: string;
  /** Tensor inputs in ONNX order (graph values and the node's weights); undefined when absent. */
  inputs: (Tensor | undefined)[];
  /** The values of inputs read at import time (shapes, axes, pads, ...), by input position. */
  statics: (number[] | undefined)[];
  attrs: Attrs;
  /** The default domain's opset version of the model. */
  opset: number;
  training: boolean;
  /** How many outputs the node has in the graph. */
  numOutputs: number;
  /** True when this node's rank-4 (or rank-3, for 1-D convs) values are held channels-last. */
  channelsLast: boolean;
  /**
   * By input position: true for a weight held in the kernel's layout rather than ONNX's (a Conv's
   * filter, a Gemm's B with transB; Note [Filters held in Strata's layout]).
   */
  filterLayout: boolean[];
}

/** The attribute with which a Conv node applies the Relu it took on (Note [A Conv and its Relu as one kernel] in build.ts). */
export const FOLDED_RELU = 'strata_activation';

/** The handler of one operator type. */
export interface OpHandler {
  /** Input positions whose values must be known at import time (they go to the config, not the graph). */
  statics?: readonly number[];
  /** Constant input positions that become non-trainable weights (BatchNormalization's running statistics). */
  frozen?: readonly number[];
  /** Whether the handler accepts channels-last values (Note [Channels-last inside, ONNX shapes outside]). */
  layout?: 'agnostic' | 'aware';
  /**
   * The constant input i re-laid out once at import for the handler's kernel, or undefined to
   * keep it as ONNX has it (Note [Filters held in Strata's layout]). The node then sees
   * `filterLayout[i]` true.
   */
  holdWeight?(i: number, t: OnnxTensor, attrs: Attrs): OnnxTensor | undefined;
  /** Inputs after the first that an 'aware' handler takes in its node's layout, not ONNX's (a Conv's folded residual addend). */
  heldInputs?: readonly number[];
  run(ctx: OpContext): Tensor | Tensor[];
}

/** Typed access to a node's attributes, with ONNX's defaults. */
export class Attrs {
  constructor(
    readonly values: Record<string, AttrValue>,
    private readonly where: string,
  ) {}

  has(name: string): boolean {
    return Object.hasOwn(this.values, name);
  }

  int(name: string, fallback: number): number {
    const v = this.has(name) ? this.values[name] : fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ValueError(`${this.where}: attribute '${name}' must be an integer; received ${fmtValue(v)}`);
    return Math.trunc(v);
  }

  float(name: string, fallback: number): number {
    const v = this.has(name) ? this.values[name] : fallback;
    if (typeof v !== 'number') throw new ValueError(`${this.where}: attribute '${name}' must be a number; received ${fmtValue(v)}`);
    return v;
  }

  ints(name: string): number[] | undefined;
  ints(name: string, fallback: number[]): number[];
  ints(name: string, fallback?: number[]): number[] | undefined {
    if (!this.has(name)) return fallback;
    const v = this.values[name];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number'))
      throw new ValueError(`${this.where}: attribute '${name}' must be a list of integers; received ${fmtValue(v)}`);
    return v as number[];
  }

  floats(name: string): number[] | undefined {
    if (!this.has(name)) return undefined;
    const v = this.values[name];
    if (!Array.isArray(v)) throw new ValueError(`${this.where}: attribute '${name}' must be a list of numbers; received ${fmtValue(v)}`);
    return v as number[];
  }

  string(name: string, fallback: string): string {
    const v = this.has(name) ? this.values[name] : fallback;
    if (typeof v !== 'string') throw new ValueError(`${this.where}: attribute '${name}' must be a string; received ${fmtValue(v)}`);
    return v;
  }

  strings(name: string): string[] | undefined {
    return this.has(name) ? (this.values[name] as string[]) : undefined;
  }

  tensor(name: string): { onnxType: string; shape: number[]; values: number[] } | undefined {
    const v = this.has(name) ? this.values[name] : undefined;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  }
}

/** An input that must be present. */
export function need(ctx: OpContext, i: number, what: string): Tensor {
  const t = ctx.inputs[i];
  if (!t) throw new ValueError(`${ctx.where}: input ${i} (${what}) is missing`);
  return t;
}

/** A static input that must be present. */
export function needStatic(ctx: OpContext, i: number, what: string): number[] {
  const v = ctx.statics[i];
  if (!v) throw new ValueError(`${ctx.where}: input ${i} (${what}) is missing`);
  return v;
}

/** A possibly negative axis made non-negative, checked against the rank. */
export function normAxis(ctx: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw new ValueError(`${ctx.where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}
