// Work split across lanes (threads), kept platform-neutral: a kernel is a function of plain
// arguments (typed arrays and numbers) that handles part `lane` of `lanes`. Every kernel
// partitions by what it writes — rows of a grid, samples, polylines — and does each part's
// arithmetic in the same order as one lane would, so results are byte-identical for any
// number of lanes. The in-process runner here has one lane; src/cli/lanes.ts runs the same
// kernels on worker threads over SharedArrayBuffers.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelArgs = Record<string, any>;
export type Kernel = (args: KernelArgs, lane: number, lanes: number) => void;

/** Which implementation of the kernels runs: see kernels.ts. */
export type Backend = 'js' | 'wasm';

export interface Lanes {
  readonly count: number;
  readonly backend: Backend;
  /** Arrays all lanes can write (SharedArrayBuffer-backed with more than one lane). */
  f32(length: number): Float32Array;
  u32(length: number): Uint32Array;
  i32(length: number): Int32Array;
  /** Runs kernel `name` on every lane; returns when all are done. */
  run(name: string, args: KernelArgs): void;
}

/** Part `lane` of `lanes` of the index range [0, n). */
export function laneRange(n: number, lane: number, lanes: number): [number, number] {
  return [Math.floor((n * lane) / lanes), Math.floor((n * (lane + 1)) / lanes)];
}

export function serialLanes(kernels: Record<string, Kernel>, backend: Backend): Lanes {
  return {
    count: 1,
    backend,
    f32: (n) => new Float32Array(n),
    u32: (n) => new Uint32Array(n),
    i32: (n) => new Int32Array(n),
    run: (name, args) => kernels[name](args, 0, 1),
  };
}

/** Typed arrays on shared memory, for runners with several lanes. */
export const sharedArrays = {
  f32: (n: number) => new Float32Array(new SharedArrayBuffer(Math.max(4, n * 4))).subarray(0, n),
  u32: (n: number) => new Uint32Array(new SharedArrayBuffer(Math.max(4, n * 4))).subarray(0, n),
  i32: (n: number) => new Int32Array(new SharedArrayBuffer(Math.max(4, n * 4))).subarray(0, n),
};
