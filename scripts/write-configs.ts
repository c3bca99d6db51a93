// Writes configs/processing.json and configs/rendering.json from the schema defaults
// (src/core/config.ts), docs/CONFIG.md's and README.md's parameter tables, so none can drift:
// test/config.test.ts fails if the committed files differ from what this script writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { configFileText, configMarkdown, withConfigTables } from '../src/core/config-docs.ts';

writeFileSync('configs/processing.json', configFileText('processing'));
writeFileSync('configs/rendering.json', configFileText('rendering'));
writeFileSync('docs/CONFIG.md', configMarkdown());
writeFileSync('README.md', withConfigTables(readFileSync('README.md', 'utf8')));
console.log('wrote configs/processing.json, configs/rendering.json, docs/CONFIG.md and the tables in README.md');
