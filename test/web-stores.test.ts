// The browser's model sources that are portable, run in Node: picked files (models/files-source.ts,
// with Node 20's File) and the http(s) store (src/web/http-store.ts, with Node 20's fetch against
// a local server). A model saved by the Node file store must load from either with identical
// predictions, and a tampered, resized or missing file must give a FormatError naming it.
// test/browser-stores.test.ts runs the page-only stores (IndexedDB, downloads) in Chromium.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { downloadsStore } from '../src/web/downloads-store.js';
import { http, modelJsonUrl } from '../src/web/http-store.js';
import { indexedDbStore } from '../src/web/indexeddb-store.js';
import { serveStatic, type StaticServer } from './browser/server.js';

// The Node entry registers the http store too (it needs only fetch), so st.loadModel('http://...')
// below goes through that registration.

const x = st.tensor(
  Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.3)),
  [6, 4],
);
const predict = (m: st.Model) => Array.from((m.predict(x) as st.Tensor).dataSync());

let root = '';
let folder = '';
let model: st.Model;
let server: StaticServer;

/** The saved folder's files as File objects, as an <input type=file multiple> gives them. */
async function pickedFiles(dir: string, change: (name: string, bytes: Uint8Array) => Uint8Array | null = (_, b) => b): Promise<File[]> {
  const files: File[] = [];
  for (const name of await readdir(dir)) {
    const bytes = change(name, await readFile(join(dir, name)));
    if (bytes) files.push(new File([bytes], name));
  }
  return files;
}

/** A copy of the saved folder under the served root, with one file changed or removed. */
async function variant(label: string, change: (name: string, bytes: Uint8Array) => Uint8Array | null): Promise<string> {
  const dir = join(root, label);
  await mkdir(dir);
  for (const name of await readdir(folder)) {
    const bytes = change(name, await readFile(join(folder, name)));
    if (bytes) await writeFile(join(dir, name), bytes);
  }
  return dir;
}

const flipLast = (bytes: Uint8Array) => {
  const copy = new Uint8Array(bytes);
  copy[copy.length - 1] ^= 1;
  return copy;
};
const isWeights = (name: string) => name.startsWith('weights.');
const isOptimizer = (name: string) => name.startsWith('optimizer.');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-web-stores-'));
  folder = join(root, 'saved');
  st.setSeed(3);
  model = st.sequential({ layers: [st.layers.dense({ units: 5, activation: 'tanh', inputShape: [4] }), st.layers.dense({ units: 2 })] });
  model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
  await model.fit(x, st.ones([6, 2]), { epochs: 2, verbose: 0 });
  await model.save(folder);
  server = await serveStatic(root);
});
after(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('picked files (st.loadModel(files))', () => {
  it('a model saved by the Node file store loads from the list of its files, optimizer state included', async () => {
    const loaded = await st.loadModel(await pickedFiles(folder));
    assert.deepEqual(predict(loaded), predict(model));
    assert.equal(loaded.optimizer?.iterations, model.optimizer?.iterations);
  });

  it('a tampered weights file is refused with a FormatError naming it', async () => {
    const files = await pickedFiles(folder, (name, b) => (isWeights(name) ? flipLast(b) : b));
    const weights = files.find((f) => isWeights(f.name))!.name;
    await assert.rejects(
      st.loadModel(files),
      (e: Error) => e instanceof st.FormatError && e.message.startsWith(`${weights}: its SHA-256 checksum differs`),
    );
  });

  it('a data file of the wrong size is refused before it is read', async () => {
    const files = await pickedFiles(folder, (name, b) => (isOptimizer(name) ? b.subarray(1) : b));
    const optimizer = files.find((f) => isOptimizer(f.name))!.name;
    await assert.rejects(
      st.loadModel(files),
      (e: Error) => e instanceof st.FormatError && /holds \d+ bytes; model\.json recorded/.test(e.message) && e.message.startsWith(optimizer),
    );
  });

  it('a missing data file is named, with the files that were given', async () => {
    const files = await pickedFiles(folder, (name, b) => (isWeights(name) ? null : b));
    await assert.rejects(
      st.loadModel(files),
      (e: Error) =>
        e instanceof st.FormatError && /^model\.json: lists weights file 'weights\.[^']+', which is not among the files given/.test(e.message),
    );
  });

  it('compile: false skips the optimizer file, so it may be left out', async () => {
    const files = await pickedFiles(folder, (name, b) => (isOptimizer(name) ? null : b));
    const loaded = await st.loadModel(files, { compile: false });
    assert.deepEqual(predict(loaded), predict(model));
  });
});

describe('the http store', () => {
  it('loads by the URL of model.json and by the URL of its folder, predicting as the saved model does', async () => {
    for (const url of [`${server.url}/saved/model.json`, `${server.url}/saved`, `${server.url}/saved/`]) {
      const loaded = await st.loadModel(url);
      assert.deepEqual(predict(loaded), predict(model), url);
      assert.equal(loaded.optimizer?.iterations, model.optimizer?.iterations);
    }
  });

  it('a bad status is a FormatError naming the URL and the status', async () => {
    await assert.rejects(st.loadModel(`${server.url}/nothing/model.json`), {
      name: 'FormatError',
      message: `${server.url}/nothing/model.json: the server answered 404 Not Found`,
    });
    await variant('no-weights', (name, b) => (isWeights(name) ? null : b));
    await assert.rejects(
      st.loadModel(`${server.url}/no-weights`),
      (e: Error) =>
        e instanceof st.FormatError &&
        new RegExp(
          `^${server.url}/no-weights/weights\\.[^:]+: the server answered 404 Not Found \\(the file is listed in ${server.url}/no-weights/model\\.json\\)$`,
        ).test(e.message),
    );
  });

  it('a tampered or resized data file is refused with a FormatError naming its URL', async () => {
    await variant('tampered', (name, b) => (isWeights(name) ? flipLast(b) : b));
    await assert.rejects(
      st.loadModel(`${server.url}/tampered/model.json`),
      (e: Error) => e instanceof st.FormatError && new RegExp(`^${server.url}/tampered/weights\\.\\S+: its SHA-256 checksum differs`).test(e.message),
    );
    await variant('cut', (name, b) => (isOptimizer(name) ? b.subarray(0, 10) : b));
    await assert.rejects(
      st.loadModel(`${server.url}/cut/model.json`),
      (e: Error) =>
        e instanceof st.FormatError &&
        new RegExp(`^${server.url}/cut/optimizer\\.\\S+: holds 10 bytes; ${server.url}/cut/model.json recorded`).test(e.message),
    );
    await variant('bad-json', (name, b) => (name === 'model.json' ? b.subarray(0, 20) : b));
    await assert.rejects(
      st.loadModel(`${server.url}/bad-json/model.json`),
      (e: Error) => e instanceof st.FormatError && e.message.startsWith(`${server.url}/bad-json/model.json: `),
    );
  });

  it('no server: a FormatError naming the URL', async () => {
    const closed = await serveStatic(root);
    await closed.close();
    await assert.rejects(
      st.loadModel(`${closed.url}/saved`),
      (e: Error) => e instanceof st.FormatError && e.message.startsWith(`${closed.url}/saved/model.json: cannot fetch the file`),
    );
  });

  it('save POSTs the files as multipart/form-data; what a server writes from the parts loads in Node', async () => {
    const upload = join(root, 'uploaded');
    const received: string[] = [];
    const posts = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      // Node's fetch parses multipart bodies: a Response of the request's body and type does it here.
      const form = await new Response(Buffer.concat(chunks), { headers: { 'Content-Type': req.headers['content-type'] ?? '' } }).formData();
      await mkdir(upload, { recursive: true });
      for (const [field, file] of form) {
        received.push(`${field}=${(file as File).name}`);
        await writeFile(join(upload, (file as File).name), new Uint8Array(await (file as File).arrayBuffer()));
      }
      received.push(`token=${req.headers['x-token']}`);
      res.writeHead(req.url === '/refuse' ? 507 : 200, { 'Content-Type': 'text/plain' }).end(req.url === '/refuse' ? 'disk full' : 'ok');
    });
    await new Promise<void>((r) => posts.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(posts.address() as { port: number }).port}`;
    try {
      await model.save(`${base}/upload`);
      assert.deepEqual(received, [
        'model.json=model.json',
        'weights.safetensors=weights.safetensors',
        'optimizer.safetensors=optimizer.safetensors',
        'token=undefined',
      ]);
      received.length = 0;
      await model.save(http(`${base}/upload`, { requestInit: { headers: { 'X-Token': 'k1' }, method: 'PUT' } }));
      assert.equal(received.at(-1), 'token=k1');
      const loaded = await st.loadModel(upload);
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(loaded.optimizer?.iterations, model.optimizer?.iterations);
      await assert.rejects(model.save(`${base}/refuse`), {
        name: 'StrataError',
        message: `save: ${base}/refuse answered 507 Insufficient Storage: disk full; the server did not take the model`,
      });
    } finally {
      await new Promise((r) => posts.close(r));
    }
  });

  it("st.browser.http(url, {requestInit}) sends the caller's headers with every request", async () => {
    // A server that answers only requests carrying the token, from the saved folder.
    const seen: string[] = [];
    const guarded = createServer(async (req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      if (req.headers.authorization !== 'Bearer t0k') return void res.writeHead(401, { 'Content-Type': 'text/plain' }).end();
      const bytes = await readFile(join(folder, req.url!.slice(1))).catch(() => null);
      if (!bytes) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': bytes.byteLength }).end(bytes);
    });
    await new Promise<void>((r) => guarded.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(guarded.address() as { port: number }).port}`;
    try {
      const loaded = await st.loadModel(http(base, { requestInit: { headers: { Authorization: 'Bearer t0k' } } }));
      assert.deepEqual(predict(loaded), predict(model));
      assert.equal(seen.length, 3);
      assert.ok(seen.every((s) => s.endsWith(' Bearer t0k')));
      await assert.rejects(st.loadModel(base), { name: 'FormatError', message: `${base}/model.json: the server answered 401 Unauthorized` });
      assert.throws(() => http(base, { headers: {} } as never), { name: 'ValueError' });
    } finally {
      await new Promise((r) => guarded.close(r));
    }
  });

  it('a URL without a scheme needs a page to resolve it against', () => {
    assert.throws(() => modelJsonUrl('models/mnist'), { name: 'ValueError', message: /a relative URL needs a page/ });
    assert.equal(modelJsonUrl('https://h/m/').href, 'https://h/m/model.json');
    assert.equal(modelJsonUrl('https://h/m/my.json?v=1').href, 'https://h/m/my.json?v=1');
  });
});

describe('the page-only stores outside a page', () => {
  it('say what they need', async () => {
    const encoded = { manifest: {} as never, weights: new Uint8Array(0), optimizer: null };
    await assert.rejects(indexedDbStore.load!('indexeddb://m', true), { name: 'ValueError', message: /indexeddb:\/\/ needs IndexedDB/ });
    await assert.rejects(downloadsStore.save!('downloads://m', encoded), { name: 'ValueError', message: /downloads:\/\/ needs a page/ });
    await assert.rejects(downloadsStore.save!('downloads://a/b', encoded), { name: 'ValueError', message: /the name must be letters, digits/ });
  });
});
