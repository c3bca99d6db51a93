// The stacked BN fine-tuning (src/ml/importance-stacked.ts) against the plain tfjs one
// (referenceClassImportance: autodiff, tf.train.adam, one class at a time).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Network } from '../src/core/network.ts';
import { subset, type Dataset } from '../src/ml/data.ts';
import { loadDataset } from '../src/ml/datasets.ts';
import type { ImportanceFlag } from '../src/ml/importance-flags.ts';
import { classImportance, importanceForGroup, referenceClassImportance, type ClassImportance } from '../src/ml/importance.ts';
import { planGroups } from '../src/ml/parallel.ts';
import { trainNetwork } from '../src/ml/train.ts';

let train: Dataset;
let test: Dataset;
let net: Network;
const first = (d: Dataset, n: number): Dataset => subset(d, Array.from({ length: n }, (_, i) => i));

beforeAll(async () => {
  const mnist = loadDataset('mnist');
  // 1,500 digits: one-vs-rest sets of ~300, so every epoch ends on a partial batch
  train = first(mnist.train, 1500);
  test = first(mnist.test, 400);
  net = (await trainNetwork(train, test, { layers: [784, 24, 12, 10], epochs: 2, batchSize: 64, learningRate: 0.003, l1: 0, untrained: false, seed: 1 })).network;
});

/** Largest |Δ| between the two results' |gamma|. */
const gammaGap = (a: ClassImportance, b: ClassImportance): number =>
  Math.max(...a.gammas.flatMap((g, l) => Array.from(g, (v, i) => Math.abs(v - b.gammas[l][i]))));

describe('stacked importance', () => {
  it.each<[string, ImportanceFlag[]]>([
    ['gamma + l1 (the default)', ['gamma', 'l1']],
    ['centering + gamma + l2', ['centering', 'gamma', 'l2']],
    ['l1 alone (gamma from 0)', ['l1']],
  ])('matches the plain tfjs fine-tuning in float rounding: %s', async (_, flags) => {
    const opts = { flags, epochs: 3, batchSize: 64, learningRate: 0.01, seed: 5 };
    const stacked = await importanceForGroup({ net, train, test }, [1, 4, 7], opts);
    for (const [j, c] of [1, 4, 7].entries()) {
      const ref = await referenceClassImportance({ net, train, test }, c, opts);
      expect(stacked[j].classIndex).toBe(c);
      // gammas move by ~0.1 here; float32 rounding differs by ~1e-7
      expect(gammaGap(stacked[j], ref)).toBeLessThan(1e-5);
      expect(stacked[j].trainLoss).toBeCloseTo(ref.trainLoss, 4);
      expect(stacked[j].testLoss).toBeCloseTo(ref.testLoss, 4);
      expect(Math.abs(stacked[j].testAccuracy - ref.testAccuracy)).toBeLessThanOrEqual(1 / 200);
    }
  });

  it('gives a class the same bits whichever classes share its stack', async () => {
    const opts = { flags: ['gamma', 'l1'] as ImportanceFlag[], epochs: 2, batchSize: 64, learningRate: 0.01, seed: 2 };
    const alone = await classImportance({ net, train, test }, 6, opts);
    const [, inThree] = await importanceForGroup({ net, train, test }, [0, 6, 9], opts);
    expect(inThree.gammas).toEqual(alone.gammas);
    expect([inThree.trainLoss, inThree.testLoss, inThree.testAccuracy]).toEqual([alone.trainLoss, alone.testLoss, alone.testAccuracy]);
  });

  it('reports every epoch of every class, with the loss falling', async () => {
    const seen = new Map<number, number[]>();
    await importanceForGroup({ net, train, test }, [2, 3], { flags: ['gamma', 'l1'], epochs: 4, batchSize: 64, learningRate: 0.01, seed: 1 }, {
      onEpoch: (c, epoch, loss) => seen.set(c, [...(seen.get(c) ?? []), epoch, loss]),
    });
    for (const c of [2, 3]) {
      const log = seen.get(c)!;
      expect(log.filter((_, i) => i % 2 === 0)).toEqual([1, 2, 3, 4]);
      expect(log[7]).toBeLessThan(log[1]);
    }
  });

  it('splits the classes into balanced groups, one per thread at least', () => {
    const job = { net, train, test, opts: { flags: ['gamma'] as ImportanceFlag[], epochs: 1, batchSize: 64, learningRate: 0.01, seed: 1 } };
    const groups = planGroups(job, Array.from({ length: 10 }, (_, c) => c), 2);
    expect(groups).toHaveLength(2);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, c) => c));
    expect(planGroups(job, [3], 4)).toEqual([[3]]);
  });
});
