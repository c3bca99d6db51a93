// The WebAssembly backend against the JS reference kernels, and its bytes against its source.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWasm, WASM_MODULES, wasmModuleText } from '../scripts/build-wasm.ts';
import { applyConfig, defaultConfig } from '../src/core/config.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { inProcessLanes, kernelsFor } from '../src/core/process/kernels.ts';
import type { Backend, Lanes } from '../src/core/process/lanes.ts';
import { bandwidthAt } from '../src/core/process/params.ts';
import { resamplePolylines, smoothPolylines } from '../src/core/process/polyline.ts';
import { rasterStats } from '../src/core/process/metrics.ts';
import { processNetwork } from '../src/core/process/run.ts';
import { createProcessing, moveEdgeSamples, nodeAdvect, nodeSchedule, rebuildEdges } from '../src/core/process/state.ts';
import { wasmAvailable } from '../src/core/process/wasm/module.ts';

const config = (over: Record<string, unknown> = {}) => applyConfig('processing', defaultConfig('processing'), { sampling_rate: 5, ...over }, 'test');

/** `count` lanes run one after the other on this thread: the partition without threads. */
function sequentialLanes(count: number, backend: Backend): Lanes {
  const kernels = kernelsFor(backend);
  return {
    ...inProcessLanes(backend),
    count,
    run: (name, args) => {
      for (let lane = 0; lane < count; lane++) kernels[name](args, lane, count);
    },
  };
}

/** Processing states after the node phase, one per backend, from the same network and seed. */
function afterNodes(net: Network, over: Record<string, unknown>, lanes: Lanes) {
  const state = createProcessing(net, config(over), 3, lanes);
  for (let t = 0; t < nodeSchedule(state); t++) nodeAdvect(state);
  rebuildEdges(state);
  return state;
}

function allPoints(state: ReturnType<typeof afterNodes>): Float32Array {
  return Float32Array.from(state.gaps.flatMap((g) => Array.from(g.lines.points)));
}

describe('WebAssembly backend', () => {
  it('runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(wasmAvailable()).toBe(true);
    expect(inProcessLanes().backend).toBe('wasm');
  });

  it('the committed module matches its AssemblyScript source (npm run build:wasm)', async () => {
    for (const { source, module, name } of WASM_MODULES) {
      expect(readFileSync(module, 'utf8'), `${module} is stale: run npm run build:wasm`).toBe(wasmModuleText(source, name, await compileWasm(source)));
    }
  }, 60_000);

  it.each([
    [0, 'share'],
    [1, 'share'],
    [2, 'share'],
    [3, 'share'],
    [0, 'importance'],
    [2, 'importance'],
  ])('an edge advection step moves samples as the JS kernels do (edge_importance_type %i, class_density %s)', (type, classDensity) => {
    const net = generateNetwork({ layers: [40, 12, 6, 4], seed: 2, layerDistance: 0.5, layerWidth: 1 });
    const js = afterNodes(net, { edge_importance_type: type, class_density: classDensity }, inProcessLanes('js'));
    const wasm = afterNodes(net, { edge_importance_type: type, class_density: classDensity }, inProcessLanes('wasm'));
    expect(allPoints(wasm)).toEqual(allPoints(js));
    const before = allPoints(js);
    const h = bandwidthAt(js.params.edgeBandwidth0, js.params.edgeReduction, 0);
    for (const state of [js, wasm]) moveEdgeSamples(state);
    const a = allPoints(js);
    const b = allPoints(wasm);
    expect(b.length).toBe(a.length);
    let moved = 0;
    let far = 0;
    let sum = 0;
    for (let i = 0; i < before.length; i += 3) {
      const d = Math.hypot(a[i] - b[i], a[i + 1] - b[i + 1], a[i + 2] - b[i + 2]);
      sum += d;
      if (d > 0.01 * h) far++;
      if (Math.hypot(a[i] - before[i], a[i + 1] - before[i + 1], a[i + 2] - before[i + 2]) > 0.1 * h) moved++;
    }
    const samples = before.length / 3;
    expect(moved / samples).toBeGreaterThan(0.5);
    expect(far / samples).toBeLessThan(0.002);
    expect(sum / samples).toBeLessThan(1e-4 * h);
  });

  it('smooths polylines as the JS kernel does', () => {
    const offsets = Uint32Array.of(0, 2, 9, 40, 41 + 40);
    const points = Float32Array.from({ length: offsets[4] * 3 }, (_, i) => Math.sin(i * 1.7) + i * 0.01);
    for (const ratio of [1, 0.3]) {
      const js = smoothPolylines({ offsets, points }, 8, ratio, inProcessLanes('js')).points;
      const wasm = smoothPolylines({ offsets, points }, 8, ratio, inProcessLanes('wasm')).points;
      expect(wasm.slice(0, 6)).toEqual(points.slice(0, 6)); // a 2-point polyline is left as it is
      expect(Math.max(...wasm.map((v, i) => Math.abs(v - js[i])))).toBeLessThan(1e-5);
      expect(Math.max(...wasm.map((v, i) => Math.abs(v - points[i])))).toBeGreaterThan(0.1);
    }
  });

  it('re-samples polylines exactly as the JS kernels do', () => {
    const offsets = Uint32Array.of(0, 2, 9, 40, 81);
    const points = Float32Array.from({ length: offsets[4] * 3 }, (_, i) => Math.sin(i * 1.7) + i * 0.01);
    for (const [spacing, maxPoints] of [[0.05, 1000], [0.3, 1000], [5, 1000], [0.05, 30]]) {
      const js = resamplePolylines({ offsets, points }, spacing, maxPoints, inProcessLanes('js'));
      const wasm = resamplePolylines({ offsets, points }, spacing, maxPoints, inProcessLanes('wasm'));
      expect(wasm.offsets).toEqual(js.offsets);
      expect(wasm.points).toEqual(js.points);
    }
    expect(resamplePolylines({ offsets, points }, 0.05, 1000, inProcessLanes('wasm')).offsets[4]).toBeGreaterThan(offsets[4]);
    const capped = resamplePolylines({ offsets, points }, 0.05, 30, inProcessLanes('wasm')).offsets;
    expect(Math.max(...capped.slice(1).map((o, i) => o - capped[i]))).toBe(30);
  });

  it.each(['js', 'wasm'] as const)('re-sampling with smoothing gives what re-sampling, then smoothing gives (%s)', (backend) => {
    const lanes = inProcessLanes(backend);
    const offsets = Uint32Array.of(0, 2, 9, 40, 81);
    const points = Float32Array.from({ length: offsets[4] * 3 }, (_, i) => Math.sin(i * 1.7) + i * 0.01);
    for (const bandwidthRatio of [1, 0.2]) {
      const fused = resamplePolylines({ offsets, points }, 0.05, 1000, lanes, { passes: 8, bandwidthRatio });
      const apart = smoothPolylines(resamplePolylines({ offsets, points }, 0.05, 1000, lanes), 8, bandwidthRatio, lanes);
      expect(fused.offsets).toEqual(apart.offsets);
      expect(fused.points).toEqual(apart.points);
    }
  });

  it.each([0, 2])('measures ink and class separation as the JS raster does (edge_importance_type %i)', (type) => {
    const net = generateNetwork({ layers: [40, 12, 6, 4], seed: 2, layerDistance: 0.5, layerWidth: 1 });
    const [js, wasm] = (['js', 'wasm'] as const).map((b) => {
      const state = afterNodes(net, { edge_importance_type: type }, inProcessLanes(b));
      return rasterStats(state, state.gaps.map((g) => g.lines));
    });
    expect(js.occupied).toBeGreaterThan(100);
    expect(wasm.occupied).toBe(js.occupied);
    expect(Math.abs(wasm.separation - js.separation)).toBeLessThan(1e-5);
    const lanes = (n: number) => {
      const state = afterNodes(net, { edge_importance_type: type }, sequentialLanes(n, 'wasm'));
      return rasterStats(state, state.gaps.map((g) => g.lines));
    };
    expect(lanes(3)).toEqual(lanes(1));
  });

  it('gives identical results for 1, 2, 3 and more lanes than rows', () => {
    const net = generateNetwork({ layers: [30, 10, 4], seed: 5, layerDistance: 0.5, layerWidth: 1 });
    const runs = [1, 2, 3, 200].map((n) => processNetwork(net, config(), { seed: 1, lanes: sequentialLanes(n, 'wasm') }).network.edgeSamples);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });

  it('bundles a two-class network as well as the JS kernels', () => {
    const layers = [24, 10, 2];
    const N = nodeCount(layers);
    const nodeImportance = new Float32Array(N * 2);
    for (let n = 0; n < N; n++) nodeImportance[n * 2 + (n % 2)] = 1;
    const net: Network = { ...generateNetwork({ layers, seed: 1, layerDistance: 0.5, layerWidth: 1 }), classNames: ['a', 'b'], nodeImportance, edgeImportance: new Float32Array(edgeCount(layers)).fill(1) };
    const [js, wasm] = (['js', 'wasm'] as const).map((b) => processNetwork(net, config(), { seed: 1, lanes: inProcessLanes(b) }).stats.quality);
    console.log(`ink ×${js.ink.ratio.toFixed(3)} (js) ×${wasm.ink.ratio.toFixed(3)} (wasm); separation ${js.classSeparation.after.toFixed(3)} / ${wasm.classSeparation.after.toFixed(3)}`);
    for (const q of [js, wasm]) {
      expect(q.ink.ratio).toBeLessThan(0.8);
      expect(q.classSeparation.after).toBeGreaterThan(q.classSeparation.before);
    }
    expect(Math.abs(wasm.ink.ratio - js.ink.ratio)).toBeLessThan(0.1 * js.ink.ratio);
    expect(Math.abs(wasm.classSeparation.after - js.classSeparation.after)).toBeLessThan(0.05);
  });
});
