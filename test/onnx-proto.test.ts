// src/interop/onnx/proto/*.gen.ts are what scripts/make-onnx-proto.mjs generates from
// onnx-schema.json, and the importer's messages come from it, never from protobufjs's reflection
// (which compiles code at run time: test/browser-csp.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../', import.meta.url).pathname;

describe('the generated ONNX message code', () => {
  it('is what the schema gives', () => {
    execFileSync(process.execPath, [`${root}scripts/make-onnx-proto.mjs`, '--check'], { stdio: 'pipe' });
  });

  it('is the only protobuf code the library imports, and it needs protobufjs/minimal alone', () => {
    const folder = `${root}src/interop/onnx/proto/`;
    const files = readdirSync(folder).filter((f) => f.endsWith('.gen.ts'));
    assert.ok(files.length >= 5, files.join(', '));
    for (const f of files) {
      const generated = readFileSync(folder + f, 'utf8');
      assert.match(generated, /from ["']protobufjs\/minimal\.js["']/, f);
      assert.doesNotMatch(generated, /new Function|\beval\(/, f);
    }
    const schema = readFileSync(`${root}src/interop/onnx/schema.ts`, 'utf8');
    assert.doesNotMatch(schema, /from 'protobufjs'/);
  });
});
