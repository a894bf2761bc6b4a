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
export const vis = { pca, activationMaximization, deepDream, saliency, inputGradient };
