// Dataset elements are nested structures of tensors: a Tensor, an array of them (several model
// inputs), or a plain object such as `{xs, ys}`. Batching stacks matching leaves across
// elements; this file holds that walk and the types that describe its result.

import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { stack } from '../ops/shape-ops.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** The type of a batch of elements of type T: every tensor or number leaf becomes a Tensor. */
export type Batched<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends readonly unknown[]
      ? { [K in keyof T]: Batched<T[K]> }
      : T extends object
        ? { [K in keyof T]: Batched<T[K]> }
        : never;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Stacks n elements of one structure into one element whose leaves gain a leading axis of n.
 * `path` names the leaf in error messages ("xs", "xs[1]", ...).
 */
export function stackElements(op: string, elements: readonly unknown[], path = 'element'): unknown {
  const first = elements[0];
  if (first instanceof Tensor) {
    elements.forEach((e, i) => {
      if (!(e instanceof Tensor)) throw new ValueError(`${op}: ${path} of element ${i} is not a tensor like element 0; received ${describe(e)}`);
      if (e.shape.length !== first.shape.length || e.shape.some((d, k) => d !== first.shape[k])) {
        throw new ShapeError(
          `${op}: elements must have one shape to be batched: ${path} of element 0 is ${fmtShape(first.shape)}, of element ${i} is ${fmtShape(e.shape)}`,
        );
      }
    });
    return stack(elements as Tensor[], 0);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    elements.forEach((e, i) => {
      if (typeof e !== typeof first)
        throw new ValueError(`${op}: ${path} of element ${i} is not a ${typeof first} like element 0; received ${describe(e)}`);
    });
    return typeof first === 'boolean' ? tensor(elements as boolean[]) : tensor(elements as number[], [elements.length], 'float32');
  }
  if (Array.isArray(first)) {
    elements.forEach((e, i) => {
      if (!Array.isArray(e) || e.length !== first.length) {
        throw new ValueError(`${op}: ${path} of element ${i} must be an array of length ${first.length} like element 0; received ${describe(e)}`);
      }
    });
    return first.map((_, k) =>
      stackElements(
        op,
        elements.map((e) => (e as unknown[])[k]),
        `${path}[${k}]`,
      ),
    );
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    elements.forEach((e, i) => {
      if (!isPlainObject(e) || Object.keys(e).length !== keys.length || keys.some((k) => !(k in e))) {
        throw new ValueError(`${op}: element ${i} must have the keys {${keys.join(', ')}} like element 0; received ${describe(e)}`);
      }
    });
    for (const k of keys)
      out[k] = stackElements(
        op,
        elements.map((e) => (e as Record<string, unknown>)[k]),
        path === 'element' ? k : `${path}.${k}`,
      );
    return out;
  }
  throw new ValueError(`${op}: cannot batch ${path}: expected tensors, numbers, arrays or plain objects; received ${describe(first)}`);
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `a tensor of shape ${fmtShape(x.shape)}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (isPlainObject(x)) return `an object with keys {${Object.keys(x).join(', ')}}`;
  return x === null ? 'null' : `${typeof x} ${String(x)}`;
}
