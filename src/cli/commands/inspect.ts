import type { Command } from 'commander';
import { summarize, type Range } from '../../core/summary.ts';
import { printable } from '../../core/text.ts';
import { readNetworkFile } from '../network-file.ts';

const fmt = (r: Range): string => `${r.min.toPrecision(4)} … ${r.max.toPrecision(4)}`;

// Every string in a file is untrusted: names go through printable(), JSON through json()
// (JSON.stringify escapes C0 controls but leaves DEL, C1, bidi overrides and line
// separators raw; json() escapes those too, as \u escapes, so the JSON means the same).
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const escapeJson = (text: string): string => text.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const json = (v: unknown): string => escapeJson(JSON.stringify(v) ?? String(v));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
        console.log(escapeJson(JSON.stringify(s, null, 2)));
        return;
      }
      const lines = [
        `file:        ${printable(file, 500)}`,
        `kind:        ${KIND_TEXT[s.kind]}`,
        `layers:      ${s.layers.join(' - ')}  (${s.layers.reduce((a, b) => a + b, 0)} nodes)`,
        `edges:       ${s.edges}`,
        `classes:     ${s.classes.length} (${s.classes.map((c) => printable(c)).join(', ')})`,
      ];
      if (s.activations) lines.push(`activations: ${s.activations.join(', ')}`);
      if (s.architecture) lines.push('architecture:', ...s.architecture.map((a, k) => `  ${k === 0 ? '' : `layer ${k}: `}${a}`));
      if (s.weights !== undefined) lines.push(`weight count: ${s.weights} (kernels; edges join channels)`);
      if (s.weightRange) lines.push(`weights:     ${fmt(s.weightRange)}`);
      if (s.nodeImportanceRanges) {
        lines.push('node importance per layer:');
        s.nodeImportanceRanges.forEach((r, l) => lines.push(`  layer ${l} (${s.layers[l]} nodes): ${fmt(r)}`));
      }
      if (s.edgeImportanceRange) lines.push(`edge importance (alpha): ${fmt(s.edgeImportanceRange)}`);
      if (s.edgeSamples !== undefined) lines.push(`edge samples: ${s.edgeSamples}`);
      const { provenance, config, training, importance, ...rest } = s.meta;
      if (provenance !== undefined) lines.push(`provenance:  ${json(provenance)}`);
      if (config !== undefined) lines.push(`config used: ${json(config)}`);
      if (training !== undefined) lines.push(...(isRecord(training) ? describeTraining(training) : [`training: ${json(training)}`]));
      if (importance !== undefined) lines.push(...(isRecord(importance) ? describeImportance(importance) : [`importance: ${json(importance)}`]));
      for (const [k, v] of Object.entries(rest)) lines.push(`${printable(k)}: ${json(v)}`);
      console.log(lines.join('\n'));
    });
}

function describeTraining(t: Record<string, unknown>): string[] {
  const out = ['training:'];
  for (const key of ['dataset', 'data', 'samples', 'trainSamples', 'testSamples', 'epochs', 'batchSize', 'learningRate', 'l1', 'trainAccuracy', 'testAccuracy', 'variant']) {
    if (t[key] !== undefined) out.push(`  ${key}: ${json(t[key])}`);
  }
  return out;
}

function describeImportance(t: Record<string, unknown>): string[] {
  const out = ['importance:'];
  for (const [key, value] of Object.entries(t)) {
    if (key === 'perClass' && Array.isArray(value)) {
      for (const c of value as unknown[]) out.push(`  class ${printable(isRecord(c) ? c.className : '?')}: ${json(c)}`);
    } else out.push(`  ${printable(key)}: ${json(value)}`);
  }
  return out;
}
