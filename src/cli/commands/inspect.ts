import type { Command } from 'commander';
import { summarize, type Range } from '../../core/summary.ts';
import { readNetworkFile } from '../network-file.ts';

const fmt = (r: Range): string => `${r.min.toPrecision(4)} … ${r.max.toPrecision(4)}`;

const KIND_TEXT: Record<string, string> = {
  network: 'network (weights only)',
  importance: 'network + importance',
  processed: 'processed network (bundled)',
};

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('print what an .nnvis file holds: kind, layers, edges, classes, importance ranges, reports, config used')
    .argument('<file>', '.nnvis file')
    .option('--json', 'print the summary as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      const s = summarize(readNetworkFile(file));
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      const lines = [
        `file:        ${file}`,
        `kind:        ${KIND_TEXT[s.kind]}`,
        `layers:      ${s.layers.join(' - ')}  (${s.layers.reduce((a, b) => a + b, 0)} nodes)`,
        `edges:       ${s.edges}`,
        `classes:     ${s.classes.length} (${s.classes.join(', ')})`,
      ];
      if (s.activations) lines.push(`activations: ${s.activations.join(', ')}`);
      if (s.weightRange) lines.push(`weights:     ${fmt(s.weightRange)}`);
      if (s.nodeImportanceRanges) {
        lines.push('node importance per layer:');
        s.nodeImportanceRanges.forEach((r, l) => lines.push(`  layer ${l} (${s.layers[l]} nodes): ${fmt(r)}`));
      }
      if (s.edgeImportanceRange) lines.push(`edge importance (alpha): ${fmt(s.edgeImportanceRange)}`);
      if (s.edgeSamples !== undefined) lines.push(`edge samples: ${s.edgeSamples}`);
      const { provenance, config, training, importance, ...rest } = s.meta;
      if (provenance) lines.push(`provenance:  ${JSON.stringify(provenance)}`);
      if (config) lines.push(`config used: ${JSON.stringify(config)}`);
      if (training) lines.push(...describeTraining(training));
      if (importance) lines.push(...describeImportance(importance));
      for (const [k, v] of Object.entries(rest)) lines.push(`${k}: ${JSON.stringify(v)}`);
      console.log(lines.join('\n'));
    });
}

function describeTraining(t: Record<string, unknown>): string[] {
  const out = ['training:'];
  for (const key of ['samples', 'trainSamples', 'testSamples', 'epochs', 'batchSize', 'learningRate', 'l1', 'trainAccuracy', 'testAccuracy', 'variant']) {
    if (t[key] !== undefined) out.push(`  ${key}: ${JSON.stringify(t[key])}`);
  }
  return out;
}

function describeImportance(t: Record<string, unknown>): string[] {
  const out = ['importance:'];
  for (const [key, value] of Object.entries(t)) {
    if (key === 'perClass' && Array.isArray(value)) {
      value.forEach((c: Record<string, unknown>) => out.push(`  class ${c.className}: ${JSON.stringify(c)}`));
    } else out.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  return out;
}
