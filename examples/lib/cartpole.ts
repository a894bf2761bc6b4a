// CartPole: a pole hinged on a cart that moves along a track; push the cart left or right to keep
// the pole up. The dynamics are Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements
// that can solve difficult learning control problems", with the constants and the explicit Euler
// step that OpenAI Gym's CartPole uses, so rewards compare with published DQN results.
//
// Gym has two versions that differ only in the episode cap: CartPole-v0 stops at 200 steps and
// counts as solved at an average reward >= 195 over 100 consecutive episodes; v1 stops at 500
// (solved at 475). The default here is v0's cap, since "195 over 100 episodes" is v0's rule.
import { SeededRandom } from './seeded-random.js';

/** The state: cart position (m), cart velocity (m/s), pole angle (rad, 0 = upright), angular velocity (rad/s). */
export type CartPoleState = [x: number, xDot: number, theta: number, thetaDot: number];

/** The physical constants (Gym's values are the defaults). */
export const CARTPOLE = {
  gravity: 9.8,
  cartMass: 1.0,
  poleMass: 0.1,
  /** Half the pole's length: the distance from the hinge to the pole's centre of mass. */
  halfLength: 0.5,
  forceMagnitude: 10.0,
  /** Seconds per step. */
  tau: 0.02,
  /** The episode ends when |theta| exceeds 12 degrees ... */
  thetaLimit: (12 * 2 * Math.PI) / 360,
  /** ... or the cart leaves [-2.4, 2.4]. */
  xLimit: 2.4,
} as const;

/**
 * One Euler step of the equations of motion from `state` under `action` (0 pushes left, 1 right).
 * With F = ±force, m = pole mass, M = cart mass + m, l = half length:
 *   temp   = (F + m·l·θ'²·sin θ) / M
 *   θ''    = (g·sin θ − cos θ·temp) / (l·(4/3 − m·cos²θ / M))
 *   x''    = temp − m·l·θ''·cos θ / M
 * then x += τ·x', x' += τ·x'', θ += τ·θ', θ' += τ·θ'' (positions move with the old velocities).
 */
export function cartPoleStep(state: Readonly<CartPoleState>, action: 0 | 1): CartPoleState {
  const { gravity, cartMass, poleMass, halfLength, forceMagnitude, tau } = CARTPOLE;
  const [x, xDot, theta, thetaDot] = state;
  const force = action === 1 ? forceMagnitude : -forceMagnitude;
  const totalMass = cartMass + poleMass;
  const poleMassLength = poleMass * halfLength;
  const cos = Math.cos(theta),
    sin = Math.sin(theta);
  const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
  const thetaAcc = (gravity * sin - cos * temp) / (halfLength * (4 / 3 - (poleMass * cos * cos) / totalMass));
  const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
  return [x + tau * xDot, xDot + tau * xAcc, theta + tau * thetaDot, thetaDot + tau * thetaAcc];
}

/** True when the pole has fallen past 12 degrees or the cart has left the track. */
export function cartPoleFailed(state: Readonly<CartPoleState>): boolean {
  return Math.abs(state[0]) > CARTPOLE.xLimit || Math.abs(state[2]) > CARTPOLE.thetaLimit;
}

/** What `step` returns: Gym's (observation, reward, terminated, truncated). */
export interface StepResult {
  state: CartPoleState;
  /** 1 for every step taken, including the one that ends the episode (Gym's convention). */
  reward: number;
  /** The pole fell or the cart left the track: there is no future reward to bootstrap. */
  terminated: boolean;
  /** The episode hit its step cap with the pole still up: the state still has a future. */
  truncated: boolean;
}

/** The environment: a seeded reset and a capped episode around cartPoleStep. */
export class CartPole {
  private rng: SeededRandom;
  private current: CartPoleState = [0, 0, 0, 0];
  private steps = 0;
  private done = true;

  /** `maxSteps` 200 is CartPole-v0, 500 CartPole-v1. */
  constructor(
    seed: number,
    readonly maxSteps = 200,
  ) {
    this.rng = new SeededRandom(seed);
  }

  /** Starts an episode: every state variable uniform in [-0.05, 0.05], as in Gym. */
  reset(): CartPoleState {
    this.current = [0, 0, 0, 0].map(() => this.rng.uniform(-0.05, 0.05)) as CartPoleState;
    this.steps = 0;
    this.done = false;
    return [...this.current];
  }

  step(action: 0 | 1): StepResult {
    if (this.done) throw new Error('CartPole.step: the episode is over; call reset() first');
    this.current = cartPoleStep(this.current, action);
    this.steps++;
    const terminated = cartPoleFailed(this.current);
    const truncated = !terminated && this.steps >= this.maxSteps;
    this.done = terminated || truncated;
    return { state: [...this.current], reward: 1, terminated, truncated };
  }
}
