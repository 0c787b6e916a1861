/**
 * Command-line flag helpers shared by the party entry point (party-main.ts) and the CLI
 * commands: strict parsing, required flags, JSON arguments, JSON output of results, text
 * (a prompt, private inputs) from a file or standard input.
 * Configuration problems are thrown as MpcError('MPC_ERR_CONFIG') naming the flag at fault.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MpcError } from '../protocols/errors.js';

export function configError(msg: string): MpcError {
  return new MpcError('MPC_ERR_CONFIG', msg);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed values: string options as strings, boolean options as booleans, absent as undefined. */
export type FlagValues<O extends Options> = {
  [K in keyof O]?: O[K] extends { multiple: true } ? (O[K] extends { type: 'boolean' } ? boolean[] : string[]) : O[K] extends { type: 'boolean' } ? boolean : string;
};

/**
 * `--tokens -1` as `--tokens=-1`: a string option followed by a negative number takes it as
 * its value (node's parseArgs would call the number an ambiguous option), so range checks
 * can name the value.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && Object.hasOwn(options, name) && options[name].type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** node:util parseArgs in strict mode; its errors become one-line config errors. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, command: string): FlagValues<O> {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values as FlagValues<O>;
  } catch (e) {
    throw configError(`${command}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function requireFlag(v: string | undefined, flag: string, command: string): string {
  if (v === undefined || v === '') throw configError(`${command}: missing required option ${flag}`);
  return v;
}

/** A whole number from a flag (absent -> undefined); a config error naming the flag and the range otherwise. */
export function parseIntFlag(v: string | undefined, flag: string, command: string, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw configError(`${command}: ${flag} must be a whole number from ${lo} to ${hi}, got '${v.slice(0, 40)}'`);
  return n;
}

/** `--setup-timeout SECONDS`: a positive number of seconds (at most a day). */
export function parseSeconds(v: string, flag: string, command: string): number {
  const n = /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!(n > 0) || n > 86_400) throw configError(`${command}: ${flag} must be a number of seconds above 0 (at most 86400), got '${v.slice(0, 40)}'`);
  return n;
}

/** `--job-args` JSON (absent -> undefined). */
export function parseJsonFlag(v: string | undefined, flag: string): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch (e) {
    throw configError(`${flag} is not valid JSON: ${(e as Error).message}`);
  }
}

/** JSON text for results that may hold bigint or typed arrays. */
export function toJsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      return Array.from(x as unknown as ArrayLike<number | bigint>, (e) => (typeof e === 'bigint' ? e.toString() : e));
    }
    if (x instanceof Map) return Object.fromEntries(x);
    return x;
  });
}

/** largest text read by readTextSource (bytes) */
export const MAX_TEXT_SOURCE_BYTES = 64 * 1024 * 1024;

/**
 * Text (UTF-8) from a file or, for `-`, standard input (a hint goes to stderr when that is a
 * terminal). Errors are one-line config errors naming `flag` and the file, never the text.
 */
export async function readTextSource(src: string, flag: string, command: string, what: string): Promise<string> {
  if (src !== '-') {
    try {
      return await readFile(src, 'utf8');
    } catch (e) {
      throw configError(`${command}: cannot read ${flag} ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (process.stdin.isTTY) process.stderr.write(`reading ${what} from standard input (end it with Ctrl-D)\n`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    n += b.byteLength;
    if (n > MAX_TEXT_SOURCE_BYTES) throw configError(`${command}: ${what} on standard input is longer than ${MAX_TEXT_SOURCE_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A prompt read by readTextSource, with one trailing newline (what `echo` adds) dropped. */
export async function readPromptSource(src: string, command: string): Promise<string> {
  return (await readTextSource(src, '--prompt-file', command, 'the prompt')).replace(/\r?\n$/, '');
}
