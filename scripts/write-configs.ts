// Writes configs/processing.json and configs/rendering.json from the schema defaults
// (src/core/config.ts) and docs/CONFIG.md's parameter tables, so neither can drift:
// test/config.test.ts fails if the committed files differ from what this script writes.
import { writeFileSync } from 'node:fs';
import { configMarkdown, configFileText } from '../src/core/config-docs.ts';

writeFileSync('configs/processing.json', configFileText('processing'));
writeFileSync('configs/rendering.json', configFileText('rendering'));
writeFileSync('docs/CONFIG.md', configMarkdown());
console.log('wrote configs/processing.json, configs/rendering.json, docs/CONFIG.md');
