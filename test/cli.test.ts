// The `strata` command end to end (the built dist/, as users run it): train writes its outputs,
// and an interrupted run resumed from its checkpoint ends with the same bytes as an
// uninterrupted one.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const small = ['--limit', '1200', '--epochs', '3', '--seed', '5', '--verbose', '2', '--batch-size', '32'];

describe('strata command', () => {
  it('info lists backends and CPU features', () => {
    const r = run(['info']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend native/);
    assert.match(r.stdout, /features:/);
  });

  it('train writes the model, history and a test accuracy; evaluate and summary read the model', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-cli-')), 'run');
    const r = run(['train', ...small, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Epoch 3\/3 - .* - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+/);
    assert.match(r.stdout, /Test accuracy \d+\.\d\d %/);
    for (const f of ['model.json', 'weights.safetensors', 'optimizer.safetensors', 'history.json', 'history.csv']) assert.ok(existsSync(join(out, f)), f);
    const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'epoch,accuracy,loss,val_accuracy,val_loss');
    assert.equal(csv.length, 4);
    const ev = run(['evaluate', out, '--limit', '1200']);
    assert.equal(ev.status, 0, ev.stderr);
    const accuracy = Number(/Test accuracy (\d+\.\d\d) %/.exec(r.stdout)![1]);
    assert.match(ev.stdout, new RegExp(`accuracy: ${(accuracy / 100).toFixed(4).slice(0, 5)}`));
    assert.match(run(['summary', out]).stdout, /Total params: 104,202/);
  });

  it('Ctrl-C writes a checkpoint; --resume reaches the same weights as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    const full = join(dir, 'full'), cut = join(dir, 'cut');
    assert.equal(run(['train', ...small, '--out', full]).status, 0);
    const child = spawn(process.execPath, [CLI, 'train', ...small, '--out', cut], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        // Interrupt in the middle of epoch 2.
        if (output.includes('Epoch 1/3') && !child.killed) setTimeout(() => child.kill('SIGINT'), 150);
      });
      child.on('exit', resolve);
    });
    assert.equal(code, 130, output);
    assert.match(output, /Checkpoint written/);
    const resumed = run(['train', '--resume', cut, '--verbose', '2']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(readFileSync(join(cut, 'weights.safetensors')), readFileSync(join(full, 'weights.safetensors')));
    assert.deepEqual(readFileSync(join(cut, 'optimizer.safetensors')), readFileSync(join(full, 'optimizer.safetensors')));
  });

  it('bad options name what was expected', () => {
    const r = run(['train', '--epochs', '0']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--epochs must be an integer >= 1; received 0/);
    assert.match(run(['train', '--dataset', 'cifar', '--limit', '10']).stderr, /--dataset: expected mnist or fashion-mnist; received "cifar"/);
  });
});
