// The viewer's CPU side: from a Network to the per-instance textures (no browser needed).
import { describe, expect, it } from 'vitest';
import { layoutPositions } from '../../src/core/layout.ts';
import { edgeSampleImportance } from '../../src/core/process/sample-importance.ts';
import { classColor, GREY, PALETTES } from '../../src/viewer/palette.ts';
import { allocBuffers, boundsOf, decodedImportance, fillColors, fillEdges, fillNodes, gridCellsOf, importancePercentile, prunedEdgeCount, straightSamples, TEXTURE_WIDTH, toScene } from '../../src/viewer/scene-data.ts';
import { hexHue, hueDistance } from '../../bench/picture-stats.ts';
import { importanceNetwork, plainNetwork, processedNetwork } from './harness.ts';

const PALETTE = PALETTES.vivid;

const LAYERS = [9, 4, 3];
const E = 9 * 4 + 4 * 3;

describe('scene data', () => {
  it('samples straight edges end to end at the requested spacing', () => {
    const positions = layoutPositions(LAYERS, { layerDistance: 0.5, layerWidth: 1 });
    const { offsets, samples } = straightSamples(LAYERS, positions, 0.1);
    expect(offsets.length).toBe(E + 1);
    // Edge 0 runs from node 0 to node 9 (first of layer 1): both ends exactly, ≈ 0.1 apart inside.
    const n = offsets[1] - offsets[0];
    const len = Math.hypot(positions[27] - positions[0], positions[28] - positions[1], positions[29] - positions[2]);
    expect(n).toBe(Math.round(len / 0.1) + 1);
    expect([...samples.subarray(0, 3)]).toEqual([...positions.subarray(0, 3)]);
    expect(samples[(n - 1) * 3 + 2]).toBeCloseTo(positions[29], 6);
  });

  it('fills edge instances: positions with a next-sample slot, end flags, engine importance', () => {
    const scene = toScene(processedNetwork(LAYERS, 2, (e) => e === 5));
    const S = scene.edgeSamples.length / 3;
    const buf = allocBuffers(S);
    fillEdges(buf, scene);
    expect(buf.count).toBe(S);
    expect(buf.texels.length % (TEXTURE_WIDTH * 4)).toBe(0);
    expect(buf.texels.length).toBeGreaterThanOrEqual((S + 1) * 4);
    expect([...buf.texels.subarray(4, 7)]).toEqual([...scene.edgeSamples.subarray(3, 6)]);
    // The slot after the last sample repeats it (the "next" of the last ellipsoid).
    expect([...buf.texels.subarray(S * 4, S * 4 + 3)]).toEqual([...scene.edgeSamples.subarray((S - 1) * 3)]);
    const ends = buf.end.reduce((a, b) => a + b, 0);
    expect(ends).toBe(E - 1); // one per edge that owns samples
    expect(prunedEdgeCount(scene.edgeSampleOffsets)).toBe(1);
    const { overall, classes } = edgeSampleImportance(scene.net, scene.edgeSampleOffsets, 0);
    expect(buf.importance).toEqual(overall);
    // w carries the importance, −1 − importance at an edge's end.
    for (let i = 0; i < S; i++) {
      expect(buf.texels[i * 4 + 3]).toBe(buf.end[i] ? Math.fround(-1 - overall[i]) : overall[i]);
      expect(decodedImportance(overall[i], buf.end[i] === 1)).toBeCloseTo(overall[i], 6);
    }
    // Class 1 of sample 7, quantised to a byte.
    expect(buf.mix[7 * 12 + 1]).toBe(Math.round(Math.min(1, classes[7 * 3 + 1]) * 255));
    expect(buf.mix[7 * 12 + 3]).toBe(0); // channels past the class count stay empty
  });

  it('fills colours and class shares for each class visibility', () => {
    const buf = allocBuffers(4);
    buf.count = 4;
    // 0: class 2 only; 1: classes 0 and 1 equally; 2: no mix; 3: mostly class 1.
    buf.mix.set([0, 0, 255], 0);
    buf.mix.set([128, 128], 12);
    buf.mix.set([30, 200], 36);
    const bytes = (hex: string) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    const texel = (i: number) => [...buf.colors.subarray(i * 4, i * 4 + 4)];
    fillColors(buf, -2);
    for (let i = 0; i < 4; i++) expect(texel(i)).toEqual([...bytes(GREY), 255]);
    fillColors(buf, -1);
    expect(texel(0)).toEqual([...bytes(PALETTE[2]), 255]);
    expect(texel(1)).toEqual([...bytes(PALETTE[0]).map((v, k) => Math.round((v + bytes(PALETTE[1])[k]) / 2)), 255]);
    expect(texel(2)).toEqual([...bytes(GREY), 255]);
    const w = [30 * 30, 200 * 200];
    expect(texel(3)).toEqual([...bytes(PALETTE[0]).map((v, k) => Math.round((v * w[0] + bytes(PALETTE[1])[k] * w[1]) / (w[0] + w[1]))), 255]);
    fillColors(buf, 1);
    expect(texel(0)).toEqual([...bytes(PALETTE[1]), 0]);
    expect(texel(1)).toEqual([...bytes(PALETTE[1]), 128]);
    expect(texel(2)).toEqual([...bytes(GREY), 255]); // no class mix: grey, overall importance
    expect(texel(3)).toEqual([...bytes(PALETTE[1]), 200]);
  });

  it('colours with the chosen palette', () => {
    const buf = allocBuffers(1);
    buf.count = 1;
    buf.mix.set([0, 0, 0, 255], 0);
    const bytes = (hex: string) => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    for (const name of ['vivid', 'reference', 'tab10'] as const) {
      fillColors(buf, -1, name);
      expect([...buf.colors.subarray(0, 3)]).toEqual(bytes(PALETTES[name][3]));
      expect(classColor(3, name)).toBe(PALETTES[name][3]);
    }
    expect(PALETTES.reference.slice(0, 4)).toEqual(['#228b22', '#00008b', '#b03060', '#ff4500']); // forest green, dark blue, maroon, orange-red
    // The default: saturated, bright enough to stay coloured when transparent, ten distinct hues.
    const vivid = PALETTES.vivid.slice(0, 10);
    for (const hex of vivid) {
      const [r, g, b] = bytes(hex);
      const max = Math.max(r, g, b);
      expect((max - Math.min(r, g, b)) / max).toBeGreaterThanOrEqual(0.75);
      expect(max / 255).toBeGreaterThanOrEqual(0.7);
    }
    const hues = vivid.map(hexHue);
    let closest = 360;
    for (let i = 0; i < hues.length; i++) for (let j = i + 1; j < hues.length; j++) closest = Math.min(closest, hueDistance(hues[i], hues[j]));
    expect(closest).toBeGreaterThan(4); // red and pink, brown and orange differ in lightness instead
  });

  it('finds the importance percentile of what is drawn', () => {
    const buf = allocBuffers(1000);
    buf.count = 1000;
    for (let i = 0; i < 1000; i++) buf.importance[i] = (i + 1) / 1000; // 0.001 … 1, uniform
    fillColors(buf, -2);
    const p90 = importancePercentile(buf, 0.01, 0.9);
    expect(p90).toBeGreaterThan(0.88);
    expect(p90).toBeLessThan(0.93);
    // Above a threshold of 0.5 only the upper half counts.
    expect(importancePercentile(buf, 0.5, 0.5)).toBeGreaterThan(0.73);
    expect(importancePercentile(buf, 0.5, 0.5)).toBeLessThan(0.78);
    // One class: importance × share; share 0 everywhere → nothing drawn → 0.
    fillColors(buf, 2);
    expect(importancePercentile(buf, 0.01, 0.9)).toBeGreaterThan(0.88); // no class mix: grey, factor 1
  });

  it('lays out and grey-codes a plain network', () => {
    const scene = toScene(plainNetwork(LAYERS));
    expect(scene.kind).toBe('network');
    expect(scene.hasImportance).toBe(false);
    const nodes = allocBuffers(16);
    fillNodes(nodes, scene);
    expect(nodes.count).toBe(16);
    expect([...nodes.importance.subarray(0, 16)].every((v) => v === 1)).toBe(true);
    expect(nodes.mix.every((v) => v === 0)).toBe(true);
  });

  it('normalises node importance so the largest node is 1', () => {
    const scene = toScene(importanceNetwork(LAYERS, 4));
    const nodes = allocBuffers(16);
    fillNodes(nodes, scene);
    expect(Math.max(...nodes.importance.subarray(0, 16))).toBeCloseTo(1, 6);
  });

  it('finds the grid size in meta and bounds the geometry', () => {
    expect(gridCellsOf({ processing: { stats: { gridCells: 2090048 } } })).toBe(2090048);
    expect(gridCellsOf({ config: { layer_width: 1 } })).toBe(0);
    const b = boundsOf(new Float32Array([0, 0, 0, 2, 4, -4]));
    expect(b.center).toEqual([1, 2, -2]);
    expect(b.radius).toBeCloseTo(Math.hypot(2, 4, 4) / 2, 6);
  });
});
