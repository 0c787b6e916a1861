/**
 * `mpcache ask --p0 HOST:PORT --p2 HOST:PORT --prompt-file FILE|- [...]`: be the user (P1)
 * of one session with two `mpcache serve` servers (cli/serve/client.ts): a fresh key, the
 * prompt only here, the text printed as it comes (plain, or JSON lines with --json).
 */
import { JobOutput } from '../../parties/job-output.js';
import { parseIntFlag } from '../../parties/flags.js';
import { type Command, configError, parseFlags, readPromptSource, requireFlag } from '../command.js';
import { MAX_TOKENS } from '../jobs/generate-args.js';
import { parseBudgetFlag, parsePolicyOptFlags } from '../jobs/policy-args.js';
import { ask } from '../serve/client.js';

export const askCommand: Command = {
  summary: 'be the user (party 1) of one private generation with two mpcache serve servers',
  usage: `mpcache ask --p0 HOST:PORT --p2 HOST:PORT --prompt-file FILE|- [--tokens N] [--policy NAME] [--budget R|N] [--policy-opt K=V]...
                   [--tokenizer PATH|random] [--host HOST] [--p0-key HEX] [--p2-key HEX] [--json] [--quiet]
  --p0, --p2        the servers' control addresses (mpcache serve --control)
  --p0-key/--p2-key pin the servers' public keys (recommended: otherwise the keys they announce are trusted)
  --host HOST       this party's address in the session, which party 0 dials (default 127.0.0.1)
  --prompt-file     the prompt, from a file or standard input (-); it stays in this process
  --tokenizer PATH  the public tokenizer (default: the default model's)
  --json            one JSON object per line (token events, then the result); default: the text as it comes`,
  async run(argv) {
    const f = parseFlags(
      argv,
      {
        p0: { type: 'string' },
        p2: { type: 'string' },
        'p0-key': { type: 'string' },
        'p2-key': { type: 'string' },
        host: { type: 'string' },
        'prompt-file': { type: 'string' },
        tokens: { type: 'string' },
        policy: { type: 'string' },
        budget: { type: 'string' },
        'policy-opt': { type: 'string', multiple: true },
        'reveal-logits': { type: 'boolean' },
        tokenizer: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      'ask',
    );
    const p0 = requireFlag(f.p0, '--p0', 'ask');
    const p2 = requireFlag(f.p2, '--p2', 'ask');
    for (const [v, flag] of [[p0, '--p0'], [p2, '--p2']] as const) if (!/^.+:\d{1,5}$/.test(v)) throw configError(`ask: ${flag} must be HOST:PORT`);
    const prompt = await readPromptSource(requireFlag(f['prompt-file'], '--prompt-file', 'ask'), 'ask');
    const tokens = parseIntFlag(f.tokens, '--tokens', 'ask', 1, MAX_TOKENS);
    const jobArgs: Record<string, unknown> = {
      ...(tokens !== undefined ? { tokens } : {}),
      ...(f.policy !== undefined ? { policy: f.policy } : {}),
      ...(f.budget !== undefined ? { budget: parseBudgetFlag(f.budget) } : {}),
      ...(f['policy-opt'] !== undefined ? { policyOptions: parsePolicyOptFlags(f['policy-opt']) } : {}),
      ...(f['reveal-logits'] === true ? { revealLogits: true } : {}),
    };
    const out = new JobOutput(f.json === true ? 'json' : 'plain', f.quiet === true);
    try {
      const run = await ask({
        p0,
        p2,
        ...(f['p0-key'] !== undefined ? { p0Key: f['p0-key'] } : {}),
        ...(f['p2-key'] !== undefined ? { p2Key: f['p2-key'] } : {}),
        host: f.host ?? '127.0.0.1',
        jobArgs,
        inputs: { prompt, ...(f.tokenizer !== undefined ? { tokenizer: f.tokenizer } : {}) },
        log: (line) => void process.stderr.write(`${line}\n`),
        emit: (ev) => out.emit(ev),
      });
      out.result(1, run.result);
      return 0;
    } catch (e) {
      if ((e as { code?: string }).code === 'MPC_ERR_CONFIG') throw e;
      process.stderr.write(`ask failed: ${(e as Error).message.split('\n')[0]}\n`);
      return 1;
    }
  },
};
