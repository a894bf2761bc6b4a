// `strata train --dashboard`: the page server (the same as `strata serve`) on the folder holding
// the run, started before training so the curves can be watched as they grow, and kept up after
// training until Ctrl-C, so the finished run can still be looked at.
import { basename, dirname, resolve } from 'node:path';
import * as st from '../index.js';
import { type RunningServer, startServer } from '../node/serve/server.js';
import { closeOnInterrupt } from './serve.js';

export interface DashboardOptions {
  /** Default 6006; when that one is taken, a free one (said so). 0 picks a free one. */
  port?: number;
}

const DEFAULT_PORT = 6006;

/** Starts the server on the parent folder of the run folder `out` and prints the page's address. */
export async function startDashboard(out: string, o: DashboardOptions): Promise<RunningServer> {
  const runs = dirname(resolve(out));
  const port = o.port ?? DEFAULT_PORT;
  let server: RunningServer;
  try {
    server = await startServer({ port, runs });
  } catch (e) {
    // Another dashboard (or TensorBoard) often holds 6006: a free port beats failing the run.
    if (port === 0 || !(e instanceof st.StrataError) || !/ is in use/.test(e.message)) throw e;
    server = await startServer({ port: 0, runs });
    console.log(`Dashboard: port ${port} is in use, so it listens on port ${new URL(server.url).port} instead`);
  }
  console.log(`Dashboard: ${server.url}/runs/?run=${encodeURIComponent(basename(resolve(out)))}   (the runs in ${runs})`);
  return server;
}

/** After training: keeps the dashboard up until Ctrl-C (or SIGTERM), then closes it. */
export async function serveUntilInterrupted(server: RunningServer): Promise<void> {
  console.log(`Dashboard still serving at ${server.url}/runs/; Ctrl-C stops it.`);
  await closeOnInterrupt(server);
}
