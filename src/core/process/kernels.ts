import { DENSITY_KERNELS } from './density.ts';
import type { Kernel } from './lanes.ts';
import { serialLanes } from './lanes.ts';
import { POLYLINE_KERNELS } from './polyline.ts';
import { SAMPLE_KERNELS } from './sample-importance.ts';

/** Every kernel a lane runner may be asked to run, by name. */
export const KERNELS: Record<string, Kernel> = { ...DENSITY_KERNELS, ...POLYLINE_KERNELS, ...SAMPLE_KERNELS };

/** One lane, in process: the default everywhere (the browser worker, tests). */
export const SERIAL_LANES = serialLanes(KERNELS);
