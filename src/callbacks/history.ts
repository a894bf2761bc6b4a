import { BaseCallback, type Logs } from './callback.js';

/**
 * Records every epoch's logs (Keras's History; model.fit returns it): `history.loss[i]` is the
 * loss of the i-th recorded epoch, `epoch` the epoch numbers (0-based, as Keras).
 */
export class History extends BaseCallback {
  /** The epoch numbers recorded (0-based). */
  epoch: number[] = [];
  /** One array per log key (`loss`, `accuracy`, `val_loss`, ...), one value per epoch. */
  history: Record<string, number[]> = {};

  /** Clears the epoch list. */
  onTrainBegin(): void {
    this.epoch = [];
  }

  /** Records the epoch's logs. */
  onEpochEnd(epoch: number, logs?: Logs): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs ?? {})) (this.history[key] ??= []).push(value);
  }
}
