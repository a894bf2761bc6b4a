// Node-only (kept out of helpers.ts, which the browser tests bundle into a page): a full V8
// collection, for tests that check what is freed once storage's last tensor is found dead.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full V8 collection (the flag is turned on here; a fresh context hands out the function). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
