// Class colours (rendering key `palette`, docs/VIEWER.md#palette). Classes beyond a
// palette's length share its colours cyclically.

export type PaletteName = 'vivid' | 'reference' | 'tab10';

export const PALETTES: Readonly<Record<PaletteName, readonly string[]>> = {
  /**
   * The default: saturated and bright (HSV saturation ≥ 0.75, value ≥ 0.7, so ink pre-blended
   * toward white stays coloured) and chosen for colour-blind viewers: one colour per hue
   * family (blue, orange, green, red, purple, yellow, cyan, pink, brown, lime), each picked
   * within its family to maximise the smallest CIEDE2000 difference between any two classes
   * in normal vision and simulated deuteranopia, protanopia and tritanopia (Machado et al.
   * 2009; tritan differences weighted 1/0.6), with lightness spread so classes differ in
   * lightness where hues merge: the closest pair differs by ΔE 10.4 under deuteranopia and
   * protanopia, 6.8 under tritanopia, 16.6 in normal vision (tab10: 1.3 under protanopia,
   * the reference's: 3.7 under deuteranopia). Navy and olive for classes 10 and 11 (not part
   * of the optimisation).
   */
  vivid: ['#227ae6', '#d9610b', '#36d972', '#cc334d', '#550abf', '#d9a300', '#00bef2', '#cc3399', '#b32d00', '#a9f20c', '#1a1a80', '#66804d'],
  /** nn_vis's ten: forest green, dark blue, maroon, orange-red, yellow, burlywood, lime, cyan, magenta, cornflower blue. */
  reference: ['#228b22', '#00008b', '#b03060', '#ff4500', '#ffff00', '#deb887', '#00ff00', '#00ffff', '#ff00ff', '#6495ed'],
  /** Matplotlib's tab10 with its grey (class 7) swapped for navy so no class looks like the "independent" grey, plus two. */
  tab10: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#393b79', '#bcbd22', '#17becf', '#ad494a', '#637939'],
};

export const PALETTE_NAMES = Object.keys(PALETTES) as PaletteName[];
export const DEFAULT_PALETTE: PaletteName = 'vivid';

/** Colour of "independent" mode and of networks without importance. */
export const GREY = '#4d4d4d';

/** How many class channels the GPU attributes carry. */
export const MAX_CLASS_CHANNELS = 12;

export function isPaletteName(name: string): name is PaletteName {
  return Object.hasOwn(PALETTES, name);
}

/** The colours of a palette (the default for an unknown name). */
export function paletteColors(name: string = DEFAULT_PALETTE): readonly string[] {
  return isPaletteName(name) ? PALETTES[name] : PALETTES[DEFAULT_PALETTE];
}

export function classColor(c: number, palette: string = DEFAULT_PALETTE): string {
  const colors = paletteColors(palette);
  return colors[c % colors.length];
}

export function hexBytes(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** One RGB triple per class channel (MAX_CLASS_CHANNELS), the palette repeated as needed. */
export function channelBytes(palette: string): [number, number, number][] {
  return Array.from({ length: MAX_CLASS_CHANNELS }, (_, k) => hexBytes(classColor(k, palette)));
}
