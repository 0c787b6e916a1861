/**
 * Private generation in one process: P0 (model owner) secret-shares the weights, P1 (user)
 * secret-shares its prompt, the three parties run the secure decoder over the in-memory
 * channel, and only P1 learns the generated tokens. Run: `npx tsx examples/private-generation.ts`.
 * (Three processes over encrypted WebSockets: `npm run demo`.)
 */
import { defaultModelPath, loadModelOrRandom, loadTokenizerOrBytes, runInProcess, SecureDecoder, shareModel } from '../index.js'; // the package entry ('mpcache' once installed)

const path = defaultModelPath(); // models/default/, else ../shared/models/stories260K, else a random model
const weights = await loadModelOrRandom(path); // only P0 uses these
const tokenizer = await loadTokenizerOrBytes(path, weights.config.vocabSize); // public
const prompt = tokenizer.encode('A list is a', { bos: true }); // only P1 uses this

const [, user] = await runInProcess(async (ctx) => {
  const model = await shareModel(ctx, weights.config, ctx.party === 0 ? weights : undefined);
  const decoder = new SecureDecoder(ctx, model); // full KV cache; pass { policy } for eviction
  return decoder.generate(ctx.party === 1 ? prompt : undefined, prompt.length, 20);
});
console.log(tokenizer.decode([...prompt, ...(user.tokens ?? [])]));
