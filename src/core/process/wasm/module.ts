// Loads the engine's WebAssembly kernels (kernels.as.ts) once per thread, from bytes bundled
// in kernels-wasm.ts: no fetch, so it works the same in Node, worker threads and Web Workers.
import { longestPolyline } from '../polyline.ts';
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

/** This thread's instance, for a kernel of the WebAssembly backend; one clear line where there is none. */
export function requireWasm(): WasmKernels {
  const wasm = wasmKernels();
  if (!wasm) throw new Error('WebAssembly SIMD is not available on this platform: use the JS kernels (nnvis process --backend js)');
  return wasm;
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
  return Math.max(CHUNK_POINTS, longestPolyline(offsets, p0, p1), outOffsets ? longestPolyline(outOffsets, p0, p1) : 0);
}

/** The node tables the class mixes of samples are computed from (sample-importance.ts, NodeMix). */
export interface NodeTables {
  nodeMix: Float32Array;
  nodeOverall: Float32Array;
  /** Raw node importance, for edge_importance_type 2; undefined without. */
  raw: Float32Array | undefined;
  rawNorm: number;
  type: number;
  C: number;
}

/** Buffer sizes for `writeNodeTables`, to spread into a layout; channels padded to Cp. */
export function nodeTableSizes(t: NodeTables, Cp: number): Record<string, number> {
  const nodes = t.nodeOverall.length;
  return { nodeMix: nodes * Cp * 4, nodeOverall: nodes * 4, raw: t.raw ? nodes * Cp * 4 : 0, mix: Cp * 4, mixB: Cp * 4 };
}

/** Writes the node tables (padded to Cp channels) and returns the arguments kernels.as.ts's sampleMix takes. */
export function writeNodeTables(wasm: WasmKernels, ptr: Record<string, number>, t: NodeTables, Cp: number): number[] {
  const buf = wasm.memory.buffer;
  const nodes = t.nodeOverall.length;
  const padded = (at: number, table: Float32Array) => {
    new Float32Array(buf, at, nodes * Cp).fill(0);
    for (let n = 0; n < nodes; n++) new Float32Array(buf, at + n * Cp * 4, t.C).set(table.subarray(n * t.C, n * t.C + t.C));
  };
  padded(ptr.nodeMix, t.nodeMix);
  if (t.raw) padded(ptr.raw, t.raw);
  new Float32Array(buf, ptr.nodeOverall, nodes).set(t.nodeOverall);
  return [t.type, Cp, ptr.nodeMix, ptr.nodeOverall, t.raw ? ptr.raw : 0, t.rawNorm];
}

/** Polylines with the edge each one draws. */
export interface EdgeLines {
  offsets: Uint32Array;
  points: Float32Array;
  source: Uint32Array;
  target: Uint32Array;
  alpha: Float32Array;
}

/** Buffer sizes for `copyEdgeLines` of up to `chunk` polylines and samples. */
export function edgeLineSizes(chunk: number): Record<string, number> {
  return { offsets: (chunk + 1) * 4, source: chunk * 4, target: chunk * 4, alpha: chunk * 4, points: chunk * 12 };
}

/** Copies polylines [p0, p1) into module memory; returns the arguments kernels.as.ts's walks over them take. */
export function copyEdgeLines(wasm: WasmKernels, ptr: Record<string, number>, lines: EdgeLines, p0: number, p1: number): number[] {
  const buf = wasm.memory.buffer;
  const { offsets, points } = lines;
  new Uint32Array(buf, ptr.offsets, p1 - p0 + 1).set(offsets.subarray(p0, p1 + 1));
  new Uint32Array(buf, ptr.source, p1 - p0).set(lines.source.subarray(p0, p1));
  new Uint32Array(buf, ptr.target, p1 - p0).set(lines.target.subarray(p0, p1));
  new Float32Array(buf, ptr.alpha, p1 - p0).set(lines.alpha.subarray(p0, p1));
  new Float32Array(buf, ptr.points, (offsets[p1] - offsets[p0]) * 3).set(points.subarray(offsets[p0] * 3, offsets[p1] * 3));
  return [p1 - p0, ptr.offsets, offsets[p0], ptr.points, ptr.source, ptr.target, ptr.alpha];
}
