// The PyTorch side of the interleaved rounds: torch_bench.py --serve kept alive between rounds,
// answering one JSON command per line, started under the allocator a PyTorch user tuning for
// speed would pick.
//
// Why the allocator matters (issue 24): with glibc's default malloc PyTorch hands its large freed
// blocks back to the kernel and faults them in again on the next step (thousands of page faults
// per convnet step), which Strata's caching allocator never pays. Tuned PyTorch users set
// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ or preload jemalloc or tcmalloc; the benchmark
// measures each that is installed and uses the fastest (see probeAllocators), so the ratios
// compare Strata with PyTorch at its best on this machine rather than with glibc's defaults.
//
// The OpenMP runtime is probed the same way. Strata's addon runs oneDNN on LLVM's libomp where it
// is installed (Note [Two OpenMP runtimes, one in use] in native/src/addon.cc); Debian's PyTorch
// is built on GCC's libgomp, and PyTorch's performance guide has users preload Intel's OpenMP
// runtime, of which libomp is the open-source code base. So each allocator setting is also timed
// with libomp preloaded (`+libomp`), and PyTorch gets whichever runtime is faster for it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const TORCH_ALLOCATORS = ['glibc', 'malloc-env', 'jemalloc', 'tcmalloc', 'malloc-env+libomp', 'jemalloc+libomp', 'tcmalloc+libomp'] as const;
export type TorchAllocator = (typeof TORCH_ALLOCATORS)[number];

const LIB_DIR = '/usr/lib/x86_64-linux-gnu';
const PRELOADS: Record<string, { lib: string; pkg: string }> = {
  jemalloc: { lib: `${LIB_DIR}/libjemalloc.so.2`, pkg: 'libjemalloc2' },
  tcmalloc: { lib: `${LIB_DIR}/libtcmalloc_minimal.so.4`, pkg: 'libtcmalloc-minimal4' },
  libomp: { lib: `${LIB_DIR}/libomp.so.5`, pkg: 'libomp5' },
};
// 1 GiB: no block PyTorch allocates here is mmapped on its own or trimmed back to the kernel.
const NEVER = String(2 ** 30);

/** The environment that selects `allocator` (and, with `+libomp`, the OpenMP runtime) for a Python process, or why it cannot. */
export function allocatorEnv(allocator: TorchAllocator): { env: Record<string, string>; describe: string } | { missing: string } {
  const [malloc, openmp] = allocator.split('+');
  const env: Record<string, string> = {};
  const preload: string[] = [];
  let describe: string;
  if (malloc === 'glibc') describe = "glibc's malloc with its default thresholds";
  else if (malloc === 'malloc-env') {
    env.MALLOC_MMAP_THRESHOLD_ = NEVER;
    env.MALLOC_TRIM_THRESHOLD_ = NEVER;
    describe = `glibc's malloc with MALLOC_MMAP_THRESHOLD_=${NEVER} MALLOC_TRIM_THRESHOLD_=${NEVER}`;
  } else describe = malloc;
  for (const name of [malloc, openmp]) {
    const p = name ? PRELOADS[name] : undefined;
    if (!p) continue;
    if (!existsSync(p.lib)) return { missing: `${p.lib} is not installed (apt-get install ${p.pkg})` };
    preload.push(p.lib);
  }
  if (preload.length) env.LD_PRELOAD = preload.join(':');
  describe += openmp ? ', OpenMP from LLVM libomp' : ", OpenMP from GNU libgomp (PyTorch's own)";
  if (preload.length) describe += ` (LD_PRELOAD=${env.LD_PRELOAD})`;
  return { env, describe };
}

export interface TorchServerOptions {
  python: string;
  script: string;
  threads: number;
  allocator: TorchAllocator;
}

export class TorchServer {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly proc: ReturnType<typeof spawn>,
    readonly allocator: TorchAllocator,
  ) {
    this.lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  }

  /** Starts the server; null when Python or the allocator's library is missing, or it does not answer. */
  static async start(o: TorchServerOptions): Promise<TorchServer | null> {
    if (!existsSync(o.python)) return null;
    const alloc = allocatorEnv(o.allocator);
    if ('missing' in alloc) return null;
    const proc = spawn(o.python, [o.script, '--serve', '--threads', String(o.threads)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...alloc.env },
    });
    const server = new TorchServer(proc, o.allocator);
    const hello = await server.next();
    return hello?.ready ? server : null;
  }

  private async next(): Promise<Record<string, unknown> | null> {
    const r = await this.lines.next();
    return r.done ? null : JSON.parse(r.value);
  }

  async ask<T>(cmd: Record<string, unknown>): Promise<T> {
    this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const reply = await this.next();
    if (!reply || reply.error) throw new Error(`torch_bench.py --serve: ${String(reply?.error ?? 'exited')} (command ${JSON.stringify(cmd)})`);
    return reply as T;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  stop(): void {
    this.proc.stdin!.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

export interface AllocatorProbe {
  allocator: TorchAllocator;
  describe: string;
  /** Convnet training step, conv1 forward and the 10k-image inference pass, ms (median); null where missing. */
  convnetStepMs: number | null;
  conv1ForwardMs: number | null;
  inferencePassMs: number | null;
  /** Geometric mean of the three, relative to the best setting (1 = fastest). */
  relative: number | null;
  missing?: string;
}

/**
 * Times PyTorch's most allocation-sensitive rows (a convnet step, conv1's forward pass, the
 * inference pass) under each installed allocator, `rounds` times in turn, and ranks them by the
 * geometric mean of each row's best time. The winner runs every PyTorch row of the benchmark.
 */
export async function probeAllocators(o: Omit<TorchServerOptions, 'allocator'>, budget: number, rounds = 2): Promise<AllocatorProbe[]> {
  const probes: AllocatorProbe[] = TORCH_ALLOCATORS.map((allocator) => {
    const env = allocatorEnv(allocator);
    return 'missing' in env
      ? { allocator, describe: allocator, convnetStepMs: null, conv1ForwardMs: null, inferencePassMs: null, relative: null, missing: env.missing }
      : { allocator, describe: env.describe, convnetStepMs: null, conv1ForwardMs: null, inferencePassMs: null, relative: null };
  });
  const min = (a: number | null, b: number) => (a === null ? b : Math.min(a, b));
  for (let r = 0; r < rounds; r++) {
    for (const p of probes) {
      if (p.missing) continue;
      const server = await TorchServer.start({ ...o, allocator: p.allocator });
      if (!server) {
        p.missing = 'torch_bench.py --serve did not start';
        continue;
      }
      try {
        const step = await server.ask<{ stepMs: number }>({ cmd: 'train', model: 'convnet', budget });
        const conv = await server.ask<{ fwd: number }>({ cmd: 'conv', layer: 'conv1 28x28x1->32', budget });
        const infer = await server.ask<{ passMs: number }>({ cmd: 'inference', budget });
        p.convnetStepMs = min(p.convnetStepMs, step.stepMs);
        p.conv1ForwardMs = min(p.conv1ForwardMs, conv.fwd);
        p.inferencePassMs = min(p.inferencePassMs, infer.passMs);
      } finally {
        server.stop();
      }
    }
  }
  const measured = probes.filter((p) => p.convnetStepMs !== null && p.conv1ForwardMs !== null && p.inferencePassMs !== null);
  const geo = (p: AllocatorProbe) => Math.cbrt(p.convnetStepMs! * p.conv1ForwardMs! * p.inferencePassMs!);
  const bestGeo = Math.min(...measured.map(geo));
  for (const p of measured) p.relative = geo(p) / bestGeo;
  return probes;
}

/** The fastest measured setting of a probe (malloc-env when nothing could be measured). */
export function fastestAllocator(probes: AllocatorProbe[]): TorchAllocator {
  const measured = probes.filter((p) => p.relative !== null);
  return measured.length ? measured.reduce((a, b) => (b.relative! < a.relative! ? b : a)).allocator : 'malloc-env';
}
