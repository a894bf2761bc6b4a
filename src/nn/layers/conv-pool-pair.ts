import { fusedConv2dMaxPool } from '../../ops/conv-pool.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Layer } from '../layer.js';
import { Conv2D } from './conv.js';
import { MaxPooling2D } from './pooling.js';

// Note [Fused layer pairs]
// A Conv2D with a bias and a ReLU, then a MaxPooling2D: the block of every classic convnet. A
// model runs such a pair as one st.fused.conv2dMaxPool when nothing else reads the
// convolution's output (always in a Sequential; in a functional model when the pooling is its
// only reader and it is not a model output): one kernel each way where the input has few
// channels (Note [Convolution and pooling in one pass] in ops/conv-pool.ts), and exactly the
// two layers' own ops otherwise. Both layers are still built and checked as apply() would,
// keep their weights, configs and summaries, and calling them one by one gives the same
// values. Exact classes only: a subclass may have changed call().

/** Whether `first` then `second` may run as one fused op. */
export function fusesWithPool(first: Layer, second: Layer): boolean {
  return first.constructor === Conv2D && second.constructor === MaxPooling2D && (first as Conv2D).fusesReluAndBias();
}

/** The output of `pool` applied to the output of `conv` on x, in one fused op (see the Note). */
export function applyConvPool(conv: Layer, pool: Layer, x: Tensor): Tensor {
  const c = conv as Conv2D,
    p = pool as MaxPooling2D;
  c.prepare(x.shape);
  p.prepare(c.computeOutputShape(x.shape));
  return fusedConv2dMaxPool({
    x,
    filter: c.kernel!,
    bias: c.bias!,
    activation: 'relu',
    strides: c.strides,
    padding: c.padding,
    dilation: c.dilationRate,
    pool: p.poolOptions(),
  });
}
