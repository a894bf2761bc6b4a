// st.vis: looking inside trained networks through gradients with respect to their inputs
// (saliency, adversarial examples, activation maximization and DeepDream). Each function lives in
// a file of its own here; this file only gathers them into the namespace.

/**
 * `st.vis.*`: tools for looking inside a trained network, each built on gradients with respect
 * to the network's input rather than its weights.
 * @namespace
 */
export const vis = {};
