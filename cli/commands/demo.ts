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
import { generateJobModule } from '../jobs.js';
import { loadModelOrRandom, loadTokenizerOrBytes } from '../../models/model-source.js';
import { ReferenceModel } from '../../models/reference.js';
import { createPlainTwin } from '../../eviction/secure/registry.js';
import { type Command, configError, parseFlags, parseJsonFlag, readPromptSource, toJsonText } from '../command.js';
import { GenerationView, parseGenLine, summaryLines } from '../generation-view.js';
import { DEFAULT_MODEL_PROMPT, DEFAULT_PROMPT, DEFAULT_TOKENS, type GenerateResult, defaultPromptFor, parseGenerateArgs, PREFILL_LINE_PREFIX, resolveModelArg } from '../jobs/generate-args.js';

export const demoCommand: Command = {
  summary: 'three local parties (fresh keys, loopback, encrypted, separate processes) privately continue a prompt',
  usage: `mpcache demo [--prompt TEXT | --prompt-file FILE|-] [--tokens N] [--model PATH|random] [--policy NAME] [--reveal-logits] [--net SETTING] [--insecure-plaintext]
  --prompt TEXT         prompt (default '${DEFAULT_MODEL_PROMPT}' for models/default, else '${DEFAULT_PROMPT}'); only P1's process receives it
  --prompt-file FILE|-  read the prompt from FILE or standard input instead (keeps it off this command line)
  --tokens N            tokens to generate (default ${DEFAULT_TOKENS})
  --model PATH|random   weights (default: models/default/, else ../shared/models/stories260K, else a random model)
  --policy NAME         secure KV-cache policy (default full)
  --reveal-logits       reveal the logits to P1 (P1 picks the tokens) instead of secure argmax
  --net SETTING         emulate a link between every pair of parties (a relay process in between):
                        ${NET_SETTING_HELP}
  --insecure-plaintext  do NOT encrypt frames (benchmarks only)
  --selftest [--job-args JSON]  run the share/add/reveal selftest instead`,
  async run(argv) {
    const f = parseFlags(
      argv,
      {
        prompt: { type: 'string' },
        'prompt-file': { type: 'string' },
        tokens: { type: 'string' },
        model: { type: 'string' },
        policy: { type: 'string' },
        'reveal-logits': { type: 'boolean' },
        'insecure-plaintext': { type: 'boolean' },
        selftest: { type: 'boolean' },
        'job-args': { type: 'string' },
        net: { type: 'string' },
      },
      'demo',
    );
    const net = f.net === undefined ? undefined : parseNetSetting(f.net);
    if (net?.link) process.stdout.write(`demo: emulated link between every pair of parties: ${describeNetSetting(net)}\n`);
    if (f.selftest === true) return selftest(parseJsonFlag(f['job-args'], '--job-args'), f['insecure-plaintext'] === true, net);
    if (f['job-args'] !== undefined) throw configError('demo: --job-args only goes with --selftest');
    const tokens = f.tokens === undefined ? undefined : Number(f.tokens);
    const args = parseGenerateArgs({ tokens, policy: f.policy, revealLogits: f['reveal-logits'] });
    if (f.model !== undefined && f.model.length === 0) throw configError("demo: --model must be a non-empty path or 'random'");
    if (f.prompt !== undefined && f['prompt-file'] !== undefined) throw configError('demo: give either --prompt or --prompt-file, not both');
    const path = resolveModelArg(f.model);
    const prompt = f['prompt-file'] !== undefined ? await readPromptSource(f['prompt-file'], 'demo') : (f.prompt ?? defaultPromptFor(f.model));
    const modelInput = path ?? 'random';
    process.stdout.write(
      `demo: private generation by three parties on 127.0.0.1 (fresh Ed25519 keys, AES-256-GCM channels)\n` +
        `demo: model ${path ?? 'random (seeded)'}; P0 shares the weights, P1 the prompt, tokens are revealed to P1 only\n`,
    );
    const view = new GenerationView(process.stdout, prompt);
    let started = false;
    try {
      const { results, stats, wallMs } = await runLocalParties({
        jobModule: generateJobModule(),
        jobArgs: args,
        privateInputs: [{ model: modelInput }, { prompt, tokenizer: modelInput }, undefined],
        insecurePlaintext: f['insecure-plaintext'] === true,
        net,
        onLine: (party, line) => {
          const g = party === 1 ? parseGenLine(line) : undefined;
          if (party !== 1 && line.startsWith(PREFILL_LINE_PREFIX)) return; // P1's progress lines are enough
          if (g !== undefined) {
            started = true;
            view.token(g);
          } else if (!started) process.stdout.write(`[P${party}] ${line}\n`);
          else if (/error|warn/i.test(line)) process.stderr.write(`[P${party}] ${line}\n`);
        },
      });
      view.end();
      const res = results as GenerateResult[];
      process.stdout.write(`\n${summaryLines(res, stats).join('\n')}\n`);
      process.stdout.write(`demo: wall ${(wallMs / 1000).toFixed(1)} s (session setup ${stats.map((s) => s.setupMs.toFixed(0)).join('/')} ms), ${stats[0].mode} channels, ${stats[0].kernels} kernels\n`);
      // the plaintext reference, computed here by the operator who holds the model file
      const weights = await loadModelOrRandom(path);
      const tokenizer = await loadTokenizerOrBytes(path, weights.config.vocabSize);
      const promptIds = tokenizer.encode(prompt, { bos: true });
      // with a KV policy, the reference runs the policy's plaintext twin (same parameters)
      const want = new ReferenceModel(weights).generate(promptIds, args.tokens, args.policy === 'full' ? undefined : createPlainTwin(args.policy, weights.config));
      const got = res[1].tokens ?? [];
      const firstDiff = want.findIndex((t, i) => got[i] !== t);
      const equal = firstDiff < 0 && got.length === want.length;
      process.stdout.write(
        equal
          ? `demo: the private tokens EQUAL the plaintext reference (${want.length}/${want.length}; reference computed by this launcher process, which holds the model file)\n`
          : `demo: the private tokens DIFFER from the plaintext reference from token ${firstDiff} on (reference: ${JSON.stringify(tokenizer.decode(want))})\n` +
              (args.policy === 'full'
                ? ''
                : `demo: note: the policy ranks cached tokens by fixed-point scores; where two scores are closer than the fixed-point error, the secure and float rankings can keep different tokens, and the texts part from there (eviction/secure/static-eviction.ts)\n`),
      );
      return equal ? 0 : 1;
    } catch (e) {
      if (started) view.end();
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

