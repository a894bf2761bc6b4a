// st.vis: looking inside trained networks through gradients with respect to their inputs
// (saliency, adversarial examples, activation maximization and DeepDream). Each function lives in
// a file of its own here; this file only gathers them into the namespace. PCA (for the embedding
// projector) looks at activations rather than gradients, and lives here too.

import { pca } from './pca.js';
import { activationMaximization } from './activation-maximization.js';
import { deepDream } from './deep-dream.js';
import { inputGradient } from './input-gradient.js';
import { saliency } from './saliency.js';

/**
 * `st.vis.*`: tools for looking inside a trained network, each built on gradients with respect
 * to the network's input rather than its weights.
 * @namespace
 */
export const vis = {
  /** Principal component analysis of activations, for the embedding projector. */
  pca,
  /** Images that maximize a filter's or a class's activation, by gradient ascent on the input. */
  activationMaximization,
  /** DeepDream: an image changed, octave by octave, to amplify what a layer responds to. */
  deepDream,
  /** Saliency maps: how much each pixel moves a class score (plain gradients, or SmoothGrad with noisy copies). */
  saliency,
  /** The gradient of a scalar objective with respect to the network's input. */
  inputGradient,
};
