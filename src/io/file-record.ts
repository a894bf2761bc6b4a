// What model.json records of each data file (Note [Atomic model saves] in node/file-store.ts),
// and the check that bytes read back are the ones written. Portable: SHA-256 comes from
// WebCrypto, which Node and pages both have; the Node file store computes it with node:crypto
// while it writes.

import { FormatError } from '../core/errors.js';

/** A data file of a saved model: its name beside model.json, its size and its SHA-256 in hex. */
export interface FileRecord {
  /** The file's name beside model.json. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Its SHA-256, lowercase hex. */
  sha256: string;
}

/** The SHA-256 of `bytes` in lowercase hex (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The record of `bytes` stored under `path`. */
export async function recordOf(path: string, bytes: Uint8Array): Promise<FileRecord> {
  return { path, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
}

/**
 * Proves that `bytes`, read from `where`, are the file `record` describes (size, then SHA-256).
 * @throws FormatError naming the file and the manifest that recorded it.
 */
export async function verifyRecord(bytes: Uint8Array, record: FileRecord, where: string, manifestFile: string): Promise<Uint8Array> {
  if (bytes.byteLength !== record.bytes) {
    throw new FormatError(
      `${where}: holds ${bytes.byteLength} bytes; ${manifestFile} recorded ${record.bytes}. The file was changed or cut short after the save; save the model again`,
    );
  }
  if ((await sha256Hex(bytes)) !== record.sha256) {
    throw new FormatError(
      `${where}: its SHA-256 checksum differs from the one ${manifestFile} recorded: the file is corrupt or belongs to another save; save the model again`,
    );
  }
  return bytes;
}
