// Node-only: the HDF5 reader of st.keras.load, through h5wasm (the HDF5 C library compiled to
// WebAssembly, wasm embedded in the package, so it works offline). The package (4 MB of
// JavaScript) is imported on first use, not when Strata loads. Bytes are written to h5wasm's
// in-memory file system under a fresh name and removed when the file is closed; that file system
// is not the disk, so an external link in a hostile file cannot make HDF5 open a file of ours.

import { FormatError } from '../core/errors.js';
import type { H5Dataset, H5Group, Hdf5Opener } from '../interop/keras/hdf5.js';

type H5wasm = typeof import('h5wasm').default;
type Entity = ReturnType<InstanceType<H5wasm['File']>['get']>;

type Fs = Awaited<H5wasm['ready']>['FS'];
let module: Promise<{ h5: H5wasm; fs: Fs }> | undefined;
let counter = 0;

function load() {
  module ??= import('h5wasm').then(async ({ default: h5 }) => ({ h5, fs: (await h5.ready).FS }));
  return module;
}

/** Byte strings (Keras 2 writes names as numpy bytes) decoded to strings, lists included. */
function decode(v: unknown): unknown {
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v)) return v.map(decode);
  return v;
}

/** h5wasm's dtype metadata as a name: float types are type 1 (H5T_FLOAT), integers type 0. */
function dtypeName(d: { metadata: { type: number; size: number; signed?: boolean; vlen?: boolean } }): string {
  const m = d.metadata;
  if (m.vlen) return 'variable-length';
  if (m.type === 1) return m.size === 8 ? 'float64' : m.size === 4 ? 'float32' : m.size === 2 ? 'float16' : `float${m.size * 8}`;
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${m.size * 8}`;
  return `HDF5 class ${m.type}`;
}

function wrap(h5: H5wasm, entity: Entity): H5Group | H5Dataset | undefined {
  if (entity instanceof h5.Dataset) {
    const d = entity;
    return {
      kind: 'dataset',
      shape: d.shape ?? [],
      dtype: dtypeName(d),
      read: () => {
        const v = d.value;
        if (typeof v === 'number') return Float32Array.of(v);
        if (v instanceof Float32Array) return v;
        if (v instanceof Float64Array || v instanceof Uint16Array) return Float32Array.from(v as ArrayLike<number>);
        throw new FormatError(`the HDF5 dataset '${d.path}' did not read as numbers`);
      },
    };
  }
  if (entity instanceof h5.Group) return group(h5, entity);
  return undefined;
}

function group(h5: H5wasm, g: InstanceType<H5wasm['Group']>): H5Group {
  return {
    kind: 'group',
    keys: () => g.keys(),
    get: (path) => wrap(h5, g.get(path)),
    attr: (name) => (Object.hasOwn(g.attrs, name) ? decode(g.attrs[name].value) : undefined),
  };
}

/** Opens HDF5 bytes with h5wasm; any failure of the library is a FormatError naming the file. */
export const openHdf5: Hdf5Opener = async (bytes, file) => {
  const { h5, fs } = await load();
  const path = `/strata-keras-${++counter}.h5`;
  fs.writeFile(path, bytes);
  let f: InstanceType<H5wasm['File']>;
  try {
    f = new h5.File(path, 'r');
  } catch (e) {
    fs.unlink(path);
    throw new FormatError(`${file}: HDF5 cannot open the file (${String((e as Error)?.message ?? e).slice(0, 200)})`);
  }
  // Errors of later reads (a damaged group or dataset) are turned into FormatErrors by the importer.
  return {
    ...group(h5, f),
    close: () => {
      try {
        f.close();
      } finally {
        fs.unlink(path);
      }
    },
  };
};
