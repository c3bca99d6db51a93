// Picture statistics of a rendered network (bench/picture.ts, the viewer tests): how much
// of the frame is inked, how saturated the ink is, how much of the frame the network fills
// and, for a one-class picture, how much of its colour is that class's hue. Pure: RGBA bytes
// in, numbers out.

/** A pixel is ink when R + G + B < INK_SUM (of 765): anything visibly off white. */
export const INK_SUM = 735;
/** Ink with HSV saturation above this counts as coloured. */
export const SATURATED = 0.3;
/** Ink darker than this sum (of 765, about 60 % grey) counts as dark: lines that read at a glance. */
export const DARK_SUM = 460;
/** A one-class picture's coloured ink should lie within this many degrees of the class hue. */
export const HUE_TOLERANCE = 25;

export interface PictureStats {
  width: number;
  height: number;
  /** Ink pixels / all pixels. */
  inkShare: number;
  /** Mean HSV saturation of the ink. */
  saturation: number;
  /** Share of the ink with saturation > SATURATED. */
  saturatedShare: number;
  /** Share of the ink darker than DARK_SUM. */
  darkShare: number;
  /** Bounding box of the ink as a share of the frame's width and height (0 without ink). */
  boxWidth: number;
  boxHeight: number;
  /** Ink bounding box in pixels [x0, y0, x1, y1] (inclusive), null without ink. */
  box: [number, number, number, number] | null;
  /** Share of the saturated ink within ±HUE_TOLERANCE° of `hue` (only when a hue is given). */
  hueShare?: number;
}

/** HSV hue in degrees of an RGB triple (0 for greys). */
export function hueOf(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return 0;
  const h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return h * 60;
}

/** Hue of a '#rrggbb' colour in degrees. */
export function hexHue(hex: string): number {
  const v = parseInt(hex.slice(1), 16);
  return hueOf((v >> 16) & 255, (v >> 8) & 255, v & 255);
}

export function hueDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return Math.min(d, 360 - d);
}

/**
 * Statistics of an RGBA image (4 bytes per pixel, row-major). `hue`: the class hue a
 * one-class picture should show; `region`: only this part of the frame counts (x0, y0, x1,
 * y1 exclusive), e.g. the part the viewer's panels leave free.
 */
export function pictureStats(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, options: { hue?: number; region?: [number, number, number, number] } = {}): PictureStats {
  const [rx0, ry0, rx1, ry1] = options.region ?? [0, 0, width, height];
  let ink = 0;
  let satSum = 0;
  let saturated = 0;
  let dark = 0;
  let onHue = 0;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = ry0; y < ry1; y++) {
    for (let x = rx0; x < rx1; x++) {
      const i = (y * width + x) * 4;
      const r = rgba[i];
      const g = rgba[i + 1];
      const b = rgba[i + 2];
      const sum = r + g + b;
      if (sum >= INK_SUM) continue;
      ink++;
      const max = Math.max(r, g, b);
      const s = max === 0 ? 0 : (max - Math.min(r, g, b)) / max;
      satSum += s;
      if (sum < DARK_SUM) dark++;
      if (s > SATURATED) {
        saturated++;
        if (options.hue !== undefined && hueDistance(hueOf(r, g, b), options.hue) <= HUE_TOLERANCE) onHue++;
      }
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  const w = rx1 - rx0;
  const h = ry1 - ry0;
  const out: PictureStats = {
    width: w,
    height: h,
    inkShare: ink / Math.max(1, w * h),
    saturation: ink ? satSum / ink : 0,
    saturatedShare: ink ? saturated / ink : 0,
    darkShare: ink ? dark / ink : 0,
    boxWidth: ink ? (x1 - x0 + 1) / w : 0,
    boxHeight: ink ? (y1 - y0 + 1) / h : 0,
    box: ink ? [x0, y0, x1, y1] : null,
  };
  if (options.hue !== undefined) out.hueShare = saturated ? onHue / saturated : 0;
  return out;
}

/** The targets for a class-coloured picture, and for a one-class one. */
export const TARGETS = { saturation: 0.35, saturatedShare: 0.4, box: 0.9, oneClassInk: 0.03, oneClassHue: 0.9 };

/** Which targets a picture misses ('' when it meets them all). `kind` says which apply. */
export function missedTargets(s: PictureStats, kind: 'all' | 'one-class' | 'independent' | 'reference'): string {
  const missed: string[] = [];
  if (kind === 'all') {
    if (s.saturation < TARGETS.saturation) missed.push(`saturation < ${TARGETS.saturation}`);
    if (s.saturatedShare < TARGETS.saturatedShare) missed.push(`saturated < ${TARGETS.saturatedShare * 100} %`);
  }
  if ((kind === 'all' || kind === 'independent') && Math.max(s.boxWidth, s.boxHeight) < TARGETS.box) missed.push(`box < ${TARGETS.box * 100} %`);
  if (kind === 'one-class') {
    if (s.inkShare < TARGETS.oneClassInk) missed.push(`ink < ${TARGETS.oneClassInk * 100} %`);
    if ((s.hueShare ?? 0) < TARGETS.oneClassHue) missed.push(`on hue < ${TARGETS.oneClassHue * 100} %`);
  }
  return missed.join(', ');
}
