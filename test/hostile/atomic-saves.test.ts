// A model save is one atomic step (Note [Atomic model saves]): killed or failing at any point it
// leaves the previous model or the new one, whole and loadable, never a mix; concurrent writers
// never mix their files and concurrent readers never see a torn model. The faults come from a
// child process (children/save-with-faults.mjs) that kills itself or fails with ENOSPC at the
// N-th file-system step of its save, for every N until the save completes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../../src/index.js';

const CHILD = new URL('./children/save-with-faults.mjs', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'strata-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Expected {
  weights: number[][];
  iterations: number;
}
interface ChildArgs {
  dir: string;
  expected: string;
  mode: 'kill' | 'enospc';
  at: number;
  steps: number;
  units?: number;
}

function runChild(args: ChildArgs) {
  return spawnSync(process.execPath, [CHILD, JSON.stringify(args)], { encoding: 'utf8' });
}

function runChildAsync(args: ChildArgs): Promise<number | null> {
  return new Promise((resolve) => spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: 'ignore' }).on('exit', resolve));
}

const readExpected = (path: string): Expected => JSON.parse(readFileSync(path, 'utf8'));

/**
 * Which of the candidate models `dir` holds now; fails unless it loads and matches one of them
 * entirely. Candidates may be a function, called after loading: each writer records what it
 * saves before it starts, so every model that can be loaded is among them by then.
 */
async function whichModel(dir: string, candidatesOrGet: Record<string, Expected> | (() => Record<string, Expected>)): Promise<string> {
  const model = await withReference(() => st.loadModel(dir));
  const candidates = typeof candidatesOrGet === 'function' ? candidatesOrGet() : candidatesOrGet;
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  const steps = model.getUserDefinedMetadata()?.steps;
  for (const [name, c] of Object.entries(candidates)) {
    if (JSON.stringify(weights) !== JSON.stringify(c.weights)) continue;
    assert.equal(model.optimizer!.iterations, c.iterations, `${name}'s weights with other optimizer state`);
    assert.equal(steps, c.iterations, `${name}'s weights with other metadata`);
    return name;
  }
  assert.fail(`the folder holds weights of no complete save (metadata says ${steps} steps)`);
}

async function withReference<T>(f: () => Promise<T>): Promise<T> {
  const previous = st.getBackend().name;
  st.setBackend('reference');
  try {
    return await f();
  } finally {
    st.setBackend(previous);
  }
}

describe('a save interrupted at every step', () => {
  const template = join(root, 'template');
  let old: Expected;
  before(() => {
    const r = runChild({ dir: template, expected: join(root, 'old.json'), mode: 'kill', at: 0, steps: 1 });
    assert.match(r.stdout, /completed/, r.stderr);
    old = readExpected(join(root, 'old.json'));
  });

  for (const mode of ['kill', 'enospc'] as const) {
    it(`${mode === 'kill' ? 'SIGKILL' : 'ENOSPC'} at any step leaves the old model or the new one, whole`, async () => {
      const seen: string[] = [];
      for (let at = 1; ; at++) {
        const dir = join(root, `${mode}-${at}`);
        cpSync(template, dir, { recursive: true });
        const before = readdirSync(dir).sort();
        const expected = join(root, `${mode}-${at}.json`);
        const r = runChild({ dir, expected, mode, at, steps: 3 });
        const which = await whichModel(dir, { old, new: readExpected(expected) });
        if (/completed before the fault/.test(r.stdout)) {
          assert.equal(which, 'new', `step ${at}: a completed save must leave the new model`);
          assert.deepEqual(readdirSync(dir).filter((f) => f !== 'model.json').length, 2, `step ${at}: only the new model's two data files remain`);
          break;
        }
        if (mode === 'kill') {
          assert.equal(r.signal, 'SIGKILL', `step ${at}: ${r.stdout}${r.stderr}`);
          seen.push(which);
        } else if (/completed, the fault/.test(r.stdout)) {
          assert.equal(which, 'new', `step ${at}: ${r.stderr}`);
        } else {
          // A save that failed did not switch, and cleans up after itself.
          assert.equal(r.status, 3, r.stderr);
          assert.match(r.stdout, /ENOSPC/);
          assert.equal(which, 'old', `step ${at}: a failed save must leave the old model (${r.stderr.trim()})`);
          assert.deepEqual(readdirSync(dir).sort(), before, `step ${at}: files left behind`);
          seen.push('failed');
        }
        assert.ok(at < 100, 'the save should complete within 100 steps');
      }
      if (mode === 'enospc') {
        assert.ok(seen.length >= 4, `ENOSPC failed the save at ${seen.length} steps only`);
        return;
      }
      // Kills hit both before and after the switch.
      assert.ok(seen.includes('old') && seen.includes('new'), seen.join(' '));
      // Every step before the switch keeps the old model, every step after it the new one.
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => (a === b ? 0 : a === 'new' ? 1 : -1)),
        seen.join(' '),
      );
    });
  }

  it("the next save after a killed one works, and the dead writer's files are only ever left, never listed", async () => {
    const dir = join(root, 'after-kill');
    cpSync(template, dir, { recursive: true });
    const r = runChild({ dir, expected: join(root, 'killed.json'), mode: 'kill', at: 3, steps: 3 });
    assert.equal(r.signal, 'SIGKILL');
    const next = runChild({ dir, expected: join(root, 'next.json'), mode: 'kill', at: 0, steps: 5 });
    assert.match(next.stdout, /completed/, next.stderr);
    assert.equal(await whichModel(dir, { next: readExpected(join(root, 'next.json')) }), 'next');
  });
});

describe('a full disk', () => {
  const mountPoint = join(root, 'tiny-disk');
  let mounted = false;
  before(() => {
    mkdirSync(mountPoint);
    // A real file system that fills up; needs root and mount rights, otherwise the ENOSPC cases above stand in.
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=768k', 'tmpfs', mountPoint]).status === 0;
  });
  after(() => {
    if (mounted) spawnSync('umount', [mountPoint]);
  });

  it('a save that does not fit fails with ENOSPC and leaves the old model and no partial files', async (t) => {
    if (!mounted) return t.skip('cannot mount a tmpfs here');
    const dir = join(mountPoint, 'model');
    const small = runChild({ dir, expected: join(root, 'small.json'), mode: 'kill', at: 0, steps: 1, units: 4 });
    assert.match(small.stdout, /completed/, small.stderr);
    const files = readdirSync(dir).sort();
    // 3 -> 20000 units: about 480 KB of weights, which fit, then 960 KB of Adam slots, which do not.
    const big = runChild({ dir, expected: join(root, 'big.json'), mode: 'kill', at: 0, steps: 1, units: 20000 });
    assert.equal(big.status, 3, big.stdout + big.stderr);
    assert.match(big.stdout, /ENOSPC/);
    assert.equal(await whichModel(dir, { small: readExpected(join(root, 'small.json')) }), 'small');
    assert.deepEqual(readdirSync(dir).sort(), files);
  });
});

describe('concurrent writers and readers', () => {
  it('writers never mix their files; a reader always loads one complete save', async () => {
    const dir = join(root, 'shared');
    const expected = (i: number) => join(root, `writer-${i}.json`);
    // Two architectures (5 and 7 hidden units) and different training lengths per writer.
    const writer = (i: number) => runChildAsync({ dir, expected: expected(i), mode: 'kill', at: 0, steps: i + 1, units: i % 2 ? 7 : 5 });
    assert.equal(await writer(0), 0);
    let loads = 0;
    let writing = true;
    const candidates = () =>
      Object.fromEntries([0, 1, 2, 3, 4, 5].filter((i) => existsSync(expected(i))).map((i) => [`writer ${i}`, readExpected(expected(i))]));
    const reader = (async () => {
      while (writing) {
        await whichModel(dir, candidates);
        loads++;
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const codes = await Promise.all([1, 2, 3, 4, 5].map(writer));
        assert.deepEqual(codes, [0, 0, 0, 0, 0]);
      }
    } finally {
      writing = false;
      await reader;
    }
    assert.ok(loads > 0);
    const all = Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`writer ${i}`, readExpected(expected(i))]));
    await whichModel(dir, all);
  });
});
