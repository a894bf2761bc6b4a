// A stand-in for node:fs inside a page (bundled in place of it by test/browser-conformance.test.ts):
// readFileSync of a text file, as a test reads its fixtures at load time, through a synchronous
// request to the server the page came from (the bundler rewrites the test file's import.meta.url
// to its address there, so `new URL('./fixtures/x.json', import.meta.url)` points at the file).

interface SyncRequest {
  open(method: string, url: string, async: boolean): void;
  overrideMimeType(type: string): void;
  send(): void;
  status: number;
  responseText: string;
}

export function readFileSync(path: string | URL, options?: string | { encoding?: string }): string {
  const encoding = typeof options === 'string' ? options : options?.encoding;
  if (encoding !== 'utf8' && encoding !== 'utf-8')
    throw new Error(`readFileSync in the page reads text only (utf8), not ${encoding ?? 'bytes'}: ${path}`);
  const Request = (globalThis as unknown as { XMLHttpRequest: new () => SyncRequest }).XMLHttpRequest;
  const request = new Request();
  request.open('GET', String(path), false);
  request.overrideMimeType('text/plain; charset=utf-8');
  request.send();
  if (request.status !== 200) {
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}' (HTTP ${request.status})`), { code: 'ENOENT' });
  }
  return request.responseText;
}
