// Squeeze-and-excitation (Hu et al. 2018, "Squeeze-and-Excitation Networks"): a block usable in
// any functional model, and SE-ResNet50 built from it.
import { fmtValue, ValueError } from '../core/errors.js';
import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import { formatShape, isSymbolic, type SymbolicTensor } from '../nn/symbolic.js';
import { type ApplicationArgs, channelsOf, on } from './common.js';
import { RESNET50_V1, resNetV1 } from './resnet.js';

/** The options of `st.applications.seBlock`. */
export interface SeBlockArgs {
  /** The reduction ratio r: the bottleneck has channels / r units (at least 1); default 16, the paper's. */
  ratio?: number;
  /** The prefix of the block's layer names (`<name>_se_squeeze`, ...); default: automatic layer names. */
  name?: string;
}

/**
 * Squeeze-and-excitation of an NHWC feature map: global average pooling, a dense bottleneck of
 * channels / ratio ReLU units, channels sigmoid gates, and the input scaled channel by channel
 * by its gates. The dense layers have biases, so a block adds 2·C²/r + C/r + C parameters: the
 * paper's 2·C²/r plus the biases it leaves out.
 * @example
 * ```ts
 * const x = st.layers.input({ shape: [32, 32, 64] });
 * const y = st.applications.seBlock(x, { ratio: 16, name: 'stage1' });   // same shape as x
 * ```
 */
export function seBlock(x: SymbolicTensor, args: SeBlockArgs = {}): SymbolicTensor {
  const extra = Object.keys(args).filter((k) => k !== 'ratio' && k !== 'name');
  if (extra.length) throw new ValueError(`seBlock: unknown option ${extra.map((k) => `'${k}'`).join(', ')}; options are ratio, name`);
  if (!isSymbolic(x) || x.shape.length !== 4 || x.shape[3] === null) {
    throw new ValueError(
      `seBlock: expects a symbolic [batch, height, width, channels] tensor with known channels (from st.layers.input() and layer calls); received ${isSymbolic(x) ? `shape ${formatShape(x.shape)}` : fmtValue(x)}`,
    );
  }
  const ratio = args.ratio ?? 16;
  if (typeof ratio !== 'number' || !(ratio > 0) || !Number.isFinite(ratio))
    throw new ValueError(`seBlock: ratio must be a positive number; received ${fmtValue(args.ratio)}`);
  const channels = channelsOf(x);
  const named = (suffix: string) => (args.name === undefined ? undefined : `${args.name}_se_${suffix}`);
  let s = on(layers.globalAveragePooling2d({ name: named('squeeze') }), x);
  s = on(layers.dense({ units: Math.max(1, Math.floor(channels / ratio)), activation: 'relu', name: named('reduce') }), s);
  s = on(layers.dense({ units: channels, activation: 'sigmoid', name: named('expand') }), s);
  s = on(layers.reshape({ targetShape: [1, 1, channels], name: named('reshape') }), s);
  return on(layers.multiply({ name: named('excite') }), [x, s]);
}

/** The options of `st.applications.seResNet50`: Keras's application options and the SE ratio. */
export interface SeResNetArgs extends ApplicationArgs {
  /** The SE blocks' reduction ratio; default 16. */
  seRatio?: number;
}

/**
 * SE-ResNet50: Keras's ResNet50 with a squeeze-and-excitation block on every residual branch,
 * before the addition (the paper's SE-ResNet module). At ratio 16 that adds the paper's
 * (2/r)·Σ N·C² = 2,514,944 weights and 16,048 biases to ResNet50's 25,636,712: 28,167,704.
 */
export function seResNet50(args: SeResNetArgs = {}): Model {
  const ratio = args.seRatio ?? 16;
  return resNetV1('seResNet50', RESNET50_V1, args, 'se_resnet50', (y, name) => seBlock(y, { ratio, name }), ['seRatio']);
}
