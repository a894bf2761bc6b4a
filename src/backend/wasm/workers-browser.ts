import type { WorkerFactory } from './threads.js';

// Declared here rather than through lib "DOM", which the Node build does not include.
declare const Blob: new (parts: string[], options: { type: string }) => object;
declare const URL: { createObjectURL(blob: object): string };
declare const Worker: new (url: string) => { postMessage(message: unknown): void; terminate(): void };

/** The wasm backend's worker factory for browsers: a classic Worker from a Blob URL of the source. */
export const browserWorkerFactory: WorkerFactory = (source) =>
  // WORKER_SOURCE defines start(); the worker's first message starts it.
  new Worker(URL.createObjectURL(new Blob([`${source}\nself.onmessage = (e) => start(e.data);`], { type: 'text/javascript' })));
