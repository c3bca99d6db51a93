// Class colours: tab10 with its grey (class 7) swapped for navy so no class looks like the
// "independent" grey, plus two extras; classes beyond 12 share the colours cyclically.
export const PALETTE: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
  '#e377c2', '#393b79', '#bcbd22', '#17becf', '#ad494a', '#637939',
];

/** Colour of "independent" mode and of networks without importance. */
export const GREY = '#4d4d4d';

/** How many class channels the GPU attributes carry (3 × vec4). */
export const MAX_CLASS_CHANNELS = 12;

export function classColor(c: number): string {
  return PALETTE[c % PALETTE.length];
}
