// Hostile safetensors files: the header's JSON is bounded before it is parsed, so nesting that
// would overflow the stack of whatever walks it is a FormatError naming the file, not a RangeError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../../src/index.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';

/** A safetensors file whose header is `json` and whose data section is empty. */
function withHeader(json: string): Uint8Array {
  const header = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + header.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  return bytes;
}

describe('safetensors headers', () => {
  const cases: [string, string][] = [
    ['an entry of 200,000 nested arrays', '{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}'],
    ['metadata of 100,000 nested objects', '{"__metadata__":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}'],
  ];
  for (const [what, json] of cases) {
    it(`${what}: a FormatError naming the file and the depth limit`, () => {
      assert.throws(
        () => decodeSafetensors(withHeader(json), 'deep.safetensors'),
        (e: Error) => {
          assert.ok(e instanceof st.FormatError, `${e.constructor.name}: ${e.message.slice(0, 200)}`);
          assert.match(e.message, /^deep\.safetensors: header line 1: .*limit of 128 levels \(maxJsonDepth\)/);
          return true;
        },
      );
    });
  }

  it('an ordinary header is three levels deep and passes under a limit of 3', () => {
    const previous = st.setReadLimits({ maxJsonDepth: 3 });
    try {
      const json = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
      const header = new TextEncoder().encode(json);
      const bytes = new Uint8Array(8 + header.length + 4);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
      bytes.set(header, 8);
      new DataView(bytes.buffer).setFloat32(8 + header.length, 1.5, true);
      assert.deepEqual(Array.from(decodeSafetensors(bytes, 'ok.safetensors').tensors.get('w')!.dataSync()), [1.5]);
    } finally {
      st.setReadLimits(previous);
    }
  });
});
