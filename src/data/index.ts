// The data namespace (`st.data`): file readers and the built-in datasets.
import { readIdx, readIdxSync } from './idx.js';
import { fashionMnist, mnist } from './mnist.js';

export { readIdx, readIdxSync } from './idx.js';
export { mnist, fashionMnist, type MnistData } from './mnist.js';

export const data = { readIdx, readIdxSync, mnist, fashionMnist };
