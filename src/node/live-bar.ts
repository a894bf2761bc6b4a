import { SingleBar } from 'cli-progress';
import type { LiveBar, LiveBarOptions } from '../core/platform.js';

// cli-progress re-arms a redraw timer after every render. Unref'd, a bar left running by a
// failed fit cannot keep the process alive.
class UnrefTimerBar extends SingleBar {
  override render(): void {
    super.render();
    (this as unknown as { timer: NodeJS.Timeout | null }).timer?.unref();
  }
}

/** A terminal progress bar drawn by cli-progress (Node only: it needs a terminal and readline). */
export function terminalBar({ stream, line }: LiveBarOptions): LiveBar {
  return new UnrefTimerBar({
    stream: stream as NodeJS.WritableStream, // cli-progress writes text only, as TextOutput says
    format: line,
    clearOnComplete: true,
    hideCursor: false,
    // Lines longer than the terminal are cut rather than wrapped, so redraws stay on one line.
    linewrap: true,
    gracefulExit: false,
  });
}
