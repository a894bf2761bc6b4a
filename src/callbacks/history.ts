import { BaseCallback, type Logs } from './callback.js';

/**
 * Records every epoch's logs (Keras's History; model.fit returns it): `history.loss[i]` is the
 * loss of the i-th recorded epoch, `epoch` the epoch numbers (0-based, as Keras).
 */
export class History extends BaseCallback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};

  onTrainBegin(): void {
    this.epoch = [];
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs ?? {})) (this.history[key] ??= []).push(value);
  }
}
