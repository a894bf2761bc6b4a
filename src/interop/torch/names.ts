// Which PyTorch module becomes which Strata layer (Note [PyTorch names]).
//
// Note [PyTorch names]
// A state dict names tensors `<module>.<param>` (`layer1.0.conv1.weight`); the module part is
// mapped to a Strata layer and the param part to one of its weights by the layer's class
// (layouts.ts). Mappings:
// - a record or a function from torch names to Strata names: a value with a slash is a weight
//   path (`conv1/kernel`) for that one tensor, a value without one is a layer name and the
//   tensor's param picks the weight. A record's keys may be tensor names or module names (the
//   tensor's own name is looked up first);
// - 'torchvision': torchvision's ResNet-18/34 names onto st.applications' resNet18/resNet34
//   (conv1 -> conv1_conv, layerS.B.convK -> conv{S+1}_block{B+1}_K_conv, downsample.0/1 -> _0_conv/_0_bn, fc -> predictions);
// - 'order': the file's modules in the order they were saved (PyTorch saves a module's
//   parameters in registration order, which is execution order for nn.Sequential) paired with
//   the model's layers that have weights, in execution order;
// - 'auto' (the default): 'torchvision' when the file holds `layer1.0.conv1.weight` and the model
//   has a layer `conv2_block1_1_conv`, else 'order'.
import { ValueError, fmtValue } from '../../core/errors.js';
import { Model } from '../../models/model.js';
import type { Layer } from '../../nn/layer.js';

/** Torch tensor or module names to Strata weight paths (`layer/weight`) or layer names. */
export type TorchNameMap = Readonly<Record<string, string>>;

/** How torch names become Strata names (Note [PyTorch names]). */
export type TorchMapping = 'auto' | 'torchvision' | 'order' | TorchNameMap | ((torchName: string) => string | null | undefined);

// Note [Stacked and bidirectional recurrent modules]
// One nn.LSTM/GRU/RNN with num_layers > 1 holds every layer's parameters, suffixed _l0, _l1, ...;
// Strata has one layer per level (an LSTM, or a Bidirectional around one). So a parameter of
// level k > 0 belongs to the virtual module `<module>@l<k>` under the level-0 name
// (`rnn.weight_ih_l1` is `weight_ih_l0` of module `rnn@l1`): pairing by order, mappings by module
// name and saving then treat each level as a module of its own. The _reverse parameters of a
// bidirectional module stay with their level (layouts.ts maps them to the backward layer).
const LEVEL_PARAM = /^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/;
const LEVEL_MODULE = /^(.*)@l(\d+)$/;

/** A torch tensor name split at its last dot: the module (possibly '', or a level `rnn@l1`) and the param. */
export function splitName(name: string): { module: string; param: string } {
  const dot = name.lastIndexOf('.');
  const module = dot < 0 ? '' : name.slice(0, dot),
    param = dot < 0 ? name : name.slice(dot + 1);
  const level = LEVEL_PARAM.exec(param);
  if (level && level[2] !== '0') return { module: `${module}@l${Number(level[2])}`, param: `${level[1]}_l0${level[3] ?? ''}` };
  return { module, param };
}

/** splitName's inverse: a module (a level `rnn@l1` included) and a param as the torch tensor name. */
export function joinName(module: string, param: string): string {
  const level = LEVEL_MODULE.exec(module);
  if (level) return joinName(level[1], param.replace(/_l0(_reverse)?$/, `_l${level[2]}$1`));
  return module === '' ? param : `${module}.${param}`;
}

/** The model's layers that hold weights, in execution order, nested models flattened. */
export function weightedLayers(model: Model): Layer[] {
  const out: Layer[] = [];
  const seen = new Set<Layer>();
  const visit = (m: Model) => {
    for (const layer of m.layers) {
      if (seen.has(layer)) continue;
      seen.add(layer);
      if (layer instanceof Model) visit(layer);
      else if (layer.weights.length > 0) out.push(layer);
    }
  };
  visit(model);
  return out;
}

const RESNET_BLOCK = /^layer(\d+)\.(\d+)\.(conv|bn|downsample\.)(\d+)$/;
const STRATA_BLOCK = /^conv(\d+)_block(\d+)_(\d+)_(conv|bn)$/;
const RESNET_STEM: Readonly<Record<string, string>> = { conv1: 'conv1_conv', bn1: 'conv1_bn', fc: 'predictions' };

/** torchvision's ResNet module name as st.applications' layer name; undefined for others. */
export function torchvisionToStrata(module: string): string | undefined {
  if (Object.hasOwn(RESNET_STEM, module)) return RESNET_STEM[module];
  const m = RESNET_BLOCK.exec(module);
  if (!m) return undefined;
  const block = `conv${Number(m[1]) + 1}_block${Number(m[2]) + 1}`;
  if (m[3] === 'downsample.') return m[4] === '0' ? `${block}_0_conv` : m[4] === '1' ? `${block}_0_bn` : undefined;
  return `${block}_${m[4]}_${m[3]}`;
}

/** The inverse of torchvisionToStrata. */
export function strataToTorchvision(layer: string): string | undefined {
  const stem = Object.entries(RESNET_STEM).find(([, s]) => s === layer);
  if (stem) return stem[0];
  const m = STRATA_BLOCK.exec(layer);
  if (!m) return undefined;
  const prefix = `layer${Number(m[1]) - 1}.${Number(m[2]) - 1}`;
  if (m[3] === '0') return `${prefix}.downsample.${m[4] === 'conv' ? 0 : 1}`;
  return `${prefix}.${m[4]}${m[3]}`;
}

/** Whether 'auto' means 'torchvision' for this model (and, when loading, this file's names). */
export function looksLikeTorchvisionResNet(model: Model, torchNames?: readonly string[]): boolean {
  const hasBlock = weightedLayers(model).some((l) => l.name === 'conv2_block1_1_conv');
  return hasBlock && (torchNames === undefined || torchNames.includes('layer1.0.conv1.weight'));
}

/** A mapping option, checked when the call is made. */
export function checkMapping(op: string, mapping: unknown): TorchMapping {
  if (mapping === undefined) return 'auto';
  if (mapping === 'auto' || mapping === 'torchvision' || mapping === 'order' || typeof mapping === 'function') return mapping as TorchMapping;
  if (typeof mapping === 'object' && mapping !== null && !Array.isArray(mapping)) {
    for (const [key, value] of Object.entries(mapping)) {
      if (typeof value !== 'string' || value === '') {
        throw new ValueError(`${op}: mapping values must be Strata layer names or weight paths; received ${fmtValue(value)} for '${key}'`);
      }
    }
    return mapping as TorchNameMap;
  }
  throw new ValueError(`${op}: mapping must be 'auto', 'torchvision', 'order', an object of names or a function; received ${fmtValue(mapping)}`);
}
