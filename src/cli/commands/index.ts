import type { Command } from 'commander';
import { register as registerAudit } from './audit.ts';
import { register as registerDemo } from './demo.ts';
import { register as registerEmpi } from './empi.ts';
import { register as registerIngest } from './ingest.ts';
import { register as registerInstitution } from './institution.ts';
import { register as registerKeys } from './keys.ts';
import { register as registerServe } from './serve.ts';
import { register as registerSynth } from './synth.ts';
import { register as registerTerminology } from './terminology.ts';
import { register as registerToken } from './token.ts';

/**
 * Registers every command. Each command module exports `register(program)` and owns its options; it imports its
 * heavy dependencies lazily inside the action so that `--help` stays fast. One line per module, sorted.
 */
export function registerCommands(program: Command): void {
  registerAudit(program);
  registerDemo(program);
  registerEmpi(program);
  registerIngest(program);
  registerInstitution(program);
  registerKeys(program);
  registerServe(program);
  registerSynth(program);
  registerTerminology(program);
  registerToken(program);
}
