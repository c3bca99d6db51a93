import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { edgeCount, nodeCount, type Network } from '../../core/network.ts';
import type { PruningResult } from '../../ml/evaluate.ts';
import { PRUNE_METHOD_LABELS, PRUNE_METHODS, type PruneMethod } from '../../ml/prune.ts';
import type { DatasetName } from '../../ml/datasets.ts';
import { parseDatasetName, resolveData } from '../data.ts';
import { checkOutputDir, writeFilesAtomic } from '../fs.ts';
import { readNetworkFile } from '../network-file.ts';
import { checkMemory, describeNetwork, maxMemoryOption, parseIntIn, parseSeed, TFJS_WASM_BYTES } from '../options.ts';
import type { Chart, LineSeries } from '../plot.ts';
import { progressBar } from '../progress.ts';

interface EvaluateCliOptions {
  methods?: string;
  step: string;
  protocol: string;
  classes?: string;
  data?: string;
  dataset?: DatasetName;
  seed: number;
  maxMemory: number;
  threads?: number;
  output: string;
}

/** The files evaluate writes into its output directory. */
function outputNames(methods: readonly string[], withRelevant: boolean): string[] {
  // relative-<method> (nn_vis' "Relative Accuracy") ranks by all classes, so only without --classes
  const charts = ['accuracy', ...methods.map((m) => `per-class-${m}`), ...(withRelevant ? ['relevant'] : methods.map((m) => `relative-${m}`))];
  return ['results.json', 'results.csv', ...charts.flatMap((c) => [`${c}.svg`, `${c}.png`])];
}

/** A typed-array sort with a compare function copies into one V8 array, which holds at most this many elements. */
const MAX_SORTED_EDGES = 134_217_725;

/**
 * Peak bytes of `evaluate`: the files as read; per method the edge order, or the scores
 * and their sorted copy (8 bytes per edge); while ranking, V8's sort copy (measured ≈ 28
 * bytes per edge at 100 M edges); the model as tensors and a pruned copy per step, which the collector
 * frees late; TensorFlow.js, vega and resvg (≈ 500 MB).
 */
function evaluateMemory(layers: readonly number[], fileBytes: number, methods: number, threads: number): { sortBytes: number; tfBytes: number; bytes: number } {
  const e = edgeCount(layers);
  const sortBytes = 28 * e;
  const tfBytes = 8 * e + 2 * 1024 * nodeCount(layers) * 4 + 50e6;
  // each worker thread holds its own TensorFlow.js heap and runtime; the data are shared
  const workers = threads > 1 ? threads * (tfBytes + 150e6) : 0;
  return { sortBytes, tfBytes, bytes: fileBytes + 8 * e * methods + sortBytes + tfBytes + 12 * e + 500e6 + workers };
}

/** Percentages shown in the stdout summary, when they are among the steps. */
const SUMMARY_PERCENTAGES = [0, 50, 80, 90, 95];

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description(
      'validate importance by pruning (docs/METHOD.md §3.4): zero the least important edges in steps and plot train and test accuracy and per-class balanced accuracy per scoring method',
    )
    .argument('<model>', 'trained model .nnvis (with weights)')
    .argument('<importance...>', 'importance .nnvis computed from that model: a BN file (nnvis importance), a Taylor file (--method taylor), or one of each to compare them')
    .option('--methods <list>', `edge scoring methods, comma-separated: ${PRUNE_METHODS.join(', ')} (bnn* need a BN file, taylor* a Taylor file; default: all the files allow)`)
    .option('--step <percent>', 'pruning step in percent of all edges, integer 1–50 (0 and 100 are always included)', '5')
    .option('--protocol <name>', `which edges go at p %: reference (nn_vis: every edge scoring ≤ the sorted score at index ⌊p·E/100⌋, ties together) or exact (exactly round(p·E/100) edges)`, 'reference')
    .option('--classes <list>', 'relevant classes (indices or class names, comma-separated): bnn/taylor scores use only their importance, and their accuracy is reported separately')
    .option('--dataset <name>', 'built-in data set, mnist or fashion; default: the one the model was trained on (else mnist), with its test split', parseDatasetName)
    .option('--data <file>', 'your own labelled data instead (see docs/DATA.md); its seeded 20 % test split is used')
    .option('--seed <n>', "seed of the random method (and of the split when --data is given)", parseSeed, 0)
    .option('--threads <n>', 'worker threads classifying the pruning steps in parallel (default: one per core when the run is big enough to gain from it, else 1)', parseIntIn('--threads', 1, 256))
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <dir>', 'output directory for results.json, results.csv and the charts')
    .addHelpText(
      'after',
      '\nWrites into the output directory: results.json, results.csv, accuracy.svg/.png (train and test),\n' +
        'per-class-<method>.svg/.png (balanced accuracy per class), and relative-<method>.svg/.png\n' +
        '(balanced accuracy minus overall test accuracy, nn_vis\' "Relative Accuracy"), or with --classes relevant.svg/.png.\n\nExamples:\n' +
        '  nnvis evaluate model.nnvis imp.nnvis -o eval/\n' +
        '  nnvis evaluate model.nnvis imp.nnvis imp-taylor.nnvis -o eval-bn-taylor/      # BN γ and Taylor on the same curves\n' +
        '  nnvis evaluate model.nnvis imp.nnvis --methods bnn_edge,edge --step 10 --classes 3,5 -o eval-35/',
    )
    .action(async (modelPath: string, impPaths: string[], opts: EvaluateCliOptions) => {
      // tfjs and vega load only when the command runs, so `nnvis --help` stays instant
      const ev = await import('../../ml/evaluate.ts');
      const { checkEvaluationInputs, checkMethods, checkRelevantClasses, evaluatePruning, pruningPercentages } = ev;
      const step = parseStep(opts.step);
      const protocol = ev.checkProtocol(opts.protocol);
      // outputs first, before any work: for the methods asked, or all (the files decide the default)
      const asked = opts.methods === undefined ? undefined : checkMethods(splitList(opts.methods));
      checkOutputDir(opts.output, outputNames(asked ?? PRUNE_METHODS, opts.classes !== undefined), { inputs: [modelPath, ...impPaths, opts.data] });
      if (impPaths.length > 2) throw new InputError(`${impPaths.length} importance files given; evaluate takes one, or one BN and one Taylor file to compare`);
      const model = readNetworkFile(modelPath);
      const imps = impPaths.map((p) => readNetworkFile(p));
      imps.forEach((imp, i) => checkEvaluationInputs(model, imp, { model: modelPath, importance: impPaths[i] }));
      const byKind = ev.importanceByKind(imps, impPaths);
      const methods = asked ?? ev.availableMethods(byKind.keys());
      ev.checkMethodsAvailable(methods, byKind);
      const edges = edgeCount(model.layers);
      if (edges > MAX_SORTED_EDGES) {
        throw new InputError(`${modelPath}: ${describeNetwork(model.layers)} has more edges than evaluate can rank (at most ${MAX_SORTED_EDGES}); evaluate a smaller model`);
      }
      const memory = evaluateMemory(model.layers, [modelPath, ...impPaths].reduce((a, p) => a + statSync(p).size, 0), methods.length, opts.threads ?? availableParallelism());
      checkMemory(
        {
          source: modelPath,
          what: `evaluating ${describeNetwork(model.layers)} with ${methods.length} method${methods.length > 1 ? 's' : ''}`,
          bytes: memory.bytes,
          hardLimit:
            memory.tfBytes > TFJS_WASM_BYTES
              ? { bytes: TFJS_WASM_BYTES, needs: memory.tfBytes, what: 'TensorFlow.js (WebAssembly) memory' }
              : { bytes: getHeapStatistics().heap_size_limit, needs: memory.sortBytes, what: 'JavaScript heap (to rank the edges)' },
          advice: methods.length > 1 ? 'evaluate a smaller model or fewer --methods' : 'evaluate a smaller model',
        },
        opts.maxMemory,
      );
      const classes = opts.classes === undefined ? undefined : checkRelevantClasses(parseClasses(opts.classes, model.classNames), model.classNames);
      imps.forEach((imp, i) => {
        if (imp.weights && model.weights && imp.weights.some((w, j) => w !== model.weights![j])) {
          console.error(`nnvis: warning: the weights stored in ${impPaths[i]} differ from ${modelPath}'s; was the importance computed from another model?`);
        }
      });
      const data = resolveData(model, modelPath, { data: opts.data, dataset: opts.dataset, seed: opts.seed });
      console.log(`evaluating on the ${data.test.count} test samples of ${data.description} (and accuracy on its ${data.train.count} training samples), protocol ${protocol}`);

      const total = methods.length * pruningPercentages(step).length;
      const bar = progressBar('pruning', total);
      let result: PruningResult;
      try {
        result = await evaluatePruning(
          model,
          imps,
          data.test,
          { methods, step, protocol, classes, seed: opts.seed, train: data.train, files: { model: modelPath, importance: impPaths }, threads: opts.threads },
          (done, _total, info) => bar.update(done, { info: `${info.method} ${info.percent} %` }),
        );
      } finally {
        bar.stop();
      }

      // Everything is computed before anything is written: an error leaves no partial output.
      const files = new Map<string, string | Uint8Array>();
      const config = { methods, step, protocol, classes: classes ?? null, seed: opts.seed };
      files.set(
        'results.json',
        compactJson(
          {
            tool: 'nnvis',
            command: 'evaluate',
            config,
            files: { model: modelPath, importance: Object.fromEntries([...byKind].map(([kind, { file }]) => [kind, file])), data: data.description },
            layers: model.layers,
            classNames: model.classNames,
            relevantClassNames: classes?.map((c) => model.classNames[c]) ?? null,
            trainSamples: data.train.count,
            testSamples: data.test.count,
            ...result,
          },
        ) + '\n',
      );
      files.set('results.csv', toCsv(result, model.classNames, classes !== undefined));
      const subtitle = [`${basename(modelPath)} + ${impPaths.map((p) => basename(p)).join(' + ')}`, `${data.train.count} train / ${data.test.count} test samples · ${protocol} protocol`];
      const charts = await renderCharts(result, model, classes, subtitle);
      for (const [name, chart] of charts) {
        files.set(`${name}.svg`, chart.svg);
        files.set(`${name}.png`, chart.png);
      }
      await writeFilesAtomic(opts.output, files, { flag: '-o' });

      console.log(summaryTable(result, classes, model.classNames, data.train.count, data.test.count));
      console.log(`wrote ${opts.output}: ${[...files.keys()].join(', ')}`);
    });
}

/** Pretty JSON with arrays of plain values on one line, so number series stay readable. */
function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*\n([^[\]{}]*?)\n\s*\]/g, (_m, inner: string) => `[${inner.trim().split(/\s*\n\s*/).join(' ')}]`);
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseStep(text: string): number {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || v < 1 || v > 50) throw new InputError(`--step must be an integer percentage in [1, 50]; got '${text}'`);
  return v;
}

/** Class indices, or class names where an item is not an index. */
function parseClasses(text: string, classNames: readonly string[]): number[] {
  const items = splitList(text);
  if (items.length === 0) throw new InputError(`--classes is empty; give class indices, e.g. --classes 3,5`);
  return items.map((item) => {
    if (/^\d+$/.test(item)) return Number(item);
    const c = classNames.indexOf(item);
    if (c < 0) {
      throw new InputError(`--classes: '${item}' is neither a class index (0–${classNames.length - 1}) nor a class name (${classNames.join(', ')})`);
    }
    return c;
  });
}

const num = (v: number): string => String(Number(v.toFixed(6)));
const csvHeaderName = (name: string): string => name.replace(/[^\w.-]+/g, '_');

function toCsv(result: PruningResult, classNames: readonly string[], withRelevant: boolean): string {
  const header = ['method', 'pruned_percent', 'pruned_edges', 'train_accuracy', 'test_accuracy', 'relevant_accuracy', ...classNames.map((n) => `balanced_acc_${csvHeaderName(n)}`)];
  const rows = [header.join(',')];
  for (const m of result.methods) {
    result.percentages.forEach((p, s) => {
      const relevant = withRelevant && m.relevantAccuracy ? num(m.relevantAccuracy[s]) : '';
      const train = m.trainAccuracy ? num(m.trainAccuracy[s]) : '';
      rows.push([m.method, String(p), String(m.prunedEdges[s]), train, num(m.accuracy[s]), relevant, ...m.balancedAccuracy[s].map(num)].join(','));
    });
  }
  return rows.join('\n') + '\n';
}

const label = (m: PruneMethod): string => PRUNE_METHOD_LABELS[m];
const className = (names: readonly string[], c: number): string => `class ${names[c]}`;

/** The charts of a run, by file name without extension; scripts/figure-evaluation.ts redraws them from a results.json. */
export async function renderCharts(result: PruningResult, model: Pick<Network, 'classNames'>, classes: number[] | undefined, subtitle: string[]): Promise<Map<string, Chart>> {
  const { lineChart } = await import('../plot.ts');
  const x = result.percentages;
  // every chart shares the pruning axis and an accuracy scale
  const axes = { xTitle: 'edges pruned (%)', xDomain: [0, 100] as [number, number], yDomain: [0, 1] as [number, number] };
  const names = model.classNames;
  const relevantLine = classes ? [`relevant classes: ${classes.map((c) => names[c]).join(', ')} (bnn*, taylor* use only their importance)`] : [];
  const sub = [...subtitle, ...relevantLine];
  const charts = new Map<string, Chart>();

  // nn_vis' overall plot shows the training accuracy: solid here, test dashed
  const withTrain = result.methods.some((m) => m.trainAccuracy);
  charts.set(
    'accuracy',
    await lineChart({
      title: withTrain ? 'Train and test accuracy vs. edges pruned' : 'Test accuracy vs. edges pruned',
      subtitle: sub,
      ...axes,
      yTitle: withTrain ? 'accuracy' : 'test accuracy',
      legendTitle: 'edge scoring method',
      styleTitle: withTrain ? 'accuracy on' : undefined,
      series: result.methods.flatMap((m) => [
        ...(m.trainAccuracy ? [{ name: label(m.method), x, y: m.trainAccuracy, style: 'training samples' }] : []),
        { name: label(m.method), x, y: m.accuracy, ...(withTrain ? { style: 'test samples' } : {}) },
      ]),
    }),
  );

  for (const m of result.methods) {
    const shown = classes ?? names.map((_, c) => c);
    const series: LineSeries[] = shown.map((c) => ({ name: className(names, c), x, y: m.balancedAccuracy.map((row) => row[c]) }));
    if (classes) series.push({ name: 'overall accuracy', x, y: m.accuracy, dashed: true, color: '#333333' });
    charts.set(
      `per-class-${m.method}`,
      await lineChart({
        title: `Per-class balanced accuracy, pruning by ${m.method}`,
        subtitle: [`(TPR + TNR) / 2 on test; edges ranked by ${label(m.method)}, lowest pruned first`, ...subtitle, ...(classes ? [`relevant: ${classes.map((c) => names[c]).join(', ')}`] : [])],
        ...axes,
        yTitle: 'balanced accuracy',
        series,
      }),
    );
    if (!classes) {
      // nn_vis' per-class figure: prune by the overall ranking, plot balanced accuracy − overall
      // test accuracy per class, 0–95 % (at 100 % every class's balanced accuracy is 0.5)
      const upTo = x.filter((p) => p < 100).length;
      charts.set(
        `relative-${m.method}`,
        await lineChart({
          title: `Relative accuracy per class, pruning by ${m.method}`,
          subtitle: [`(TPR + TNR) / 2 − overall accuracy, on test; ranked by ${m.method}`, ...subtitle],
          xTitle: axes.xTitle,
          xDomain: axes.xDomain,
          yTitle: 'relative accuracy',
          series: names.map((_, c) => ({
            name: className(names, c),
            x: x.slice(0, upTo),
            y: m.balancedAccuracy.slice(0, upTo).map((row, s) => row[c] - m.accuracy[s]),
          })),
        }),
      );
    }
  }

  if (classes) {
    const relevantNames = classes.map((c) => names[c]).join(', ');
    const relevantStyle = `class${classes.length > 1 ? 'es' : ''} ${relevantNames}`;
    const series: LineSeries[] = result.methods.flatMap((m) => [
      { name: label(m.method), x, y: m.relevantAccuracy!, style: relevantStyle },
      { name: label(m.method), x, y: m.accuracy, style: 'all classes' },
    ]);
    charts.set(
      'relevant',
      await lineChart({
        title: 'Accuracy on the relevant classes vs. all',
        subtitle: sub,
        ...axes,
        yTitle: 'test accuracy',
        legendTitle: 'edge scoring method',
        styleTitle: 'test samples of',
        series,
      }),
    );
  }
  return charts;
}

function summaryTable(result: PruningResult, classes: number[] | undefined, names: readonly string[], trainSamples: number, samples: number): string {
  const cols = SUMMARY_PERCENTAGES.map((p) => result.percentages.indexOf(p)).filter((i) => i >= 0);
  const width = Math.max(...result.methods.map((m) => label(m.method).length), 6);
  const head = (title: string): string[] => [title, ['method'.padEnd(width), ...cols.map((i) => `${result.percentages[i]} %`.padStart(7))].join(' ')];
  const row = (m: PruneMethod, values: number[]): string => [label(m).padEnd(width), ...cols.map((i) => values[i].toFixed(4).padStart(7))].join(' ');
  const lines = [...head(`test accuracy by edges pruned (${samples} test samples, ${result.edges} edges, ${result.protocol} protocol):`), ...result.methods.map((m) => row(m.method, m.accuracy))];
  if (result.methods.some((m) => m.trainAccuracy)) {
    lines.push('', ...head(`train accuracy (${trainSamples} training samples):`), ...result.methods.filter((m) => m.trainAccuracy).map((m) => row(m.method, m.trainAccuracy!)));
  }
  if (classes) {
    lines.push('', ...head(`accuracy on the relevant classes (${classes.map((c) => names[c]).join(', ')}):`));
    lines.push(...result.methods.map((m) => row(m.method, m.relevantAccuracy!)));
  }
  return lines.join('\n');
}
