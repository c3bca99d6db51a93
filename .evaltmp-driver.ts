import { Command } from 'commander';
import { registerTrain } from './src/cli/commands/train.ts';
import { registerImportance } from './src/cli/commands/importance.ts';
import { registerEvaluate } from './src/cli/commands/evaluate.ts';
const program = new Command('nnvis').exitOverride();
registerTrain(program); registerImportance(program); registerEvaluate(program);
try { await program.parseAsync(process.argv); } catch (e) { console.error('ERR', (e as Error).name, (e as Error).message); process.exitCode = 1; }
