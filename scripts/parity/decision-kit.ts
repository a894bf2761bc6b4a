// What the decision tables of the parity table share: the status vocabulary, shorthands and the
// reasons that apply to many names.

export type Status = 'implemented' | 'alias' | 'planned' | 'left out';

export const STATUS_MEANING: Record<Status, string> = {
  implemented: 'Strata has it under the same name; a note says where it differs.',
  alias: 'Strata has it under another name or in another form (the Strata column), with what differs in the notes.',
  planned: 'not in Strata yet; issue 23 plans it, as the note says.',
  'left out': 'Strata will not have it, for the reason in the note.',
};

export interface Decision {
  status: Status;
  strata?: string;
  note?: string;
  /** Strata has a function of this name that is not the counterpart (keras.ops.normalize vs st.normalize). */
  unrelatedNamesake?: boolean;
}

export const alias = (strata: string, note = ''): Decision => ({ status: 'alias', strata, note });
export const same = (strata: string, note: string): Decision => ({ status: 'implemented', strata, note });
export const planned = (note: string, unrelatedNamesake = false): Decision => ({ status: 'planned', note, unrelatedNamesake });
export const leftOut = (note: string): Decision => ({ status: 'left out', note });

/** One decision for several names. */
export function each(names: readonly string[], decision: Decision): Record<string, Decision> {
  return Object.fromEntries(names.map((n) => [n, decision]));
}

// Reasons shared by both libraries.
export const REASON = {
  strings: leftOut('Strata has no string dtype: text is turned into numbers before it becomes a tensor'),
  complex: leftOut('Strata has no complex dtype (float32, float64, int32 and bool only)'),
  spectral: leftOut('needs complex numbers, which Strata leaves out; audio features are computed before training'),
  windows: leftOut('signal-processing windows go with the spectral transforms, which Strata leaves out'),
  sparse: leftOut('Strata has dense tensors only (no sparse or ragged storage)'),
  async: leftOut("Strata's ops run synchronously and data() is available at once; the synchronous op does this"),
  bitwise: leftOut(
    'bit operations on int32 need kernels of their own (no exact composite of the arithmetic primitives) and no layer, loss or metric uses them',
  ),
  decomposition: leftOut('matrix factorizations need LAPACK-class kernels, which Strata (a training library) does not link; no layer uses them'),
  conv3d: planned(
    'issue 23: the layer on st.conv3d, st.maxPool3d and st.avgPool3d, which are in place (Note [3-D convolution and pooling as gathers])',
  ),
  layers: planned('issue 23: layers are the next part of issue 23 (another round); the ops they need are in place'),
  metrics: planned('issue 23: metrics are the next part of issue 23 (another round)'),
};
