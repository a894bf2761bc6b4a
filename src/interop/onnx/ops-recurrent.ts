// LSTM and GRU with ONNX's weight layout (W [directions, gates * H, I], R [directions, gates * H,
// H], B [directions, 2 * gates * H]; LSTM gates i, o, f, c, GRU gates z, r, h), written with ops
// over time steps so that their weights train like any other.
import { ValueError } from '../../core/errors.js';
import { add, cast, clip, mul, sigmoid, sub, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { reshape, slice, split, stack, transpose } from '../../ops/shape-ops.js';
import { zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { need, type OpContext, type OpHandler } from './op-context.js';

const float = (t: Tensor) => (t.dtype === 'float32' ? t : cast(t, 'float32'));
/** Direction d of a [directions, ...] tensor. */
const dir = (t: Tensor, d: number) => reshape(slice(t, [d, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]), t.shape.slice(1));

interface Setup {
  x: Tensor; // [T, B, I]
  hidden: number;
  directions: string[];
  clipAt: number | undefined;
  layout: number;
}

function setup(ctx: OpContext, gates: number, defaults: string[]): Setup {
  let x = float(need(ctx, 0, 'X'));
  const layout = ctx.attrs.int('layout', 0);
  if (layout === 1) x = transpose(x, [1, 0, 2]);
  const direction = ctx.attrs.string('direction', 'forward');
  const directions = direction === 'bidirectional' ? ['forward', 'reverse'] : [direction];
  const acts = ctx.attrs.strings('activations');
  const expected = directions.flatMap(() => defaults);
  if (acts && acts.join() !== expected.join())
    throw new ValueError(`${ctx.where}: activations ${acts.join(', ')} are not supported (only the defaults ${defaults.join(', ')})`);
  const lens = ctx.statics[4];
  if (lens?.some((n) => n !== x.shape[0])) throw new ValueError(`${ctx.where}: sequence_lens shorter than the sequence are not supported`);
  const w = need(ctx, 1, 'W');
  const hidden = ctx.attrs.int('hidden_size', w.shape[1] / gates);
  return { x, hidden, directions, clipAt: ctx.attrs.has('clip') ? ctx.attrs.float('clip', 0) : undefined, layout };
}

/** X · Wᵀ + bias for every step at once: [T, B, gates * H]. */
function inputProjection(s: Setup, w: Tensor, bias: Tensor | undefined, gates: number): Tensor {
  const [t, batch, i] = s.x.shape;
  let z = matmul(reshape(s.x, [t * batch, i]), w, false, true);
  if (bias) z = add(z, bias);
  return reshape(z, [t, batch, gates * s.hidden]);
}

/** Outputs in ONNX's shapes: Y [T, D, B, H] (layout 1: [B, T, D, H]), Y_h and Y_c [D, B, H] (layout 1: [B, D, H]). */
function outputs(s: Setup, ys: Tensor[][], hs: Tensor[], cs: Tensor[] | undefined, numOutputs: number): Tensor[] {
  let y = stack(
    ys.map((seq) => stack(seq, 0)),
    1,
  );
  let yh = stack(hs, 0);
  let yc = cs ? stack(cs, 0) : undefined;
  if (s.layout === 1) {
    y = transpose(y, [2, 0, 1, 3]);
    yh = transpose(yh, [1, 0, 2]);
    yc = yc && transpose(yc, [1, 0, 2]);
  }
  return [y, yh, ...(yc ? [yc] : [])].slice(0, Math.max(numOutputs, 1));
}

function lstm(ctx: OpContext): Tensor[] {
  const s = setup(ctx, 4, ['Sigmoid', 'Tanh', 'Tanh']);
  if (ctx.attrs.int('input_forget', 0) !== 0) throw new ValueError(`${ctx.where}: input_forget is not supported`);
  const [w, r] = [float(need(ctx, 1, 'W')), float(need(ctx, 2, 'R'))];
  const [steps, batch] = s.x.shape;
  const H = s.hidden;
  const ys: Tensor[][] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  const act = (z: Tensor) => (s.clipAt === undefined ? z : clip(z, -s.clipAt, s.clipAt));
  s.directions.forEach((direction, d) => {
    // LSTM adds both biases to the input projection (Wb + Rb).
    const halves = ctx.inputs[3] ? split(dir(float(ctx.inputs[3]), d), 2, 0) : undefined;
    const xz = split(inputProjection(s, dir(w, d), halves && add(halves[0], halves[1]), 4), steps, 0);
    const rd = dir(r, d);
    const peep = ctx.inputs[7] ? split(dir(float(ctx.inputs[7]), d), 3, 0) : undefined;
    let h = ctx.inputs[5] ? dir(float(ctx.inputs[5]), d) : zeros([batch, H]);
    let c = ctx.inputs[6] ? dir(float(ctx.inputs[6]), d) : zeros([batch, H]);
    const out: Tensor[] = new Array(steps);
    for (let k = 0; k < steps; k++) {
      const t = direction === 'reverse' ? steps - 1 - k : k;
      const z = add(reshape(xz[t], [batch, 4 * H]), matmul(h, rd, false, true));
      const [zi, zo, zf, zc] = split(z, 4, 1);
      const i = sigmoid(act(peep ? add(zi, mul(peep[0], c)) : zi));
      const f = sigmoid(act(peep ? add(zf, mul(peep[2], c)) : zf));
      c = add(mul(f, c), mul(i, tanh(act(zc))));
      const o = sigmoid(act(peep ? add(zo, mul(peep[1], c)) : zo));
      h = mul(o, tanh(c));
      out[t] = h;
    }
    ys.push(out);
    hs.push(h);
    cs.push(c);
  });
  return outputs(s, ys, hs, cs, ctx.numOutputs);
}

function gru(ctx: OpContext): Tensor[] {
  const s = setup(ctx, 3, ['Sigmoid', 'Tanh']);
  const [w, r] = [float(need(ctx, 1, 'W')), float(need(ctx, 2, 'R'))];
  const [steps, batch] = s.x.shape;
  const H = s.hidden;
  const linearBeforeReset = ctx.attrs.int('linear_before_reset', 0) !== 0;
  const act = (z: Tensor) => (s.clipAt === undefined ? z : clip(z, -s.clipAt, s.clipAt));
  const ys: Tensor[][] = [];
  const hs: Tensor[] = [];
  s.directions.forEach((direction, d) => {
    const b = ctx.inputs[3] ? dir(float(ctx.inputs[3]), d) : undefined;
    const [wb, rb] = b ? split(b, 2, 0) : [undefined, undefined];
    const xz = split(inputProjection(s, dir(w, d), wb, 3), steps, 0);
    const [rzr, rh] = split(dir(r, d), [2 * H, H], 0);
    const [rbzr, rbh] = rb ? split(rb, [2 * H, H], 0) : [undefined, undefined];
    let h = ctx.inputs[5] ? dir(float(ctx.inputs[5]), d) : zeros([batch, H]);
    const out: Tensor[] = new Array(steps);
    for (let k = 0; k < steps; k++) {
      const t = direction === 'reverse' ? steps - 1 - k : k;
      const [xzr, xh] = split(reshape(xz[t], [batch, 3 * H]), [2 * H, H], 1);
      let hzr = matmul(h, rzr, false, true);
      if (rbzr) hzr = add(hzr, rbzr);
      const [z, rGate] = split(sigmoid(act(add(xzr, hzr))), 2, 1);
      let hr: Tensor;
      if (linearBeforeReset) {
        let lin = matmul(h, rh, false, true);
        if (rbh) lin = add(lin, rbh);
        hr = mul(rGate, lin);
      } else {
        hr = matmul(mul(rGate, h), rh, false, true);
        if (rbh) hr = add(hr, rbh);
      }
      const cand = tanh(act(add(xh, hr)));
      h = add(mul(sub(1, z), cand), mul(z, h));
      out[t] = h;
    }
    ys.push(out);
    hs.push(h);
  });
  return outputs(s, ys, hs, undefined, ctx.numOutputs);
}

export const RECURRENT: Record<string, OpHandler> = {
  LSTM: { statics: [4], run: lstm },
  GRU: { statics: [4], run: gru },
};
