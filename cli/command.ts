/**
 * What a CLI command is, and the argument helpers they share (parties/flags.ts, also used by
 * the party entry point). Configuration problems are thrown as MpcError('MPC_ERR_CONFIG')
 * with the field at fault; cli/main.ts prints them as one line and exits with code 2.
 */
export { type FlagValues, configError, parseFlags, parseJsonFlag, requireFlag, toJsonText } from '../parties/flags.js';

export interface Command {
  /** one line for `mpcache --help` */
  readonly summary: string;
  /** usage text for `mpcache <command> --help` */
  readonly usage: string;
  /** run with the arguments after the command name; resolves with the exit code */
  run(argv: readonly string[]): Promise<number>;
}
