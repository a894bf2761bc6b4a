// Files of one save, named by a generation id, and the collection of generations nobody uses.
// Node only. See Note [Atomic model saves] in node/file-store.ts for the protocol these serve.
//
// A generation id is `<time>-<host>-<pid>-<random>`: unique across processes and hosts sharing
// a folder, and it tells a later writer who made the file, so it can tell an abandoned file (its
// writer is dead) from one another writer is still filling (its writer is alive).

import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../../core/errors.js';

import type { FileRecord } from '../../io/file-record.js';

export type { FileRecord };

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);
const GENERATION_FILE = /^[a-z]+\.([0-9a-z]+)-([0-9a-f]{6})-(\d+)-([0-9a-f]{6})\.[a-z]+$/;
const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]+$/;
const MINUTE = 60_000;
/** A file from another host is abandoned only when this old: we cannot ask whether its writer lives. */
const FOREIGN_GRACE_MS = 24 * 60 * MINUTE;
/** How old a dead writer's file must be before it is collected (see isAbandoned); saves commit within seconds of writing. */
const GRACE_MS = 10 * MINUTE;

/** Generations this process is writing now: never collected by its own concurrent saves. */
const inProgress = new Set<string>();

export function newGeneration(): string {
  const gen = `${Date.now().toString(36)}-${HOST}-${process.pid}-${randomBytes(3).toString('hex')}`;
  inProgress.add(gen);
  return gen;
}

/** Marks a generation finished (committed or abandoned): from now on it may be collected. */
export function endGeneration(gen: string): void {
  inProgress.delete(gen);
}

export function generationFileName(role: string, gen: string, extension: string): string {
  return `${role}.${gen}.${extension}`;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes a new file of a generation and makes it durable. The name is new, so 'wx' (fail if it
 * exists) protects against a clash instead of clobbering; nothing points at the file until
 * model.json is renamed into place, so a crash here leaves only an unreferenced file.
 */
export async function writeGenerationFile(dir: string, name: string, bytes: Uint8Array): Promise<FileRecord> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(join(dir, name), 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle?.close();
  }
  return { path: name, bytes: bytes.byteLength, sha256: sha256(bytes) };
}

/** Reads a file model.json lists and proves it is the one that was written (size, then SHA-256). */
export async function readRecordedFile(dir: string, record: FileRecord, manifestFile: string): Promise<Uint8Array> {
  const path = join(dir, record.path);
  let bytes: Uint8Array;
  try {
    // Size first: a file of the wrong size is refused without reading it all.
    const size = (await stat(path)).size;
    if (size !== record.bytes) {
      throw new FormatError(
        `${path}: holds ${size} bytes; ${manifestFile} recorded ${record.bytes}. The file was changed or cut short after the save; save the model again or restore the folder`,
      );
    }
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw Object.assign(new FormatError(`${path}: cannot read the file listed in ${manifestFile} (${code ?? (e as Error).message})`), { code });
  }
  if (bytes.byteLength !== record.bytes || sha256(bytes) !== record.sha256) {
    throw new FormatError(
      `${path}: its SHA-256 checksum differs from the one ${manifestFile} recorded: the file is corrupt or belongs to another save; save the model again or restore the folder`,
    );
  }
  return bytes;
}

/** Whether process `pid` on this host is alive (EPERM: alive but not ours). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the file `name` (not listed by the committed model.json) was left by a writer that is
 * gone. A dead writer's files must also be older than a grace period: a writer that committed
 * and exited a moment ago may have made model.json point at them after we read it.
 */
async function isAbandoned(dir: string, name: string, now: number): Promise<boolean> {
  const gen = GENERATION_FILE.exec(name);
  const temp = gen ? null : TEMP_FILE.exec(name);
  if (!gen && !temp) return false;
  let age: number;
  try {
    age = now - (await stat(join(dir, name))).mtimeMs;
  } catch {
    return false; // already gone
  }
  if (gen && inProgress.has(generationOf(name))) return false;
  if (age > FOREIGN_GRACE_MS) return true;
  if (temp) return age > GRACE_MS && !isAlive(Number(temp[1]));
  const [, , host, pid] = gen!;
  if (host !== HOST) return false;
  // This process's own finished generations need no grace: it knows none of them is being committed.
  return Number(pid) === process.pid || (age > GRACE_MS && !isAlive(Number(pid)));
}

/** The generation id inside a generation file's name. */
function generationOf(name: string): string {
  return name.slice(name.indexOf('.') + 1, name.lastIndexOf('.'));
}

/**
 * Removes the files of earlier generations once a new model.json is committed: those the replaced
 * model.json listed (`superseded`), and files that crashed or failed saves left behind. Files the
 * committed model.json lists (`current`, read after the commit, since another writer may have
 * committed since) and files other live writers are filling are never touched. Failures are
 * ignored: a leftover file costs disk space, never correctness.
 */
export async function collectGarbage(dir: string, current: () => Promise<ReadonlySet<string>>, superseded: readonly string[]): Promise<void> {
  const keep = await current().catch(() => null);
  if (keep === null) return; // cannot tell what is in use: delete nothing
  const now = Date.now();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (keep.has(name)) continue;
    if (superseded.includes(name) || (await isAbandoned(dir, name, now))) await unlink(join(dir, name)).catch(() => undefined);
  }
}
