import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { WasmCollector } from './index.js';

/**
 * The wasm backend's synchronous collection hook for Node (only the Node entry imports this
 * file; Note [Freeing dead storage synchronously] in index.ts): V8's gc and a FinalizationRegistry
 * with cleanupSome(), both taken from a fresh context after turning on the flags that provide
 * them (a context made before the flags has neither). Undefined where V8 refuses.
 */
export function nodeCollector(): WasmCollector | undefined {
  try {
    setFlagsFromString('--expose-gc');
    setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
    const { gc, Registry } = runInNewContext('({ gc: typeof gc === "function" ? gc : null, Registry: FinalizationRegistry })') as {
      gc: (() => void) | null;
      Registry: FinalizationRegistryConstructor;
    };
    if (!gc || typeof (Registry.prototype as { cleanupSome?: unknown }).cleanupSome !== 'function') return undefined;
    return { collect: () => gc(), Registry };
  } catch {
    return undefined;
  }
}
