import { GRU, LSTM, SimpleRNN, type GruArgs, type LstmArgs, type SimpleRnnArgs } from './recurrent.js';
import { Bidirectional, TimeDistributed, type BidirectionalArgs, type MergeMode, type TimeDistributedArgs } from './wrappers.js';
import { RecurrentLayer, type RecurrentArgs } from './recurrent-base.js';

export { GRU, LSTM, SimpleRNN, Bidirectional, TimeDistributed, RecurrentLayer };
export type { GruArgs, LstmArgs, SimpleRnnArgs, BidirectionalArgs, MergeMode, TimeDistributedArgs, RecurrentArgs };

/** The recurrent family's factories, spread into `st.layers` (Keras/tfjs names). */
export const recurrentLayers = {
  /**
   * A fully connected recurrent layer (Keras's SimpleRNN) over [batch, time, features]:
   * h_t = activation(x_t W + h_{t-1} U + b). Returns the last output, or every step's with
   * `returnSequences`.
   */
  simpleRNN: (args: SimpleRnnArgs) => new SimpleRNN(args),
  /**
   * A long short-term memory layer (Keras's LSTM, gate order i, f, c, o) over [batch, time,
   * features]; runs whole sequences in one kernel each way where the backend has one.
   * @example
   * ```ts
   * const lstm = st.layers.lstm({ units: 8, returnSequences: true });
   * console.log(lstm.apply(st.randomNormal([2, 5, 3])).shape); // [2, 5, 8]
   * ```
   */
  lstm: (args: LstmArgs) => new LSTM(args),
  /**
   * A gated recurrent unit layer (Keras's GRU, gate order z, r, h; `resetAfter` true by default as
   * in Keras 2+) over [batch, time, features].
   */
  gru: (args: GruArgs) => new GRU(args),
  /**
   * Runs a recurrent layer forward and a copy of it backward over the sequence and merges the two
   * (Keras's Bidirectional; default merge 'concat').
   */
  bidirectional: (args: BidirectionalArgs) => new Bidirectional(args),
  /** Applies a layer to every time step of [batch, time, ...] (Keras's TimeDistributed). */
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
};
