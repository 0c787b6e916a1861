#!/usr/bin/env node
/**
 * The `mpcache` command line. Commands live in cli/commands/, one per file, and are looked
 * up in the COMMANDS table below. Exit codes: 0 success, 1 failure, 2 configuration error
 * (printed as one line naming the field at fault).
 */
import { MpcError, isMpcError } from '../protocols/errors.js';
import type { Command } from './command.js';

/**
 * The commands, by name. Each module is imported only when its command runs (or for --help),
 * so a command whose dependencies are broken or heavy never slows or breaks the others.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  keygen: async () => (await import('./commands/keygen.js')).keygenCommand,
  session: async () => (await import('./commands/session.js')).sessionCommand,
  party: async () => (await import('./commands/party.js')).partyCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  ask: async () => (await import('./commands/ask.js')).askCommand,
};

async function help(): Promise<string> {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const rows = await Promise.all(
    Object.entries(COMMANDS).map(async ([k, load]) => {
      const summary = await load().then(
        (c) => c.summary,
        (e: unknown) => `(unavailable: ${String(e).split('\n')[0]})`,
      );
      return `  ${k.padEnd(w)}  ${summary}`;
    }),
  );
  return `usage: mpcache <command> [options]   (mpcache <command> --help for its options)\n\n${rows.join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`mpcache: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isMpcError(e) && e.code === 'MPC_ERR_CONFIG') {
      // one line: the message without its code prefix or a repeated command name
      let m = e.message.split('\n')[0];
      if (m.startsWith('MPC_ERR_CONFIG: ')) m = m.slice('MPC_ERR_CONFIG: '.length);
      if (m.startsWith(`${name}: `)) m = m.slice(name.length + 2);
      process.stderr.write(`mpcache ${name}: ${m}\n`);
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
