// `strata serve [runs]`: starts the page server (src/node/serve) and says where to point a browser.
// It runs until interrupted; Ctrl-C closes the server, and its live event streams, cleanly.
import { type RunningServer, startServer } from '../node/serve/server.js';

export interface ServeCommandOptions {
  port: number;
  host: string;
}

export async function serveCommand(runs: string | undefined, o: ServeCommandOptions): Promise<void> {
  const server = await startServer({ port: o.port, host: o.host, runs });
  const lines = [
    `strata serve: ${server.url}/`,
    `  playground  ${server.url}/playground/`,
    `  mnist       ${server.url}/mnist/`,
    `  runs        ${server.url}/runs/   (${server.runs})`,
  ];
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1')
    lines.push(`  note: listening on ${o.host}, so other machines can read these pages and the runs folder`);
  console.log([...lines, 'Ctrl-C stops it.'].join('\n'));
  await closeOnInterrupt(server);
}

/** Waits for Ctrl-C (or SIGTERM), then closes the server; both listeners are removed either way. */
export async function closeOnInterrupt(server: RunningServer): Promise<void> {
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
