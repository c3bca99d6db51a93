// Progressive drawing: one full frame split into chunks that successive animation frames
// draw into the preserved canvas, so no single draw blocks the page (software WebGL spends
// µs per primitive, seconds per frame on a large scene). Pure scheduling, no WebGL here.
//
// The converged picture equals a one-shot draw of everything:
// - transparent primitives blend with MIN on colour and MAX on alpha and write no depth, so
//   any order, and drawing a primitive twice, give the same pixels;
// - opaque primitives write depth and the depth test is LEQUAL, so the last-drawn of the
//   nearest fragments wins; they are drawn in the one-shot order (sequential ranges, after a
//   strided preview that the sequential pass redraws, which settles every tie as one-shot);
// - all opaque chunks come before any transparent one, as in one-shot (a transparent
//   fragment blended before an opaque one behind it would be overwritten).
//
// Transparent items are split into interleaved passes (every k-th instance, phase o), so the
// first pass is a uniform subset of the scene: the coarse picture shown while moving.

/** Something drawable in chunks: `count` instances that cost `cost` units each. */
export interface DrawItem {
  count: number;
  cost: number;
  opaque: boolean;
}

/** Draw instances `first·stride + phase … (first + count − 1)·stride + phase` of item `item`. */
export interface Chunk {
  item: number;
  stride: number;
  phase: number;
  first: number;
  count: number;
}

interface Segment {
  item: number;
  stride: number;
  phase: number;
  length: number;
}

/** Items costing at most this share of a frame (the nodes, the density grid) are drawn whole in the first one. */
const SMALL_SHARE = 0.25;

/** Instances of `count` in pass `phase` of `stride`. */
export function passLength(count: number, stride: number, phase: number): number {
  return phase >= count ? 0 : Math.ceil((count - phase) / stride);
}

export class Accumulation {
  private readonly segments: Segment[] = [];
  private readonly items: readonly DrawItem[];
  private segment = 0;
  private offset = 0;
  /** Cost drawn so far and in all (previews included). */
  drawnCost = 0;
  readonly totalCost: number;

  /** `passCost`: the cost one pass should have (Infinity: everything in one pass). */
  constructor(items: readonly DrawItem[], passCost: number) {
    this.items = items;
    const budget = Math.max(passCost, 1e-9);
    const small = items.map((it) => it.count * it.cost <= SMALL_SHARE * budget);
    const smallCost = items.reduce((a, it, i) => a + (small[i] ? it.count * it.cost : 0), 0);
    const rest = items.reduce((a, it, i) => a + (small[i] ? 0 : it.count * it.cost), 0);
    // The first frame: the small items whole and one pass of the rest, together about passCost.
    const passes = rest > 0 ? Math.max(1, Math.ceil(rest / Math.max(budget - smallCost, budget / 2))) : 1;
    const strides = items.map((it, i) => (small[i] ? 1 : Math.max(1, Math.min(passes, it.count))));
    const add = (item: number, stride: number, phase: number): void => {
      const length = passLength(items[item].count, stride, phase);
      if (length > 0) this.segments.push({ item, stride, phase, length });
    };
    items.forEach((it, i) => {
      if (it.opaque && strides[i] > 1) add(i, strides[i], 0);
    });
    items.forEach((it, i) => {
      if (it.opaque) add(i, 1, 0);
    });
    // The small items first, so the first frame has them whole.
    const order = items.map((_, i) => i).sort((a, b) => strides[a] - strides[b]);
    for (let phase = 0; phase < passes; phase++) {
      for (const i of order) if (!items[i].opaque && phase < strides[i]) add(i, strides[i], phase);
    }
    this.totalCost = this.segments.reduce((a, s) => a + s.length * items[s.item].cost, 0);
  }

  get done(): boolean {
    return this.segment >= this.segments.length;
  }

  /** Share drawn, 0…1. */
  get progress(): number {
    return this.totalCost > 0 ? Math.min(1, this.drawnCost / this.totalCost) : 1;
  }

  /** The next chunks, together about `budget` cost units (at least one instance unless done). */
  next(budget: number): Chunk[] {
    const out: Chunk[] = [];
    let left = budget;
    while (!this.done && (left > 0 || out.length === 0)) {
      const s = this.segments[this.segment];
      const cost = this.items[s.item].cost;
      const take = Math.max(1, Math.min(s.length - this.offset, Number.isFinite(left) ? Math.floor(left / cost) : Infinity));
      out.push({ item: s.item, stride: s.stride, phase: s.phase, first: this.offset, count: take });
      this.offset += take;
      left -= take * cost;
      this.drawnCost += take * cost;
      if (this.offset >= s.length) {
        this.segment++;
        this.offset = 0;
      }
    }
    return out;
  }
}

/** A frame interval as the ease-out counts it: a stalled frame does not end the motion at once. */
function clampInterval(intervalMs: number): number {
  return Math.min(200, Math.max(1, intervalMs));
}

/**
 * OrbitControls eases a drag out by a fixed factor per frame (0.05), tuned for 60 frames a
 * second; at the 15 of a software renderer the camera would drift on for 4× as long,
 * restarting the picture all the while. This is the factor for a frame `intervalMs` long that
 * gives the same ease-out in time at any frame rate (intervals clamped to 1–200 ms).
 */
export function dampingFactor(intervalMs: number, per60HzFrame = 0.05): number {
  const frames = clampInterval(intervalMs) / (1000 / 60);
  return 1 - (1 - per60HzFrame) ** frames;
}

/** Slowest ease-out after a drag, pixels a second (easeOutFactor): a few pixels a frame at software frame rates. */
export const MIN_EASE_SPEED = 60;

/**
 * The ease-out factor for one frame after the pointer let go: dampingFactor's exponential
 * ease-out, but never slower than `minSpeed` pixels a second, so the motion stops within
 * about a second. A purely exponential ease-out creeps on by fractions of a pixel for
 * seconds, and every step of it restarts the progressive picture. `leftPx`: how far the
 * ease-out still has to move the picture (pixels at the network); 1 moves it all at once.
 */
export function easeOutFactor(intervalMs: number, leftPx: number, minSpeed = MIN_EASE_SPEED): number {
  const f = dampingFactor(intervalMs);
  if (!(leftPx > 0)) return f;
  const step = (minSpeed * clampInterval(intervalMs)) / 1000;
  return Math.max(f, Math.min(1, step / leftPx));
}

/**
 * What is left of an ease-out after a step that moved the picture `movedPx` with factor `f`:
 * the step was f of what was left before it.
 */
export function easeOutLeft(movedPx: number, f: number): number {
  return f >= 1 || !(movedPx > 0) ? 0 : (movedPx * (1 - f)) / f;
}
