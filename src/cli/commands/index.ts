import type { Command } from 'commander';

/**
 * Registers every command. Each command module exports `register(program)` and owns its options; it imports its
 * heavy dependencies lazily inside the action so that `--help` stays fast. One line per module, sorted.
 */
export function registerCommands(program: Command): void {
  void program;
}
