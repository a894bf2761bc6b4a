// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// Atomic file replacement: a reader of `path` sees either the old file or the whole new one,
// never a prefix, even if the process dies mid-write (a checkpoint interrupted by Ctrl-C must not
// destroy the previous checkpoint). The recipe is the usual POSIX one: write a temporary file in
// the same directory (rename is only atomic within one file system), fsync it so the data is on
// disk before the name points at it, rename it over the target, then fsync the directory so the
// rename itself survives a crash.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ValueError } from '../../core/errors.js';

/** The temporary name: unique per process and call, so concurrent writers never share one. */
function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** The bytes to write; anything but a string or Uint8Array is refused before a file is created. */
function toBytes(op: string, data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  const got = data === null ? 'null' : typeof data === 'object' ? ((data as object).constructor?.name ?? 'object') : typeof data;
  throw new ValueError(`${op}: data must be a string or a Uint8Array; received ${got}`);
}

/**
 * Best-effort fsync of the directory holding `path`, so the rename is durable. Some platforms
 * (Windows) and file systems cannot open or fsync a directory; the file itself is already safe
 * there, so failures are ignored.
 */
function syncDirectorySync(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // see above: durability of the rename is a bonus, not a requirement
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dirname(path), 'r');
    await handle.sync();
  } catch {
    // as in syncDirectorySync
  } finally {
    await handle?.close();
  }
}

/** Removes a temporary file after a failure; a missing file is fine, the original error wins. */
async function removeQuietly(tmp: string): Promise<void> {
  try {
    await unlink(tmp);
  } catch {
    // nothing to clean up (open failed) or nothing we can do; the caller rethrows the real error
  }
}

function removeQuietlySync(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // as in removeQuietly
  }
}

/** Writes to `${path}.tmp-<pid>-<random>` in the same directory, fsyncs, then renames over `path`; removes the temp file on failure. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = toBytes('writeFileAtomic', data);
  const tmp = tempPathFor(path);
  let handle: FileHandle | undefined;
  let created = false; // only a file we created may be removed (never another writer's on EEXIST)
  try {
    // 'wx': never follow or clobber something already at the temporary name.
    handle = await open(tmp, 'wx');
    created = true;
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    if (created) await removeQuietly(tmp);
    throw error;
  }
  await syncDirectory(path);
}

/** The synchronous twin of writeFileAtomic, with the same guarantees. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const bytes = toBytes('writeFileAtomicSync', data);
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, 'wx');
    created = true;
    // writeSync may write less than asked (large buffers, signals); loop until all is out.
    for (let done = 0; done < bytes.byteLength; ) {
      done += writeSync(fd, bytes, done, bytes.byteLength - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the write error is the one to report
      }
    }
    if (created) removeQuietlySync(tmp);
    throw error;
  }
  syncDirectorySync(path);
}
