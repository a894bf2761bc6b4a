// Fits y = 3x - 2 with plain gradient descent on two variables: the autograd tape in action.
// Run with `npm run example:line` after `npm ci`.
import * as st from 'strata';

st.setSeed(42);
const x = st.randomUniform([256, 1], { min: -1, max: 1 });
const noise = st.randomNormal([256, 1], { stddev: 0.1 });
const y = x.mul(3).sub(2).add(noise);

const w = st.variable(st.zeros([1, 1]));
const b = st.variable(st.zeros([1]));
const learningRate = 0.5;

for (let step = 0; step <= 60; step++) {
  const loss = st.losses.meanSquaredError(y, x.matmul(w).add(b));
  w.zeroGrad();
  b.zeroGrad();
  loss.backward();
  // The update itself must not be recorded on the tape.
  st.noGrad(() => {
    for (const v of [w, b]) v.assign(v.sub(v.grad!.mul(learningRate)));
  });
  if (step % 10 === 0) console.log(`step ${String(step).padStart(2)}  loss ${loss.item().toFixed(5)}`);
}
console.log(`learned w = ${w.item().toFixed(3)} (true 3), b = ${b.item().toFixed(3)} (true -2)`);
