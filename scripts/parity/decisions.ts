// The decisions of the parity table (table.ts) for the names whose Strata counterpart is not
// found by spelling alone: an alias, a note on a difference, or the reason a name is planned or
// left out. Each reason is a decision, not a postponement: 'planned' names what issue 23 will
// add and how; 'left out' says why Strata will not have it. The tables are split by library.
import type { Decision } from './decision-kit.js';
import { KERAS_DECISIONS } from './decisions-keras.js';
import { KERAS_OPS_DECISIONS } from './decisions-keras-ops.js';
import { TFJS_DECISIONS } from './decisions-tfjs.js';
import type { SourceId } from './sources.js';

export { STATUS_MEANING, type Decision, type Status } from './decision-kit.js';

export const DECISIONS: Partial<Record<SourceId, Record<string, Decision>>> = {
  ...TFJS_DECISIONS,
  ...KERAS_DECISIONS,
  'keras.ops': KERAS_OPS_DECISIONS,
};
