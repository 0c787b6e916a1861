#!/usr/bin/env node
/**
 * The `mpcache` command line. Commands live in cli/commands/, one per file, and are looked
 * up in the COMMANDS table below. Exit codes: 0 success, 1 failure, 2 configuration error
 * (printed as one line naming the field at fault).
 */
import { MpcError, isMpcError } from '../protocols/errors.js';
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { keygenCommand } from './commands/keygen.js';
import { partyCommand } from './commands/party.js';

export const COMMANDS: Readonly<Record<string, Command>> = {
  keygen: keygenCommand,
  party: partyCommand,
  demo: demoCommand,
  eval: evalCommand,
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `usage: mpcache <command> [options]   (mpcache <command> --help for its options)\n\n${Object.entries(COMMANDS)
    .map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`)
    .join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    process.stderr.write(`mpcache: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isMpcError(e) && e.code === 'MPC_ERR_CONFIG') {
      process.stderr.write(`mpcache ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mpcache ${name}: ${e instanceof MpcError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`mpcache: ${String(e)}\n`);
    process.exit(1);
  },
);
