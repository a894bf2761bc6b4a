// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Note [Collecting dead tensors between steps]
// Native buffers belong to tensor handles and go back to the allocator when V8 collects the
// handles (basic finalizers, Note in native/src/buffer.cc). A custom training loop drops its
// intermediates each step, but V8 sizes its collections by the JavaScript heap, in which a
// tensor is a few hundred bytes: by the time a young-generation collection comes, a loop over
// an MLP has left 100 to 300 MB of dead activations and gradients. The allocator cannot hand
// those out again, so every step takes fresh memory from the system (a page fault per 4 KiB:
// about 450 per MLP step) and writes to memory long out of cache; the first hundred steps
// of an MLP ran at half speed. So at the end of each gradient computation (backward(), grad,
// minimize, fit's step), when the native bytes held by tensors have grown by
// COLLECT_AFTER_BYTES since the last look, the backend asks V8 for a young-generation
// collection (a scavenge: about a millisecond here, it walks only young objects, which is where
// a step's dead tensors are) and takes the bytes still held after it as the new baseline. When
// the scavenge gives back too little (handles that survived two scavenges live in the old
// generation, out of its reach: seen as a custom loop holding 266 MB instead of under 160), a
// full collection follows. A
// loop that disposes what it makes (fit) never grows the count and never collects. V8 gives a script its collector only when Node starts with --expose-gc; the flag is
// turned on here and the function taken from a fresh context, which leaves the program's own
// global scope as it was. Where that is refused the pacing is off and nothing else changes.

/** Growth of held native bytes that triggers a young-generation collection. */
export const COLLECT_AFTER_BYTES = 64 * 2 ** 20;

export type Collector = (options: { type: 'minor' | 'major' }) => void;

let collector: Collector | null | undefined;

function youngCollector(): Collector | null {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('typeof gc === "function" ? gc : null') as Collector | null;
      collector = gc;
    } catch {
      collector = null;
    }
  }
  return collector;
}

/** Decides, from the native bytes held now, when dead tensors are worth collecting (see the Note). */
export class DeadTensorCollector {
  private baseline = 0;

  /**
   * `heldBytes()` reads the native bytes held by tensors (live, or dead and not yet collected);
   * `collect` runs a young-generation collection (V8's, or null when unavailable).
   */
  constructor(
    private readonly heldBytes: () => number,
    private readonly collect: () => Collector | null = youngCollector,
  ) {}

  /** Collects when the held bytes have grown by COLLECT_AFTER_BYTES since the last baseline; returns whether it did. */
  afterBackward(): boolean {
    const held = this.heldBytes();
    if (held < this.baseline) this.baseline = held;
    if (held - this.baseline < COLLECT_AFTER_BYTES) return false;
    const gc = this.collect();
    if (!gc) return false;
    gc({ type: 'minor' });
    // Handles that lived through two scavenges were promoted to V8's old generation, where only a
    // full collection reaches them; when the scavenge gave back too little, run one (rare: tens of
    // milliseconds against a pile of dead native memory that would otherwise grow).
    if (this.heldBytes() - this.baseline >= COLLECT_AFTER_BYTES) gc({ type: 'major' });
    this.baseline = this.heldBytes();
    return true;
  }
}
