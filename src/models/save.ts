import { ValueError } from '../core/errors.js';
import { encodeModel, type SavableModel, type SaveOptions } from './model-encode.js';
import { storeFor, type ModelStore } from './model-stores.js';

export type { SavableModel, SaveOptions };

/**
 * Saves `model` to `location` through the store its scheme names (model-stores.ts): a folder in
 * Node, indexeddb:// or downloads:// in a page, or a store object of the caller's.
 */
export async function saveModel(model: SavableModel, location: string | ModelStore, options: SaveOptions = {}): Promise<void> {
  const encoded = () => encodeModel(model, options);
  if (typeof location === 'object' && location !== null && typeof location.save === 'function') {
    return location.save('', await encoded());
  }
  if (typeof location !== 'string' || location === '')
    throw new ValueError(
      `${model.name}.save: expected a non-empty path or URL (or a store with a save method); received ${JSON.stringify(location) ?? String(location)}`,
    );
  const store = storeFor(`${model.name}.save`, location, 'save');
  return store.save!(location, await encoded());
}
