import { ValueError } from '../core/errors.js';
import {
  HOOKS,
  type Callback,
  type CallbackModel,
  type HookName,
  type IndexedHook,
  type Logs,
  type PhaseHook,
  type TrainingParams,
} from './callback.js';
import { History } from './history.js';
import { ProgressBar } from './progress-bar.js';

/** How often a live progress bar takes fresh logs: each costs a read from the backend. */
const LOGS_EVERY_MS = 200;
const NO_LOGS = { at: -Infinity, logs: {} };

/** Checks that a user-supplied callback is an object whose hooks, where present, are functions. */
function checkCallback(cb: unknown, index: number): Callback {
  const what = `callbacks[${index}]`;
  if (cb === null || typeof cb !== 'object') {
    throw new ValueError(`${what} must be an object with hook methods such as onEpochEnd; received ${cb === null ? 'null' : typeof cb}`);
  }
  const record = cb as Record<string, unknown>;
  const present = HOOKS.filter((h) => h in record && record[h] !== undefined);
  for (const h of [...present, 'setModel', 'setParams']) {
    if (record[h] !== undefined && typeof record[h] !== 'function')
      throw new ValueError(`${what}.${h} must be a function; received ${typeof record[h]}`);
  }
  // Keras's snake_case names would otherwise be ignored in silence.
  const snake = Object.keys(record).filter((k) => /^on_[a-z_]+$/.test(k));
  if (snake.length) {
    throw new ValueError(`${what}: hook names are camelCase (onEpochEnd, onBatchEnd, ...); received ${snake.join(', ')}`);
  }
  if (present.length === 0 && typeof record.setModel !== 'function') {
    throw new ValueError(
      `${what} defines none of the hooks ${HOOKS.join(', ')}; received an object with keys ${Object.keys(record).join(', ') || '(none)'}`,
    );
  }
  return cb as Callback;
}

export interface CallbackListOptions {
  /** Append a History callback (model.fit does). Default false. */
  addHistory?: boolean;
  /** Append a ProgressBar for params.verbose 1 or 2 unless the callbacks hold one. Default false. */
  addProgressBar?: boolean;
}

/**
 * Drives a list of callbacks: hands each the model and params, then calls every hook on every
 * callback that has it, in list order, awaiting async hooks one after another. All callbacks see
 * the same logs object, so a key one adds (learning_rate) reaches those after it, as in Keras.
 * An error thrown by a hook propagates unchanged and ends the hook call.
 */
export class CallbackList {
  readonly callbacks: readonly Callback[];
  /** The History in the list (added or passed in), if any. */
  readonly history: History | undefined;
  private readonly byHook = new Map<HookName, Callback[]>();
  /** Inside fit (between onTrainBegin and onTrainEnd): its validation passes draw no bar. */
  private training = false;
  /** The logs last read at a batch end (for the bar, or a callback that wanted them), and when. */
  private lastLogs: { at: number; logs: Logs } = NO_LOGS;

  constructor(callbacks: readonly Callback[], model: CallbackModel, params: TrainingParams, options: CallbackListOptions = {}) {
    if (!Array.isArray(callbacks)) throw new ValueError(`callbacks must be an array; received ${typeof callbacks}`);
    const list = callbacks.map(checkCallback);
    const { addHistory = false, addProgressBar = false } = options;
    // Keras's order: the user's callbacks first, so History and the bar see what they add to logs.
    if (addHistory && !list.some((cb) => cb instanceof History)) list.push(new History());
    if (addProgressBar && params.verbose !== 0 && !list.some((cb) => cb instanceof ProgressBar))
      list.push(new ProgressBar({ verbose: params.verbose }));
    this.callbacks = list;
    this.history = list.find((cb): cb is History => cb instanceof History);
    for (const hook of HOOKS)
      this.byHook.set(
        hook,
        list.filter((cb) => typeof cb[hook] === 'function'),
      );
    this.setModel(model);
    this.setParams(params);
  }

  setModel(model: CallbackModel): void {
    for (const cb of this.callbacks) cb.setModel?.(model);
  }

  setParams(params: TrainingParams): void {
    for (const cb of this.callbacks) cb.setParams?.(params);
  }

  /** True when some callback has this hook: the trainer may skip building batch logs otherwise. */
  has(hook: HookName): boolean {
    return this.byHook.get(hook)!.length > 0;
  }

  onTrainBegin(logs?: Logs): Promise<void> {
    this.training = true;
    return this.phase('onTrainBegin', logs);
  }
  onTrainEnd(logs?: Logs): Promise<void> {
    this.training = false;
    return this.phase('onTrainEnd', logs);
  }
  onTestBegin(logs?: Logs): Promise<void> {
    if (!this.training) this.lastLogs = NO_LOGS;
    return this.phase('onTestBegin', logs);
  }
  onTestEnd(logs?: Logs): Promise<void> {
    return this.phase('onTestEnd', logs);
  }
  onPredictBegin(logs?: Logs): Promise<void> {
    return this.phase('onPredictBegin', logs);
  }
  onPredictEnd(logs?: Logs): Promise<void> {
    return this.phase('onPredictEnd', logs);
  }
  onEpochBegin(epoch: number, logs?: Logs): Promise<void> {
    this.lastLogs = NO_LOGS;
    return this.indexed('onEpochBegin', epoch, logs);
  }
  onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    return this.indexed('onEpochEnd', epoch, logs);
  }
  onBatchBegin(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onBatchBegin', batch, logs);
  }
  onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onBatchEnd', batch, logs);
  }
  onTestBatchBegin(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onTestBatchBegin', batch, logs);
  }
  onTestBatchEnd(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onTestBatchEnd', batch, logs);
  }
  onPredictBatchBegin(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onPredictBatchBegin', batch, logs);
  }
  onPredictBatchEnd(batch: number, logs?: Logs): Promise<void> {
    return this.indexed('onPredictBatchEnd', batch, logs);
  }

  /**
   * Calls a batch-end hook with the running logs, read from the backend only if some callback
   * takes them now (Note [Reading values without stalling] in models/epoch-loop.ts): any callback
   * but a progress bar, which takes fresh logs for its live line every LOGS_EVERY_MS and is
   * handed the last ones read otherwise (its plain epoch lines use the epoch's logs). So a fit
   * whose only batch hook is the bar reads a few times per second, or not at all off a terminal.
   * A callback with `wantsLogs` is treated alike: fresh logs when it asks, the last ones otherwise.
   */
  async batchEnd(hook: 'onBatchEnd' | 'onTestBatchEnd', batch: number, read: () => Promise<Logs>): Promise<void> {
    let logs: Logs | undefined;
    for (const cb of this.byHook.get(hook)!) {
      const fresh = cb instanceof ProgressBar ? this.barLogsDue(cb, hook) : (cb.wantsLogs?.(batch) ?? true);
      if (fresh && logs === undefined) {
        logs = await read();
        this.lastLogs = { at: performance.now(), logs };
      }
      await cb[hook]!(batch, logs ?? { ...this.lastLogs.logs });
    }
  }

  /** Whether a progress bar would show fresh logs now: a live line, drawing (not fit's validation), not updated for LOGS_EVERY_MS. */
  private barLogsDue(bar: ProgressBar, hook: 'onBatchEnd' | 'onTestBatchEnd'): boolean {
    if (!bar.live || (hook === 'onTestBatchEnd' && this.training)) return false;
    return performance.now() - this.lastLogs.at >= LOGS_EVERY_MS;
  }

  private async phase(hook: PhaseHook, logs: Logs | undefined): Promise<void> {
    const shared = logs ?? {};
    for (const cb of this.byHook.get(hook)!) await cb[hook]!(shared);
  }

  private async indexed(hook: IndexedHook, index: number, logs: Logs | undefined): Promise<void> {
    const shared = logs ?? {};
    for (const cb of this.byHook.get(hook)!) await cb[hook]!(index, shared);
  }
}
