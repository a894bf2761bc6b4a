// `npm run serve`: the repository on http://127.0.0.1:<port>/ with the headers that make pages
// cross-origin isolated (so the wasm backend runs threaded), for the example pages and manual
// checks. Port: PORT, else a free one.
import { serveStatic } from './server.js';

const root = new URL('../../', import.meta.url).pathname;
const server = await serveStatic(root, { port: Number(process.env.PORT ?? 0) });
console.log(`serving ${root} at ${server.url}/ (cross-origin isolated); try ${server.url}/examples/browser/mnist-mlp.html`);
