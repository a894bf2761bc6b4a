// Following a growing file, as `tail -f` does, for the dashboard's event streams: complete lines
// as they are appended. fs.watch says when the folder changes, but it misses events on some file
// systems (network mounts, some containers), so a timer polls too; both only schedule a read,
// and reads never overlap. A file that shrinks or is replaced is read again from its start.
import { type FSWatcher, watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LineSplitter } from './jsonl.js';

const CHUNK = 256 * 1024;

export interface TailOptions {
  /** Where to start: 0, or the end of a line already sent (an EventSource's Last-Event-ID). */
  offset: number;
  /** A complete line, and the offset just past it. */
  onLine(line: string, end: number): void;
  /** The file was truncated or replaced (or `offset` lay past its end): lines start over from 0. */
  onReset(): void;
  /** A read reached the end of the file (or found no file). */
  onIdle(): void;
  /** Resolves when the reader may take more lines (the connection's buffer drained). */
  drained(): Promise<void> | undefined;
  pollMs?: number;
}

export class FileTail {
  private splitter: LineSplitter;
  private position: number;
  private inode: number | undefined;
  private watcher: FSWatcher | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private running = false;
  private again = false;

  constructor(
    private readonly path: string,
    private readonly o: TailOptions,
  ) {
    this.position = o.offset;
    this.splitter = new LineSplitter(o.offset);
  }

  start(): void {
    const name = basename(this.path);
    try {
      // The folder, not the file: the file may not exist yet, and is seen when it appears.
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file === null || file === name) this.pump();
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = undefined; // no watching here: the timer alone
    }
    this.timer = setInterval(() => this.pump(), this.o.pollMs ?? 1000);
    this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    clearInterval(this.timer);
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Reads what was appended; a call during a read makes that read look again when it ends. */
  pump(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const loop = async () => {
      do {
        this.again = false;
        await this.readMore();
      } while (this.again && !this.closed);
    };
    loop()
      .catch(() => {}) // a read that failed is tried again by the next event or tick
      .finally(() => {
        this.running = false;
      });
  }

  private restart(): void {
    this.position = 0;
    this.splitter = new LineSplitter(0);
    this.o.onReset();
  }

  private async readMore(): Promise<void> {
    let info: { size: number; ino: number };
    try {
      info = await stat(this.path);
    } catch {
      this.o.onIdle();
      return; // not there (yet)
    }
    if ((this.inode !== undefined && info.ino !== this.inode) || info.size < this.position) this.restart();
    this.inode = info.ino;
    if (info.size > this.position) {
      const file = await open(this.path, 'r');
      try {
        const buffer = Buffer.alloc(CHUNK);
        while (!this.closed && this.position < info.size) {
          const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK, info.size - this.position), this.position);
          if (bytesRead === 0) break;
          this.position += bytesRead;
          this.splitter.push(buffer.subarray(0, bytesRead), (line, end) => this.o.onLine(line, end));
          await this.o.drained();
        }
      } finally {
        await file.close();
      }
    }
    if (!this.closed) this.o.onIdle();
  }
}
