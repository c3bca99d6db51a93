// The engine's kernels by name, per backend (as in tfjs: one op interface, kernels per
// backend). 'js' is the reference and runs everywhere; 'wasm' puts WebAssembly (SIMD) kernels
// in place of the hottest ones and adds 'advect', a whole edge advection step of one gap.
// Both are deterministic; they differ from each other in float rounding only.
import { DENSITY_KERNELS } from './density.ts';
import type { Backend, Kernel, Lanes } from './lanes.ts';
import { serialLanes } from './lanes.ts';
import { METRICS_KERNELS } from './raster.ts';
import { MOVE_KERNELS } from './move.ts';
import { POLYLINE_KERNELS } from './polyline.ts';
import { SAMPLE_KERNELS } from './sample-importance.ts';
import { ADVECT_KERNELS } from './wasm/advect.ts';
import { wasmAvailable } from './wasm/module.ts';
import { POLYLINE_WASM_KERNELS } from './wasm/polyline.ts';
import { RASTER_WASM_KERNELS } from './wasm/raster.ts';

const JS_KERNELS: Record<string, Kernel> = { ...DENSITY_KERNELS, ...METRICS_KERNELS, ...MOVE_KERNELS, ...POLYLINE_KERNELS, ...SAMPLE_KERNELS };
const WASM_KERNELS: Record<string, Kernel> = { ...JS_KERNELS, ...ADVECT_KERNELS, ...POLYLINE_WASM_KERNELS, ...RASTER_WASM_KERNELS };

/** Every kernel a lane runner of `backend` may be asked to run, by name. */
export function kernelsFor(backend: Backend): Record<string, Kernel> {
  return backend === 'wasm' ? WASM_KERNELS : JS_KERNELS;
}

/** WebAssembly where this platform runs it (SIMD), else JS. */
export function defaultBackend(): Backend {
  return wasmAvailable() ? 'wasm' : 'js';
}

/** One lane, in process (the browser worker, tests); `backend` defaults to the platform's best. */
export function inProcessLanes(backend: Backend = defaultBackend()): Lanes {
  return serialLanes(kernelsFor(backend), backend);
}
