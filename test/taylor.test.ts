// First-order Taylor importance (docs/METHOD.md §3.5) on a hand-made 2-2-2 network, checked
// against scores computed by hand.
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import type { Network } from '../src/core/network.ts';
import type { Dataset } from '../src/ml/data.ts';
import { initTf } from '../src/ml/tf.ts';
import { assembleTaylorImportance, taylorScores } from '../src/ml/taylor.ts';

/**
 * Kernels are [inputs × outputs] row-major: W0 = [[1, −1], [2, 0.5]], b0 = [0, 0.5],
 * W1 = [[1, 2], [−1, 3]], b1 = 0; ReLU hidden layer, softmax output.
 */
function handNet(): Network {
  return {
    layers: [2, 2, 2],
    classNames: ['a', 'b'],
    activations: ['relu', 'softmax'],
    weights: Float32Array.of(1, -1, 2, 0.5, 1, 2, -1, 3),
    biases: Float32Array.of(0, 0.5, 0, 0),
    meta: {},
  };
}

/**
 * By hand, with z = a1 W1 the logits (∂z_c/∂a1 = column c of W1) and ∂z_c/∂x_i = Σ_j W0[i][j] relu'(pre_j) W1[j][c]:
 * - x = (1, 2), class a: pre = (5, 0.5), a1 = (5, 0.5), g1 = (1, −1) → |a1·g1| = (5, 0.5); gx = (2, 1.5) → |x·gx| = (2, 3)
 * - x = (2, 1), class b: pre = (4, −1), a1 = (4, 0), g1 = (2, 3) → (8, 0); gx = (1·2, 2·2) = (2, 4) → (4, 4)
 * - x = (0, 1), class a: pre = (2, 1), a1 = (2, 1), g1 = (1, −1) → (2, 1); gx = (2, 1.5) → (0, 1.5)
 * Class a averages samples 1 and 3, class b is sample 2.
 */
const data: Dataset = { x: Float32Array.of(1, 2, 2, 1, 0, 1), y: Int32Array.of(0, 1, 0), count: 3, features: 2, classes: 2 };

describe('Taylor importance', () => {
  it('is the class mean of |activation × ∂(class logit)/∂activation|, in any batch size', async () => {
    const tf = await initTf();
    const tensors = tf.memory().numTensors;
    for (const batchSize of [1, 2, 3, 1024]) {
      const s = await taylorScores(handNet(), data, { batchSize });
      expect(s.samples).toEqual([2, 1]);
      // raw[l][node * classes + class]
      const input = [(2 + 0) / 2, 4, (3 + 1.5) / 2, 4];
      const hidden = [(5 + 2) / 2, 8, (0.5 + 1) / 2, 0];
      s.raw[0].forEach((v, i) => expect(v).toBeCloseTo(input[i], 5));
      s.raw[1].forEach((v, i) => expect(v).toBeCloseTo(hidden[i], 5));
    }
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('normalises per layer like BN, one-hot outputs, |w| per layer as alpha; records the method', async () => {
    const net = handNet();
    const imp = assembleTaylorImportance(net, await taylorScores(net, data, { batchSize: 2 }), { score: 'logit' });
    // input layer max 4, hidden max 8; output one-hot
    const expected = [1 / 4, 1, 2.25 / 4, 1, 3.5 / 8, 1, 0.75 / 8, 0, 1, 0, 0, 1];
    Array.from(imp.nodeImportance!).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(Array.from(imp.edgeImportance!)).toEqual([0.5, 0.5, 1, 0.25, 1 / 3, 2 / 3, 1 / 3, 1].map(Math.fround));
    expect(imp.meta.importance).toEqual({ method: 'taylor', score: 'logit' });
    expect(imp.weights).toBe(net.weights);
  });

  it('refuses a class without samples and mismatched data in one line', async () => {
    const one: Dataset = { ...data, y: Int32Array.of(0, 0, 0) };
    await expect(taylorScores(handNet(), one, { batchSize: 2 })).rejects.toThrow(new InputError('class b has no samples, so its Taylor importance cannot be estimated'));
    await expect(taylorScores(handNet(), { ...data, features: 3 }, { batchSize: 2 })).rejects.toThrow(InputError);
    await expect(taylorScores({ ...handNet(), weights: undefined }, data, { batchSize: 2 })).rejects.toThrow(/no weights/);
  });
});
