/**
 * Command-line flag helpers shared by the party entry point (party-main.ts) and the CLI
 * commands: strict parsing, required flags, JSON arguments, JSON output of results.
 * Configuration problems are thrown as MpcError('MPC_ERR_CONFIG') naming the flag at fault.
 */
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

/** node:util parseArgs in strict mode; its errors become one-line config errors. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, command: string): FlagValues<O> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as FlagValues<O>;
  } catch (e) {
    throw configError(`${command}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function requireFlag(v: string | undefined, flag: string, command: string): string {
  if (v === undefined || v === '') throw configError(`${command}: missing required option ${flag}`);
  return v;
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
