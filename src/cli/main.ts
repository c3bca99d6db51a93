import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError } from '../core/errors.ts';
import { oneLine } from '../core/text.ts';
import { registerCompare } from './commands/compare.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerImport } from './commands/import.ts';
import { registerImportance } from './commands/importance.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerPredict } from './commands/predict.ts';
import { registerProcess } from './commands/process.ts';
import { registerRender } from './commands/render.ts';
import { registerTrain } from './commands/train.ts';
import { registerView } from './commands/view.ts';

// A reader that stops early (`nnvis --help | head`) closes the pipe: stop without a stack
// trace, with the status a Unix tool killed by SIGPIPE has (not success: the work may be unfinished).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(141);
});

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('nnvis')
  .description(
    'See what a trained neural network has learned.\n' +
      'Pipeline: model → importance → layout/bundling → processed network → renderer.\n' +
      'Files are .nnvis containers (docs/FORMAT.md); configs are configs/*.json (docs/CONFIG.md).',
  )
  .version(pkg.version)
  .exitOverride();

registerGenerate(program);
registerInspect(program);
registerImport(program);
registerPredict(program);
registerTrain(program);
registerImportance(program);
registerEvaluate(program);
registerProcess(program);
registerView(program);
registerRender(program);
registerCompare(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed its message (or help / version, which exit 0)
    process.exitCode = err.exitCode;
  } else if (err instanceof InputError) {
    console.error(`nnvis: error: ${oneLine(err.message)}`);
    process.exitCode = 1;
  } else {
    console.error(`nnvis: internal error: ${oneLine((err as Error).message)}`);
    if (process.env.NNVIS_DEBUG) console.error((err as Error).stack);
    process.exitCode = 2;
  }
}
