// The VR controller mapping (src/viewer/xr-controls.ts), without a browser: each button and
// axis of the xr-standard gamepad → the specified change of the model state.

import { describe, expect, it } from 'vitest';
import {
  chooseXrBudget,
  clampScale,
  DEFAULT_XR_STATE,
  IDLE_HAND,
  nextClassVisibility,
  readGamepad,
  stepControls,
  XR_CHEAP_INSTANCE_BUDGET,
  XR_INSTANCE_BUDGET,
  XR_LIMITS,
  XR_RENDER_PRESETS,
  type HandInput,
  type XrInputs,
  type XrModelState,
} from '../../src/viewer/xr-controls.ts';

const idle: XrInputs = { left: IDLE_HAND, right: IDLE_HAND };
const hands = (left: Partial<HandInput> = {}, right: Partial<HandInput> = {}): XrInputs => ({ left: { ...IDLE_HAND, ...left }, right: { ...IDLE_HAND, ...right } });
const state = (s: Partial<XrModelState> = {}): XrModelState => ({ ...DEFAULT_XR_STATE, ...s });
const C = 4;

describe('readGamepad (xr-standard mapping)', () => {
  it('maps buttons 0, 1, 3, 4, 5 and axes 2, 3', () => {
    const b = (value: number) => ({ value, pressed: value > 0.5 });
    const pad = { buttons: [b(0.25), b(0.75), b(0), b(1), b(1), b(0)], axes: [0.9, 0.9, -0.5, 0.3] };
    expect(readGamepad(pad)).toEqual({ trigger: 0.25, squeeze: 0.75, stickPress: true, primary: true, secondary: false, stickX: -0.5, stickY: 0.3 });
  });

  it('reads missing buttons and axes as released, no gamepad as null', () => {
    expect(readGamepad({ buttons: [{ value: 1, pressed: true }], axes: [] })).toEqual({ ...IDLE_HAND, trigger: 1 });
    expect(readGamepad(null)).toBeNull();
    expect(readGamepad(undefined)).toBeNull();
  });
});

describe('triggers scale the model', () => {
  it('right trigger grows, left shrinks, proportionally to the value and the frame time', () => {
    const grow = stepControls(idle, hands({}, { trigger: 1 }), state(), 0.05, C).state.scale;
    const shrink = stepControls(idle, hands({ trigger: 1 }), state(), 0.05, C).state.scale;
    expect(grow).toBeCloseTo(Math.exp(XR_LIMITS.scaleRate * 0.05), 9);
    expect(shrink).toBeCloseTo(Math.exp(-XR_LIMITS.scaleRate * 0.05), 9);
    const half = stepControls(idle, hands({}, { trigger: 0.5 }), state(), 0.05, C).state.scale;
    expect(half).toBeGreaterThan(1);
    expect(half).toBeLessThan(grow);
    // Both triggers fully pressed cancel out.
    expect(stepControls(idle, hands({ trigger: 1 }, { trigger: 1 }), state(), 0.05, C).state.scale).toBe(1);
  });

  it('is continuous: keeps changing every frame the trigger is held', () => {
    let s = state();
    const scales: number[] = [];
    for (let i = 0; i < 5; i++) {
      s = stepControls(hands({}, { trigger: 1 }), hands({}, { trigger: 1 }), s, 1 / 72, C).state;
      scales.push(s.scale);
    }
    for (let i = 1; i < scales.length; i++) expect(scales[i]).toBeGreaterThan(scales[i - 1]);
  });

  it('ignores a resting finger (dead zone) and clamps the scale range', () => {
    expect(stepControls(idle, hands({}, { trigger: XR_LIMITS.deadZone / 2 }), state(), 0.1, C).state.scale).toBe(1);
    let s = state();
    for (let i = 0; i < 200; i++) s = stepControls(idle, hands({}, { trigger: 1 }), s, 0.1, C).state;
    expect(s.scale).toBe(XR_LIMITS.maxScale);
    for (let i = 0; i < 400; i++) s = stepControls(idle, hands({ trigger: 1 }), s, 0.1, C).state;
    expect(s.scale).toBe(XR_LIMITS.minScale);
    expect(clampScale(1e9)).toBe(XR_LIMITS.maxScale);
    expect(clampScale(0)).toBe(XR_LIMITS.minScale);
  });

  it('a long stall integrates at most maxDt', () => {
    const s = stepControls(idle, hands({}, { trigger: 1 }), state(), 5, C).state.scale;
    expect(s).toBeCloseTo(Math.exp(XR_LIMITS.scaleRate * XR_LIMITS.maxDt), 9);
  });
});

describe('grip attaches the model to a hand', () => {
  it('squeeze takes the model into that hand and releasing puts it back', () => {
    const r = stepControls(idle, hands({}, { squeeze: 1 }), state(), 0.01, C);
    expect(r.state.parent).toBe('right');
    const l = stepControls(idle, hands({ squeeze: 1 }), state(), 0.01, C);
    expect(l.state.parent).toBe('left');
    // Still squeezed: stays.
    expect(stepControls(hands({}, { squeeze: 1 }), hands({}, { squeeze: 0.9 }), state({ parent: 'right' }), 0.01, C).state.parent).toBe('right');
    // Released: back in the scene.
    expect(stepControls(hands({}, { squeeze: 1 }), hands({}, { squeeze: 0 }), state({ parent: 'right' }), 0.01, C).state.parent).toBe('scene');
  });

  it('has hysteresis and ignores the hand that does not hold it', () => {
    // Between the release and the grab threshold: nothing changes either way.
    const mid = (XR_LIMITS.grabAt + XR_LIMITS.releaseAt) / 2;
    expect(stepControls(idle, hands({}, { squeeze: mid }), state(), 0.01, C).state.parent).toBe('scene');
    expect(stepControls(hands({}, { squeeze: 1 }), hands({}, { squeeze: mid }), state({ parent: 'right' }), 0.01, C).state.parent).toBe('right');
    // The left hand letting go does not drop a model held by the right.
    expect(stepControls(hands({ squeeze: 1 }, { squeeze: 1 }), hands({ squeeze: 0 }, { squeeze: 1 }), state({ parent: 'right' }), 0.01, C).state.parent).toBe('right');
  });

  it('the other hand can take the model over', () => {
    const s = stepControls(hands({}, { squeeze: 1 }), hands({ squeeze: 1 }, { squeeze: 1 }), state({ parent: 'right' }), 0.01, C);
    expect(s.state.parent).toBe('left');
  });

  it('a squeeze held down is not a new grab', () => {
    expect(stepControls(hands({}, { squeeze: 1 }), hands({}, { squeeze: 1 }), state(), 0.01, C).state.parent).toBe('scene');
  });
});

describe('thumbstick rotates a held model', () => {
  it('x yaws and y pitches, scaled by the frame time', () => {
    const s = state({ parent: 'left' });
    const yaw = stepControls(idle, hands({ stickX: 1, squeeze: 1 }), s, 0.05, C);
    expect(yaw.yaw).toBeCloseTo(XR_LIMITS.rotateRate * 0.05, 9);
    expect(yaw.pitch).toBe(0);
    const pitch = stepControls(idle, hands({ stickY: -0.5, squeeze: 1 }), s, 0.05, C);
    expect(pitch.pitch).toBeCloseTo(-0.5 * XR_LIMITS.rotateRate * 0.05, 9);
    expect(pitch.yaw).toBe(0);
  });

  it('does nothing when the model is not held or within the dead zone', () => {
    const free = stepControls(idle, hands({ stickX: 1 }, { stickY: 1 }), state(), 0.05, C);
    expect([free.yaw, free.pitch]).toEqual([0, 0]);
    const drift = stepControls(idle, hands({ squeeze: 1, stickX: XR_LIMITS.deadZone / 2 }), state({ parent: 'left' }), 0.05, C);
    expect(drift.yaw).toBe(0);
  });
});

describe('thumbstick press resets', () => {
  it('restores scale and parent and asks for the default pose, on the press only', () => {
    const held = state({ scale: 3.5, parent: 'right', renderMode: 2, classVisibility: 'all' });
    const r = stepControls(idle, hands({}, { stickPress: true, squeeze: 1, trigger: 1 }), held, 0.05, C);
    expect(r.reset).toBe(true);
    expect(r.state).toEqual({ scale: 1, parent: 'scene', renderMode: 2, classVisibility: 'all' });
    const again = stepControls(hands({}, { stickPress: true }), hands({}, { stickPress: true }), r.state, 0.05, C);
    expect(again.reset).toBe(false);
    expect(stepControls(idle, hands({ stickPress: true }), held, 0.05, C).reset).toBe(true);
  });
});

describe('face buttons cycle presets', () => {
  it('A / X steps through the render presets and wraps', () => {
    let s = state();
    const seen: string[] = [];
    for (let i = 0; i < XR_RENDER_PRESETS.length; i++) {
      const press = i % 2 ? hands({ primary: true }) : hands({}, { primary: true });
      s = stepControls(idle, press, s, 0.01, C).state;
      seen.push(XR_RENDER_PRESETS[s.renderMode].name);
      // Held down: no further step.
      expect(stepControls(press, press, s, 0.01, C).state.renderMode).toBe(s.renderMode);
    }
    expect(seen).toEqual(['sphere', 'line', 'point', 'ellipsoid']);
    // From a mode that is no preset (-1), the first press picks the first preset.
    expect(stepControls(idle, hands({ primary: true }), state({ renderMode: -1 }), 0.01, C).state.renderMode).toBe(0);
  });

  it('presets pair each edge mode with a node mode', () => {
    expect(XR_RENDER_PRESETS.map((p) => [p.edges, p.nodes])).toEqual([
      ['transparent_ellipsoid', 'transparent_sphere'],
      ['sphere', 'sphere'],
      ['line', 'transparent_sphere'],
      ['point', 'point'],
    ]);
  });

  it('B / Y cycles independent → all → class 0 … → independent', () => {
    let s = state();
    const seen: (string | number)[] = [];
    for (let i = 0; i < C + 2; i++) {
      s = stepControls(idle, i % 2 ? hands({ secondary: true }) : hands({}, { secondary: true }), s, 0.01, C).state;
      seen.push(s.classVisibility);
    }
    expect(seen).toEqual(['all', 0, 1, 2, 3, 'independent']);
    expect(nextClassVisibility('all', 0)).toBe('independent');
  });
});

describe('VR frame budget', () => {
  it('keeps small scenes as they are', () => {
    expect(chooseXrBudget(XR_INSTANCE_BUDGET, 'transparent_ellipsoid')).toEqual({ edges: 'transparent_ellipsoid', lod: 1, label: 'full' });
  });

  it('switches ray-cast edges of a large scene to lines, then strides', () => {
    expect(chooseXrBudget(XR_INSTANCE_BUDGET + 1, 'transparent_ellipsoid')).toEqual({ edges: 'line', lod: 1, label: 'line' });
    expect(chooseXrBudget(3 * XR_CHEAP_INSTANCE_BUDGET, 'sphere')).toEqual({ edges: 'line', lod: 3, label: 'line, every 3rd sample' });
    expect(chooseXrBudget(2 * XR_CHEAP_INSTANCE_BUDGET, 'point')).toEqual({ edges: 'point', lod: 2, label: 'every 2nd sample' });
  });

  it('keeps a mode the user picked and strides it to the budget instead', () => {
    const b = chooseXrBudget(4 * XR_INSTANCE_BUDGET, 'transparent_ellipsoid', false);
    expect(b).toEqual({ edges: 'transparent_ellipsoid', lod: 4, label: 'every 4th sample' });
  });
});
