import { describe, expect, it } from 'vitest';
import { encodeNetwork } from '../src/core/container.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { layoutPositions } from '../src/core/layout.ts';
import { edgeCount, nodeCount, nodeOffset } from '../src/core/network.ts';
import { createRng, shuffle } from '../src/core/random.ts';

const opts = { layerDistance: 0.5, layerWidth: 1 };

describe('random source', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(seqA);
    expect(Array.from({ length: 100 }, c)).not.toEqual(seqA);
    expect(seqA.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('is roughly uniform', () => {
    const rng = createRng(1);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[Math.floor(rng() * 10)]++;
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('shuffles into a permutation', () => {
    const items = shuffle(createRng(3), Array.from({ length: 50 }, (_, i) => i));
    expect([...items].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(items).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('layout (METHOD.md §4.1)', () => {
  it('puts layer k of L in the plane z = -(L-1)·d/2 + k·d', () => {
    const layers = [784, 81, 49, 10];
    const pos = layoutPositions(layers, { layerDistance: 0.4, layerWidth: 1 });
    layers.forEach((n, k) => {
      const o = nodeOffset(layers, k);
      for (let i = 0; i < n; i++) expect(pos[(o + i) * 3 + 2]).toBeCloseTo(-1.5 * 0.4 + k * 0.4, 6);
    });
  });

  it('fills a ceil(sqrt(n))-wide square grid centred on the z axis spanning layer_width', () => {
    for (const n of [1, 4, 10, 49, 81, 784]) {
      const width = 0.8;
      const pos = layoutPositions([n, 2], { layerDistance: 0.5, layerWidth: width });
      const side = Math.ceil(Math.sqrt(n));
      const xs = new Set<number>();
      const ys = new Set<number>();
      for (let i = 0; i < n; i++) {
        xs.add(Math.round(pos[i * 3] * 1e5));
        ys.add(Math.round(pos[i * 3 + 1] * 1e5));
      }
      expect(xs.size).toBe(Math.min(n, side));
      expect(ys.size).toBe(Math.ceil(n / side));
      const x = Array.from({ length: n }, (_, i) => pos[i * 3]);
      if (n > 1) {
        expect(Math.min(...x)).toBeCloseTo(-width / 2, 6);
        expect(Math.max(...x)).toBeCloseTo(width / 2, 6);
        // neighbours on a row are one grid step apart
        expect(pos[3] - pos[0]).toBeCloseTo(width / (side - 1), 6);
      } else {
        expect(x[0]).toBe(0);
      }
    }
  });
});

describe('generateNetwork (METHOD.md §6)', () => {
  const layers = [784, 81, 49, 10];
  const net = generateNetwork({ layers, seed: 7, ...opts });

  it('is byte-identical for the same seed and differs for another', () => {
    const again = generateNetwork({ layers, seed: 7, ...opts });
    expect(Buffer.from(encodeNetwork(again)).equals(Buffer.from(encodeNetwork(net)))).toBe(true);
    const other = generateNetwork({ layers, seed: 8, ...opts });
    expect(Buffer.from(encodeNetwork(other)).equals(Buffer.from(encodeNetwork(net)))).toBe(false);
  });

  it('has the shapes of the layers', () => {
    expect(net.nodeImportance!.length).toBe(nodeCount(layers) * 10);
    expect(net.edgeImportance!.length).toBe(edgeCount(layers));
    expect(edgeCount(layers)).toBe(67_963);
    expect(net.nodePositions).toEqual(layoutPositions(layers, opts));
    expect(net.classNames).toHaveLength(10);
  });

  it('makes one-hot output nodes', () => {
    const o = nodeOffset(layers, 3);
    for (let c = 0; c < 10; c++) {
      const row = Array.from(net.nodeImportance!.subarray((o + c) * 10, (o + c + 1) * 10));
      expect(row).toEqual(Array.from({ length: 10 }, (_, j) => (j === c ? 1 : 0)));
    }
  });

  it('lets one uniformly chosen class dominate every other node', () => {
    const outputStart = nodeOffset(layers, 3);
    const topCounts = new Array(10).fill(0);
    let rowSum = 0;
    let rowSquares = 0;
    for (let node = 0; node < outputStart; node++) {
      const row = Array.from(net.nodeImportance!.subarray(node * 10, node * 10 + 10));
      topCounts[row.indexOf(Math.max(...row))]++;
      expect(row.every((v) => v >= 0 && v < 1)).toBe(true);
      rowSum += row.reduce((a, b) => a + b, 0);
      rowSquares += row.reduce((a, b) => a + b * b, 0);
    }
    // E[max(u1,u2)] + 9·E[min(u1,u2)²] = 2/3 + 9/6; E[max²] + 9·E[min⁴] = 1/2 + 9/15
    expect(rowSum / outputStart).toBeCloseTo(2 / 3 + 9 / 6, 1);
    expect(rowSquares / outputStart).toBeCloseTo(1 / 2 + 9 / 15, 1);
    for (const count of topCounts) expect(count).toBeGreaterThan(outputStart / 10 / 2);
  });

  it('draws edge alpha uniformly in [0, 1)', () => {
    const alpha = net.edgeImportance!;
    let sum = 0;
    for (const a of alpha) {
      expect(a >= 0 && a < 1).toBe(true);
      sum += a;
    }
    expect(sum / alpha.length).toBeCloseTo(0.5, 1);
  });
});
