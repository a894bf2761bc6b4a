import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { loadAddon } from '../src/backend/native/addon.js';
import { assertClose, withBackend } from './helpers.js';

describe('backend selection and fallback', () => {
  it('skips a backend that cannot load, keeps its reason, and falls back to the next best', () => {
    st.registerBackend(
      'broken-for-test',
      () => {
        throw new Error('the test backend needs hardware this machine lacks');
      },
      100,
    );
    const list = st.backends();
    const broken = list.find((b) => b.name === 'broken-for-test');
    assert.deepEqual(broken && { available: broken.available, reason: broken.reason }, {
      available: false,
      reason: 'the test backend needs hardware this machine lacks',
    });
    assert.ok(list.find((b) => b.name === 'reference')?.available);
    assert.notEqual(st.getBackend().name, 'broken-for-test');
    assert.throws(
      () => st.setBackend('broken-for-test'),
      (e: Error) => e instanceof st.ValueError && /unavailable/.test(e.message),
    );
    assert.throws(
      () => st.setBackend('tpu'),
      (e: Error) => e instanceof st.ValueError && /unknown backend "tpu"/.test(e.message),
    );
  });

  it('explains how to enable the native backend when its addon is missing', () => {
    assert.throws(
      () => loadAddon('/nonexistent/strata'),
      (e: Error) => /not built/.test(e.message) && /libdnnl-dev/.test(e.message) && /npm rebuild strata/.test(e.message),
    );
  });

  it('makes the native backend the default in a fresh process when it is built', {
    skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable',
  }, () => {
    const script = "import('./src/index.ts').then((st) => process.stdout.write(st.getBackend().name))";
    const name = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    assert.equal(name, 'native');
  });

  it('frees native storage during a synchronous loop, without waiting for the event loop', {
    skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable',
  }, () => {
    withBackend('native', () => {
      const x = st.randomNormal([1000, 1000]); // 4 MB per result below
      let peak = 0;
      for (let i = 0; i < 250; i++) {
        x.add(1);
        peak = Math.max(peak, st.memory().native.bytes);
      }
      // Without collection during the loop this would reach 1 GB.
      assert.ok(peak < 400e6, `peak native bytes ${peak}`);
    });
  });

  it('survives signals during oneDNN kernels (a profiler sampling with SIGPROF)', {
    skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable',
  }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-prof-'));
    const script = [
      "import('./src/index.ts').then((st) => {",
      "  st.setBackend('native');",
      '  const x = st.randomUniform([64, 784]), w = st.randomNormal([784, 512]);',
      '  const img = st.randomUniform([16, 28, 28, 8]), f = st.randomNormal([3, 3, 8, 16]);',
      '  for (let i = 0; i < 300; i++) { x.matmul(w); st.conv2d(img, f); }',
      '});',
    ].join('\n');
    try {
      execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', '-e', script], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Note [Signals and oneDNN]: without a profiler the kernels run unguarded, so OpenMP's workers
  // must have been started with every signal blocked (they would otherwise take a SIGINT or a
  // process-wide SIGPROF inside JIT code), while the main thread keeps taking them.
  it('starts OpenMP worker threads with every signal blocked, the main thread untouched (Linux)', {
    skip: (process.platform !== 'linux' || !st.backends().find((b) => b.name === 'native')?.available) && 'native backend on Linux only',
  }, () => {
    const script = [
      "import('./src/index.ts').then((st) => {",
      "  const fs = require('node:fs');",
      "  st.setBackend('native');",
      '  st.setNumThreads(3);',
      '  st.conv2d(st.randomUniform([8, 28, 28, 8]), st.randomNormal([3, 3, 8, 16])).dataSync();',
      "  const masks = fs.readdirSync('/proc/self/task').map((t) => [Number(t), BigInt('0x' + fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8').match(/SigBlk:\\s*(\\w+)/)[1])]);",
      '  console.log(JSON.stringify(masks.map(([t, m]) => [t === process.pid, String(m)])));',
      '});',
    ].join('\n');
    const masks = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' })) as [boolean, string][];
    // SIGINT is signal 2, SIGPROF 27: bits 1 and 26 of the mask.
    const blocks = (m: string, signal: number) => ((BigInt(m) >> BigInt(signal - 1)) & 1n) === 1n;
    const holding = masks.filter(([main, m]) => !main && blocks(m, 2) && blocks(m, 27));
    assert.ok(holding.length >= 2, `threads blocking SIGINT and SIGPROF: ${holding.length} (a team of 3 has 2 workers)`);
    const main = masks.find(([isMain]) => isMain);
    assert.ok(main && !blocks(main[1], 2) && !blocks(main[1], 27), 'the main thread takes signals between kernels');
  });

  // Note [Two OpenMP runtimes, one in use]: linking libomp helps only if the dynamic linker
  // resolves oneDNN's own OpenMP calls there, which depends on the addon's link order.
  // LD_BIND_NOW makes the loader bind every symbol as the addon loads, so the trace holds
  // oneDNN's bindings whatever runs later.
  it("runs oneDNN's parallel regions on the OpenMP runtime the build chose, and says which (Linux)", {
    skip: (process.platform !== 'linux' || !st.backends().find((b) => b.name === 'native')?.available) && 'native backend on Linux only',
  }, () => {
    const llvm = execFileSync(process.execPath, ['scripts/detect-openmp.mjs', '--defines'], { encoding: 'utf8' }).trim() === 'STRATA_LLVM_OPENMP';
    const detail = st.backends().find((b) => b.name === 'native')?.detail ?? '';
    assert.match(detail, /^oneDNN 2\.\d+\.\d+, OpenMP \((LLVM libomp|GNU libgomp)\), \d+ threads?$/);
    assert.equal(detail.includes('LLVM libomp'), llvm, `detail '${detail}' for a build that ${llvm ? 'found' : 'did not find'} libomp`);
    const script = "import('./src/index.ts').then((st) => { st.setBackend('native'); const a = st.ones([256, 256]); st.matmul(a, a).dataSync(); });";
    // The trace goes to files (one per process) rather than through stderr, where it came out
    // cut or interleaved in some runs.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-ld-'));
    try {
      const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, LD_DEBUG: 'bindings', LD_BIND_NOW: '1', LD_DEBUG_OUTPUT: path.join(dir, 'trace') },
      });
      assert.equal(child.status, 0, child.stderr.slice(-500));
      const trace = readdirSync(dir)
        .map((f) => readFileSync(path.join(dir, f), 'utf8'))
        .join('\n');
      // oneDNN is the one library here that calls GOMP_parallel by its GOMP_4.0 version (the
      // addon's own regions bind it unversioned).
      const bound = trace.match(/to (\S+) \[0\]: normal symbol `GOMP_parallel' \[GOMP_4\.0\]/)?.[1];
      assert.match(bound ?? 'unbound', llvm ? /libomp\.so\.5$/ : /libgomp\.so\.1$/, "oneDNN's GOMP_parallel");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Note [Two OpenMP runtimes, one in use]: libomp's workers would spin 200 ms after every
  // region by default; Strata asks for 1 ms without writing the environment, and leaves a
  // KMP_BLOCKTIME the user set alone.
  it('with libomp, OpenMP workers stop spinning soon after a kernel, and the environment is left alone (Linux)', {
    skip:
      (process.platform !== 'linux' ||
        !st.backends().find((b) => b.name === 'native')?.available ||
        !st
          .backends()
          .find((b) => b.name === 'native')
          ?.detail?.includes('LLVM libomp')) &&
      'native backend on libomp only',
  }, () => {
    const script = [
      "import('./src/index.ts').then(async (st) => {",
      "  st.setBackend('native');",
      '  st.setNumThreads(2);',
      '  const a = st.randomUniform([256, 256]);', // 16.7M multiply-adds: a two-thread product
      '  for (let i = 0; i < 20; i++) st.matmul(a, a).dispose();',
      '  await new Promise((r) => setTimeout(r, 300));',
      '  const c0 = process.cpuUsage();',
      '  st.matmul(a, a).dispose();',
      '  await new Promise((r) => setTimeout(r, 500));',
      '  const c = process.cpuUsage(c0);',
      '  console.log(JSON.stringify({ cpuMs: (c.user + c.system) / 1000, env: process.env.KMP_BLOCKTIME ?? null }));',
      '});',
    ].join('\n');
    const base: Record<string, string | undefined> = { ...process.env };
    delete base.KMP_BLOCKTIME;
    const run = (extra: Record<string, string>) =>
      JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...base, ...extra } })) as {
        cpuMs: number;
        env: string | null;
      };
    const ours = run({});
    assert.equal(ours.env, null, "Strata leaves KMP_BLOCKTIME out of the process's environment");
    // One product takes about 0.1 ms; 200 ms of spinning after it would show as about 200 ms of CPU.
    assert.ok(ours.cpuMs < 40, `CPU used in the 500 ms after one kernel: ${ours.cpuMs} ms`);
    // A KMP_BLOCKTIME the user set is left to libomp (how much the workers then spin depends on
    // what else holds the CPUs, so only the environment is checked here).
    assert.equal(run({ KMP_BLOCKTIME: '200' }).env, '200');
  });

  it('backward() on every backend matches the reference, with gradients released early', () => {
    // A small convnet-shaped graph where tensors are used twice and rules pass gradients through
    // unchanged, so releasing a gradient still held elsewhere would fail or change the result.
    const run = (name: string) => {
      return withBackend(name, () => {
        const img = st.tensor(
          Array.from({ length: 2 * 6 * 6 * 2 }, (_, i) => Math.sin(i)),
          [2, 6, 6, 2],
        );
        const f = st.variable(
          st.tensor(
            Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => Math.cos(i) / 3),
            [3, 3, 2, 4],
          ),
        );
        const b = st.variable(st.tensor([0.1, -0.2, 0.3, 0]));
        const w = st.variable(
          st.tensor(
            Array.from({ length: 16 * 3 }, (_, i) => Math.sin(2 * i) / 4),
            [16, 3],
          ),
        );
        const h = st.relu(st.add(st.conv2d(img, f, { padding: 'valid' }), b));
        const p = st.maxPool2d(h, { poolSize: 2 });
        const flat = st.reshape(p, [2, 16]);
        const logits = st.add(st.matmul(flat, w), st.matmul(flat, w).mul(0.5));
        const loss = st.add(
          st.losses.sparseCategoricalCrossentropy(st.tensor([1, 2], [2], 'int32'), logits, { fromLogits: true }),
          st.sum(b).square(),
        );
        loss.backward();
        return [f, b, w].map((v) => Array.from(v.grad!.dataSync()));
      });
    };
    const expected = run('reference');
    for (const backend of st.backends().filter((x) => x.available && x.name !== 'reference')) {
      run(backend.name).forEach((g, i) => assertClose(g, expected[i], 1e-4, 1e-5, `${backend.name} gradient ${i}`));
    }
  });

  it('setNumThreads validates its argument and is reported back', () => {
    assert.throws(() => st.setNumThreads(0), st.ValueError);
    st.setNumThreads(2);
    assert.equal(st.getNumThreads(), 2);
  });
});
