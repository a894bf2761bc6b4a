// One Strata weight as PyTorch stores it: the parameter names and the conversion between the
// two layouts. layouts.ts and recurrent-layouts.ts build their rules from these.
import { transpose } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * The torch parameters that make up one Strata weight: usually one (`weight` -> `kernel`), two
 * for a Keras LSTM's single bias (PyTorch's `bias_ih_l0` + `bias_hh_l0`).
 */
export interface TorchParam {
  /** The parameters' names inside their module (`weight`, `bias`, `running_mean`, ...). */
  readonly torch: readonly string[];
  /** The Strata weight's name inside its layer (`kernel`, `gamma`, ...). */
  readonly strata: string;
  /** The shapes PyTorch stores for a Strata weight of this shape, one per name of `torch`. */
  torchShapes(strataShape: readonly number[]): number[][];
  /** Tensors of torchShapes(strataShape) as the Strata weight. */
  toStrata(ts: readonly Tensor[], strataShape: readonly number[]): Tensor;
  /** A Strata weight as PyTorch's tensors, one per name of `torch`. */
  toTorch(t: Tensor): Tensor[];
}

/** A weight that is one torch tensor, in a layout `toStrata`/`toTorch` convert. */
export function single(
  torch: string,
  strata: string,
  torchShape: (s: readonly number[]) => number[],
  toStrata: (t: Tensor, s: readonly number[]) => Tensor,
  toTorch: (t: Tensor) => Tensor,
): TorchParam {
  return {
    torch: [torch],
    strata,
    torchShapes: (s) => [torchShape(s)],
    toStrata: ([t], s) => toStrata(t, s),
    toTorch: (t) => [toTorch(t)],
  };
}

export const same = (torch: string, strata: string): TorchParam =>
  single(
    torch,
    strata,
    (s) => [...s],
    (t) => t,
    (t) => t,
  );

/** A layout that is a permutation of the axes: `toStrata` permutes PyTorch's axes into Strata's. */
export function permuted(torch: string, strata: string, toStrata: number[]): TorchParam {
  const toTorch = toStrata.map((_, i) => toStrata.indexOf(i));
  return single(
    torch,
    strata,
    (s) => toTorch.map((axis) => s[axis]),
    (t) => transpose(t, toStrata),
    (t) => transpose(t, toTorch),
  );
}
