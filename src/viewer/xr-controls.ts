// VR controller mapping (docs/METHOD.md §5.5), pure and DOM-free so it can be unit-tested: gamepad
// state of both hands in, the model's new state and the transform changes out. xr.ts reads
// the WebXR input sources, calls `stepControls` once per frame and applies the result to the
// three.js scene.
//
// xr-standard gamepad mapping (Quest / Touch controllers):
//   buttons[0] trigger · [1] squeeze (grip) · [3] thumbstick press · [4] A / X · [5] B / Y
//   axes[2], axes[3] thumbstick x, y (y is negative when pushed forward)

import type { ClassVisibility } from './layer.ts';

export type Hand = 'left' | 'right';
export type ModelParent = 'scene' | Hand;

/** One hand's controller, as far as the mapping needs it. */
export interface HandInput {
  trigger: number;
  squeeze: number;
  stickX: number;
  stickY: number;
  stickPress: boolean;
  /** buttons[4]: A (right) or X (left). */
  primary: boolean;
  /** buttons[5]: B (right) or Y (left). */
  secondary: boolean;
}

export interface XrInputs {
  left: HandInput | null;
  right: HandInput | null;
}

/** What the controllers change: the model's user scale and parent, render preset, classes. */
export interface XrModelState {
  /** Relative to the arm's-length default (1). */
  scale: number;
  parent: ModelParent;
  /** Index into XR_RENDER_PRESETS. */
  renderMode: number;
  classVisibility: ClassVisibility;
}

export interface XrStep {
  state: XrModelState;
  /** Rotation of a held model this frame, radians: about the vertical (yaw) and the viewer's horizontal axis (pitch). */
  yaw: number;
  pitch: number;
  /** Stick press: position, orientation, scale and parent back to the defaults. */
  reset: boolean;
}

/** Render presets the A / X button cycles: edge mode with a matching node mode. */
export const XR_RENDER_PRESETS: readonly { name: string; edges: string; nodes: string }[] = [
  { name: 'ellipsoid', edges: 'transparent_ellipsoid', nodes: 'transparent_sphere' },
  { name: 'sphere', edges: 'sphere', nodes: 'sphere' },
  { name: 'line', edges: 'line', nodes: 'transparent_sphere' },
  { name: 'point', edges: 'point', nodes: 'point' },
];

export const XR_LIMITS = {
  minScale: 0.1,
  maxScale: 10,
  /** Scale factor per second at a fully pressed trigger (e^1.2 ≈ 3.3×). */
  scaleRate: 1.2,
  /** Radians per second at a fully deflected stick. */
  rotateRate: 2,
  /** Analog values below this are ignored (resting fingers, stick drift). */
  deadZone: 0.1,
  /** Squeeze above this grabs, below `releaseAt` lets go (hysteresis). */
  grabAt: 0.5,
  releaseAt: 0.3,
  /** Longest frame the continuous controls integrate over (a stall is not a jump). */
  maxDt: 0.1,
} as const;

export const IDLE_HAND: HandInput = { trigger: 0, squeeze: 0, stickX: 0, stickY: 0, stickPress: false, primary: false, secondary: false };

export const DEFAULT_XR_STATE: XrModelState = { scale: 1, parent: 'scene', renderMode: 0, classVisibility: 'independent' };

interface GamepadLike {
  buttons: readonly ({ value: number; pressed: boolean } | undefined)[];
  axes: readonly number[];
}

/** An xr-standard gamepad → HandInput (missing buttons and axes read as released / 0). */
export function readGamepad(gamepad: GamepadLike | null | undefined): HandInput | null {
  if (!gamepad) return null;
  const value = (i: number): number => gamepad.buttons[i]?.value ?? 0;
  const pressed = (i: number): boolean => gamepad.buttons[i]?.pressed ?? false;
  return {
    trigger: value(0),
    squeeze: value(1),
    stickPress: pressed(3),
    primary: pressed(4),
    secondary: pressed(5),
    stickX: gamepad.axes[2] ?? 0,
    stickY: gamepad.axes[3] ?? 0,
  };
}

/** independent → all → class 0 … class C−1 → independent (the C key's cycle). */
export function nextClassVisibility(v: ClassVisibility, classCount: number): ClassVisibility {
  if (v === 'independent') return 'all';
  if (v === 'all') return classCount > 0 ? 0 : 'independent';
  return v + 1 < classCount ? v + 1 : 'independent';
}

export function clampScale(s: number): number {
  return Math.min(XR_LIMITS.maxScale, Math.max(XR_LIMITS.minScale, s));
}

const live = (v: number): number => (Math.abs(v) < XR_LIMITS.deadZone ? 0 : v);
const down = (prev: boolean | undefined, cur: boolean | undefined): boolean => !!cur && !prev;

/**
 * One frame of controller input. `prev` is the previous frame's input (for button edges),
 * `dt` the frame time in seconds, `classCount` the network's classes.
 */
export function stepControls(prev: XrInputs, cur: XrInputs, state: XrModelState, dt: number, classCount: number): XrStep {
  const t = Math.min(Math.max(dt, 0), XR_LIMITS.maxDt);
  const L = cur.left ?? IDLE_HAND;
  const R = cur.right ?? IDLE_HAND;
  const pL = prev.left ?? IDLE_HAND;
  const pR = prev.right ?? IDLE_HAND;
  let { scale, parent, renderMode, classVisibility } = state;

  // Stick press on either hand: everything back to the defaults; nothing else this frame.
  if (down(pL.stickPress, L.stickPress) || down(pR.stickPress, R.stickPress)) {
    return { state: { ...state, scale: 1, parent: 'scene' }, yaw: 0, pitch: 0, reset: true };
  }

  // Triggers: left shrinks, right grows, exponentially (same feel at any size).
  const rate = live(R.trigger) - live(L.trigger);
  if (rate !== 0) scale = clampScale(scale * Math.exp(rate * XR_LIMITS.scaleRate * t));

  // Grip: a hand that squeezes takes the model (also from the other hand); letting go of the
  // hand that holds it puts it back into the scene where it is.
  for (const [hand, now, before] of [
    ['left', L, pL],
    ['right', R, pR],
  ] as const) {
    const grabbed = now.squeeze >= XR_LIMITS.grabAt && before.squeeze < XR_LIMITS.grabAt;
    if (grabbed) parent = hand;
    else if (parent === hand && now.squeeze < XR_LIMITS.releaseAt) parent = 'scene';
  }

  // Sticks rotate a held model: x yaws, y pitches (pushing forward tips the model away).
  let yaw = 0;
  let pitch = 0;
  if (parent !== 'scene') {
    yaw = (live(L.stickX) + live(R.stickX)) * XR_LIMITS.rotateRate * t;
    pitch = (live(L.stickY) + live(R.stickY)) * XR_LIMITS.rotateRate * t;
  }

  // Face buttons (either hand): A / X cycles render presets, B / Y class highlighting.
  if (down(pL.primary, L.primary) || down(pR.primary, R.primary)) renderMode = (renderMode + 1) % XR_RENDER_PRESETS.length;
  if (down(pL.secondary, L.secondary) || down(pR.secondary, R.secondary)) classVisibility = nextClassVisibility(classVisibility, classCount);

  return { state: { scale, parent, renderMode, classVisibility }, yaw, pitch, reset: false };
}

/** Drawn instances above which VR uses a cheaper mode (a headset has ~11 ms per frame, two views). */
export const XR_INSTANCE_BUDGET = 300_000;
/** Line and point instances cost far less than ray-cast impostors. */
export const XR_CHEAP_INSTANCE_BUDGET = 1_200_000;

export interface XrBudget {
  /** Edge render mode to use in VR. */
  edges: string;
  /** Draw every lod-th edge sample. */
  lod: number;
  /** What was chosen, for stats().xrMode. */
  label: string;
}

const CHEAP_EDGE_MODES = new Set(['line', 'point', 'none']);

/**
 * The VR frame budget: with more than XR_INSTANCE_BUDGET drawn instances, ray-cast edges
 * become lines; lines or points above XR_CHEAP_INSTANCE_BUDGET are thinned to every k-th sample.
 * `autoLine` false keeps the mode (the user picked it with a face button) and thins instead.
 * The budgets can be lowered (tests); lines and points get `cheapBudget`.
 */
export function chooseXrBudget(drawnInstances: number, edgeMode: string, autoLine = true, budget = XR_INSTANCE_BUDGET, cheapBudget = XR_CHEAP_INSTANCE_BUDGET): XrBudget {
  if (drawnInstances <= budget) return { edges: edgeMode, lod: 1, label: 'full' };
  let edges = edgeMode;
  const parts: string[] = [];
  if (!CHEAP_EDGE_MODES.has(edgeMode) && autoLine) {
    edges = 'line';
    parts.push('line');
  }
  const limit = CHEAP_EDGE_MODES.has(edges) ? cheapBudget : budget;
  const lod = drawnInstances > limit ? Math.ceil(drawnInstances / limit) : 1;
  if (lod > 1) parts.push(`every ${lod}${lod === 2 ? 'nd' : lod === 3 ? 'rd' : 'th'} sample`);
  return { edges, lod, label: parts.join(', ') || 'full' };
}
