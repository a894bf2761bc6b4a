import { Worker } from 'node:worker_threads';
import type { WorkerFactory } from './threads.js';

/**
 * The wasm backend's worker factory for Node (only the Node entry imports this file): an eval'd
 * worker_threads Worker, unref'd so that idle workers never keep the process alive.
 */
export const nodeWorkerFactory: WorkerFactory = (source) => {
  // WORKER_SOURCE defines start(); the worker's first message starts it.
  const worker = new Worker(`${source}\nrequire('node:worker_threads').parentPort.once('message', start);`, { eval: true });
  worker.unref();
  return worker;
};
