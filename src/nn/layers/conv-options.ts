// Option parsing and small helpers shared by the convolution family (conv1d, transposed,
// depthwise and separable convolutions, 1-D pooling, resizing and padding layers).
import { isFloat, promoteTypes } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { pair, type Padding, type Pair } from '../../ops/conv-geometry.js';
import { cast } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { formatShape, type Shape } from '../symbolic.js';

/**
 * A window size, stride or rate of one axis: Keras takes an int or a 1-tuple.
 * @inline
 */
export type IntOne = number | readonly [number];

/** Parses an IntOne option (positive integer). */
export function singleInt(layer: string, name: string, v: IntOne | undefined | null, fallback: number): number {
  const value = v === undefined || v === null ? fallback : Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValueError(`${layer}: ${name} must be a positive integer or a list of one; received ${fmtValue(v)}`);
  }
  return value;
}

/**
 * Both ways Keras writes per-side amounts for two axes: n, [h, w] or [[top, bottom], [left, right]].
 * @inline
 */
export type SidePairs = number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];

/** Parses a SidePairs option into [[top, bottom], [left, right]] of non-negative integers. */
export function sidePairs(layer: string, name: string, v: SidePairs | undefined, fallback: number): [[number, number], [number, number]] {
  const bad = () =>
    new ValueError(`${layer}: ${name} must be a non-negative integer, [height, width] or [[top, bottom], [left, right]]; received ${fmtValue(v)}`);
  let result: [[number, number], [number, number]];
  if (v === undefined)
    result = [
      [fallback, fallback],
      [fallback, fallback],
    ];
  else if (typeof v === 'number')
    result = [
      [v, v],
      [v, v],
    ];
  else if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number')) {
    const [h, w] = v as readonly [number, number];
    result = [
      [h, h],
      [w, w],
    ];
  } else if (Array.isArray(v) && v.length === 2 && v.every((e) => Array.isArray(e) && e.length === 2)) {
    const [hs, ws] = v as readonly [readonly [number, number], readonly [number, number]];
    result = [
      [hs[0], hs[1]],
      [ws[0], ws[1]],
    ];
  } else throw bad();
  if (result.flat().some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) throw bad();
  return result;
}

/** Inputs in the layer's arithmetic: integer inputs become the weights' dtype, floats promote as in conv2d. */
export function floatingLike(x: Tensor, weightDtype: Tensor['dtype']): Tensor {
  return cast(x, isFloat(x.dtype) ? promoteTypes(x.dtype, weightDtype) : weightDtype);
}

/** Checks an input's rank when the layer is built or its output shape is asked for. */
export function requireRank(layer: string, shape: Shape, rank: number, layout: string): Shape {
  if (shape.length !== rank) {
    throw new ValueError(`${layer}: expects inputs of rank ${rank} ${layout}; received shape ${formatShape(shape)}`);
  }
  return shape;
}

/** Keras rejects strides > 1 together with a dilation rate > 1. */
export function checkStridesWithDilation(layer: string, strides: readonly number[], dilation: readonly number[]): void {
  if (strides.some((s) => s > 1) && dilation.some((d) => d > 1)) {
    throw new ValueError(
      `${layer}: strides > 1 and dilationRate > 1 cannot be combined (as in Keras); received strides ${fmtValue(strides)}, dilationRate ${fmtValue(dilation)}`,
    );
  }
}

/** The error for a 'valid' window larger than the input along some axis. */
export function windowTooLarge(layer: string, shape: Shape, window: string): ShapeError {
  return new ShapeError(`${layer}: with 'valid' padding the input ${formatShape(shape)} is smaller than the ${window} window`);
}

/** The window options of the 2-D convolution layers, parsed with Keras's defaults. */
export interface Window2d {
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: Padding;
}

/** Reads kernelSize (required), strides, dilationRate, padding and the channels-last data format. */
export function window2d(
  layer: string,
  args: { kernelSize?: Pair; strides?: Pair; dilationRate?: Pair; padding?: Padding; dataFormat?: string },
): Window2d {
  if (args.kernelSize === undefined) throw new ValueError(`${layer}: kernelSize is required (a number or [kh, kw])`);
  const window: Window2d = {
    kernelSize: pair(layer, 'kernelSize', args.kernelSize, 1),
    strides: pair(layer, 'strides', args.strides, 1),
    dilationRate: pair(layer, 'dilationRate', args.dilationRate, 1),
    padding: checkOneOf(layer, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const),
  };
  checkOneOf(layer, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  return window;
}
