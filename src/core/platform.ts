// Note [Platforms]
// Strata runs in Node and in web pages from one source tree. Everything below the entry points
// is portable: it uses only what both have (typed arrays, WebAssembly, WebCrypto, timers,
// `performance`). The few services that differ live here as one object, installed by the entry
// point: src/index.ts (Node) installs terminal output, the core count and a live progress bar;
// src/browser.ts keeps the defaults below, written for a page. Node-only modules (the native
// backend, the file system model store, file-reading datasets, the command line) are imported
// by src/index.ts alone, so a browser bundle never reaches them (test/browser-bundle.test.ts
// bundles src/browser.ts with esbuild and fails on any import of Node's built-in modules).

/** Text output as a progress display sees it: Node's standard output, the console in a page. */
export interface TextOutput {
  /** Writes text (lines end with '\n'). */
  write(chunk: string): unknown;
  /** True for a terminal: a live bar is then drawn. */
  isTTY?: boolean;
  /** The terminal's width. */
  columns?: number;
}

/** A live one-line display redrawn in place (a terminal progress bar). */
export interface LiveBar {
  start(total: number, value: number): void;
  update(value: number): void;
  stop(): void;
}

/** Options for a live bar: where it draws and what its line says. */
export interface LiveBarOptions {
  stream: TextOutput;
  line: () => string;
}

/** Text files by path (Node's file system): what st.callbacks.csvLogger writes. */
export interface TextFiles {
  writeText(path: string, text: string): Promise<void>;
  appendText(path: string, text: string): Promise<void>;
  /** The file's text, or undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
}

export interface Platform {
  /** 'node' or 'browser': for messages that tell a user what works where. */
  readonly name: 'node' | 'browser';
  /** Logical cores: the default thread count. */
  cores(): number;
  /** Where progress lines and callbacks' messages go by default. */
  stdout(): TextOutput;
  /** A terminal bar; undefined where there is no terminal (a page), so progress is written as lines. */
  liveBar?(options: LiveBarOptions): LiveBar;
  /** Text files by path; undefined in a page. */
  files?: TextFiles;
}

/**
 * Writes whole lines to console.log: a page's console has no current line to add to, so text is
 * held until its '\n'.
 */
class ConsoleLines implements TextOutput {
  private pending = '';
  write(chunk: string): true {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) console.log(line);
    return true;
  }
}

const browserPlatform: Platform = {
  name: 'browser',
  cores: () => {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n >= 1 ? n : 1;
  },
  stdout: (() => {
    const out = new ConsoleLines();
    return () => out;
  })(),
};

let current: Platform = browserPlatform;

/** The platform's services (a page's unless the Node entry installed its own). */
export function platform(): Platform {
  return current;
}

/** Installs the platform's services; called once by an entry point. */
export function setPlatform(p: Platform): void {
  current = p;
}
