// Where models are saved and loaded from, by the scheme of the location: a folder in Node
// ('runs/mnist' or 'file://runs/mnist'), and in a page 'indexeddb://name', 'downloads://name',
// 'http(s)://.../model.json' (tfjs's URL schemes). Each entry point registers the stores its
// platform has (Note [Platforms] in core/platform.ts); every store writes and reads the same files
// (model.json, weights and optimizer safetensors), encoded and decoded in one place
// (model-encode.ts, model-decode.ts).

import { ValueError } from '../core/errors.js';
import type { Manifest } from './manifest.js';
import type { EncodedModel } from './model-encode.js';

/** A model's files as a store read them, with the names its errors should use. */
export interface StoredModel {
  /** model.json, parsed and checked (parseManifest). */
  manifest: Manifest;
  /** The weights file's bytes, verified against model.json's record. */
  weights: Uint8Array;
  /** The optimizer state file's bytes, or null when not asked for or not saved. */
  optimizer: Uint8Array | null;
  /** How errors name model.json and the data files ('runs/mnist/model.json', 'indexeddb://m/model.json'). */
  names: {
    /** model.json. */
    model: string;
    /** The weights file. */
    weights: string;
    /** The optimizer state file. */
    optimizer: string;
  };
}

/**
 * A place models are saved to and loaded from (tfjs's IOHandler). `save` receives the encoded
 * model and must leave the old model or the new one whole if it fails; `load` returns the files
 * after checking each one against the record model.json holds.
 */
export interface ModelStore {
  /** Stores `model` at `location` (the string given to model.save; '' for a store object passed directly). */
  save?(location: string, model: EncodedModel): Promise<void>;
  /** Reads the model at `location`, the optimizer state only when `wantOptimizer`. */
  load?(location: string, wantOptimizer: boolean): Promise<StoredModel>;
}

const stores = new Map<string, ModelStore>();
let pathStore: ModelStore | undefined;

/**
 * Registers the store for locations that start with `scheme://` ('indexeddb', 'http', ...), or,
 * for the scheme '' (Node's file store), for plain paths without a scheme.
 */
export function registerModelStore(scheme: string, store: ModelStore): void {
  if (scheme === '') pathStore = store;
  else stores.set(scheme.toLowerCase(), store);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The store for `location` and the location as it should be passed on. */
export function storeFor(op: string, location: string, use: 'save' | 'load'): ModelStore {
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  const store = scheme === undefined ? pathStore : stores.get(scheme);
  if (!store?.[use]) {
    const known = [...stores.entries()].filter(([, s]) => s[use]).map(([k]) => `${k}://`);
    if (pathStore?.[use]) known.unshift('a folder path');
    const what = scheme === undefined ? 'a path without a scheme' : `'${scheme}://'`;
    throw new ValueError(
      `${op}: cannot ${use} at ${JSON.stringify(location)}: ${what} is not a place models ${use === 'save' ? 'are saved to' : 'load from'} here; expected ${known.join(', ') || 'none (no store is registered)'}`,
    );
  }
  return store;
}
