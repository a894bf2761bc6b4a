// Data-parallel training over MPI (st.distributed, fit({distributed: true}), strata train
// --distributed): the collectives, the equivalence of N ranks of batch B with one process of
// batch N·B, what happens when a rank dies or hangs, and the command line's rank-0-only run folder
// with a resume after a killed rank. The jobs run under `mpirun -np 2` on this machine; where
// MPI is missing (not in CI, which installs it) the tests skip and say why.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as st from '../src/index.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli/main.js');
const hasMpirun = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = !st.distributed.available()
  ? `st.distributed is not available: ${st.distributed.unavailableReason()}`
  : !hasMpirun
    ? 'mpirun is not installed (Debian openmpi-bin)'
    : false;

// As root (CI), OpenMPI wants both flags; --oversubscribe lets 2 ranks start whatever slots it
// counts; CMA single-copy needs ptrace rights that containers often lack.
const MPI_ENV = { ...process.env, OMPI_MCA_btl_vader_single_copy_mechanism: 'none', OMPI_MCA_rmaps_base_oversubscribe: '1' };
const mpirunArgs = (np: number) => [...(process.getuid?.() === 0 ? ['--allow-run-as-root'] : []), '--oversubscribe', '-np', String(np)];

interface Job {
  status: number | null;
  out: string;
  err: string;
  seconds: number;
}

/** Runs `mpirun -np N node ...args` to the end (or until `timeoutMs`, then kills it). */
function mpirun(np: number, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Job> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('mpirun', [...mpirunArgs(np), process.execPath, ...args], { cwd: ROOT, env: { ...MPI_ENV, ...env } });
    let out = '',
      err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out, err, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const tsx = (script: string, ...args: string[]) => ['--import', 'tsx', join(ROOT, 'test/distributed', script), ...args];

/** The JSON line a run printed. */
function result(text: string): { weights: number[][]; history: Record<string, number[]>; threads: number } {
  const line = text.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no result line in:\n${text}`);
  return JSON.parse(line);
}

function maxDifference(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}

describe('st.distributed before init', () => {
  test('a process not started by mpirun is a job of one until init, and says what to call', async () => {
    assert.equal(st.distributed.initialized, false);
    assert.equal(st.distributed.rank, 0);
    assert.equal(st.distributed.size, 1);
    await assert.rejects(st.distributed.allreduce(st.ones([2])), /call `await st\.distributed\.init\(\)` first/);
    const model = st.sequential({ layers: [st.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await assert.rejects(
      model.fit(st.ones([4, 2]), st.ones([4, 1]), { distributed: true, verbose: 0 }),
      /fit: distributed: call `await st\.distributed\.init\(\)` first/,
    );
    await assert.rejects(
      model.fit(st.ones([4, 2]), st.ones([4, 1]), { distributed: 'yes' as unknown as true, verbose: 0 }),
      /distributed must be true or \{bucketBytes\}/,
    );
  });
});

describe('distributed training under mpirun -np 2', { skip }, () => {
  test('collectives: allreduce (sum, mean, in place), broadcast, allgather, barrier, and refusals', async () => {
    for (const backend of ['native', 'reference']) {
      const job = await mpirun(2, tsx('collectives.ts', backend));
      assert.equal(job.status, 0, `${backend}: ${job.out}\n${job.err}`);
      assert.match(job.out, /rank 0: collectives ok/);
      assert.match(job.out, /rank 1: collectives ok/);
    }
  });

  test('2 ranks of batch 8 train the weights 1 process of batch 16 trains (20 SGD steps, a short last batch)', async () => {
    const single = spawnSync(process.execPath, tsx('mlp-run.ts', 'single'), { cwd: ROOT, encoding: 'utf8' });
    assert.equal(single.status, 0, single.stderr);
    const one = result(single.stdout);
    // One bucket for all gradients, and 64-byte buckets: several allreduces per step, started
    // while the backward pass runs (the order of buckets must still agree across ranks).
    for (const bucketBytes of ['', '64']) {
      const job = await mpirun(2, tsx('mlp-run.ts', 'dist', 'native', ...(bucketBytes ? [bucketBytes] : [])));
      assert.equal(job.status, 0, job.err);
      const two = result(job.out);
      const diff = maxDifference(one.weights, two.weights);
      assert.ok(diff <= 1e-5, `bucketBytes ${bucketBytes || 'default'}: weights differ by ${diff}`);
      // The logs are the job's: loss, accuracy and the validation pass summed over both ranks.
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy'])
        one.history[key].forEach((v, e) => assert.ok(Math.abs(v - two.history[key][e]) < 1e-5, `${key} epoch ${e}: ${v} vs ${two.history[key][e]}`));
      // Two ranks on two cores: one thread each.
      assert.equal(two.threads, 1);
    }
  });

  test('the same on the reference backend (gradients travel through the host)', async () => {
    const single = spawnSync(process.execPath, tsx('mlp-run.ts', 'single', 'reference'), { cwd: ROOT, encoding: 'utf8' });
    assert.equal(single.status, 0, single.stderr);
    const job = await mpirun(2, tsx('mlp-run.ts', 'dist', 'reference'));
    assert.equal(job.status, 0, job.err);
    const diff = maxDifference(result(single.stdout).weights, result(job.out).weights);
    assert.ok(diff <= 1e-5, `weights differ by ${diff}`);
  });

  test('a rank killed mid-epoch ends the job with an error within 60 s', async () => {
    const job = await mpirun(2, tsx('fault.ts', 'die'));
    assert.notEqual(job.status, 0);
    assert.ok(job.seconds < 60, `the job took ${job.seconds} s to end`);
    assert.match(job.out, /rank 1: failing now/);
    assert.match(job.out + job.err, /exited on signal 9|killed/i);
  });

  test('a rank that hangs makes the others stop with a DistributedError after the timeout', async () => {
    const job = await mpirun(2, tsx('fault.ts', 'hang'), { STRATA_DISTRIBUTED_TIMEOUT: '3' });
    assert.notEqual(job.status, 0);
    assert.ok(job.seconds < 60, `the job took ${job.seconds} s to end`);
    assert.match(job.err, /rank 0: DistributedError: distributed: rank 0 of 2 waited 3 s for .* one of them has died or hangs/);
  });
});

/** The node processes of a job's ranks: those whose command line holds the run folder `out`. */
function rankProcesses(out: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return args[0] === process.execPath && args.includes(out);
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number)
    .sort((a, b) => a - b);
}

describe('strata train --distributed', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-distributed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const train = (out: string, ...extra: string[]) => [CLI, 'train', '--distributed', '--limit', '3000', '--out', out, '--verbose', '2', ...extra];

  test('rank 0 alone prints and writes the run folder', async () => {
    const out = join(dir, 'run');
    const job = await mpirun(2, train(out, '--epochs', '1'));
    assert.equal(job.status, 0, job.err);
    assert.equal(job.out.match(/Test accuracy/g)?.length, 1, job.out);
    assert.match(job.out, /2 ranks of batch 32 \(Open MPI/);
    assert.ok(existsSync(join(out, 'history.json')) && existsSync(join(out, 'report.html')));
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    // One process with the same global batch lands in the same band.
    const single = spawnSync(process.execPath, [CLI, 'train', '--limit', '3000', '--epochs', '1', '--out', join(dir, 'single'), '--verbose', '0'], {
      cwd: ROOT,
    });
    assert.equal(single.status, 0, String(single.stderr));
    const alone = JSON.parse(readFileSync(join(dir, 'single', 'history.json'), 'utf8'));
    assert.ok(
      Math.abs(history.test.accuracy - alone.test.accuracy) < 0.02,
      `test accuracy ${history.test.accuracy} vs ${alone.test.accuracy} in one process`,
    );
    assert.ok(history.test.accuracy > 0.6, `test accuracy ${history.test.accuracy}`);
    // An odd global batch cannot be split evenly: refused, naming the option.
    const odd = await mpirun(2, train(join(dir, 'odd'), '--epochs', '1', '--batch-size', '63'));
    assert.notEqual(odd.status, 0);
    assert.match(odd.err, /--batch-size 63 must be a multiple of the job's 2 ranks/);
  });

  test('a rank killed during epoch 2 ends the job; --resume finishes it from the epoch 1 checkpoint', async () => {
    const out = join(dir, 'resumed');
    const running = mpirun(2, train(out, '--epochs', '4'));
    // Wait for the checkpoint of epoch 1, then kill one rank (a node process running this run).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const model = join(out, 'model.json');
      if (existsSync(model) && readFileSync(model, 'utf8').includes('strataCheckpoint')) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const ranks = rankProcesses(out);
    assert.equal(ranks.length, 2, `rank processes: ${ranks.join(', ')}`);
    process.kill(ranks[1], 'SIGKILL');
    const killed = await running;
    assert.notEqual(killed.status, 0);
    assert.ok(killed.seconds < 90);
    assert.ok(!existsSync(join(out, 'history.json')), 'the killed run must not look finished');
    const resumed = await mpirun(2, [CLI, 'train', '--distributed', '--resume', out, '--verbose', '2']);
    assert.equal(resumed.status, 0, resumed.err);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    assert.deepEqual(history.epoch, [0, 1, 2, 3]);
    assert.ok(history.test.accuracy > 0.85, `test accuracy ${history.test.accuracy}`);
    assert.ok(readdirSync(out).includes('report.html'));
  });
});
