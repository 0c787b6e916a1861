/**
 * `mpcache demo`: a loopback session with fresh keys in a temp dir, three party processes,
 * their output streamed with a `[P<i>]` prefix. Runs the selftest job (share, add, reveal).
 */
import { runLocalParties } from '../../parties/launcher.js';
import { type Command, parseFlags, parseJsonFlag, toJsonText } from '../command.js';

export const demoCommand: Command = {
  summary: 'run three local parties (fresh keys, loopback, separate processes) on the selftest job',
  usage: `mpcache demo [--job-args JSON] [--insecure-plaintext]
  --job-args JSON       selftest arguments, e.g. '{"x":[1,2],"y":[3,4]}'
  --insecure-plaintext  do NOT encrypt frames (benchmarks only)`,
  async run(argv) {
    const f = parseFlags(argv, { 'job-args': { type: 'string' }, 'insecure-plaintext': { type: 'boolean' } }, 'demo');
    const jobArgs = parseJsonFlag(f['job-args'], '--job-args');
    process.stdout.write('demo: starting three parties on 127.0.0.1 (fresh Ed25519 keys, AES-256-GCM channels)\n');
    try {
      const { results, stats, wallMs } = await runLocalParties({
        job: 'selftest',
        jobArgs,
        insecurePlaintext: f['insecure-plaintext'] === true,
        onLine: (party, line) => process.stdout.write(`[P${party}] ${line}\n`),
      });
      const texts = results.map((r) => toJsonText(r));
      const agree = texts.every((t) => t === texts[0]);
      process.stdout.write(
        `demo: ${agree ? 'all parties agree' : 'PARTIES DISAGREE'}: ${texts[0]}; ${stats[0].rounds} rounds, ` +
          `${stats.map((s) => s.bytesSent).join('/')} payload bytes sent by P0/P1/P2, setup ${stats.map((s) => s.setupMs.toFixed(0)).join('/')} ms, wall ${wallMs.toFixed(0)} ms\n`,
      );
      return agree ? 0 : 1;
    } catch (e) {
      process.stderr.write(`demo failed: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
