// The little of HDF5 the Keras importer reads, as an interface a platform implements (Node: the
// h5wasm WebAssembly build of the HDF5 library, src/node/keras-hdf5.ts), plus the checks made on
// the bytes before the library sees them: the superblock's end-of-file address must match the
// byte count, so a truncated file is a clear FormatError rather than a library error (and HDF5's
// diagnostics on stderr), and a dataset may not claim more bytes than the whole file holds.

import { FormatError, fmtShape } from '../../core/errors.js';

/** A dataset: its shape and element type as the file declares them, read on demand. */
export interface H5Dataset {
  readonly kind: 'dataset';
  /** The declared shape ([] for a scalar). */
  readonly shape: number[];
  /** 'float32', 'float64', 'int32', ... or a description of a type the importer does not read. */
  readonly dtype: string;
  /** The values, converted to float32. Only called after the shape has been checked. */
  read(): Float32Array;
}

/** A group: its members and attributes (strings, lists of strings, numbers). */
export interface H5Group {
  readonly kind: 'group';
  /** Member names, in the file's order. */
  keys(): string[];
  /** The member at a '/'-separated path below this group, or undefined. */
  get(path: string): H5Group | H5Dataset | undefined;
  /** An attribute's value (byte strings decoded as UTF-8), or undefined when absent. */
  attr(name: string): unknown;
}

/** An open file: its root group, closed once read. */
export interface H5File extends H5Group {
  close(): void;
}

/** Opens HDF5 bytes; `file` names them in errors. */
export type Hdf5Opener = (bytes: Uint8Array, file: string) => Promise<H5File>;

/** HDF5's signature, at offset 0 or at 512, 1024, 2048, ... after a user block. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `bytes` start like an HDF5 file (the signature at offset 0). */
export const isHdf5 = (bytes: Uint8Array): boolean => SIGNATURE.every((b, i) => bytes[i] === b);

/**
 * Checks the superblock's end-of-file address against the byte count (the HDF5 specification's
 * superblock layouts: versions 0 and 1 keep it after the base and free-space addresses, at 24 or
 * 28 + 2 offsets; versions 2 and 3 after the base and extension addresses, at 12 + 2 offsets).
 */
export function checkHdf5Bytes(file: string, bytes: Uint8Array): void {
  let base = -1;
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) {
      base = at;
      break;
    }
  }
  if (base < 0) throw new FormatError(`${file}: not an HDF5 file (no HDF5 signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[base + 8];
  const offsetSize = version <= 1 ? bytes[base + 13] : bytes[base + 9];
  if (version === undefined || version > 3 || offsetSize !== 8) {
    throw new FormatError(`${file}: an HDF5 superblock of version ${version} with ${offsetSize}-byte addresses is not supported (truncated?)`);
  }
  const eofAt = base + (version === 0 ? 24 : version === 1 ? 28 : 12) + 2 * offsetSize;
  if (eofAt + 8 > bytes.length) throw new FormatError(`${file}: the HDF5 file is truncated inside its superblock`);
  const eof = Number(view.getBigUint64(eofAt, true)) + base;
  if (eof > bytes.length)
    throw new FormatError(`${file}: the HDF5 file is truncated: its superblock says ${eof} bytes, the file has ${bytes.length}`);
}

/**
 * A float dataset's values, after checking its type and that its declared size fits in the file
 * (Keras writes weights uncompressed, so a larger claim can only be a corrupt or hostile file).
 */
export function readFloats(file: string, where: string, d: H5Dataset, fileBytes: number): Float32Array {
  if (d.dtype !== 'float32' && d.dtype !== 'float64' && d.dtype !== 'float16') {
    throw new FormatError(`${file}: the weight '${where}' has element type ${d.dtype}; expected floats`);
  }
  const count = d.shape.reduce((n, s) => n * s, 1);
  const width = d.dtype === 'float64' ? 8 : d.dtype === 'float16' ? 2 : 4;
  if (!d.shape.every((s) => Number.isSafeInteger(s) && s >= 0) || count * width > fileBytes) {
    throw new FormatError(`${file}: the weight '${where}' declares shape ${fmtShape(d.shape)}, more data than the whole file holds`);
  }
  const values = d.read();
  if (values.length !== count) throw new FormatError(`${file}: the weight '${where}' holds ${values.length} values; its shape says ${count}`);
  return values;
}
