// Models over HTTP, as tfjs's `tf.io.http` does it:
// - `st.loadModel('https://host/models/mnist/model.json')` fetches model.json, then the data files
//   its records name, from the same folder of the server. A URL that does not end in .json is
//   taken as the folder ('https://host/models/mnist' reads .../mnist/model.json), so a folder a
//   Node save wrote, served as it is, loads by the URL of the folder, as it loads by its path in
//   Node. In a page, a URL without a scheme ('models/mnist/model.json', '/models/x') is resolved
//   against the page, since a page has no file system for plain paths to mean (tfjs, too, falls
//   back to fetching a string no other store claims).
// - `model.save('https://host/upload')` POSTs the files as multipart/form-data, one part per file
//   under its name (model.json, weights.safetensors, optimizer.safetensors), for a server to store.
// `st.browser.http(url, {requestInit})` is the same store with fetch options of the caller's
// (headers, credentials), passed to loadModel or save as a store object.
// Everything used here (fetch, URL, Blob, FormData) is in Node 20 too, so the unit tests run it
// against a local server.

import { FormatError, StrataError, ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { verifyRecord, type FileRecord } from '../io/file-record.js';
import { MODEL_FILE, V1_FILES, isUnrecorded, parseManifest } from '../models/manifest.js';
import { fileRecords, manifestText, type EncodedModel } from '../models/model-encode.js';
import type { ModelStore, StoredModel } from '../models/model-stores.js';
import { pageDocument } from './dom.js';

/** What a relative URL is resolved against: the page (its <base> if it has one), or a worker's script. */
function baseUrl(): string | undefined {
  return pageDocument()?.baseURI ?? (globalThis as { location?: { href?: string } }).location?.href;
}

/** The absolute URL of model.json for `location` (a model.json URL, or its folder's). */
export function modelJsonUrl(location: string): URL {
  let url: URL;
  try {
    url = new URL(location, baseUrl());
  } catch {
    throw new ValueError(
      `loadModel: ${JSON.stringify(location)} is not a URL${baseUrl() ? '' : ' (a relative URL needs a page to resolve it against)'}; expected e.g. 'https://host/models/mnist/model.json'`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValueError(`loadModel: ${JSON.stringify(location)} resolves to ${url.href}, which is not an http(s) URL`);
  if (!url.pathname.toLowerCase().endsWith('.json')) url.pathname = `${url.pathname.replace(/\/$/, '')}/${MODEL_FILE}`;
  return url;
}

/** '404 Not Found', or '404' where the answer has no reason phrase (HTTP/2). */
const statusOf = (r: Response): string => `${r.status}${r.statusText ? ` ${r.statusText}` : ''}`;

async function fetchOrFail(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    // The caller's own signal cancelled the request: theirs to handle, not a broken file.
    if ((e as Error).name === 'AbortError') throw e;
    // fetch rejects (a TypeError) only when no answer came: no server, no network, a CORS refusal.
    // A page is told nothing more (by design), so the likely causes are named for it.
    const cause = (e as Error).cause as Error | undefined;
    const hint = pageDocument() ? '; the server is down or unreachable, or does not let this page read it (CORS)' : '';
    throw new FormatError(`${url}: cannot fetch the file (${(e as Error).message}${cause?.message ? `: ${cause.message}` : ''})${hint}`);
  }
}

/** A data file's bytes from `url`, checked against the record `manifestUrl` holds of it. */
async function fetchData(url: string, record: FileRecord, manifestUrl: string, init?: RequestInit): Promise<Uint8Array> {
  const response = await fetchOrFail(url, init);
  if (!response.ok) throw new FormatError(`${url}: the server answered ${statusOf(response)} (the file is listed in ${manifestUrl})`);
  if (isUnrecorded(record)) return new Uint8Array(await response.arrayBuffer());
  // Size first, as the other stores do, when the header tells it: a file of the wrong size is
  // refused before it is downloaded. A compressed transfer's length is not the file's.
  const length = response.headers.get('content-length');
  if (length !== null && !response.headers.get('content-encoding') && Number(length) !== record.bytes) {
    await response.body?.cancel();
    throw new FormatError(
      `${url}: holds ${length} bytes; ${manifestUrl} recorded ${record.bytes}. The file was changed or cut short after the save; save the model again`,
    );
  }
  return verifyRecord(new Uint8Array(await response.arrayBuffer()), record, url, manifestUrl);
}

async function load(location: string, wantOptimizer: boolean, init?: RequestInit): Promise<StoredModel> {
  const url = modelJsonUrl(location).href;
  const response = await fetchOrFail(url, init);
  if (!response.ok) throw new FormatError(`${url}: the server answered ${statusOf(response)}`);
  const manifest = parseManifest(url, new Uint8Array(await response.arrayBuffer()));
  // Records hold plain file names (parseManifest refuses paths), so these stay in model.json's folder.
  const fileUrl = (record: FileRecord) => new URL(record.path, url).href;
  const weightsUrl = fileUrl(manifest.files.weights);
  const optimizerUrl = manifest.files.optimizer ? fileUrl(manifest.files.optimizer) : new URL(V1_FILES.optimizer, url).href;
  const [weights, optimizer] = await Promise.all([
    fetchData(weightsUrl, manifest.files.weights, url, init),
    wantOptimizer && manifest.files.optimizer ? fetchData(optimizerUrl, manifest.files.optimizer, url, init) : null,
  ]);
  return { manifest, weights, optimizer, names: { model: url, weights: weightsUrl, optimizer: optimizerUrl } };
}

/**
 * POSTs the files as multipart/form-data. The server's answer decides: anything but a 2xx status is
 * an error (nothing can be known of what the server kept then).
 */
async function save(location: string, model: EncodedModel, init?: RequestInit): Promise<void> {
  const files = await fileRecords(model);
  const form = new FormData();
  form.append(MODEL_FILE, new Blob([manifestText(model.manifest, files)], { type: 'application/json' }), MODEL_FILE);
  form.append(files.weights.path, new Blob([model.weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), files.weights.path);
  if (model.optimizer && files.optimizer) {
    form.append(
      files.optimizer.path,
      new Blob([model.optimizer as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
      files.optimizer.path,
    );
  }
  const url = new URL(location, baseUrl()).href;
  let response: Response;
  try {
    response = await fetch(url, { ...init, method: 'POST', body: form });
  } catch (e) {
    throw new StrataError(`save: cannot POST the model to ${url} (${(e as Error).message}); nothing was saved`);
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).slice(0, 200);
    throw new StrataError(`save: ${url} answered ${statusOf(response)}${text ? `: ${text}` : ''}; the server did not take the model`);
  }
}

/** http:// and https://: load by GET, save by multipart POST (registered by src/web/install.ts). */
export const httpStore: ModelStore = { save: (location, model) => save(location, model), load: (location, want) => load(location, want) };

/** URLs without a scheme in a page: load only, resolved against the page (a relative save is refused). */
export const relativeUrlStore: ModelStore = { load: (location, want) => load(location, want) };

/** Options of {@link http}. */
export interface HttpOptions {
  /**
   * fetch's options for every request (tfjs's `requestInit`): headers such as Authorization,
   * `credentials: 'include'` for cookies on another origin, a `signal` to cancel. A save always
   * POSTs, whatever `method` says.
   */
  requestInit?: RequestInit;
}

/**
 * A model at an http(s) URL with fetch options of the caller's (tfjs's `tf.io.http`), for
 * `st.loadModel(st.browser.http(url, options))` and `model.save(st.browser.http(url, options))`.
 * Plain URL strings need no options: `st.loadModel('https://host/models/mnist/model.json')`.
 * Loading fetches model.json (or the folder's model.json when the URL does not end in .json) and
 * the data files it lists beside it, checking each against its record; saving POSTs the files as
 * multipart/form-data, one part per file under its name.
 * @example
 * ```ts
 * const store = st.browser.http('https://host/models/mnist', { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
 * const model = await st.loadModel(store);
 * ```
 */
export function http(url: string, options: HttpOptions = {}): ModelStore {
  if (typeof url !== 'string' || url === '') throw new ValueError(`http: expected a URL; received ${JSON.stringify(url) ?? String(url)}`);
  checkKeys('http', options, ['requestInit']);
  const init = options.requestInit;
  // loadModel and save pass '' as the location of a store object: the URL is the one given here.
  return { load: (_, want) => load(url, want, init), save: (_, model) => save(url, model, init) };
}
