// The page's event streams from the server (src/node/serve/run-events.ts): the runs listing, and
// one stream per run whose points are wanted. A finished run's stream is closed once it has
// replayed its log (so runs that are done hold no connection: a browser opens at most six per
// server); a training run's stays open and brings each record as it is written.
import type { LiveRecord, RunSummary } from '../../node/serve/live-records.js';

export interface RunStreamEvents {
  onReset(): void;
  onRecord(record: LiveRecord): void;
  /** The stream replayed the whole log; `live` says whether it stays open for more. */
  onCaughtUp(): void;
}

export function watchRunList(onList: (folder: string, runs: RunSummary[]) => void, onConnection: (open: boolean) => void): EventSource {
  const source = new EventSource('/api/runs/events');
  source.onmessage = (e: MessageEvent<string>) => {
    const { folder, runs } = JSON.parse(e.data) as { folder: string; runs: RunSummary[] };
    onList(folder, runs);
  };
  source.onopen = () => onConnection(true);
  // EventSource reconnects by itself (the server asks for 2 s); the page says it is offline meanwhile.
  source.onerror = () => onConnection(false);
  return source;
}

/** One run's records, as a stream that can be closed and opened again. */
export class RunStream {
  private source: EventSource | undefined;

  constructor(
    readonly name: string,
    private readonly events: RunStreamEvents,
  ) {}

  get open(): boolean {
    return this.source !== undefined;
  }

  start(): void {
    if (this.source) return;
    const source = new EventSource(`/api/runs/${encodeURIComponent(this.name)}/events`);
    source.addEventListener('reset', () => this.events.onReset());
    source.addEventListener('caught-up', () => this.events.onCaughtUp());
    source.onmessage = (e: MessageEvent<string>) => this.events.onRecord(JSON.parse(e.data) as LiveRecord);
    this.source = source;
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }
}
