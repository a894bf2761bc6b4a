import { checkOneOf } from '../core/options.js';
import type { Logs } from './callback.js';
import { printWarning } from './output.js';

/**
 * Whether a monitored quantity is better lower ('min') or higher ('max'); 'auto' decides from its
 * name: accuracy, AUC, precision, recall and the like are maximized, the rest minimized.
 */
export type MonitorMode = 'auto' | 'min' | 'max';
export const MONITOR_MODES: readonly MonitorMode[] = ['auto', 'min', 'max'];

// Metric names (or the words they are built from) that are better when higher. Keras 3 reads a
// metric's direction from the metric object; callbacks here see only the name, so 'auto' matches
// the words of the name (split at '_') against these prefixes, and everything else (losses,
// mse, mae, ...) is minimized.
const HIGHER_IS_BETTER = ['acc', 'auc', 'precision', 'recall', 'f1', 'fbeta', 'iou', 'r2', 'specificity', 'sensitivity'];

/** 'min' or 'max' for a monitored quantity; 'auto' decides from the name as described above. */
export function resolveMode(op: string, monitor: string, mode: unknown): 'min' | 'max' {
  const m = checkOneOf(op, 'mode', mode, MONITOR_MODES);
  if (m !== 'auto') return m;
  const words = monitor.replace(/^val_/, '').toLowerCase().split('_');
  return words.some((w) => HIGHER_IS_BETTER.some((p) => w.startsWith(p))) ? 'max' : 'min';
}

/**
 * Reads the monitored value from logs. A missing key is warned about once per callback (Keras
 * warns every epoch, which buries the rest of the output) and yields undefined.
 */
export class MonitorReader {
  private warned = false;

  constructor(
    private readonly message: (available: string) => string,
    readonly monitor: string,
  ) {}

  read(logs: Logs | undefined): number | undefined {
    const value = logs?.[this.monitor];
    if (value === undefined || value === null) {
      if (!this.warned) {
        this.warned = true;
        printWarning(this.message(Object.keys(logs ?? {}).join(',')));
      }
      return undefined;
    }
    return value;
  }
}
