// `strata serve` and its server: routes, MIME types, isolation headers, the runs listing, and the
// requests it must refuse (paths out of its folders, other methods, a port in use); the dashboard's
// API: run statuses and settings, and the event streams of live logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mnistFolder } from '../src/node/serve/package-files.js';
import { openStreamCount } from '../src/node/serve/run-events.js';
import { type RunningServer, startServer } from '../src/node/serve/server.js';
const root = new URL('..', import.meta.url).pathname;

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
    mkdirSync(join(runs, 'not-a-run'));
    writeFileSync(join(runs, 'not-a-run', 'notes.txt'), 'no run files here\n');
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
    // The chunks the bundle loads on first use (Graphviz for st.graph.toSvg) come from beside it.
    const chunks = readdirSync(join(root, 'dist', 'browser')).filter((f) => /^strata-chunk-.*\.js$/.test(f));
    assert.ok(chunks.length > 0, 'npm run build writes the lazily loaded chunks');
    for (const chunk of chunks) {
      const r = await rawGet(server.url, `/${chunk}`, 'HEAD');
      assert.equal(r.status, 200, chunk);
      assert.match(String(r.headers['content-type']), /^text\/javascript/);
    }
    assert.equal((await rawGet(server.url, '/strata-chunk-../package.json', 'HEAD')).status, 404);
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

  test('the runs listing names the folders holding run files, newest first, and serves their files', async () => {
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
    // A link in a run folder to a file outside the runs folder is not followed out of it.
    symlinkSync('/etc/passwd', join(runs, 'convnet-mnist-1', 'passwd'));
    const linked = await rawGet(server.url, '/api/runs/convnet-mnist-1/passwd');
    assert.equal(linked.status, 404);
    assert.doesNotMatch(linked.body.toString(), /root:/);
    unlinkSync(join(runs, 'convnet-mnist-1', 'passwd'));
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

/** A server-sent event stream read raw: its events in order, and a way to wait for one. */
interface SseEvent {
  event: string;
  data: string;
  id?: string;
}
function openEvents(url: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(url);
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  let status = 0;
  const req = request({ hostname, port, path, headers });
  const ready = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: SseEvent = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            if (field === 'event') e.event = rest.join(': ');
            else if (field === 'data') e.data = rest.join(': ');
            else if (field === 'id') e.id = rest.join(': ');
          }
          if (block.includes('data: ')) events.push(e);
        }
        for (const w of waiters.splice(0)) w();
      });
      resolve(status);
    });
    req.on('error', reject);
  });
  req.end();
  /** Resolves once `count` events have come (or rejects after `ms`). */
  const until = (count: number, ms = 5000) =>
    new Promise<SseEvent[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} events after ${ms} ms: ${JSON.stringify(events)}`)), ms);
      const check = () => {
        if (events.length >= count) {
          clearTimeout(timer);
          resolve(events.slice());
        } else waiters.push(check);
      };
      check();
    });
  return { events, ready, until, close: () => req.destroy() };
}

const records = (events: SseEvent[]) => events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data));
const line = (record: object) => `${JSON.stringify(record)}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The folder watchers (FSEventWrap) and the timers the process holds. */
const held = (kind: 'FSEventWrap' | 'Timeout') => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe('the runs dashboard API', () => {
  let server: RunningServer;
  let runs: string;
  const start = { type: 'start', time: 1, config: { model: 'mlp', dataset: 'mnist', epochs: 2, stepsPerEpoch: 4 } };
  const batch = (step: number) => ({ type: 'batch', time: step, epoch: 0, batch: step - 1, step, logs: { loss: 1 / step, accuracy: step / 10 } });
  before(async () => {
    runs = mkdtempSync(join(tmpdir(), 'strata-dashboard-'));
    server = await startServer({ port: 0, runs });
  });
  after(async () => {
    await server.close();
    rmSync(runs, { recursive: true, force: true });
  });
  const run = (name: string, files: Record<string, string>) => {
    mkdirSync(join(runs, name), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(runs, name, file), text);
    return join(runs, name);
  };

  test('the listing gives each run its settings and status: training, finished, stopped', async () => {
    run('live', { 'live.jsonl': line(start) + line(batch(1)) });
    run('done', { 'live.jsonl': line(start) + line({ type: 'end', time: 2, status: 'finished' }) });
    const old = run('dead', { 'live.jsonl': line(start) });
    utimesSync(join(old, 'live.jsonl'), new Date(Date.now() - 600_000), new Date(Date.now() - 600_000));
    run('legacy', {
      'history.json': JSON.stringify({ options: { model: 'convnet', batchSize: 10, validationSplit: 0.5 }, epoch: [0], history: { loss: [0.5] } }),
      'classes.json': JSON.stringify({ dataset: 'mnist', classNames: ['a', 'b'], split: { test: 't', trainSamples: 40, testSamples: 9 } }),
    });
    const list = JSON.parse((await rawGet(server.url, '/api/runs')).body.toString()) as { name: string; status: string; config: object }[];
    const byName = Object.fromEntries(list.map((r) => [r.name, r]));
    assert.equal(byName.live.status, 'training');
    assert.deepEqual(byName.live.config, start.config);
    assert.equal(byName.done.status, 'finished');
    assert.equal(byName.dead.status, 'stopped');
    assert.equal(byName.legacy.status, 'finished');
    assert.deepEqual(byName.legacy.config, {
      model: 'convnet',
      batchSize: 10,
      validationSplit: 0.5,
      dataset: 'mnist',
      classes: 2,
      trainSamples: 20,
      validationSamples: 20,
      stepsPerEpoch: 2,
      testSamples: 9,
    });
  });

  test('a run stream replays the log, then sends each line appended, never a partial one, and resumes from Last-Event-ID', async () => {
    const dir = run('growing', { 'live.jsonl': line(start) + line(batch(1)) });
    const file = join(dir, 'live.jsonl');
    const s = openEvents(server.url, '/api/runs/growing/events');
    assert.equal(await s.ready, 200);
    let events = await s.until(4);
    assert.deepEqual(
      events.map((e) => e.event),
      ['reset', 'message', 'message', 'caught-up'],
    );
    assert.deepEqual(records(events), [start, batch(1)]);
    appendFileSync(file, line(batch(2)));
    events = await s.until(5);
    assert.deepEqual(records(events).at(-1), batch(2));
    // Half a line is not a record: nothing comes until its end is written.
    const third = line(batch(3));
    appendFileSync(file, third.slice(0, 20));
    await sleep(400);
    assert.equal(s.events.length, 5);
    appendFileSync(file, third.slice(20));
    events = await s.until(6);
    assert.deepEqual(records(events).at(-1), batch(3));
    s.close();
    // An EventSource reconnecting sends the id of the last event it had: the stream goes on from there, without a reset.
    const again = openEvents(server.url, '/api/runs/growing/events', { 'Last-Event-ID': events[2].id! });
    const resumed = await again.until(3);
    assert.deepEqual(
      resumed.map((e) => e.event),
      ['message', 'message', 'caught-up'],
    );
    assert.deepEqual(records(resumed), [batch(2), batch(3)]);
    again.close();
  });

  test('lines that are not records are skipped: too long, not JSON, wrong types', async () => {
    const junk = [`{"type":"batch","time":1,"logs":{"x":"${'a'.repeat(100_000)}"}}\n`, 'not json\n', line({ ...batch(1), epoch: '0' }), '[1]\n'];
    run('junk', { 'live.jsonl': junk.join('') + line(batch(2)) });
    const s = openEvents(server.url, '/api/runs/junk/events');
    const events = await s.until(3);
    assert.deepEqual(records(events), [batch(2)]);
    s.close();
  });

  test('a run without a live log gets records made from its history.json', async () => {
    run('old', {
      'history.json': JSON.stringify({
        options: { batchSize: 5 },
        epochSeconds: [1.5, 2],
        epoch: [0, 1],
        history: { loss: [0.9, 0.4], val_loss: [1, null] },
        test: { accuracy: 0.8 },
      }),
      'classes.json': JSON.stringify({ classNames: ['a'], split: { test: 't', trainSamples: 10, testSamples: 2 } }),
    });
    const s = openEvents(server.url, '/api/runs/old/events');
    const got = records(await s.until(7)).map(({ time: _t, config: _c, ...r }) => r);
    assert.deepEqual(got, [
      { type: 'start' },
      { type: 'epoch', epoch: 0, step: 2, seconds: 1.5, logs: { loss: 0.9, val_loss: 1 } },
      { type: 'epoch', epoch: 1, step: 4, seconds: 2, logs: { loss: 0.4 } },
      { type: 'test', logs: { accuracy: 0.8 } },
      { type: 'end', status: 'finished' },
    ]);
    s.close();
  });

  test('the runs stream sends the listing again when a run appears', async () => {
    const s = openEvents(server.url, '/api/runs/events');
    const [first] = await s.until(1);
    assert.equal(
      JSON.parse(first.data).runs.some((r: { name: string }) => r.name === 'newcomer'),
      false,
    );
    run('newcomer', { 'live.jsonl': line(start) });
    const events = await s.until(2);
    const latest = JSON.parse(events.at(-1)!.data);
    assert.equal(latest.runs.find((r: { name: string }) => r.name === 'newcomer').status, 'training');
    s.close();
  });

  test('closed streams release their watchers and timers', async () => {
    await sleep(100); // the earlier tests' closed connections reach the server
    const streams = openStreamCount();
    const watching = held('FSEventWrap');
    const timers = held('Timeout');
    const open = ['growing', 'junk', 'old'].map((name) => openEvents(server.url, `/api/runs/${name}/events`));
    open.push(openEvents(server.url, '/api/runs/events'));
    await Promise.all(open.map((s) => s.until(1)));
    assert.equal(openStreamCount(), streams + 4);
    assert.equal(held('FSEventWrap'), watching + 4);
    assert.equal(held('Timeout'), timers + 4);
    for (const s of open) s.close();
    const deadline = Date.now() + 2000;
    while (openStreamCount() > streams && Date.now() < deadline) await sleep(20);
    assert.equal(openStreamCount(), streams);
    assert.equal(held('FSEventWrap'), watching);
    assert.equal(held('Timeout'), timers);
  });

  test('run names that leave the runs folder, or name no run, are refused', async () => {
    run('real', { 'live.jsonl': line(start) });
    writeFileSync(join(runs, 'file-not-run'), 'x');
    for (const path of [
      '/api/runs/..%2f..%2fetc/events',
      '/api/runs/%2e%2e/events',
      '/api/runs/%2e%2e%2f%2e%2e/events',
      '/api/runs/real%2f..%2f..%2f/events',
      '/api/runs/..%5creal/events',
      '/api/runs/real%00/events',
      '/api/runs/%ZZ/events',
      '/api/runs/missing/events',
      '/api/runs/file-not-run/events',
      '/api/runs/real/../../events',
    ]) {
      const r = await rawGet(server.url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(String(r.headers['content-type']), /event-stream/, path);
    }
  });
});
