// A tfjs LayersModel's parts (topology and decoded weights) made into a Strata model: the
// converted config is rebuilt by the layer registry within a weight budget of the file's own
// weights, then every weight is found by its layer's Keras name and checked against its shape.

import { FormatError, StrataError, fmtShape } from '../../core/errors.js';
import { shapesEqual } from '../../core/shape.js';
import { Model } from '../../models/model.js';
import { Sequential } from '../../models/sequential.js';
import type { Layer } from '../../nn/layer.js';
import { withWeightBudget } from '../../nn/layer.js';
import { deserializeLayer } from '../../nn/registry.js';
import { tensor } from '../../tensor/create.js';
import { convertTopology } from './topology.js';
import { type DecodedWeight, type WeightGroup, decodeWeights } from './weights.js';

/** Manifest names without TensorFlow's output suffix (`conv1/kernel:0` → `conv1/kernel`). */
const bare = (name: string) => name.replace(/:\d+$/, '');

/**
 * The decoded weight for a layer's weight: `layer/weight` exactly, else the one name that has the
 * layer as a path segment and ends with the weight (TF 2.x may prefix the model's scope, or put a
 * recurrent layer's weights under its cell: `lstm/lstm_cell/kernel`).
 */
function find(byName: Map<string, DecodedWeight>, names: string[], layer: string, weight: string): string | undefined {
  const key = `${layer}/${weight}`;
  if (byName.has(key)) return key;
  const scoped = names.filter((n) => n.endsWith(`/${weight}`) && n.split('/').slice(0, -1).includes(layer));
  return scoped.length === 1 ? scoped[0] : undefined;
}

/**
 * The nth weight named `weight` under `layer`, in the file's order, for a layer holding several
 * weights of one name: an RNN over stacked cells (tfjs's rnn/RNNCell_0/kernel, rnn/RNNCell_1/kernel),
 * whose cells Strata lists in the same order.
 */
function findNth(names: string[], layer: string, weight: string, nth: number): string | undefined {
  return names.filter((n) => n.endsWith(`/${weight}`) && n.split('/').slice(0, -1).includes(layer))[nth];
}

/** The layers that hold weights: a nested model's own layers, not the model. */
const leaves = (model: Model): Layer[] => model.layers.flatMap((l) => (l instanceof Model ? leaves(l) : [l]));

/**
 * Sets every layer's weights from the decoded ones, found by Keras name (`layer/weight`, `:0`
 * suffixes ignored); every weight of each side must be matched. Also used for legacy Keras `.h5`
 * files, whose weights carry the same names.
 */
export function assignWeights(
  model: Model,
  file: string,
  decoded: Map<string, DecodedWeight>,
  weightNames: Map<string, Record<string, string>>,
): void {
  const byName = new Map([...decoded].map(([n, w]) => [bare(n), w]));
  if (byName.size !== decoded.size) throw new FormatError(`${file}: two weights share a name once ':0' suffixes are dropped`);
  const names = [...byName.keys()];
  const used = new Set<string>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const layer of leaves(model)) {
    const seen = new Map<string, number>();
    const values = layer.weights.map((w) => {
      const wanted = weightNames.get(layer.name)?.[w.name] ?? w.name;
      const nth = seen.get(wanted) ?? 0;
      seen.set(wanted, nth + 1);
      const repeated = layer.weights.filter((o) => (weightNames.get(layer.name)?.[o.name] ?? o.name) === wanted).length > 1;
      const name = repeated ? findNth(names, layer.name, wanted, nth) : find(byName, names, layer.name, wanted);
      if (name === undefined) {
        missing.push(`${layer.name}/${w.name} ${fmtShape(w.value.shape)}`);
        return undefined;
      }
      const d = byName.get(name)!;
      used.add(name);
      if (!shapesEqual(d.shape, w.value.shape)) {
        // Every disagreement is reported together: one architecture change often shifts several shapes.
        mismatched.push(
          `weight '${name}' has shape ${fmtShape(d.shape)}; layer '${layer.name}' expects ${fmtShape(w.value.shape)} for its ${w.name}`,
        );
        return undefined;
      }
      return tensor(d.values, d.shape, d.dtype === 'bool' ? 'bool' : w.value.dtype);
    });
    if (values.every((v) => v !== undefined) && values.length) layer.setWeights(values as NonNullable<(typeof values)[number]>[]);
  }
  if (mismatched.length) {
    const more = mismatched.length > 8 ? `; and ${mismatched.length - 8} more` : '';
    throw new FormatError(`${file}: ${mismatched.slice(0, 8).join('; ')}${more}`);
  }
  if (missing.length)
    throw new FormatError(`${file}: the weights manifest lacks ${missing.length} weight(s) the model needs: ${missing.slice(0, 5).join(', ')}`);
  const extra = names.filter((n) => !used.has(n));
  if (extra.length)
    throw new FormatError(`${file}: the weights manifest lists ${extra.length} weight(s) no layer has: ${extra.slice(0, 5).join(', ')}`);
}

/**
 * Rebuilds the model a Keras config describes (converted by topology.ts) through the layer
 * registry, creating at most `weightBytes` of weights (the file's own), so a config claiming 2^28
 * units is refused before allocating. Its weights are still the initial ones.
 * @throws ValueError listing every unsupported layer; FormatError naming `file` for anything malformed.
 */
export function rebuildModel(
  file: string,
  topology: unknown,
  weightBytes: number,
  importer = 'tfjs',
): { model: Model; weightNames: Map<string, Record<string, string>> } {
  const { spec, weightNames } = convertTopology(file, topology, importer);
  let model: Model;
  try {
    model = withWeightBudget(weightBytes, `the weights listed in ${file}`, () => deserializeLayer(spec, 'model')) as Model;
  } catch (e) {
    if (e instanceof StrataError && !(e instanceof FormatError)) throw new FormatError(`${file}: ${e.message}`);
    if (e instanceof TypeError || e instanceof RangeError) throw new FormatError(`${file}: malformed model config (${e.message})`);
    throw e;
  }
  // A Sequential whose first layer is a nested model has no input shape of its own: it takes the
  // nested model's, as Keras does, so its weights exist before they are assigned.
  const first = model.layers[0];
  if (model instanceof Sequential && !model.built && first instanceof Model) model.build(first.inputs[0].shape);
  return { model, weightNames };
}

/**
 * Builds the Strata model of a tfjs LayersModel. `file` names model.json (or 'tfjs artifacts') in
 * errors; errors in weight shards name the shard.
 * @throws ValueError listing every unsupported layer; FormatError for anything malformed.
 */
export function buildModel(file: string, topology: unknown, groups: WeightGroup[]): Model {
  convertTopology(file, topology); // unsupported layers are reported before the weights are read
  const decoded = decodeWeights(file, groups);
  const bytes = [...decoded.values()].reduce((n, w) => n + w.values.byteLength, 0);
  const { model, weightNames } = rebuildModel(file, topology, bytes);
  assignWeights(model, file, decoded, weightNames);
  return model;
}
