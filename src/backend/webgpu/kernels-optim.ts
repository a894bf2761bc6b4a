import type { Backend, FusedUpdate } from '../backend.js';
import type { GpuContext } from './context.js';
import { BUFFER_USAGE } from './gpu-flags.js';
import type { GpuData } from './gpu-data.js';
import { elementMain, grid, LITERAL_SUPPORT, literal } from './wgsl.js';

// Note [WebGPU optimizer updates]
// One thread per element reads the variable, its gradient and its slots once and writes new
// storage for the variable and each slot (the formulas of the wasm backend's optim.c, Keras 3's;
// the decoupled weight decay w - w·decay first). The hyperparameters that stay fixed for an
// optimizer (rho, betas, momentum, epsilon) are baked into the WGSL as exact f32 literals, so a
// training loop compiles each kernel once. lr and decay change from step to step (Adam's bias
// correction, schedules): they come from a two-float storage buffer instead, written with
// queue.writeBuffer. Such a write reaches the GPU before the open encoder is submitted (Note [One
// encoder per step]), so a buffer read by a recorded dispatch is not written again until the
// queue's submit count has moved past the encoder that used it; variables updated in one step
// share the step's buffer, and the few buffers kept are reused from step to step.
//   Each output is a chain of `let`s over the loads it needs. When the variable, gradient, slots,
// scalars and outputs pass the device's storage-buffer limit (8 by default; adam with amsgrad
// and rmsprop centered with momentum need 10), the outputs are split over several dispatches,
// each binding only what its outputs read.

/** One rule: its slot names in FusedUpdate's order, `let`s in order, and the lets holding w and each new slot. */
interface Rule {
  slots: string[];
  lets: [string, string][];
  results: string[];
}

/** The rule of Note [WebGPU optimizer updates] for `u`: lr and decay are read from the scalars `p`. */
function ruleOf(u: FusedUpdate): Rule {
  const f = (v: number) => literal(v, 'float32');
  const lets: [string, string][] = [
    ['lr', 'p[0]'],
    ['decay', 'p[1]'],
    ['wd', 'w - w * decay'],
  ];
  const add = (...more: [string, string][]) => lets.push(...more);
  switch (u.kind) {
    case 'sgd':
      if (u.momentum <= 0) {
        add(['w1', 'wd - g * lr']);
        return { slots: [], lets, results: ['w1'] };
      }
      add(['m1', `m * ${f(u.momentum)} - g * lr`], ['w1', u.nesterov ? `(wd + m1 * ${f(u.momentum)}) - g * lr` : 'wd + m1']);
      return { slots: ['m'], lets, results: ['w1', 'm1'] };
    case 'rmsprop': {
      const momentum = u.momentum > 0;
      add(['v1', `v * ${f(u.rho)} + g * g * ${f(1 - u.rho)}`]);
      if (u.centered) add(['ag1', `ag * ${f(u.rho)} + g * ${f(1 - u.rho)}`], ['den', `(v1 - ag1 * ag1) + ${f(u.epsilon)}`]);
      else add(['den', `v1 + ${f(u.epsilon)}`]);
      add(['inc', 'g * lr / sqrt(den)']);
      if (momentum) add(['m1', `m * ${f(u.momentum)} + inc`], ['w1', 'wd - m1']);
      else add(['w1', 'wd - inc']);
      const slots = ['v', ...(momentum ? ['m'] : []), ...(u.centered ? ['ag'] : [])];
      return { slots, lets, results: ['w1', ...slots.map((s) => `${s}1`)] };
    }
    case 'adam':
      add(['m1', `m + (g - m) * ${f(1 - u.beta1)}`], ['v1', `v + (g * g - v) * ${f(1 - u.beta2)}`]);
      // vh > v1 ? vh : v1, as optim.c (max() may treat NaN otherwise).
      if (u.amsgrad) add(['vh1', 'select(v1, vh, vh > v1)']);
      add(['w1', `wd - (m1 * lr) / (sqrt(${u.amsgrad ? 'vh1' : 'v1'}) + ${f(u.epsilon)})`]);
      return u.amsgrad
        ? { slots: ['m', 'v', 'vh'], lets, results: ['w1', 'm1', 'v1', 'vh1'] }
        : { slots: ['m', 'v'], lets, results: ['w1', 'm1', 'v1'] };
    case 'adagrad':
      add(['acc1', 'acc + g * g'], ['w1', `wd - g * lr / sqrt(acc1 + ${f(u.epsilon)})`]);
      return { slots: ['acc'], lets, results: ['w1', 'acc1'] };
    case 'adadelta':
      add(
        ['ag1', `ag * ${f(u.rho)} + g * g * ${f(1 - u.rho)}`],
        ['delta', `-sqrt(ad + ${f(u.epsilon)}) * g / sqrt(ag1 + ${f(u.epsilon)})`],
        ['ad1', `ad * ${f(u.rho)} + delta * delta * ${f(1 - u.rho)}`],
        ['w1', 'wd + delta * lr'],
      );
      return { slots: ['ag', 'ad'], lets, results: ['w1', 'ag1', 'ad1'] };
    case 'adamax':
      add(
        ['m1', `m + (g - m) * ${f(1 - u.beta1)}`],
        ['scaled', `u * ${f(u.beta2)}`],
        ['u1', 'select(abs(g), scaled, scaled > abs(g))'],
        ['w1', `wd - m1 * lr / (u1 + ${f(u.epsilon)})`],
      );
      return { slots: ['m', 'u'], lets, results: ['w1', 'm1', 'u1'] };
  }
}

/** One dispatch: the arrays it binds (inputs by name, then outputs by result index) and its source. */
interface Part {
  inputs: string[];
  outputs: number[];
  source: string;
}

/** The dispatches for `rule` over n elements, each within `limit` storage bindings. */
function partsOf(rule: Rule, n: number, limit: number): Part[] {
  const loads = ['w', 'g', ...rule.slots];
  const lets: [string, string][] = [...loads.map((a): [string, string] => [a, `${a}_in[i]`]), ...rule.lets];
  const names = new Set(lets.map(([name]) => name));
  const uses = new Map(lets.map(([name, expr]) => [name, (expr.match(/\b[A-Za-z_]\w*/g) ?? []).filter((t) => names.has(t) && t !== name)]));
  /** The lets `results` need, and the arrays those read (the loads' `x_in`, and `p` for the scalars). */
  const needs = (results: number[]) => {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const dep of uses.get(name) ?? []) visit(dep);
    };
    for (const r of results) visit(rule.results[r]);
    const arrays = [...loads.filter((a) => seen.has(a)), ...(seen.has('lr') || seen.has('decay') ? ['p'] : [])];
    return { seen, arrays };
  };
  const groups: number[][] = [];
  for (let r = 0; r < rule.results.length; r++) {
    const last = groups[groups.length - 1];
    if (last && needs([...last, r]).arrays.length + last.length + 1 <= limit) last.push(r);
    else groups.push([r]);
  }
  return groups.map((outputs) => {
    const { seen, arrays } = needs(outputs);
    const decls = [
      ...arrays.map((a, k) => `@group(0) @binding(${k}) var<storage, read> ${a === 'p' ? 'p' : `${a}_in`}: array<f32>;`),
      ...outputs.map((r, k) => `@group(0) @binding(${arrays.length + k}) var<storage, read_write> out${r}: array<f32>;`),
    ];
    const body = lets.filter(([name]) => seen.has(name)).map(([name, expr]) => `  let ${name} = ${expr};`);
    const writes = outputs.map((r) => `  out${r}[i] = ${rule.results[r]};`);
    let source = `${decls.join('\n')}\n${elementMain(n)}\n${body.join('\n')}\n${writes.join('\n')}\n}`;
    if (source.includes('st_bits(')) source = `${LITERAL_SUPPORT}\n${source}`;
    return { inputs: arrays, outputs, source };
  });
}

/** Small storage buffers holding a step's [lr, decay] (Note [WebGPU optimizer updates]). */
class StepScalars {
  private readonly entries: { buffer: GPUBuffer; lr: number; decay: number; usedBefore: number }[] = [];
  constructor(private readonly ctx: GpuContext) {}

  /** A buffer holding lr and decay for dispatches recorded next; `hold` it after recording them. */
  get(lr: number, decay: number): GPUBuffer {
    const { queue } = this.ctx;
    let entry = this.entries.find((e) => e.lr === lr && e.decay === decay);
    if (!entry) {
      // Free once the encoder that last read it was submitted: a write now is ordered after it.
      entry = this.entries.find((e) => e.usedBefore < queue.counters.submits);
      if (!entry) {
        entry = { buffer: queue.device.createBuffer({ size: 16, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST }), lr, decay, usedBefore: 0 };
        this.entries.push(entry);
      }
      queue.write(entry.buffer, Float32Array.of(lr, decay, 0, 0));
      entry.lr = lr;
      entry.decay = decay;
    }
    this.hold(entry.buffer);
    return entry.buffer;
  }

  /** Marks the buffer as read by the open encoder (a dispatch may have submitted the one before). */
  hold(buffer: GPUBuffer): void {
    const entry = this.entries.find((e) => e.buffer === buffer);
    if (entry) entry.usedBefore = this.ctx.queue.counters.submits;
  }
}

/** Backend.optimizerUpdate for the webgpu backend (Note [WebGPU optimizer updates]); float32 variables. */
export function webgpuOptimizerUpdate(ctx: GpuContext): NonNullable<Backend['optimizerUpdate']> {
  const scalars = new StepScalars(ctx);
  const cache = new Map<string, { rule: Rule; parts: Part[] }>();
  const limit = ctx.limits.maxStorageBuffersPerShaderStage;
  return (update, variable, grad, slots) => {
    const n = variable.shape.reduce((p, d) => p * d, 1);
    const { lr, decay, ...fixed } = update;
    const key = `${n} ${JSON.stringify(fixed)}`;
    let kernel = cache.get(key);
    if (!kernel) {
      const rule = ruleOf(update);
      kernel = { rule, parts: partsOf(rule, n, limit) };
      cache.set(key, kernel);
      // Shapes come and go (a model per test, say): keep the cache from growing without bound.
      if (cache.size > 256) cache.delete(cache.keys().next().value as string);
    }
    const { rule, parts } = kernel;
    const inputs = new Map<string, GPUBuffer>([
      ['w', ctx.input(variable)],
      ['g', ctx.input(grad)],
      ...rule.slots.map((s, k): [string, GPUBuffer] => [s, ctx.input(slots[k])]),
    ]);
    const p = parts.some((part) => part.inputs.includes('p')) ? scalars.get(lr, decay) : undefined;
    if (p) inputs.set('p', p);
    const outs = rule.results.map(() => ctx.output('float32', n));
    for (const part of parts) {
      ctx.run(
        part.source,
        part.inputs.map((a) => inputs.get(a) as GPUBuffer),
        part.outputs.map((r) => outs[r].buffer),
        grid(n),
      );
    }
    if (p) scalars.hold(p);
    const [w, ...rest] = outs.map((o): GpuData => o.data);
    return { variable: w, slots: rest };
  };
}
