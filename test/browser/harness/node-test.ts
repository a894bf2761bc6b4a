// A stand-in for node:test inside a page (test/browser-conformance.test.ts bundles a test file
// with `node:test` resolved here): describe, it and the hooks register as Node's do (a suite's
// body runs when it is declared), and runRegistered() then runs every test in order, awaiting
// each, with the hooks, honouring `skip` (and `todo`, as a skip), and returns what passed, failed
// and was skipped instead of printing TAP.

type Body = (context: unknown) => unknown;
type Hook = () => unknown;
interface Options {
  skip?: boolean | string;
  todo?: boolean | string;
  timeout?: number;
  concurrency?: number | boolean;
}

interface Suite {
  name: string;
  skip: string | undefined;
  children: (Suite | Test)[];
  before: Hook[];
  after: Hook[];
  beforeEach: Hook[];
  afterEach: Hook[];
}
interface Test {
  name: string;
  skip: string | undefined;
  body: Body | undefined;
}

export interface CaseResult {
  /** The suite names and the test's, joined by ' > '. */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  error?: string;
  ms: number;
}

const root: Suite = { name: '', skip: undefined, children: [], before: [], after: [], beforeEach: [], afterEach: [] };
let current = root;

function parse(args: unknown[]): { name: string; options: Options; fn: Body | undefined } {
  let name = '<anonymous>';
  let options: Options = {};
  let fn: Body | undefined;
  for (const a of args) {
    if (typeof a === 'string') name = a;
    else if (typeof a === 'function') fn = a as Body;
    else if (a && typeof a === 'object') options = a as Options;
  }
  return { name, options, fn };
}

function skipReason(options: Options): string | undefined {
  const s = options.skip ?? options.todo;
  if (s === undefined || s === false) return undefined;
  return typeof s === 'string' ? s : 'skipped';
}

export function describe(...args: unknown[]): void {
  const { name, options, fn } = parse(args);
  const suite: Suite = { name, skip: skipReason(options), children: [], before: [], after: [], beforeEach: [], afterEach: [] };
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    fn?.(undefined);
  } finally {
    current = parent;
  }
}

export function it(...args: unknown[]): void {
  const { name, options, fn } = parse(args);
  current.children.push({ name, skip: skipReason(options), body: fn });
}

export const test = it;
export const suite = describe;
export const before = (fn: Hook): void => void current.before.push(fn);
export const after = (fn: Hook): void => void current.after.push(fn);
export const beforeEach = (fn: Hook): void => void current.beforeEach.push(fn);
export const afterEach = (fn: Hook): void => void current.afterEach.push(fn);
describe.skip = (...args: unknown[]) => describe(...args, { skip: true });
it.skip = (...args: unknown[]) => it(...args, { skip: true });

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return String(e);
}

async function runSuite(s: Suite, path: string[], eachHooks: { before: Hook[]; after: Hook[] }, skip: string | undefined, out: CaseResult[]) {
  const hooks = { before: [...eachHooks.before, ...s.beforeEach], after: [...s.afterEach, ...eachHooks.after] };
  const skipped = skip ?? s.skip;
  let setupError: string | undefined;
  if (!skipped) {
    try {
      for (const h of s.before) await h();
    } catch (e) {
      setupError = `before hook: ${describeError(e)}`;
    }
  }
  for (const child of s.children) {
    const name = [...path, child.name];
    if ('children' in child) {
      await runSuite(child, name, hooks, skipped, out);
      continue;
    }
    const reason = skipped ?? child.skip;
    if (reason !== undefined) {
      out.push({ name: name.join(' > '), status: 'skipped', error: reason, ms: 0 });
      continue;
    }
    const t0 = performance.now();
    let error = setupError;
    if (!error) {
      try {
        for (const h of hooks.before) await h();
        await child.body?.(undefined);
      } catch (e) {
        error = describeError(e);
      }
      try {
        for (const h of hooks.after) await h();
      } catch (e) {
        error ??= `afterEach hook: ${describeError(e)}`;
      }
    }
    const ms = performance.now() - t0;
    out.push(error === undefined ? { name: name.join(' > '), status: 'passed', ms } : { name: name.join(' > '), status: 'failed', error, ms });
  }
  if (!skipped) {
    try {
      for (const h of s.after) await h();
    } catch (e) {
      out.push({ name: [...path, '(after hook)'].join(' > '), status: 'failed', error: describeError(e), ms: 0 });
    }
  }
}

/** Runs the registered tests whose top-level suite name passes `filter` (every one without it). */
export async function runRegistered(filter?: (suite: string) => boolean): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  const top: Suite = { ...root, children: root.children.filter((c) => !filter || filter(c.name)) };
  await runSuite(top, [], { before: [], after: [] }, undefined, out);
  return out;
}
