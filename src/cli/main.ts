import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';

const program = new Command()
  .name('healthbrain')
  .description('HealthBrain — regional health information platform (区域全民健康信息平台)')
  .showHelpAfterError()
  .enablePositionalOptions();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`healthbrain: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
