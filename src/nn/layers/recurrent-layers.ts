import { GRU, LSTM, SimpleRNN, type GruArgs, type LstmArgs, type SimpleRnnArgs } from './recurrent.js';
import { Bidirectional, TimeDistributed, type BidirectionalArgs, type MergeMode, type TimeDistributedArgs } from './wrappers.js';
import { RecurrentLayer, type RecurrentArgs } from './recurrent-base.js';
import { SequenceLayer, type SequenceArgs } from './rnn-base.js';
import {
  GRUCell,
  LSTMCell,
  SimpleRNNCell,
  type GruCellArgs,
  type LstmCellArgs,
  type RecurrentCellArgs,
  type RnnCell,
  type RnnCellLike,
  type SimpleRnnCellArgs,
} from './rnn-cells.js';
import { RNN, StackedRNNCells, type RnnArgs, type StackedRnnCellsArgs } from './rnn.js';
import {
  ConvLSTM1D,
  ConvLSTM2D,
  ConvLSTM2DCell,
  ConvLSTM3D,
  ConvLSTMCell,
  convLstmLayers,
  type ConvLstmArgs,
  type ConvLstmCellArgs,
} from './conv-lstm.js';

export { GRU, LSTM, SimpleRNN, Bidirectional, TimeDistributed, RecurrentLayer, SequenceLayer };
export { SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, RNN, ConvLSTMCell, ConvLSTM2DCell, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D };
export type { ConvLstmArgs, ConvLstmCellArgs };
export type { GruArgs, LstmArgs, SimpleRnnArgs, BidirectionalArgs, MergeMode, TimeDistributedArgs, RecurrentArgs, SequenceArgs };
export type { SimpleRnnCellArgs, LstmCellArgs, GruCellArgs, RecurrentCellArgs, RnnCell, RnnCellLike, RnnArgs, StackedRnnCellsArgs };

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
  /**
   * Steps any cell through time (Keras's RNN): a built-in cell, a list of cells (stacked) or a
   * user cell, a Layer subclass with `stateSize` whose `call([input, ...states])` returns
   * `[output, ...newStates]`; the masks, initial states and output options are those of lstm.
   * @example
   * ```ts
   * const layer = st.layers.rnn({ cell: st.layers.gruCell({ units: 4 }), returnSequences: true });
   * console.log(layer.apply(st.randomNormal([2, 5, 3])).shape); // [2, 5, 4]
   * ```
   */
  rnn: (args: RnnArgs) => new RNN(args),
  /** One step of a SimpleRNN (Keras's SimpleRNNCell), for st.layers.rnn or applied to [input, h]. */
  simpleRNNCell: (args: SimpleRnnCellArgs) => new SimpleRNNCell(args),
  /** One step of an LSTM (Keras's LSTMCell, gates i, f, c, o), applied to [input, h, c] it returns [h, h, c]. */
  lstmCell: (args: LstmCellArgs) => new LSTMCell(args),
  /** One step of a GRU (Keras's GRUCell, gates z, r, h; resetAfter by default), applied to [input, h]. */
  gruCell: (args: GruCellArgs) => new GRUCell(args),
  /** Several cells run as one cell, each one's output the next one's input (Keras's StackedRNNCells). */
  stackedRNNCells: (args: StackedRnnCellsArgs) => new StackedRNNCells(args),
  ...convLstmLayers,
  /** Applies a layer to every time step of [batch, time, ...] (Keras's TimeDistributed). */
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
};
