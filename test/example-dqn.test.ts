// example:dqn: the CartPole environment's dynamics against steps worked out by hand from the
// equations of motion, its termination, truncation and seeded resets; then the example's short
// mode (--quick) run as a user runs it: the TD loss is finite and the reward curve is written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CARTPOLE, CartPole, cartPoleFailed, cartPoleStep, type CartPoleState } from '../examples/lib/cartpole.js';
import { isPng, runExample } from './example-runner.js';

function assertState(got: CartPoleState, want: number[], what: string): void {
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${what}[${i}]: ${v} vs ${want[i]}`));
}

describe('CartPole dynamics (Barto, Sutton & Anderson 1983; Gym constants)', () => {
  it('from rest, a push to the right: a step worked out in fractions', () => {
    // F = 10, M = 1.1, m·l = 0.05, θ = θ' = 0 (cos 1, sin 0):
    //   temp = F / M = 100/11
    //   θ''  = (0 - temp) / (0.5 · (4/3 - 0.1/1.1)) = -(100/11) / (41/66) = -600/41
    //   x''  = temp - 0.05 · θ'' / 1.1 = 100/11 + 300/451 = 400/41
    // Euler with τ = 0.02: x and θ move with the old (zero) velocities; x' = 8/41, θ' = -12/41.
    assertState(cartPoleStep([0, 0, 0, 0], 1), [0, 8 / 41, 0, -12 / 41], 'right');
    // Pushing left mirrors it.
    assertState(cartPoleStep([0, 0, 0, 0], 0), [0, -8 / 41, 0, 12 / 41], 'left');
  });

  it('from a moving, tilted state, a push to the left', () => {
    // s = (0.1, -0.2, 0.05, 0.3), F = -10. With c = cos 0.05, s = sin 0.05:
    //   temp = (-10 + 0.05 · 0.09 · s) / 1.1                    = -9.090704630671166
    //   θ''  = (9.8 s - c · temp) / (0.5 (4/3 - 0.1 c² / 1.1)) = 15.401165680307574
    //   x''  = temp - 0.05 · θ'' · c / 1.1                      = -9.78988273219813
    // (values evaluated in float64 with Python from the same formulas). Then
    //   x = 0.1 + 0.02 · -0.2, x' = -0.2 + 0.02 x'', θ = 0.05 + 0.02 · 0.3, θ' = 0.3 + 0.02 θ''.
    assertState(cartPoleStep([0.1, -0.2, 0.05, 0.3], 0), [0.096, -0.2 + 0.02 * -9.78988273219813, 0.056, 0.3 + 0.02 * 15.401165680307574], 'tilted');
  });

  it('fails past 12 degrees or 2.4 m, not at them', () => {
    const limit = (12 * Math.PI) / 180;
    assert.equal(CARTPOLE.thetaLimit, limit);
    assert.equal(cartPoleFailed([0, 0, limit, 0]), false);
    assert.equal(cartPoleFailed([0, 0, -limit * 1.0001, 0]), true);
    assert.equal(cartPoleFailed([2.4, 0, 0, 0]), false);
    assert.equal(cartPoleFailed([-2.41, 0, 0, 0]), true);
  });

  it('an episode: seeded resets in [-0.05, 0.05], reward 1 per step, terminated on a fall', () => {
    const a = new CartPole(7),
      b = new CartPole(7);
    const start = a.reset();
    assert.deepEqual(b.reset(), start);
    assert.ok(start.every((v) => Math.abs(v) <= 0.05));
    assert.notDeepEqual(new CartPole(8).reset(), start);
    // Pushing right forever tips the pole left past 12 degrees within a few dozen steps.
    let steps = 0,
      r = a.step(1);
    for (steps = 1; !r.terminated && !r.truncated; steps++) r = a.step(1);
    assert.equal(r.terminated, true);
    assert.equal(r.reward, 1);
    assert.ok(steps > 5 && steps < 60, `${steps} steps`);
    assert.throws(() => a.step(1), /the episode is over/);
  });

  it('truncates (not terminates) at the step cap: 200 for v0', () => {
    const env = new CartPole(1, 3);
    env.reset();
    // Alternating pushes keep the pole up for three steps.
    assert.equal(env.step(1).truncated, false);
    assert.equal(env.step(0).truncated, false);
    const last = env.step(1);
    assert.deepEqual([last.truncated, last.terminated], [true, false]);
    assert.equal(new CartPole(1).maxSteps, 200);
  });
});

describe('example:dqn --quick', () => {
  it('learns with a finite TD loss and writes its reward curve', async () => {
    const run = await runExample('dqn.ts');
    const r = run.result as { episodes: number; steps: number; tdLossFirst: number; tdLossLast: number };
    assert.ok(r.episodes > 0 && r.steps > 0);
    assert.ok(Number.isFinite(r.tdLossFirst) && Number.isFinite(r.tdLossLast), `TD loss ${r.tdLossFirst} -> ${r.tdLossLast}`);
    for (const file of ['reward-curve.png', 'td-loss.png']) {
      assert.ok(run.files[file] > 1000, `${file} written`);
      assert.ok(isPng(join(run.out, file)));
    }
  });
});
