// Loads the engine's WebAssembly kernels (kernels.as.ts) once per thread, from bytes bundled
// in kernels-wasm.ts: no fetch, so it works the same in Node, worker threads and Web Workers.
import { KERNELS_WASM } from './kernels-wasm.ts';

export interface WasmKernels {
  memory: WebAssembly.Memory;
  splat(...args: number[]): void;
  passSpans(...args: number[]): void;
  convolve(...args: number[]): void;
  norm(...args: number[]): void;
  clearSpans(...args: number[]): void;
  move(...args: number[]): number;
  smooth(...args: number[]): void;
  polylineCounts(...args: number[]): void;
  resample(...args: number[]): void;
  raster(...args: number[]): void;
  rasterRows(...args: number[]): void;
}

let cached: WasmKernels | null | undefined;

/** This thread's instance, or null where WebAssembly or its SIMD is missing. */
export function wasmKernels(): WasmKernels | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (typeof WebAssembly !== 'object') return cached;
  const bytes = Uint8Array.from(atob(KERNELS_WASM), (c) => c.charCodeAt(0));
  if (WebAssembly.validate(bytes)) cached = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as WasmKernels;
  return cached;
}

export function wasmAvailable(): boolean {
  return wasmKernels() !== null;
}

/** End of the zeroed region `zeroed` keeps at the start of memory (per thread: one instance each). */
let zeroedEnd = 64;

/**
 * A region of `bytes` at a fixed offset that is all zero when handed out and must be left
 * all zero by its user (who clears only what it wrote — cheaper than clearing it whole each
 * time). Other layouts start after it. Growing it zeroes it anew.
 */
export function zeroed(wasm: WasmKernels, bytes: number): number {
  const end = 64 + Math.ceil(bytes / 16) * 16;
  if (end > zeroedEnd) {
    grow(wasm, end);
    new Uint8Array(wasm.memory.buffer, 64, end - 64).fill(0);
    zeroedEnd = end;
  }
  return 64;
}

/** Forgets the zeroed region (after a failure left it dirty): the next `zeroed` clears it. */
export function dropZeroed(): void {
  zeroedEnd = 64;
}

function grow(wasm: WasmKernels, end: number): void {
  const missing = end - wasm.memory.buffer.byteLength;
  if (missing > 0) wasm.memory.grow(Math.ceil(missing / 65536));
}

/**
 * Lays out one call's buffers (bytes each, 16-byte aligned, with 16 bytes of slack for
 * vector loads past the end) after the zeroed region and grows the memory to hold them.
 * Returns each buffer's offset; views must be made after this call, as growing replaces
 * memory.buffer.
 */
export function layout(wasm: WasmKernels, sizes: Record<string, number>): Record<string, number> {
  const ptr: Record<string, number> = {};
  let at = zeroedEnd;
  for (const [name, bytes] of Object.entries(sizes)) {
    ptr[name] = at;
    at += Math.ceil(bytes / 16) * 16 + 16;
  }
  grow(wasm, at);
  return ptr;
}

/**
 * Polylines [p0, p1) of a set, in chunks of at most `points` samples (a longer polyline is
 * a chunk of its own) — in `offsets` and, when given, in the output's `outOffsets` too.
 */
export function chunks(offsets: Uint32Array, p0: number, p1: number, points: number, outOffsets?: Uint32Array): [number, number][] {
  const out: [number, number][] = [];
  const fits = (a: number, b: number) => offsets[b] - offsets[a] <= points && (!outOffsets || outOffsets[b] - outOffsets[a] <= points);
  for (let a = p0; a < p1; ) {
    let b = a + 1;
    while (b < p1 && fits(a, b + 1)) b++;
    out.push([a, b]);
    a = b;
  }
  return out;
}

/** Samples copied into module memory at a time: bounds each thread's memory. */
export const CHUNK_POINTS = 1 << 18;

/** The chunk size for polylines [p0, p1): CHUNK_POINTS, or the longest polyline (in either set) when that is longer. */
export function chunkSize(offsets: Uint32Array, p0: number, p1: number, outOffsets?: Uint32Array): number {
  let size = CHUNK_POINTS;
  for (let i = p0; i < p1; i++) size = Math.max(size, offsets[i + 1] - offsets[i], outOffsets ? outOffsets[i + 1] - outOffsets[i] : 0);
  return size;
}
