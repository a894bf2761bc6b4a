import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkOneOf } from '../core/options.js';
import { sizeOf } from '../core/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, type TensorInput } from './operand.js';
import { gather, pad, reshape, slice, transpose } from './shape-ops.js';

// Rearrangements between space, depth and batch (TensorFlow's), and mirror padding: reshapes,
// transposes, pads, slices and gathers, so they run everywhere and carry gradients.

/** Where the channels are: last ('NHWC', TensorFlow's default) or after the batch ('NCHW'). */
export type DataFormat = 'NHWC' | 'NCHW';

function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${name} must be a positive integer; received ${fmtValue(v)}`);
}

function rank4(op: string, x: TensorInput): Tensor {
  const t = asTensor(op, 'x', x);
  if (t.rank !== 4) throw new ShapeError(`${op}: x must be 4-D; received shape ${fmtShape(t.shape)}`);
  return t;
}

/**
 * Moves blocks of depth into space: [N, H, W, C] becomes [N, H·b, W·b, C / b²], the channel index
 * (i·b + j)·C/b² + c landing at pixel offset (i, j) of its block (TensorFlow's order). 'NCHW'
 * data works the same way on [N, C, H, W].
 */
export function depthToSpace(x: TensorInput, blockSize: number, dataFormat: DataFormat = 'NHWC'): Tensor {
  const op = 'depthToSpace';
  const t = rank4(op, x);
  positiveInt(op, 'blockSize', blockSize);
  checkOneOf(op, 'dataFormat', dataFormat, ['NHWC', 'NCHW']);
  const b = blockSize;
  const [n, h, w, c] = dataFormat === 'NHWC' ? t.shape : [t.shape[0], t.shape[2], t.shape[3], t.shape[1]];
  if (c % (b * b) !== 0) throw new ShapeError(`${op}: the depth ${c} must be divisible by blockSize² = ${b * b}`);
  const depth = c / (b * b);
  if (dataFormat === 'NHWC') {
    return reshape(transpose(reshape(t, [n, h, w, b, b, depth]), [0, 1, 3, 2, 4, 5]), [n, h * b, w * b, depth]);
  }
  return reshape(transpose(reshape(t, [n, b, b, depth, h, w]), [0, 3, 4, 1, 5, 2]), [n, depth, h * b, w * b]);
}

/** The inverse of depthToSpace: [N, H, W, C] becomes [N, H/b, W/b, C·b²] (or the 'NCHW' equivalent). */
export function spaceToDepth(x: TensorInput, blockSize: number, dataFormat: DataFormat = 'NHWC'): Tensor {
  const op = 'spaceToDepth';
  const t = rank4(op, x);
  positiveInt(op, 'blockSize', blockSize);
  checkOneOf(op, 'dataFormat', dataFormat, ['NHWC', 'NCHW']);
  const b = blockSize;
  const [n, h, w, c] = dataFormat === 'NHWC' ? t.shape : [t.shape[0], t.shape[2], t.shape[3], t.shape[1]];
  if (h % b !== 0 || w % b !== 0) throw new ShapeError(`${op}: height ${h} and width ${w} must be divisible by blockSize ${b}`);
  if (dataFormat === 'NHWC') {
    return reshape(transpose(reshape(t, [n, h / b, b, w / b, b, c]), [0, 1, 3, 2, 4, 5]), [n, h / b, w / b, b * b * c]);
  }
  return reshape(transpose(reshape(t, [n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]), [n, b * b * c, h / b, w / b]);
}

function checkBlocks(op: string, t: Tensor, blockShape: readonly number[], pairs: readonly (readonly [number, number])[], what: string): void {
  const m = blockShape.length;
  if (!Array.isArray(blockShape) || m < 1 || m >= t.rank) {
    throw new ShapeError(
      `${op}: blockShape must have 1 to ${t.rank - 1} entries for x of shape ${fmtShape(t.shape)}; received ${fmtValue(blockShape)}`,
    );
  }
  blockShape.forEach((b) => positiveInt(op, 'blockShape entries', b));
  if (
    !Array.isArray(pairs) ||
    pairs.length !== m ||
    pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))
  ) {
    throw new ValueError(`${op}: ${what} must be ${m} pairs of non-negative integers; received ${fmtValue(pairs)}`);
  }
}

/**
 * Pads the M spatial axes after the batch axis by `paddings`, cuts them into blocks of
 * `blockShape` and moves each block offset into the batch: [B, s1, ..., sM, rest] becomes
 * [B·prod(blockShape), (s1 + pads)/b1, ..., rest] (TensorFlow's space_to_batch_nd).
 */
export function spaceToBatchND(x: TensorInput, blockShape: readonly number[], paddings: readonly (readonly [number, number])[]): Tensor {
  const op = 'spaceToBatchND';
  const t = asTensor(op, 'x', x);
  checkBlocks(op, t, blockShape, paddings, 'paddings');
  const m = blockShape.length;
  const padded = pad(
    t,
    t.shape.map((_, i) => (i >= 1 && i <= m ? paddings[i - 1] : [0, 0]) as [number, number]),
  );
  const spatial = padded.shape.slice(1, m + 1),
    rest = padded.shape.slice(m + 1);
  spatial.forEach((s, i) => {
    if (s % blockShape[i] !== 0)
      throw new ShapeError(`${op}: padded spatial axis ${i + 1} (size ${s}) is not divisible by its block ${blockShape[i]}`);
  });
  const split = [padded.shape[0], ...spatial.flatMap((s, i) => [s / blockShape[i], blockShape[i]]), ...rest];
  const perm = [...blockShape.map((_, i) => 2 + 2 * i), 0, ...blockShape.map((_, i) => 1 + 2 * i), ...rest.map((_, i) => 1 + 2 * m + i)];
  const outShape = [padded.shape[0] * sizeOf(blockShape), ...spatial.map((s, i) => s / blockShape[i]), ...rest];
  return reshape(transpose(reshape(padded, split), perm), outShape);
}

/** The inverse of spaceToBatchND: block offsets leave the batch for space, then `crops` are cut off. */
export function batchToSpaceND(x: TensorInput, blockShape: readonly number[], crops: readonly (readonly [number, number])[]): Tensor {
  const op = 'batchToSpaceND';
  const t = asTensor(op, 'x', x);
  checkBlocks(op, t, blockShape, crops, 'crops');
  const m = blockShape.length,
    blocks = sizeOf(blockShape);
  if (t.shape[0] % blocks !== 0) throw new ShapeError(`${op}: the batch ${t.shape[0]} is not divisible by prod(blockShape) = ${blocks}`);
  const batch = t.shape[0] / blocks;
  const spatial = t.shape.slice(1, m + 1),
    rest = t.shape.slice(m + 1);
  const split = [...blockShape, batch, ...spatial, ...rest];
  const perm = [m, ...spatial.flatMap((_, i) => [m + 1 + i, i]), ...rest.map((_, i) => 2 * m + 1 + i)];
  const full = reshape(transpose(reshape(t, split), perm), [batch, ...spatial.map((s, i) => s * blockShape[i]), ...rest]);
  crops.forEach(([a, b], i) => {
    if (a + b > full.shape[i + 1])
      throw new ShapeError(`${op}: crops ${fmtValue(crops[i])} exceed spatial axis ${i + 1} of size ${full.shape[i + 1]}`);
  });
  return slice(
    full,
    full.shape.map((_, i) => (i >= 1 && i <= m ? crops[i - 1][0] : 0)),
    full.shape.map((d, i) => (i >= 1 && i <= m ? d - crops[i - 1][0] - crops[i - 1][1] : d)),
  );
}

/** How st.mirrorPad mirrors: without the edge value ('reflect') or with it ('symmetric'). */
export type MirrorPadMode = 'reflect' | 'symmetric';

/**
 * Pads each axis with a mirror image of its edge: 'reflect' leaves the edge value out ([1, 2, 3]
 * padded by 2 gives [3, 2, 1, 2, 3, 2, 1]), 'symmetric' repeats it ([2, 1, 1, 2, 3, 3, 2]).
 * Padding may be up to size - 1 ('reflect') or size ('symmetric') per side.
 */
export function mirrorPad(x: TensorInput, paddings: readonly (readonly [number, number])[], mode: MirrorPadMode): Tensor {
  const op = 'mirrorPad';
  let t = asTensor(op, 'x', x);
  checkOneOf(op, 'mode', mode, ['reflect', 'symmetric']);
  if (
    !Array.isArray(paddings) ||
    paddings.length !== t.rank ||
    paddings.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))
  ) {
    throw new ValueError(
      `${op}: paddings must be ${t.rank} pairs of non-negative integers for shape ${fmtShape(t.shape)}; received ${fmtValue(paddings)}`,
    );
  }
  const shift = mode === 'reflect' ? 1 : 0;
  paddings.forEach(([before, after], axis) => {
    const n = t.shape[axis];
    if (before === 0 && after === 0) return;
    if (Math.max(before, after) > n - shift) {
      throw new ValueError(
        `${op}: padding ${fmtValue(paddings[axis])} is too large for axis ${axis} of size ${n} in '${mode}' mode (at most ${n - shift})`,
      );
    }
    // Position p outside [0, n) reads its mirror image across the edge.
    const source = Array.from({ length: before + n + after }, (_, i) => {
      const p = i - before;
      if (p < 0) return -p - 1 + shift;
      if (p >= n) return 2 * n - p - 1 - shift;
      return p;
    });
    t = gather(t, tensor(source, [source.length], 'int32'), axis);
  });
  return t;
}
