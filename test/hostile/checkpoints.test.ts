// `strata train`'s checkpoints (at Ctrl-C and at every epoch's end) are atomic saves
// (src/cli/checkpoint.ts): a process killed while writing one leaves the previous checkpoint or
// the new one, whole, and --resume from what is left ends with the same bytes as a run that was
// never interrupted.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const PRELOAD = new URL('./children/kill-after-sigint.mjs', import.meta.url).pathname;
const small = ['--limit', '1200', '--epochs', '4', '--seed', '5', '--verbose', '2', '--batch-size', '32'];
const root = mkdtempSync(join(tmpdir(), 'strata-checkpoints-'));
after(() => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const dataFile = (dir: string, role: string) => readFileSync(join(dir, manifest(dir).files[role].path));

/**
 * Runs `strata train` and sends Ctrl-C as soon as `epochLine` appears, so it lands early in the
 * next epoch (the trainer stops after the batch it is in); resolves with how the run ended.
 */
function interrupted(
  args: string[],
  epochLine: string,
  killAt?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const node = killAt === undefined ? [CLI] : ['--import', PRELOAD, CLI];
  const env = killAt === undefined ? process.env : { ...process.env, STRATA_TEST_KILL_AT: String(killAt) };
  const child = spawn(process.execPath, [...node, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  return new Promise((resolve) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(epochLine) && !child.killed) child.kill('SIGINT');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

describe('a checkpoint killed while it is written', () => {
  const full = join(root, 'full'),
    first = join(root, 'first');
  let firstPosition: { epoch: number; batch: number };
  before(async () => {
    assert.equal(run(['train', ...small, '--out', full]).status, 0);
    // The first checkpoint, written whole, early in epoch 2 (later on a busy machine).
    const r = await interrupted([...small, '--out', first], 'Epoch 1/4');
    assert.equal(r.code, 130, r.output);
    firstPosition = manifest(first).userDefinedMetadata.strataCheckpoint.position;
    assert.ok(firstPosition.epoch >= 1 && firstPosition.epoch <= 2, `the first Ctrl-C should land in epoch 2 or 3: ${JSON.stringify(firstPosition)}`);
  });

  // Step 3 cuts the new weights file in half, before the switch; step 15 comes after model.json's rename.
  for (const killAt of [3, 15]) {
    it(`killed at step ${killAt} of the second checkpoint's save: --resume still ends byte-identical to an uninterrupted run`, async () => {
      const dir = join(root, `kill-${killAt}`);
      cpSync(first, dir, { recursive: true });
      // The resumed run finishes the interrupted epoch, prints its line, and is interrupted in the next.
      const r = await interrupted(['--resume', dir, '--verbose', '2'], `Epoch ${firstPosition.epoch + 1}/4`, killAt);
      assert.equal(r.signal, 'SIGKILL', r.output);
      assert.match(r.output, new RegExp(`fault at step ${killAt}`));
      const position = manifest(dir).userDefinedMetadata.strataCheckpoint.position;
      // Before the switch the last whole checkpoint stands: the first one, or the one the resumed
      // run wrote when its first epoch ended (Note [A checkpoint at every epoch's end]), if that
      // save finished before the Ctrl-C arrived. After the switch, the second, an epoch later.
      if (killAt === 3)
        assert.ok(
          [`${firstPosition.epoch},${firstPosition.batch}`, `${firstPosition.epoch + 1},0`].includes(`${position.epoch},${position.batch}`),
          `${JSON.stringify(position)} after ${JSON.stringify(firstPosition)}`,
        );
      else assert.ok(position.epoch > firstPosition.epoch, `${JSON.stringify(position)} after ${JSON.stringify(firstPosition)}`);
      const resumed = run(['train', '--resume', dir, '--verbose', '2']);
      assert.equal(resumed.status, 0, resumed.stderr);
      for (const role of ['weights', 'optimizer']) assert.deepEqual(dataFile(dir, role), dataFile(full, role), role);
    });
  }
});
