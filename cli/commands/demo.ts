/**
 * `mpcache demo`: a loopback session with fresh keys in a temp dir, three party processes
 * over the encrypted WebSocket transport, running PRIVATE GENERATION (the `generate` job):
 * P0 shares the model, P1 the prompt, the text appears live as P1 receives it, then a
 * per-party summary and whether the private tokens equal the plaintext reference.
 *
 * The reference is computed by THIS process (the local operator that holds the model file
 * and launched the parties), not by P1, which never sees the weights. The prompt reaches the
 * party processes as P1's private input (on P1's standard input only), the model path as
 * P0's; the public arguments (tokens, policy, revealLogits) go to all three.
 * `--selftest` runs the old share/add/reveal selftest instead.
 */
import { runLocalParties } from '../../parties/launcher.js';
import { NET_SETTING_HELP, describeNetSetting, parseNetSetting, type NetSetting } from '../../parties/netem/settings.js';
import { parseEventLine } from '../../parties/job-output.js';
import { generateJobModule } from '../jobs.js';
import { ReferenceModel } from '../../models/reference.js';
import { type Command, configError, parseFlags, parseJsonFlag, readPromptSource, toJsonText } from '../command.js';
import { parseIntFlag, parseSeconds } from '../../parties/flags.js';
import { describeDivergence, findDivergence } from '../divergence.js';
import { GenerationView, parseGenLine, summaryLines } from '../generation-view.js';
import { DEFAULT_MODEL_PROMPT, DEFAULT_PROMPT, DEFAULT_TOKENS, MAX_TOKENS, type GenerateResult, checkContext, defaultPromptFor, parseGenerateArgs, resolveModelArg } from '../jobs/generate-args.js';
import { encodePrompt, loadModelChecked, loadTokenizerChecked } from '../jobs/generate-preflight.js';
import { makePlainTwin, parseBudgetFlag, parsePolicyOptFlags, shortPromptWarning } from '../jobs/policy-args.js';

export const demoCommand: Command = {
  summary: 'three local parties (fresh keys, loopback, encrypted, separate processes) privately continue a prompt',
  usage: `mpcache demo [--prompt TEXT | --prompt-file FILE|-] [--tokens N] [--model PATH|random] [--policy NAME] [--budget R|N] [--policy-opt K=V]...
             [--reveal-logits] [--setup-timeout S] [--quiet] [--net SETTING] [--insecure-plaintext]
  --prompt TEXT         prompt (default '${DEFAULT_MODEL_PROMPT}' for models/default, else '${DEFAULT_PROMPT}'); only P1's process receives it
  --prompt-file FILE|-  read the prompt from FILE or standard input instead (keeps it off this command line)
  --tokens N            tokens to generate (default ${DEFAULT_TOKENS}; prompt + N - 1 must fit the model's context)
  --model PATH|random   weights (default: models/default/, else ../shared/models/stories260K; 'random': a seeded random model)
  --policy NAME         secure KV-cache policy (default full; mpcache, mpcache-noshare)
  --budget R|N          the policy's prefill budget: a ratio with a decimal point (0.3) or a token count (64)
  --policy-opt K=V      a policy option (repeatable), e.g. ratio2=0.3, block2=8, share=false
  --reveal-logits       reveal the logits to P1 (P1 picks the tokens) instead of secure argmax; the demo then
                        measures the secure logit error where the texts part
  --setup-timeout S     each party's setup window in seconds (default 10)
  --quiet               no progress lines from P0 and P2
  --net SETTING         emulate a link between every pair of parties (a relay process in between):
                        ${NET_SETTING_HELP}
  --insecure-plaintext  do NOT encrypt frames (benchmarks only)
  --selftest [--job-args JSON]  run the share/add/reveal selftest instead
Everything is checked before any party starts: token count, prompt length against the model's
context, policy name, budget and options, the model file; an error is one line and exit code 2.`,
  async run(argv) {
    const f = parseFlags(
      argv,
      {
        prompt: { type: 'string' },
        'prompt-file': { type: 'string' },
        tokens: { type: 'string' },
        model: { type: 'string' },
        policy: { type: 'string' },
        budget: { type: 'string' },
        'policy-opt': { type: 'string', multiple: true },
        'reveal-logits': { type: 'boolean' },
        'insecure-plaintext': { type: 'boolean' },
        selftest: { type: 'boolean' },
        'job-args': { type: 'string' },
        net: { type: 'string' },
        'setup-timeout': { type: 'string' },
        quiet: { type: 'boolean' },
      },
      'demo',
    );
    const net = f.net === undefined ? undefined : parseNetSetting(f.net);
    const setupS = f['setup-timeout'] === undefined ? undefined : parseSeconds(f['setup-timeout'], '--setup-timeout', 'demo');
    const sessionOptions = setupS === undefined ? undefined : { handshakeTimeoutMs: Math.round(setupS * 1000) };
    if (net?.link) process.stdout.write(`demo: emulated link between every pair of parties: ${describeNetSetting(net)}\n`);
    if (f.selftest === true) return selftest(parseJsonFlag(f['job-args'], '--job-args'), f['insecure-plaintext'] === true, net);
    if (f['job-args'] !== undefined) throw configError('demo: --job-args only goes with --selftest');
    const tokens = parseIntFlag(f.tokens, '--tokens', 'demo', 1, MAX_TOKENS);
    const budget = f.budget === undefined ? undefined : parseBudgetFlag(f.budget);
    const policyOptions = f['policy-opt'] === undefined ? undefined : parsePolicyOptFlags(f['policy-opt']);
    const args = parseGenerateArgs({ tokens, policy: f.policy, revealLogits: f['reveal-logits'], budget, policyOptions });
    if (f.model !== undefined && f.model.length === 0) throw configError("demo: --model must be a non-empty path or 'random'");
    if (f.prompt !== undefined && f['prompt-file'] !== undefined) throw configError('demo: give either --prompt or --prompt-file, not both');
    const path = resolveModelArg(f.model);
    const prompt = f['prompt-file'] !== undefined ? await readPromptSource(f['prompt-file'], 'demo') : (f.prompt ?? defaultPromptFor(f.model));
    // the checks before any party starts: this launcher holds the model file (it computes the reference too)
    const weights = await loadModelChecked(path);
    const tokenizer = await loadTokenizerChecked(path, weights.config.vocabSize);
    const promptIds = encodePrompt(tokenizer, prompt);
    checkContext(promptIds.length, args.tokens, weights.config.maxSeqLen);
    const warn = shortPromptWarning(args, promptIds.length);
    if (warn !== undefined) process.stderr.write(`demo: ${warn}\n`);
    const modelInput = path ?? 'random';
    process.stdout.write(
      `demo: private generation by three parties on 127.0.0.1 (fresh Ed25519 keys, AES-256-GCM channels)\n` +
        `demo: model ${path ?? (f.model === 'random' ? 'random (--model random: seeded random weights, meaningless text)' : 'random (seeded; no model file found)')}; P0 shares the weights, P1 the prompt (${promptIds.length} tokens), tokens are revealed to P1 only\n`,
    );
    let view: GenerationView | undefined; // made at the first token, so that setup lines come before the prompt
    let started = false;
    try {
      const { results, stats, wallMs } = await runLocalParties({
        jobModule: generateJobModule(),
        jobArgs: args,
        privateInputs: [{ model: modelInput }, { prompt, tokenizer: modelInput }, undefined],
        insecurePlaintext: f['insecure-plaintext'] === true,
        net,
        sessionOptions,
        onLine: (party, line) => {
          const g = party === 1 ? parseGenLine(line) : undefined;
          if (g !== undefined) {
            started = true;
            view ??= new GenerationView(process.stdout, prompt);
            view.token(g);
            return;
          }
          const ev = parseEventLine(line);
          if (ev !== undefined) {
            // progress of P0/P2 before the text starts (afterwards it would break the text up)
            if (!started && f.quiet !== true && typeof ev.line === 'string') process.stdout.write(`[P${party}] ${ev.line}\n`);
          } else if (!started) process.stdout.write(`[P${party}] ${line}\n`);
          else if (/error|warn/i.test(line)) process.stderr.write(`[P${party}] ${line}\n`);
        },
      });
      view?.end();
      const res = results as GenerateResult[];
      process.stdout.write(`\n${summaryLines(res, stats).join('\n')}\n`);
      process.stdout.write(`demo: wall ${(wallMs / 1000).toFixed(1)} s (session setup ${stats.map((s) => s.setupMs.toFixed(0)).join('/')} ms), ${stats[0].mode} channels, ${stats[0].kernels} kernels\n`);
      // the plaintext reference, computed here by the operator who holds the model file;
      // with a KV policy, the reference runs the policy's plaintext twin (same parameters)
      const twin = () => (args.policy === 'full' ? undefined : makePlainTwin(args, weights.config, promptIds.length));
      const want = new ReferenceModel(weights).generate(promptIds, args.tokens, twin());
      const got = res[1].tokens ?? [];
      const d = findDivergence(weights, promptIds, want, got, twin(), res[1].logits);
      const equal = d === undefined && got.length === want.length;
      if (equal) process.stdout.write(`demo: the private tokens EQUAL the plaintext reference (${want.length}/${want.length}; reference computed by this launcher process, which holds the model file)\n`);
      else {
        process.stdout.write(`demo: the private tokens DIFFER from the plaintext reference (reference: ${JSON.stringify(tokenizer.decode(want))})\n`);
        if (d !== undefined) process.stdout.write(`${describeDivergence(d, tokenizer, args.policy).join('\n')}\n`);
      }
      return equal ? 0 : 1;
    } catch (e) {
      view?.end();
      process.stderr.write(`demo failed: ${(e as Error).message}\n`);
      return 1;
    }
  },
};

async function selftest(jobArgs: unknown, insecurePlaintext: boolean, net: NetSetting | undefined): Promise<number> {
  process.stdout.write('demo: starting three parties on 127.0.0.1 (fresh Ed25519 keys, AES-256-GCM channels)\n');
  try {
    const { results, stats, wallMs } = await runLocalParties({
      job: 'selftest',
      jobArgs,
      insecurePlaintext,
      net,
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
}

