// Deep Q-learning (Mnih et al. 2015, "Human-level control through deep reinforcement learning")
// on CartPole-v0: a small MLP estimates Q(s, a), the value of pushing left or right in state s.
// The ingredients that make it learn stably: a replay buffer (train on old, decorrelated
// transitions), a target network (a frozen copy, synced every few hundred steps, gives the
// targets r + γ·max Q_target(s', ·)), ε-greedy exploration decaying from 1 to 0.01, and the Huber
// loss (gradients of TD errors bounded at ±1). The Adam learning rate also falls from 1e-3 to 1e-4
// over 60,000 updates: at a constant 1e-3, runs with some seeds reached averages of 130-150 and
// then forgot what they had learned (the well-known instability of DQN on CartPole).
// --config '{"doubleDqn": 1}' switches to Double DQN; the other knobs are in `defaults` below.
//
// Solved means an average reward >= 195 over 100 consecutive episodes (CartPole-v0's rule, with
// its 200-step cap); training stops there and the greedy policy (ε = 0) is then scored on 100
// fresh episodes.
// Run: npm run example:dqn [-- --quick] [--out DIR] [--seed N] [--config JSON]
import * as st from 'strata';
import { exampleArgs, reportResult } from './lib/args.js';
import { CartPole, type CartPoleState } from './lib/cartpole.js';
import { saveLineChart } from './lib/pictures.js';
import { SeededRandom } from './lib/seeded-random.js';

const args = exampleArgs('dqn', { config: { type: 'string' } });
const quick = args.quick;
const defaults = {
  maxEpisodes: quick ? 25 : 1000,
  gamma: 0.99,
  learningRate: 1e-3,
  /** The learning rate falls linearly to a tenth of itself over this many updates (0: constant). */
  learningRateDecaySteps: 60_000,
  batchSize: 64,
  bufferSize: 50_000,
  /** Random steps that fill the buffer before the first update. */
  warmupSteps: quick ? 300 : 1000,
  epsilonStart: 1,
  epsilonEnd: 0.01,
  /** ε falls linearly from start to end over this many steps, then stays. */
  epsilonDecaySteps: quick ? 1500 : 10_000,
  targetSyncSteps: 500,
  /** Learning happens every `trainEvery` steps, `gradientSteps` updates at a time. */
  trainEvery: 1,
  gradientSteps: 1,
  hidden: 64,
  /** 1: Double DQN (van Hasselt et al. 2016): the online network picks a', the target network values it. */
  doubleDqn: 0,
  /** Gradient norm clipping per variable (0: none). */
  clipNorm: 0,
  solvedAverage: 195,
  window: 100,
};
// --config '{"learningRate": 5e-4, "targetSyncSteps": 1000}' overrides any of the numbers above.
const overrides = JSON.parse(args.values.config ?? '{}') as Record<string, number>;
for (const key of Object.keys(overrides)) {
  if (!(key in defaults)) throw new Error(`--config: unknown key '${key}'; known keys: ${Object.keys(defaults).join(', ')}`);
}
const config: typeof defaults = { ...defaults, ...overrides };
st.setSeed(args.seed);
const rng = new SeededRandom(args.seed + 1);
const env = new CartPole(args.seed, 200);

// --- the Q-network and its frozen copy -------------------------------------------------------

const qNetwork = (name: string) =>
  st.sequential({
    name,
    layers: [
      st.layers.dense({ units: config.hidden, activation: 'relu', inputShape: [4] }),
      st.layers.dense({ units: config.hidden, activation: 'relu' }),
      st.layers.dense({ units: 2 }),
    ],
  });
const online = qNetwork('online');
const target = qNetwork('target');
target.setWeights(online.getWeights());
const variables = online.trainableWeights.map((w) => w.value);
const learningRate = config.learningRateDecaySteps
  ? (step: number) => config.learningRate * (1 - 0.9 * Math.min(step / config.learningRateDecaySteps, 1))
  : config.learningRate;
const optimizer = st.optimizers.adam({ learningRate, ...(config.clipNorm > 0 ? { clipNorm: config.clipNorm } : {}) });

// --- the replay buffer: a ring of transitions in flat typed arrays ---------------------------

class ReplayBuffer {
  private readonly states: Float32Array;
  private readonly nextStates: Float32Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  /** 1 when the transition ended the episode by failure (no bootstrap), else 0. */
  private readonly terminals: Float32Array;
  private next = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.states = new Float32Array(capacity * 4);
    this.nextStates = new Float32Array(capacity * 4);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.terminals = new Float32Array(capacity);
  }

  push(s: CartPoleState, a: number, r: number, s2: CartPoleState, terminal: boolean): void {
    const i = this.next;
    this.states.set(s, i * 4);
    this.nextStates.set(s2, i * 4);
    this.actions[i] = a;
    this.rewards[i] = r;
    this.terminals[i] = terminal ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** A uniform random batch, as tensors. */
  sample(n: number) {
    const s = new Float32Array(n * 4),
      s2 = new Float32Array(n * 4),
      actionMask = new Float32Array(n * 2),
      r = new Float32Array(n),
      notTerminal = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const i = rng.int(this.size);
      s.set(this.states.subarray(i * 4, i * 4 + 4), k * 4);
      s2.set(this.nextStates.subarray(i * 4, i * 4 + 4), k * 4);
      actionMask[k * 2 + this.actions[i]] = 1;
      r[k] = this.rewards[i];
      notTerminal[k] = 1 - this.terminals[i];
    }
    return {
      states: st.tensor(s, [n, 4]),
      nextStates: st.tensor(s2, [n, 4]),
      actionMask: st.tensor(actionMask, [n, 2]),
      rewards: st.tensor(r, [n, 1]),
      notTerminal: st.tensor(notTerminal, [n, 1]),
    };
  }
}

const buffer = new ReplayBuffer(config.bufferSize);

// --- acting and learning -----------------------------------------------------------------------

function epsilonAt(step: number): number {
  const f = Math.min(step / config.epsilonDecaySteps, 1);
  return config.epsilonStart + f * (config.epsilonEnd - config.epsilonStart);
}

function greedyAction(state: CartPoleState): 0 | 1 {
  const q = st.noGrad(() => online.apply(st.tensor(state, [1, 4])) as st.Tensor).dataSync();
  return q[1] > q[0] ? 1 : 0;
}

/** One gradient step on a replayed batch; returns the TD loss (Huber, mean over the batch). */
function learn(): number {
  const b = buffer.sample(config.batchSize);
  // The target: r + γ·max_a' Q_target(s', a') for transitions that did not fail, r for those that did.
  const y = st.noGrad(() => {
    const targetQ = target.apply(b.nextStates) as st.Tensor;
    let nextQ: st.Tensor;
    if (config.doubleDqn) {
      const onlineQ = online.apply(b.nextStates) as st.Tensor;
      const pick = st.oneHot(onlineQ.argMax(1), 2).cast('float32');
      nextQ = targetQ.mul(pick).sum(1, true);
    } else nextQ = targetQ.max(1, true);
    return b.rewards.add(nextQ.mul(b.notTerminal).mul(config.gamma));
  });
  const loss = optimizer.minimize(() => {
    const q = online.apply(b.states) as st.Tensor;
    const taken = q.mul(b.actionMask).sum(1, true); // Q(s, a) of the action taken
    return st.losses.huber(y, taken);
  }, variables);
  return loss.item();
}

// --- the training loop --------------------------------------------------------------------------

const rewards: number[] = [];
const averages: number[] = [];
const episodeLosses: number[] = [];
let steps = 0;
let solvedAt: number | null = null;
const start = performance.now();
const cpuStart = process.cpuUsage();

for (let episode = 1; episode <= config.maxEpisodes; episode++) {
  let state = env.reset();
  let total = 0,
    lossSum = 0,
    lossCount = 0;
  for (;;) {
    const explore = steps < config.warmupSteps || rng.next() < epsilonAt(steps);
    const action: 0 | 1 = explore ? (rng.int(2) as 0 | 1) : greedyAction(state);
    const { state: next, reward, terminated, truncated } = env.step(action);
    // A truncated episode (the 200-step cap) is not a failure: its last state keeps its value.
    buffer.push(state, action, reward, next, terminated);
    state = next;
    total += reward;
    steps++;
    if (steps >= config.warmupSteps && steps % config.trainEvery === 0) {
      for (let g = 0; g < config.gradientSteps; g++) {
        lossSum += learn();
        lossCount++;
      }
    }
    if (steps % config.targetSyncSteps === 0) target.setWeights(online.getWeights());
    if (terminated || truncated) break;
  }
  rewards.push(total);
  const recent = rewards.slice(-config.window);
  const average = recent.reduce((a, b) => a + b, 0) / recent.length;
  averages.push(average);
  episodeLosses.push(lossCount ? lossSum / lossCount : Number.NaN);
  if (episode % 10 === 0 || quick) {
    const loss = lossCount ? (lossSum / lossCount).toFixed(4) : '-';
    console.log(
      `episode ${episode}: reward ${total}, average of last ${recent.length} ${average.toFixed(1)}, ε ${epsilonAt(steps).toFixed(3)}, TD loss ${loss}, ${steps} steps`,
    );
  }
  if (rewards.length >= config.window && average >= config.solvedAverage) {
    solvedAt = episode;
    break;
  }
}
const trainSeconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  solvedAt === null
    ? `not solved in ${rewards.length} episodes (${steps} steps, ${trainSeconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} s of CPU)`
    : `solved at episode ${solvedAt}: average ${averages[averages.length - 1].toFixed(1)} over the last 100 episodes (${steps} steps, ${trainSeconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} s of CPU)`,
);

// The greedy policy on fresh episodes (no exploration, no learning).
const evalEpisodes = quick ? 3 : 100;
const evalEnv = new CartPole(args.seed + 1000, 200);
const evalRewards: number[] = [];
for (let e = 0; e < evalEpisodes; e++) {
  let state = evalEnv.reset(),
    total = 0;
  for (;;) {
    const r = evalEnv.step(greedyAction(state));
    total += r.reward;
    state = r.state;
    if (r.terminated || r.truncated) break;
  }
  evalRewards.push(total);
}
const greedyAverage = evalRewards.reduce((a, b) => a + b, 0) / evalRewards.length;
console.log(`greedy policy: average reward ${greedyAverage.toFixed(1)} over ${evalEpisodes} new episodes`);

const n = rewards.length;
await saveLineChart(
  args.file('reward-curve.png'),
  {
    'episode reward': rewards,
    '100-episode average': averages,
    'solved (195)': [
      [1, config.solvedAverage],
      [n, config.solvedAverage],
    ],
  },
  { title: `DQN on CartPole-v0${solvedAt ? `: solved at episode ${solvedAt}` : ''}`, xTitle: 'episode', yTitle: 'reward' },
);
const lossPoints = episodeLosses.flatMap((l, i) => (Number.isFinite(l) ? [[i + 1, l] as [number, number]] : []));
if (lossPoints.length > 0) {
  await saveLineChart(
    args.file('td-loss.png'),
    { 'TD loss (Huber)': lossPoints },
    {
      title: 'TD loss per episode (it grows with the Q-values: not a progress measure)',
      xTitle: 'episode',
      yTitle: 'mean TD loss',
      logY: true,
    },
  );
}

const head = rewards.slice(0, 10);
const tail = rewards.slice(-10);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
await reportResult(args, {
  backend: st.getBackend().name,
  episodes: n,
  steps,
  solved: solvedAt !== null,
  solvedAtEpisode: solvedAt,
  finalAverage100: averages[n - 1],
  greedyAverage,
  firstRewardsMean: mean(head),
  lastRewardsMean: mean(tail),
  tdLossFirst: lossPoints[0]?.[1] ?? null,
  tdLossLast: lossPoints[lossPoints.length - 1]?.[1] ?? null,
  seconds: Number(trainSeconds.toFixed(1)),
  cpuSeconds: Number(cpuSeconds.toFixed(1)),
  config,
});
