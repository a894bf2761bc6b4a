// What training shows: the progress bar and its line of text, the curves, the test digits.
import { Charts } from './charts.js';
import { SampleGrid } from './samples.js';
import type { TrainState } from './trainer.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** 12 s, 2 min 5 s. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

export class TrainView {
  readonly charts = new Charts($('loss-chart'), $('accuracy-chart'));
  readonly samples = new SampleGrid($('samples'), $('samples-summary'), 40);
  private readonly bar = $<HTMLProgressElement>('progress');
  private readonly status = $('status');

  /** A line in place of the progress text (loading, errors). */
  say(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  /** After each step: the bar and its text now, the curves soon. */
  step(state: TrainState, epochs: number): void {
    this.bar.max = state.totalSteps;
    this.bar.value = state.step;
    const left = state.msPerStep ? ((state.totalSteps - state.step) * state.msPerStep) / 1000 : undefined;
    const last = state.epochs.at(-1);
    this.say(
      `epoch ${state.epoch + 1} of ${epochs} · step ${state.step} of ${state.totalSteps}` +
        (state.msPerStep ? ` · ${state.msPerStep.toFixed(0)} ms a step` : '') +
        (left !== undefined ? ` · about ${duration(left)} left` : '') +
        (last ? ` · test accuracy after epoch ${last.epoch + 1}: ${percent(last.valAccuracy)}` : ''),
    );
    this.charts.update(state);
  }

  /** After each epoch: the curves at once. */
  epoch(state: TrainState): void {
    this.charts.update(state, true);
  }

  /** When training ends, stopped or not. */
  finished(state: TrainState): void {
    this.charts.update(state, true);
    if (state.error) {
      this.say(`Training failed: ${state.error}`, true);
      return;
    }
    const how = state.stopped ? `Stopped after step ${state.step} of ${state.totalSteps}` : `Trained ${state.step} steps`;
    const accuracy = state.accuracy === undefined ? '' : `: ${percent(state.accuracy)} of the held-out test images read right`;
    this.bar.value = state.stopped ? state.step : this.bar.max;
    this.say(`${how} in ${duration(state.seconds ?? 0)}${accuracy}.`);
  }
}
