// The tfjs LayersModels that npm packages ship, as ModelArtifacts for the tfjs import tests.
// nsfwjs wraps each model.json and weight shard in a browserify module (the JSON as a JavaScript
// object literal, each shard as one base64 string); we read them as text and parse the data out,
// never importing or evaluating the module. @upscalerjs/default-model ships plain files.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');

/** tfjs's ModelArtifacts as the tests pass them (one flat weight list, one buffer). */
export interface Artifacts {
  modelTopology: Record<string, unknown>;
  weightSpecs: Record<string, unknown>[];
  weightData: ArrayBuffer;
}

/**
 * A JavaScript object literal as minifiers write it: unquoted keys, `!0`/`!1` for true/false,
 * numbers like `.5`, double-quoted strings. Parses only data; anything else is an error.
 */
class LiteralParser {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new Error(`object literal: expected ${what} at offset ${this.i}: ${JSON.stringify(this.s.slice(this.i, this.i + 40))}`);
  }

  /** Moves past `n` characters of a literal and returns its value. */
  skip<T>(n: number, v: T): T {
    this.i += n;
    return v;
  }

  value(): unknown {
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (this.s.startsWith('!0', this.i)) return this.skip(2, true);
    if (this.s.startsWith('!1', this.i)) return this.skip(2, false);
    for (const [word, v] of [
      ['null', null],
      ['true', true],
      ['false', false],
    ] as const) {
      if (this.s.startsWith(word, this.i)) return this.skip(word.length, v);
    }
    const m = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(this.s.slice(this.i, this.i + 40));
    if (!m) this.fail('a value');
    this.i += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(this.s.slice(this.i, this.i + 100_000));
    if (!m) this.fail('a string');
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  expect(c: string): void {
    if (this.s[this.i] !== c) this.fail(`'${c}'`);
    this.i++;
  }

  object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.expect('{');
    while (this.s[this.i] !== '}') {
      let key: string;
      if (this.s[this.i] === '"') key = this.string();
      else {
        const m = /^[A-Za-z_$][\w$]*/.exec(this.s.slice(this.i, this.i + 200));
        if (!m) this.fail('a key');
        key = m[0];
        this.i += key.length;
      }
      this.expect(':');
      out[key] = this.value();
      if (this.s[this.i] === ',') this.i++;
    }
    this.i++;
    return out;
  }

  array(): unknown[] {
    const out: unknown[] = [];
    this.expect('[');
    while (this.s[this.i] !== ']') {
      out.push(this.value());
      if (this.s[this.i] === ',') this.i++;
    }
    this.i++;
    return out;
  }
}

/** The object a browserify module assigns to `module.exports`, parsed as data. */
function moduleObject(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const at = text.search(/exports=\{/);
  if (at < 0) throw new Error(`${file}: no exported object literal`);
  const parser = new LiteralParser(text);
  parser.i = text.indexOf('{', at);
  return parser.object();
}

/** The base64 string a shard module exports, decoded. */
function moduleBytes(file: string): Uint8Array {
  const m = /exports="([A-Za-z0-9+/=]+)"/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: no exported base64 string`);
  return new Uint8Array(Buffer.from(m[1], 'base64'));
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out.buffer;
}

/** A plain model.json: its topology, the manifest and the shards it names. */
export interface ModelFiles {
  /** model.json's parsed contents. */
  json: Record<string, unknown>;
  /** Each shard's file name (as the manifest names it) and bytes. */
  shards: { path: string; bytes: Uint8Array }[];
}

/** One of nsfwjs's models ('mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3') as plain files. */
export function nsfwjsFiles(name: string): ModelFiles {
  const dir = join(root, 'nsfwjs', 'dist', 'models', name);
  const json = moduleObject(join(dir, 'model.min.js'));
  const manifest = json.weightsManifest as { paths: string[] }[];
  const shards = manifest.flatMap((g) => g.paths.map((path) => ({ path, bytes: moduleBytes(join(dir, `${path}.min.js`)) })));
  return { json, shards };
}

/** @upscalerjs/default-model's model.json and shard. */
export function upscalerFiles(): ModelFiles {
  const dir = join(root, '@upscalerjs', 'default-model', 'models');
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  const manifest = json.weightsManifest as { paths: string[] }[];
  const shards = manifest.flatMap((g) => g.paths.map((path) => ({ path, bytes: new Uint8Array(readFileSync(join(dir, path))) })));
  return { json, shards };
}

/** Plain files as tfjs's ModelArtifacts (the groups' specs in order, their shards concatenated). */
export function toArtifacts(files: ModelFiles): Artifacts {
  const manifest = files.json.weightsManifest as { weights: Record<string, unknown>[] }[];
  return {
    modelTopology: files.json.modelTopology as Record<string, unknown>,
    weightSpecs: manifest.flatMap((g) => g.weights),
    weightData: concat(files.shards.map((s) => s.bytes)),
  };
}
