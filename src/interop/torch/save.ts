// A Strata model's weights as a PyTorch state dict: PyTorch's names and layouts, in the order
// torch.nn registers parameters (a module's weight, bias, running_mean, running_var), so
// `module.load_state_dict(...)` takes them strictly (PyTorch fills in num_batches_tracked itself).
import { ValueError, fmtValue } from '../../core/errors.js';
import type { Model } from '../../models/model.js';
import type { Layer } from '../../nn/layer.js';
import { clone } from '../../ops/tfjs-aliases.js';
import { noGrad } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { torchParamsOf, weightOf } from './layouts.js';
import { type TorchMapping, checkMapping, joinName, looksLikeTorchvisionResNet, strataToTorchvision, weightedLayers } from './names.js';

/** One tensor of a state dict: PyTorch's name (`layer1.0.conv1.weight`) and the values in PyTorch's layout. */
export interface StateDictEntry {
  /** The tensor's name in the state dict. */
  name: string;
  /** Its values, in PyTorch's layout (a fresh tensor). */
  tensor: Tensor;
}

/** Options of `st.torch.stateDict` and `st.torch.saveStateDict`. */
export interface StateDictOptions {
  /**
   * How Strata layers get PyTorch names: 'auto' (the default: 'torchvision' for st.applications'
   * resNet18/resNet34, else 'order'), 'torchvision', 'order', or a record from torch names to
   * Strata layer names or weight paths (the one `loadStateDict` takes, read backwards).
   */
  mapping?: Exclude<TorchMapping, (name: string) => unknown>;
  /**
   * With 'order': the PyTorch module names of the model's layers with weights, in order (an
   * nn.Sequential of Linear, ReLU, Linear is ['0', '2']); by default the Strata layer names.
   * Level k > 0 of a torch LSTM/GRU with num_layers > 1 is the module `<name>@l<k>`: layers
   * saved as ['rnn', 'rnn@l1'] get `rnn.weight_ih_l0` and `rnn.weight_ih_l1`.
   */
  moduleNames?: readonly string[];
}

/** The torch module name of each layer under a record mapping (a layer-name value is a module). */
function invertRecord(mapping: Readonly<Record<string, string>>): { modules: Map<string, string>; tensors: Map<string, string> } {
  const modules = new Map<string, string>();
  const tensors = new Map<string, string>();
  for (const [torchName, strata] of Object.entries(mapping)) (strata.includes('/') ? tensors : modules).set(strata, torchName);
  return { modules, tensors };
}

function moduleNamesOf(
  op: string,
  mapping: TorchMapping,
  layers: Layer[],
  moduleNames: readonly string[] | undefined,
): (layer: Layer, i: number) => string | undefined {
  if (mapping === 'torchvision') return (layer) => strataToTorchvision(layer.name);
  if (mapping === 'order') {
    if (
      moduleNames !== undefined &&
      (!Array.isArray(moduleNames) || moduleNames.length !== layers.length || !moduleNames.every((n) => typeof n === 'string'))
    ) {
      throw new ValueError(
        `${op}: moduleNames must list one PyTorch module name per layer with weights (${layers.length}: ${layers.map((l) => l.name).join(', ')}); received ${fmtValue(moduleNames)}`,
      );
    }
    return (layer, i) => moduleNames?.[i] ?? layer.name;
  }
  const { modules } = invertRecord(mapping as Readonly<Record<string, string>>);
  return (layer) => modules.get(layer.name);
}

/**
 * The model's weights as PyTorch names them and in PyTorch's layouts (fresh tensors). Throws a
 * ValueError listing every layer whose weights have no PyTorch layout or no name.
 */
export function stateDict(model: Model, options: StateDictOptions = {}): StateDictEntry[] {
  const op = 'torch.stateDict';
  const checked = checkMapping(op, options.mapping);
  if (typeof checked === 'function') throw new ValueError(`${op}: a function mapping only loads (it cannot be inverted); pass a record of names`);
  const layers = weightedLayers(model);
  if (layers.length === 0)
    throw new ValueError(`${op}: model '${model.name}' has no weights yet; build it first (give an inputShape or call it once)`);
  const mapping = checked === 'auto' ? (looksLikeTorchvisionResNet(model) ? 'torchvision' : 'order') : checked;
  const moduleOf = moduleNamesOf(op, mapping, layers, options.moduleNames);
  const tensorNames = typeof mapping === 'object' ? invertRecord(mapping).tensors : new Map<string, string>();
  const problems: string[] = [];
  const out: StateDictEntry[] = [];
  layers.forEach((layer, i) => {
    const params = torchParamsOf(layer);
    if (params === undefined) {
      problems.push(`layer '${layer.name}' is a ${layer.className}, whose PyTorch layout Strata does not know`);
      return;
    }
    const module = moduleOf(layer, i);
    for (const param of params) {
      const weight = weightOf(layer, param)!;
      // A weight path in a record names a one-tensor weight; PyTorch's parts of a weight (an
      // LSTM's two biases) are named after their module.
      const own = param.torch.length === 1 ? tensorNames.get(weight.path) : undefined;
      const names = own !== undefined ? [own] : module === undefined ? undefined : param.torch.map((p) => joinName(module, p));
      if (names === undefined) {
        problems.push(`Strata weight '${weight.path}' has no PyTorch name (the mapping names neither it nor layer '${layer.name}')`);
        continue;
      }
      const tensors = noGrad(() => param.toTorch(weight.value).map((t) => clone(t)));
      names.forEach((name, k) => out.push({ name, tensor: tensors[k] }));
    }
  });
  if (problems.length) throw new ValueError(`${op}: cannot name model '${model.name}' in PyTorch's terms:\n  ${problems.join('\n  ')}`);
  return out;
}
