import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { loadAddon } from '../src/backend/native/addon.js';

describe('backend selection and fallback', () => {
  it('skips a backend that cannot load, keeps its reason, and falls back to the next best', () => {
    st.registerBackend('broken-for-test', () => {
      throw new Error('the test backend needs hardware this machine lacks');
    }, 100);
    const list = st.backends();
    const broken = list.find((b) => b.name === 'broken-for-test');
    assert.deepEqual(broken && { available: broken.available, reason: broken.reason }, {
      available: false,
      reason: 'the test backend needs hardware this machine lacks',
    });
    assert.ok(list.find((b) => b.name === 'reference')?.available);
    assert.notEqual(st.getBackend().name, 'broken-for-test');
    assert.throws(() => st.setBackend('broken-for-test'), (e: Error) => e instanceof st.ValueError && /unavailable/.test(e.message));
    assert.throws(() => st.setBackend('tpu'), (e: Error) => e instanceof st.ValueError && /unknown backend "tpu"/.test(e.message));
  });

  it('explains how to enable the native backend when its addon is missing', () => {
    assert.throws(() => loadAddon('/nonexistent/strata'), (e: Error) =>
      /not built/.test(e.message) && /libdnnl-dev/.test(e.message) && /npm rebuild strata/.test(e.message));
  });

  it('makes the native backend the default in a fresh process when it is built', { skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable' }, () => {
    const script = "import('./src/index.ts').then((st) => process.stdout.write(st.getBackend().name))";
    const name = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    assert.equal(name, 'native');
  });

  it('frees native storage during a synchronous loop, without waiting for the event loop', { skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable' }, () => {
    const previous = st.getBackend().name;
    st.setBackend('native');
    try {
      const x = st.randomNormal([1000, 1000]); // 4 MB per result below
      let peak = 0;
      for (let i = 0; i < 250; i++) {
        x.add(1);
        peak = Math.max(peak, st.memory().native.bytes);
      }
      // Without collection during the loop this would reach 1 GB.
      assert.ok(peak < 400e6, `peak native bytes ${peak}`);
    } finally {
      st.setBackend(previous);
    }
  });

  it('survives signals during oneDNN kernels (a profiler sampling with SIGPROF)', { skip: !st.backends().find((b) => b.name === 'native')?.available && 'native backend unavailable' }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-prof-'));
    const script = [
      "import('./src/index.ts').then((st) => {",
      "  st.setBackend('native');",
      "  const x = st.randomUniform([64, 784]), w = st.randomNormal([784, 512]);",
      "  const img = st.randomUniform([16, 28, 28, 8]), f = st.randomNormal([3, 3, 8, 16]);",
      "  for (let i = 0; i < 300; i++) { x.matmul(w); st.conv2d(img, f); }",
      "});",
    ].join('\n');
    try {
      execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', '-e', script], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setNumThreads validates its argument and is reported back', () => {
    assert.throws(() => st.setNumThreads(0), st.ValueError);
    st.setNumThreads(2);
    assert.equal(st.getNumThreads(), 2);
  });
});
