import { GRU, LSTM, SimpleRNN, type GruArgs, type LstmArgs, type SimpleRnnArgs } from './recurrent.js';
import { Bidirectional, TimeDistributed, type BidirectionalArgs, type MergeMode, type TimeDistributedArgs } from './wrappers.js';
import { RecurrentLayer, type RecurrentArgs } from './recurrent-base.js';

export { GRU, LSTM, SimpleRNN, Bidirectional, TimeDistributed, RecurrentLayer };
export type { GruArgs, LstmArgs, SimpleRnnArgs, BidirectionalArgs, MergeMode, TimeDistributedArgs, RecurrentArgs };

/** The recurrent family's factories, spread into `st.layers` (Keras/tfjs names). */
export const recurrentLayers = {
  simpleRNN: (args: SimpleRnnArgs) => new SimpleRNN(args),
  lstm: (args: LstmArgs) => new LSTM(args),
  gru: (args: GruArgs) => new GRU(args),
  bidirectional: (args: BidirectionalArgs) => new Bidirectional(args),
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
};
