// The entries of a zip archive (a Keras 3 `.keras` file), read from its central directory with
// every claim checked (Note [Trust no size] in core/limits.ts): offsets and compressed sizes must
// lie inside the archive, names must be plain relative paths (no '..', no leading '/', no drive),
// and a deflated entry is inflated in small steps against its declared size and the
// maxDecodedBytes read limit, so an entry that claims or expands to gigabytes stops at the limit
// instead of filling memory. fflate's own unzipSync grows its output past the declared size, so
// only its streaming inflater is used.

import { Inflate } from 'fflate';
import { FormatError } from '../../core/errors.js';
import { getReadLimits } from '../../core/limits.js';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Compressed bytes handed to the inflater at a time: deflate expands ~1000x at most, so one step yields a few MB at most. */
const STEP = 4096;

/** One entry of the central directory. */
interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** A name that stays inside the archive's folder (Keras writes `config.json`, `model.weights.h5`, `assets/...`). */
function checkName(file: string, name: string): void {
  const parts = name.split(/[\\/]/);
  if (name === '' || /^[\\/]|^[a-z]:/i.test(name) || parts.includes('..') || name.includes('\0')) {
    throw new FormatError(`${file}: the zip entry '${name.slice(0, 200)}' escapes the archive's folder (an absolute path or '..')`);
  }
}

/** The central directory's entries; the end record is searched for within the last 64 KiB + 22 bytes, as the format bounds its comment. */
function centralDirectory(file: string, bytes: Uint8Array): Entry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= 0 && i >= bytes.length - 22 - 0xffff; i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new FormatError(`${file}: not a zip archive, or a truncated one (no end-of-central-directory record)`);
  const count = view.getUint16(end + 10, true);
  const dirSize = view.getUint32(end + 12, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new FormatError(`${file}: zip64 archives are not supported`);
  if (at + dirSize > end)
    throw new FormatError(`${file}: the zip central directory (${dirSize} bytes at ${at}) lies outside the archive; truncated?`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL) throw new FormatError(`${file}: zip central directory entry ${i} is damaged`);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (at + 46 + skip > end) throw new FormatError(`${file}: zip central directory entry ${i} runs past the directory`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    checkName(file, name);
    entries.push({
      name,
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + skip;
  }
  return entries;
}

/** Inflates `data`, which must expand to exactly `size` bytes; stops as soon as it would exceed them. */
function inflateBounded(file: string, name: string, data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let written = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    if (written + chunk.length > size) throw new FormatError(`${file}: the zip entry '${name}' inflates past the ${size} bytes it declares`);
    out.set(chunk, written);
    written += chunk.length;
    done ||= final;
  });
  try {
    for (let i = 0; i < data.length && !done; i += STEP) inflater.push(data.subarray(i, i + STEP), i + STEP >= data.length);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`${file}: the zip entry '${name}' is not valid deflate data (${(e as Error).message})`);
  }
  if (written !== size) throw new FormatError(`${file}: the zip entry '${name}' inflates to ${written} bytes; it declares ${size}`);
  return out;
}

/**
 * Reads the entries named in `wanted` (others are listed but not inflated). Stored and deflated
 * entries are supported; a missing wanted entry is simply absent from the result.
 * @throws FormatError naming `file` for a damaged or truncated archive, an escaping name, a size
 *   past the maxDecodedBytes read limit, or an entry that inflates to more than it declares.
 */
export function readZip(file: string, bytes: Uint8Array, wanted: readonly string[]): { names: string[]; entries: Map<string, Uint8Array> } {
  const directory = centralDirectory(file, bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = getReadLimits().maxDecodedBytes;
  const entries = new Map<string, Uint8Array>();
  for (const e of directory) {
    if (!wanted.includes(e.name)) continue;
    const at = e.localOffset;
    if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL) throw new FormatError(`${file}: the zip entry '${e.name}' has no local header`);
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    if (start + e.compressedSize > bytes.length) {
      throw new FormatError(
        `${file}: the zip entry '${e.name}' needs ${e.compressedSize} bytes at ${start}; the archive has ${bytes.length} (truncated?)`,
      );
    }
    const data = bytes.subarray(start, start + e.compressedSize);
    if (e.method === 0) {
      if (e.size !== e.compressedSize) throw new FormatError(`${file}: the stored zip entry '${e.name}' declares two different sizes`);
      entries.set(e.name, data.slice());
    } else if (e.method === 8) {
      if (e.size > limit) {
        throw new FormatError(
          `${file}: the zip entry '${e.name}' declares ${e.size} bytes uncompressed, past the maxDecodedBytes read limit of ${limit} (st.setReadLimits)`,
        );
      }
      entries.set(e.name, inflateBounded(file, e.name, data, e.size));
    } else {
      throw new FormatError(`${file}: the zip entry '${e.name}' uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
    }
  }
  return { names: directory.map((e) => e.name), entries };
}
