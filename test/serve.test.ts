// `strata serve` and its server: routes, MIME types, isolation headers, the runs listing, and the
// requests it must refuse (paths out of its folders, other methods, a port in use).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mnistFolder } from '../src/node/serve/package-files.js';
import { type RunningServer, startServer } from '../src/node/serve/server.js';

/** A raw GET (fetch would normalize `..` and `%2e%2e` away before sending). */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('strata serve', () => {
  let server: RunningServer;
  let runs: string;
  before(async () => {
    runs = mkdtempSync(join(tmpdir(), 'strata-serve-'));
    mkdirSync(join(runs, 'convnet-mnist-1'));
    writeFileSync(join(runs, 'convnet-mnist-1', 'history.json'), '{"epochs":[]}\n');
    mkdirSync(join(runs, 'empty-folder'));
    server = await startServer({ port: 0, runs });
  });
  after(async () => {
    await server.close();
    rmSync(runs, { recursive: true, force: true });
  });

  test('the index, the bundle and the MNIST files are served with their MIME types and the isolation headers', async () => {
    const index = await rawGet(server.url, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
    for (const page of ['/playground/', '/mnist/', '/runs/']) assert.match(index.body.toString(), new RegExp(`href="${page}"`));
    const bundle = await rawGet(server.url, '/strata.js', 'HEAD');
    assert.equal(bundle.status, 200);
    assert.match(String(bundle.headers['content-type']), /^text\/javascript/);
    const labels = await rawGet(server.url, '/data/mnist/t10k-labels-idx1-ubyte');
    assert.equal(labels.status, 200);
    assert.equal(labels.body.length, statSync(join(mnistFolder()!, 't10k-labels-idx1-ubyte')).size);
    assert.deepEqual([...labels.body.subarray(0, 4)], [0, 0, 8, 1]); // the IDX magic of a uint8 vector
  });

  test('a page name without its slash redirects to the folder', async () => {
    const r = await rawGet(server.url, '/playground');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/playground/');
  });

  test('the runs listing names the runs with files, newest first, and serves their files', async () => {
    const list = JSON.parse((await rawGet(server.url, '/api/runs')).body.toString());
    assert.deepEqual(
      list.map((r: { name: string; files: string[] }) => [r.name, r.files]),
      [['convnet-mnist-1', ['history.json']]],
    );
    const file = await rawGet(server.url, '/api/runs/convnet-mnist-1/history.json');
    assert.equal(file.status, 200);
    assert.equal(file.body.toString(), '{"epochs":[]}\n');
  });

  test('paths out of the served folders, unknown paths and other methods are refused', async () => {
    for (const path of [
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/data/mnist/..%2f..%2fpackage.json',
      '/api/runs/..%2f..%2fetc/passwd',
      '/shared/%00',
      '/nope',
    ]) {
      const r = await rawGet(server.url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body.toString(), /"name"|root:/, path);
    }
    assert.equal((await rawGet(server.url, '/', 'POST')).status, 405);
  });

  test('a port in use and a port out of range are refused with errors that say so', async () => {
    const port = Number(new URL(server.url).port);
    await assert.rejects(startServer({ port, runs }), /port \d+ on 127\.0\.0\.1 is in use; pass --port N/);
    await assert.rejects(startServer({ port: 70000, runs }), /port must be an integer in \[0, 65535\]; received 70000/);
  });

  test('the command prints its address, serves, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', runs, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/strata serve: (http:\/\/127\.0\.0\.1:\d+)\/[\s\S]*Ctrl-C stops it/);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`strata serve exited (${code}) before listening: ${out}`)));
    });
    after(() => child.kill('SIGKILL')); // a failed assertion must not leave the server running
    assert.match(out, /runs\s+http:\/\/127\.0\.0\.1:\d+\/runs\//);
    assert.equal((await rawGet(url, '/api/runs')).status, 200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
