import { availableParallelism } from 'node:os';
import { ValueError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';

// Backends register a factory with a priority; the highest-priority backend that loads is the
// default. A factory that throws marks its backend unavailable, and the reason is kept so
// `st.backends()` can say why (a missing native build, say) instead of failing later.

interface Entry {
  name: string;
  priority: number;
  factory: () => Backend;
  instance?: Backend;
  reason?: string;
}

export interface BackendStatus {
  name: string;
  available: boolean;
  active: boolean;
  priority: number;
  reason?: string;
}

const entries = new Map<string, Entry>();
let active: Backend | undefined;
let numThreads: number | undefined;

export function registerBackend(name: string, factory: () => Backend, priority = 0): void {
  entries.set(name, { name, priority, factory });
}

function load(entry: Entry): Backend | undefined {
  if (entry.instance || entry.reason !== undefined) return entry.instance;
  try {
    entry.instance = entry.factory();
    if (numThreads !== undefined) entry.instance.setNumThreads?.(numThreads);
  } catch (e) {
    entry.reason = e instanceof Error ? e.message : String(e);
  }
  return entry.instance;
}

export function setBackend(name: string): void {
  const entry = entries.get(name);
  if (!entry) {
    throw new ValueError(`setBackend: unknown backend ${JSON.stringify(name)}; registered backends: ${[...entries.keys()].join(', ')}`);
  }
  const backend = load(entry);
  if (!backend) throw new ValueError(`setBackend: backend '${name}' is unavailable: ${entry.reason}`);
  active = backend;
}

/** The backend new tensors are created on: the one set last, else the best available. */
export function getBackend(): Backend {
  if (!active) {
    const ranked = [...entries.values()].sort((a, b) => b.priority - a.priority);
    for (const entry of ranked) {
      active = load(entry);
      if (active) break;
      // Say once, on first use, why a faster backend is not in use and how to get it.
      console.warn(`strata: the ${entry.name} backend is unavailable: ${entry.reason}`);
    }
    if (!active) throw new ValueError('getBackend: no backend could be loaded');
  }
  return active;
}

export function backends(): BackendStatus[] {
  const current = getBackend();
  return [...entries.values()]
    .sort((a, b) => b.priority - a.priority)
    .map((e) => {
      const instance = load(e);
      const status: BackendStatus = { name: e.name, available: !!instance, active: instance === current, priority: e.priority };
      if (e.reason !== undefined) status.reason = e.reason;
      return status;
    });
}

/** A backend by name if it is available (for tests that compare backends). */
export function findBackend(name: string): Backend | undefined {
  const entry = entries.get(name);
  return entry ? load(entry) : undefined;
}

/** Threads a multi-threaded backend may use (default: one per core); the reference backend uses one. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`setNumThreads: expected a positive integer; received ${n}`);
  numThreads = n;
  for (const entry of entries.values()) entry.instance?.setNumThreads?.(n);
}

export function getNumThreads(): number {
  return numThreads ?? availableParallelism();
}

registerBackend('reference', () => new ReferenceBackend(), 0);
