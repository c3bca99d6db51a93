import { CONFIG_PARAMS, defaultConfig, describeRange, nestConfig, type ConfigName } from './config.ts';

export function configFileText(name: ConfigName): string {
  return `${JSON.stringify(nestConfig(defaultConfig(name)), null, 2)}\n`;
}

/** The parameter table of one config file, as markdown. */
export function configTable(name: ConfigName): string {
  return ['| key | default | allowed | meaning |', '|---|---|---|---|', ...CONFIG_PARAMS[name].map((p) => `| \`${p.key}\` | ${JSON.stringify(p.default)} | ${describeRange(p)} | ${p.description} |`)].join('\n');
}

/** Replaces every `<!-- table:NAME -->…<!-- /table -->` block of a document with the current table. */
export function withConfigTables(doc: string): string {
  return doc.replace(/<!-- table:(processing|rendering) -->[\s\S]*?<!-- \/table -->/g, (_, name: ConfigName) => `<!-- table:${name} -->\n${configTable(name)}\n<!-- /table -->`);
}

export function configMarkdown(): string {
  const table = configTable;
  return `# Configuration

Two JSON files hold the defaults (the reference's, [METHOD.md](METHOD.md) §4–5): \`configs/processing.json\`
(layout and bundling) and \`configs/rendering.json\` (shaders and render modes). Every command
that uses one accepts \`--config FILE\` (a full or partial file of the same shape; missing keys
keep their defaults) and \`--set key=value\` (repeatable; dotted keys for nested values, e.g.
\`--set edges.size=0.03\`; values are JSON numbers/booleans or bare words).

Every value is checked: an unknown key, a wrong type or an out-of-range value stops the
command with one line naming the file (or \`--set\`), the key, the value and what is allowed:

\`\`\`
nnvis: error: --set: processing key 'sampling_rate' = 30 is invalid; allowed: a number in [5, 20]
\`\`\`

This page and the two files are generated from \`src/core/config.ts\` by
\`npx tsx scripts/write-configs.ts\`; a test keeps them in step.

## processing.json

${table('processing')}

## rendering.json

${table('rendering')}
`;
}
