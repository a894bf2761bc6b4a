// The few browser APIs the web stores use, typed here: the project compiles against ES2022 and
// Node's types only (tsconfig.json has no "dom" lib, so Node code cannot reach for `document` by
// mistake), and adding the DOM lib for these files would add it for every file. Each store looks
// the API up on globalThis when it runs and says what is missing, so importing these files in
// Node (the unit tests do) is harmless.

/** An IndexedDB request: the result arrives in an event. */
export interface IdbRequest<T> {
  readonly result: T;
  readonly error: DOMException | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}

export interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  put(value: unknown, key: string): IdbRequest<unknown>;
  delete(key: string): IdbRequest<undefined>;
  getAll(): IdbRequest<unknown[]>;
  getAllKeys(): IdbRequest<string[]>;
}

export interface IdbTransaction {
  readonly error: DOMException | null;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): IdbObjectStore;
  transaction(stores: string[], mode: 'readonly' | 'readwrite', options?: { durability?: 'strict' | 'relaxed' | 'default' }): IdbTransaction;
  close(): void;
  onversionchange: (() => void) | null;
}

export interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest;
}

/** The page's IndexedDB, or undefined (Node, or a browser that withholds it, as some private modes do). */
export const indexedDb = (): IdbFactory | undefined => (globalThis as { indexedDB?: IdbFactory }).indexedDB;

/** The parts of an <a> element a download uses. */
export interface Anchor {
  href: string;
  download: string;
  click(): void;
}

/** The page's document, or undefined outside a page (Node, a worker). */
export const pageDocument = (): { createElement(tag: 'a'): Anchor; baseURI: string } | undefined =>
  (globalThis as { document?: { createElement(tag: 'a'): Anchor; baseURI: string } }).document;
