// How a Keras functional graph records a call of MultiHeadAttention or GroupQueryAttention, and
// the node Strata replays for it. Keras calls these layers as (query, value, key=None, ...): Keras 3
// writes the tensors as positional args or keywords, Keras 2 (tf.keras, and tfjs's converter) as
// the query's tensor reference with the others in its keyword entry. Strata's attention layers
// take the list [query, value, key] (Note [Attention inputs as a list] in nn/layers/attention.ts).

import { ValueError } from '../../core/errors.js';

type Config = Record<string, unknown>;
/** A Keras tensor reference [layer, node, tensor]. */
export type TensorRef = [string, number, number];

/** The Keras classes whose calls take (query, value, key) and keyword options. */
export const ATTENTION_CLASSES = ['MultiHeadAttention', 'GroupQueryAttention'];

/** Keyword options Strata replays, Keras's name → Strata's call option. */
const BOOLEAN_OPTIONS: Record<string, string> = { use_causal_mask: 'useCausalMask', training: 'training' };
/** Keyword inputs Strata has no place for: accepted only when absent (null), as Keras writes the defaults. */
const NULL_ONLY = ['attention_mask', 'query_mask', 'value_mask', 'key_mask'];

const excerpt = (v: unknown) => JSON.stringify(v)?.slice(0, 120);

/**
 * One attention call as Strata's node: the list [query, value, key] (value defaults to the query,
 * key to the value) and the call options kept (useCausalMask, training). `positional` holds the
 * call's positional arguments, `kwargs` its keywords; `tensor` reads one tensor in the file's form.
 */
export function attentionCall(
  where: string,
  positional: readonly unknown[],
  kwargs: Config,
  tensor: (what: string, v: unknown) => TensorRef,
): { args: TensorRef[]; listInput: true; callArgs: Config } {
  const roles = ['query', 'value', 'key'];
  if (positional.length > 3) throw new ValueError(`${where} passes ${positional.length} positional arguments; expected query, value and key at most`);
  const given: (unknown | undefined)[] = roles.map((role, i) => {
    if (i < positional.length && kwargs[role] !== undefined && kwargs[role] !== null)
      throw new ValueError(`${where} passes ${role} both by position and by keyword`);
    return i < positional.length ? positional[i] : (kwargs[role] ?? undefined);
  });
  if (given[0] === undefined) throw new ValueError(`${where} passes no query tensor`);
  const refs = given.map((v, i) => (v === undefined || v === null ? undefined : tensor(`${where}, ${roles[i]}`, v)));
  const query = refs[0]!;
  const value = refs[1] ?? query;
  const key = refs[2] ?? value;
  const callArgs: Config = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (roles.includes(k) || v === null || v === undefined) continue;
    if (k in BOOLEAN_OPTIONS && typeof v === 'boolean') callArgs[BOOLEAN_OPTIONS[k]] = v;
    else if (k === 'return_attention_scores' && v === false) continue;
    else {
      const why = NULL_ONLY.includes(k)
        ? 'masks passed as call arguments are not supported (Strata takes a mask from the inputs, as Keras does with Masking)'
        : k === 'return_attention_scores'
          ? 'only the attention output is imported'
          : 'Strata cannot replay this argument';
      throw new ValueError(`${where} passes ${k}=${excerpt(v)}: ${why}`);
    }
  }
  return { args: [query, value, key], listInput: true, callArgs };
}
