// Classification metrics from predicted and true labels: pure functions, no tfjs.

export interface ClassReport {
  className: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export function accuracy(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) ok++;
  return truth.length ? ok / truth.length : 0;
}

/** confusion[t * classes + p] = samples of true class t predicted as p. */
export function confusionMatrix(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number): Uint32Array {
  const m = new Uint32Array(classes * classes);
  for (let i = 0; i < truth.length; i++) m[truth[i] * classes + pred[i]]++;
  return m;
}

/** Per class: true positives, samples of the class (support) and predictions of it. */
function classCounts(confusion: Uint32Array, classes: number): { tp: number; support: number; predicted: number }[] {
  return Array.from({ length: classes }, (_, c) => {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < classes; j++) {
      support += confusion[c * classes + j];
      predicted += confusion[j * classes + c];
    }
    return { tp: confusion[c * classes + c], support, predicted };
  });
}

export function classReport(confusion: Uint32Array, classNames: readonly string[]): ClassReport[] {
  return classCounts(confusion, classNames.length).map(({ tp, support, predicted }, c) => {
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { className: classNames[c], precision, recall, f1, support };
  });
}

/** Per class (TPR + TNR) / 2: the balanced accuracy of one class against the rest (docs/METHOD.md §3.4). */
export function balancedAccuracies(confusion: Uint32Array, classes: number): number[] {
  let total = 0;
  for (const v of confusion) total += v;
  return classCounts(confusion, classes).map(({ tp, support, predicted }) => {
    const negatives = total - support;
    const tn = negatives - (predicted - tp);
    const tpr = support ? tp / support : 0;
    const tnr = negatives ? tn / negatives : 0;
    return (tpr + tnr) / 2;
  });
}
