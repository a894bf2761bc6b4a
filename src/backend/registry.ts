import { ValueError, fmtValue } from '../core/errors.js';
import { platform } from '../core/platform.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';

// Backends register a factory with a priority; the highest-priority backend that loads is the
// default. A factory that throws marks its backend unavailable, and the reason is kept so
// `st.backends()` can say why (a missing native build, say) instead of failing later.

interface Entry {
  name: string;
  priority: number;
  factory?: () => Backend;
  /** How an asynchronous backend opens (a GPU's adapter and device are found asynchronously). */
  open?: () => Promise<Backend>;
  opening?: Promise<void>;
  instance?: Backend;
  reason?: string;
}

// Note [Backends that open asynchronously]
// A WebGPU backend cannot be made synchronously: finding the adapter and the device are promises.
// Such a backend is registered with `registerAsyncBackend` and opened by `await st.setBackend(name)`
// or `await st.ready()`; until then st.backends() lists it as not opened yet (with how to open it),
// and the default backend is never one that has to be awaited.

/** One registered backend as `st.backends()` reports it. */
export interface BackendStatus {
  /** The name `st.setBackend` takes. */
  name: string;
  /** Whether it loaded (the native one needs its addon, built against oneDNN at install). */
  available: boolean;
  /** Whether new tensors are created on it. */
  active: boolean;
  /** The default is the available backend of highest priority (native 10, wasm 5, reference 0); webgpu (1) is only used when set. */
  priority: number;
  /** Why it is unavailable: the load error's message. */
  reason?: string;
  /** How it runs, when the backend says (the wasm backend: `'simd, 2 threads'`). */
  detail?: string;
}

const entries = new Map<string, Entry>();
let active: Backend | undefined;
let numThreads: number | undefined;

/**
 * Registers a backend under `name`. The factory runs on first use; if it throws, the backend is
 * listed as unavailable with the error's message. Registering a name again replaces it.
 */
export function registerBackend(name: string, factory: () => Backend, priority = 0): void {
  entries.set(name, { name, priority, factory });
}

/**
 * Registers a backend that opens asynchronously (Note [Backends that open asynchronously]): `open`
 * runs at the first `await st.setBackend(name)` or `await st.ready()`, and a rejection marks the
 * backend unavailable with its message.
 */
export function registerAsyncBackend(name: string, open: () => Promise<Backend>, priority = 0): void {
  entries.set(name, { name, priority, open });
}

const NOT_OPENED = 'not opened yet';

function openEntry(entry: Entry): Promise<void> {
  if (!entry.open || entry.instance || entry.reason !== undefined) return Promise.resolve();
  entry.opening ??= entry.open().then(
    (backend) => {
      entry.instance = backend;
      if (numThreads !== undefined) backend.setNumThreads?.(numThreads);
    },
    (e: unknown) => {
      entry.reason = e instanceof Error ? e.message : String(e);
    },
  );
  return entry.opening;
}

/**
 * Opens every backend that opens asynchronously (the webgpu one: finds an adapter and a device),
 * so st.backends() can say which are available. Never rejects: a backend that cannot open is
 * listed as unavailable with the reason.
 * @example
 * ```ts
 * await st.ready();
 * console.log(st.backends().map((b) => `${b.name}: ${b.available ? b.detail ?? 'available' : b.reason}`));
 * ```
 */
export async function ready(): Promise<void> {
  await Promise.all([...entries.values()].map(openEntry));
}

function load(entry: Entry): Backend | undefined {
  if (entry.instance || entry.reason !== undefined || !entry.factory) return entry.instance;
  try {
    entry.instance = entry.factory();
    if (numThreads !== undefined) entry.instance.setNumThreads?.(numThreads);
  } catch (e) {
    entry.reason = e instanceof Error ? e.message : String(e);
  }
  return entry.instance;
}

/**
 * Makes `name` the backend new tensors are created on. Existing tensors stay where they are; an
 * op runs on its first input's backend and copies other inputs there through the host. See
 * {@link backends} for the names.
 *
 * Backends that run on the CPU switch at once; `webgpu` opens its device the first time, so await
 * the result (`await st.setBackend('webgpu')`): tensors made before it settles stay on the
 * previous backend.
 * @throws ValueError for an unknown or unavailable backend (the message says why it did not load);
 * for `webgpu`, the returned promise rejects with it.
 * @example
 * ```ts
 * st.setBackend('reference');  // pure TypeScript, with float64
 * console.log(st.getBackend().name);
 * ```
 */
export function setBackend(name: string): Promise<void> {
  const entry = entries.get(name);
  if (!entry) {
    throw new ValueError(`setBackend: unknown backend ${fmtValue(name)}; registered backends: ${[...entries.keys()].join(', ')}`);
  }
  if (entry.open && !entry.instance && entry.reason === undefined) return openEntry(entry).then(() => activate(entry));
  activate(entry);
  return Promise.resolve();
}

function activate(entry: Entry): void {
  const backend = load(entry);
  if (!backend) throw new ValueError(`setBackend: backend '${entry.name}' is unavailable: ${entry.reason}`);
  active = backend;
}

/**
 * The backend new tensors are created on: the one set last, else the best available.
 * On first use without `setBackend`, a higher-priority backend that fails to load is skipped
 * with one console warning saying why.
 * @throws ValueError when no backend loads.
 */
export function getBackend(): Backend {
  if (!active) {
    const ranked = [...entries.values()].sort((a, b) => b.priority - a.priority);
    for (const entry of ranked) {
      if (entry.open) continue; // never a default that has to be awaited
      active = load(entry);
      if (active) break;
      // Say once, on first use, why a faster backend is not in use and how to get it.
      console.warn(`strata: the ${entry.name} backend is unavailable: ${entry.reason}`);
    }
    if (!active) throw new ValueError('getBackend: no backend could be loaded');
  }
  return active;
}

/**
 * Every registered backend, highest priority first, with whether it loaded and why not (loading
 * each one to find out).
 */
export function backends(): BackendStatus[] {
  const current = getBackend();
  return [...entries.values()]
    .sort((a, b) => b.priority - a.priority)
    .map((e) => {
      const instance = load(e);
      const status: BackendStatus = { name: e.name, available: !!instance, active: instance === current, priority: e.priority };
      if (e.reason !== undefined) status.reason = e.reason;
      else if (!instance && e.open) status.reason = `${NOT_OPENED}: await st.setBackend('${e.name}') or st.ready() opens it`;
      const detail = instance?.describe?.();
      if (detail !== undefined) status.detail = detail;
      return status;
    });
}

/** A backend by name if it is available (for tests that compare backends). */
export function findBackend(name: string): Backend | undefined {
  const entry = entries.get(name);
  return entry ? load(entry) : undefined;
}

/**
 * The most threads st.setNumThreads accepts: 1024, or the machine's core count if it has more.
 *
 * Why a ceiling at all: the count goes to OpenMP, and a team is only created at the next
 * parallel region, inside a kernel. Where the system cannot create that many threads, libgomp
 * ends the process ("Thread creation failed") and oneDNN can crash outright: with 1e6 the next
 * matmul killed Node with a segfault, with 50000 libgomp exited it, long after the call that
 * asked. PyTorch accepts any positive count and leaves this to the OS; we would rather fail at the
 * call. Why refuse rather than clamp: a count this large is a mistake (a unit slip, a value read
 * from the wrong field), and quietly running with another number hides it. Why 1024: the largest
 * machines have a few hundred hardware threads, and more threads than cores only oversubscribe
 * them; a fixed number keeps a script that works on one machine working on another (the count
 * is not tied to this machine's cores unless it has more than 1024). Counts below the ceiling
 * can still exceed an OS limit (ulimit -u, a container's pids.max); OMP_THREAD_LIMIT caps
 * OpenMP's teams for such environments.
 */
export function maxNumThreads(): number {
  return Math.max(1024, platform().cores());
}

/**
 * Threads a multi-threaded backend may use (default: one per core); the reference backend uses one.
 * @throws ValueError unless n is an integer from 1 to 1024 (or the machine's core count, if larger).
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxNumThreads()) {
    const why =
      typeof n === 'number' && n > maxNumThreads()
        ? ` (more threads than that only oversubscribe this machine's ${platform().cores()} cores, and OpenMP can end the process when a kernel starts them)`
        : '';
    throw new ValueError(`setNumThreads: expected a positive integer no larger than ${maxNumThreads()}; received ${fmtValue(n)}${why}`);
  }
  numThreads = n;
  for (const entry of entries.values()) entry.instance?.setNumThreads?.(n);
}

/** The thread count set by `setNumThreads`, else the machine's number of cores. */
export function getNumThreads(): number {
  return numThreads ?? platform().cores();
}

registerBackend('reference', () => new ReferenceBackend(), 0);
