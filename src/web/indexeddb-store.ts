// Models saved in the page's IndexedDB: `model.save('indexeddb://name')` and
// `st.loadModel('indexeddb://name')`, tfjs's scheme. The files are the ones a folder holds in Node
// (model.json with its file records, weights and optimizer safetensors), so a model read back
// here is checked the same way (verifyRecord) and could be downloaded and loaded in Node as is.
//
// Atomicity comes from IndexedDB itself, not from file names as in Node (Note [Atomic model
// saves]): all of a model's files are written by ONE readwrite transaction, and a transaction
// that fails, is aborted, or is cut off by a closed tab leaves nothing of itself behind. So a
// save leaves the old model or the new one whole. Two object stores, written together:
//   files  name -> {modelJson, weights, optimizer}  what a load reads
//   info   name -> {dateSaved, byte counts}         what listModels reads without touching weights
// Every step that is asynchronous for another reason (hashing with WebCrypto) happens before the
// transaction opens: an IndexedDB transaction commits by itself as soon as a task ends with no
// request pending, so awaiting anything else inside it would commit half a save.

import { FormatError, StrataError, ValueError } from '../core/errors.js';
import { verifyRecord } from '../io/file-record.js';
import { MODEL_FILE, V1_FILES, parseManifest } from '../models/manifest.js';
import { fileRecords, manifestText, type EncodedModel } from '../models/model-encode.js';
import type { ModelStore, StoredModel } from '../models/model-stores.js';
import { indexedDb, type IdbDatabase, type IdbRequest, type IdbTransaction } from './dom.js';

export const DATABASE = 'strata-models';
const VERSION = 1;
const FILES = 'files';
const INFO = 'info';
const SCHEME = 'indexeddb://';

/** What `st.browser.listModels()` tells of each model saved in IndexedDB (tfjs's ModelArtifactsInfo, in Strata's terms). */
export interface SavedModelInfo {
  /** When the save finished. */
  dateSaved: Date;
  /** The size of model.json, bytes. */
  modelBytes: number;
  /** The size of the weights file, bytes. */
  weightsBytes: number;
  /** The size of the optimizer state, bytes (0 when the model was not compiled). */
  optimizerBytes: number;
}

interface StoredFiles {
  modelJson: string;
  weights: ArrayBuffer;
  optimizer: ArrayBuffer | null;
}

/** The model's name in 'indexeddb://name'; any non-empty string, as in tfjs. */
function nameOf(op: string, location: string): string {
  const name = /^indexeddb:\/\//i.test(location) ? location.slice(SCHEME.length) : '';
  if (!name) throw new ValueError(`${op}: expected 'indexeddb://<name>' with a non-empty name; received ${JSON.stringify(location)}`);
  return name;
}

/** Opens the database, creating its object stores on first use. */
function openDatabase(op: string): Promise<IdbDatabase> {
  const factory = indexedDb();
  if (!factory) {
    return Promise.reject(
      new ValueError(
        `${op}: indexeddb:// needs IndexedDB, which is missing here (outside a page, or withheld by the browser, as in some private windows)`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const request = factory.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of [FILES, INFO]) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab opening a newer version waits for every connection to close: do not hold it up.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(idbError(op, `cannot open the database '${DATABASE}'`, request.error));
    // Another tab holds an older version open; open() proceeds once it closes, so only wait.
    request.onblocked = null;
  });
}

function idbError(op: string, what: string, cause: DOMException | null): StrataError {
  const detail = cause ? `${cause.name}: ${cause.message}` : 'no reason given';
  const hint =
    cause?.name === 'QuotaExceededError'
      ? '; the browser gives this site no more storage (free some, or remove models with st.browser.removeModel)'
      : '';
  return Object.assign(new StrataError(`${op}: IndexedDB ${what} (${detail})${hint}`), { cause });
}

/**
 * Runs `body` in one transaction on `stores` and resolves with the value `body` returns (read when
 * the transaction has completed, so requests made in it have their results), after closing the
 * database. Rejects when the transaction aborts: then none of its writes happened.
 */
async function transact<T>(op: string, what: string, mode: 'readonly' | 'readwrite', body: (tx: IdbTransaction) => () => T): Promise<T> {
  const db = await openDatabase(op);
  try {
    return await new Promise<T>((resolve, reject) => {
      // 'strict': complete only once the writes are on disk, as the Node store fsyncs.
      const tx = db.transaction([FILES, INFO], mode, { durability: 'strict' });
      let result: () => T;
      tx.oncomplete = () => {
        try {
          resolve(result());
        } catch (e) {
          reject(e);
        }
      };
      tx.onabort = () => reject(idbError(op, what, tx.error));
      tx.onerror = null; // the abort that follows an error reports it
      try {
        result = body(tx);
      } catch (e) {
        // A request refused as it is made (a DataCloneError, say) throws here instead of aborting.
        tx.abort();
        reject(e instanceof DOMException ? idbError(op, what, e) : e);
      }
    });
  } finally {
    db.close();
  }
}

/** A copy of exactly the view's bytes: storing a view would store its whole buffer. */
const ownBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.slice().buffer as ArrayBuffer);

async function save(location: string, model: EncodedModel): Promise<void> {
  const op = `save to ${location}`;
  const name = nameOf('save', location);
  const files = await fileRecords(model);
  const value: StoredFiles = {
    modelJson: manifestText(model.manifest, files),
    weights: ownBuffer(model.weights),
    optimizer: model.optimizer ? ownBuffer(model.optimizer) : null,
  };
  const info: SavedModelInfo = {
    dateSaved: new Date(),
    modelBytes: new TextEncoder().encode(value.modelJson).byteLength,
    weightsBytes: model.weights.byteLength,
    optimizerBytes: model.optimizer?.byteLength ?? 0,
  };
  await transact(op, `did not save the model; what was saved at ${location} before, if anything, is unchanged`, 'readwrite', (tx) => {
    tx.objectStore(FILES).put(value, name);
    tx.objectStore(INFO).put(info, name);
    return () => undefined;
  });
}

async function load(location: string, wantOptimizer: boolean): Promise<StoredModel> {
  const name = nameOf('loadModel', location);
  const stored = await transact('loadModel', `cannot read ${location}`, 'readonly', (tx) => {
    const request = tx.objectStore(FILES).get(name) as IdbRequest<StoredFiles | undefined>;
    return () => request.result;
  });
  if (!stored) {
    const saved = Object.keys(await listModels());
    throw new FormatError(
      `${location}: no model is saved under this name in this site's IndexedDB; ${saved.length ? `saved here: ${saved.join(', ')}` : 'none is saved here'}`,
    );
  }
  const names = { model: `${location}/${MODEL_FILE}`, weights: `${location}/${V1_FILES.weights}`, optimizer: `${location}/${V1_FILES.optimizer}` };
  const manifest = parseManifest(names.model, new TextEncoder().encode(stored.modelJson));
  // The records hold whatever names the save gave; the bytes are found by role, checked by record.
  const weights = await verifyRecord(new Uint8Array(stored.weights), manifest.files.weights, names.weights, names.model);
  let optimizer: Uint8Array | null = null;
  if (wantOptimizer && manifest.files.optimizer) {
    if (!stored.optimizer) throw new FormatError(`${names.optimizer}: missing; ${names.model} records one`);
    optimizer = await verifyRecord(new Uint8Array(stored.optimizer), manifest.files.optimizer, names.optimizer, names.model);
  }
  return { manifest, weights, optimizer, names };
}

/**
 * The models saved in this site's IndexedDB by `model.save('indexeddb://name')`, by URL
 * ('indexeddb://name'), with when each was saved and its sizes (tfjs's `tf.io.listModels()`).
 * Reads no weights.
 */
export async function listModels(): Promise<Record<string, SavedModelInfo>> {
  const [keys, infos] = await transact('listModels', 'cannot list the saved models', 'readonly', (tx) => {
    const store = tx.objectStore(INFO);
    const keys = store.getAllKeys();
    const values = store.getAll();
    // Both in key order, so they pair up.
    return () => [keys.result, values.result as SavedModelInfo[]] as const;
  });
  return Object.fromEntries(keys.map((k, i) => [`${SCHEME}${k}`, infos[i]]));
}

/**
 * Deletes the model saved at `url` ('indexeddb://name') and returns what listModels told of it
 * (tfjs's `tf.io.removeModel()`). Its files go in one transaction, so it is gone whole or kept whole.
 * @throws ValueError when no model is saved there, or the URL is not indexeddb://.
 */
export async function removeModel(url: string): Promise<SavedModelInfo> {
  if (typeof url !== 'string' || !/^indexeddb:\/\//i.test(url))
    throw new ValueError(`removeModel: expected 'indexeddb://<name>'; received ${JSON.stringify(url) ?? String(url)}`);
  const name = nameOf('removeModel', url);
  const info = await transact('removeModel', `did not remove ${url}`, 'readwrite', (tx) => {
    const request = tx.objectStore(INFO).get(name) as IdbRequest<SavedModelInfo | undefined>;
    // Deleting a key that is absent is no error; whether it was there is read from `info`.
    tx.objectStore(INFO).delete(name);
    tx.objectStore(FILES).delete(name);
    return () => request.result;
  });
  if (!info) throw new ValueError(`removeModel: no model is saved at ${url}`);
  return info;
}

/** The indexeddb:// store (registered by src/web/install.ts). */
export const indexedDbStore: ModelStore = { save, load };
