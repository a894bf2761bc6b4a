// `model.save('downloads://name')`: the browser downloads the model's files, tfjs's scheme. The
// files are the ones a folder holds in Node, named after the model so that several models can sit
// in one Downloads folder:
//   name.json                    model.json, its records naming the two files below
//   name.weights.safetensors     the weights
//   name.optimizer.safetensors   the optimizer state (compiled models only)
// They load back in a page with `st.loadModel(input.files)` (picked files are matched by the names
// the records hold, and the model file by its .json ending), and in Node from a folder holding
// them once name.json is called model.json; 'downloads://model' (or plain 'downloads://', tfjs's
// default name) gives model.json directly, so the folder loads as it is.
//
// A download is no transaction: the browser may ask the user, who may refuse some of the files.
// The records in name.json catch a set that does not belong together when it is loaded.

import { ValueError } from '../core/errors.js';
import { fileRecords, manifestText, type EncodedModel } from '../models/model-encode.js';
import type { ModelStore } from '../models/model-stores.js';
import { pageDocument } from './dom.js';

/** tfjs's name for 'downloads://' without one. */
const DEFAULT_NAME = 'model';

/**
 * The base name of the files. It must be a name model.json's records accept (manifest.ts: letters,
 * digits, '.', '_', '-', not starting with '.'), or the files would not load back.
 */
function baseName(location: string): string {
  const name = location.replace(/^downloads:\/\//i, '').replace(/\.json$/i, '') || DEFAULT_NAME;
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
    throw new ValueError(
      `save: cannot download to ${JSON.stringify(location)}: the name must be letters, digits, '.', '_' or '-' (not starting with '.'), as the file names in model.json are; e.g. 'downloads://my-model'`,
    );
  }
  return name;
}

/** The browser keeps reading a blob URL's data for a while after the click starts the download. */
const REVOKE_AFTER_MS = 10_000;

async function save(location: string, model: EncodedModel): Promise<void> {
  const name = baseName(location);
  const doc = pageDocument();
  if (!doc) throw new ValueError(`save: downloads:// needs a page (a document to click a download link in); received ${JSON.stringify(location)}`);
  const files = await fileRecords(model, { weights: `${name}.weights.safetensors`, optimizer: `${name}.optimizer.safetensors` });
  const downloads: [string, string | Uint8Array<ArrayBuffer>, string][] = [[`${name}.json`, manifestText(model.manifest, files), 'application/json']];
  downloads.push([files.weights.path, model.weights as Uint8Array<ArrayBuffer>, 'application/octet-stream']);
  if (model.optimizer && files.optimizer)
    downloads.push([files.optimizer.path, model.optimizer as Uint8Array<ArrayBuffer>, 'application/octet-stream']);
  for (const [fileName, data, type] of downloads) {
    const url = URL.createObjectURL(new Blob([data], { type }));
    const anchor = doc.createElement('a');
    anchor.href = url;
    anchor.download = fileName;
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}

/** The downloads:// store: save only (registered by src/web/install.ts). */
export const downloadsStore: ModelStore = { save };
