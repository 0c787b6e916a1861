/**
 * models/: model configuration, weight loaders and writers, tokenizers, the plaintext
 * float reference, and (secure-decoder helper) the secure decoder.
 *
 * ## Weights
 * `ModelWeights` (weights.ts) is the one in-memory structure every loader returns:
 * `{ config, tokenEmbedding [vocab][dim], layers[l]: { attnNorm [dim], wq [nHeads*headDim][dim],
 * wk/wv [nKvHeads*headDim][dim], wo [dim][nHeads*headDim], ffnNorm [dim], w1 (gate) and w3 (up)
 * [hiddenDim][dim], w2 (down) [dim][hiddenDim] }, finalNorm [dim], output [vocab][dim] }`,
 * plus, where the config (config.ts: Llama / Mistral / Qwen2 / Qwen3 / Phi-3 / GPT-2 blocks)
 * has them, biases, q/k norm gains, LayerNorm biases and the learned position table.
 * All Float32Array, row-major [out][in] (y = W x). With `config.tiedEmbeddings` the
 * `output` IS the `tokenEmbedding` array object.
 * RoPE convention: ADJACENT pairs (2i, 2i+1) within each head, angle pos * theta^(-2i/headDim)
 * (llama2.c/Meta). HF checkpoints' q/k rows are permuted for rotate-half; hf-llama.ts
 * converts on load and save, so both formats give the same model. `RopeTable` (rope.ts)
 * gives the public cos/sin per position.
 *
 * - `loadWeights(path)`: HF dir (config.json + model.safetensors or sharded index; model types
 *   llama, mistral, qwen2, qwen3, phi3, gpt2: `configFromHf` / `readHfConfig` in hf-config.ts),
 *   `.safetensors` path, or llama2.c legacy `.bin`. Also `loadLlama2c`/`parseLlama2c`,
 *   `loadHfCheckpoint` (alias `loadHfLlama`), and writers `encodeLlama2c`/`saveLlama2c`,
 *   `encodeHfCheckpoint`/`saveHfCheckpoint` (Llama or GPT-2 layout; F32/F16/BF16), the generic
 *   `SafetensorsFile` reader and `encodeSafetensors` writer.
 * - `randomWeights(config, seed)`: deterministic random model (NON-secret PRNG
 *   `NonSecretTestRng`), e.g. with `GPT2_SMALL` (the real GPT-2 small architecture) for benchmarks.
 * - Errors: `ModelFormatError` with `code` (MODEL_ERR_IO, _TRUNCATED, _MALFORMED,
 *   _MISSING_TENSOR, _SHAPE, _DTYPE, _CONFIG, _TOKENIZER), `file` and `tensor`.
 *
 * ## Tokenizers (interface `Tokenizer`: vocabSize, bos, eos, encode(text, {bos, eos}),
 * decode(tokens), decodePiece(prev, token) -> bytes for streaming, piece(id))
 * - `Llama2cTokenizer` (llama2.c tokenizer.bin; `.parse/.load/.toBytes/.save`,
 *   `encodeLlama2cTokenizer` writer). `HfBpeTokenizer` (tokenizer.json BPE, sentencepiece or
 *   byte-level style). `loadTokenizer(path, vocabSize?)` picks by extension.
 *
 * ## Float reference (reference.ts)
 * ```ts
 * const model = new ReferenceModel(weights);
 * const s = model.newSession({ hooks, recordAttention: true }); // or newSession(hooks)
 * let logits = s.prefill(promptTokens);   // Float32Array[vocab] after the last prompt token
 * logits = s.step(token);                 // one decode step at position s.position
 * s.cache.layer(l)                        // LayerCacheView (positions/keys/values/keep)
 * s.attention                             // per layer, per query head probs of the last call
 * model.generate(prompt, nNew, hooks?, { stopTokens })  // greedy tokens
 * model.nll(prompt, continuation, hooks?) // { total, mean, perToken, predicted }
 * model.logits(tokens)                    // Float32Array per position, no hooks
 * ```
 * Hooks (attention-hooks.ts): onPrefill per layer after the prompt's K/V are cached (with
 * post-RoPE queries and full causal probs); selectForStep at each decode step after the new
 * token's K/V are appended, before attention; onAttention after it. The prompt itself is
 * always processed with full causal attention.
 *
 * ## Secure decoder (secure-weights.ts, secure-decoder.ts, secure-hooks.ts, model-source.ts)
 * ```ts
 * const model = await shareModel(ctx, config, ctx.party === 0 ? weights : undefined); // P0 owns the weights
 * const dec = new SecureDecoder(ctx, model, { policy, revealLogits: false });      // policy: SecureKvPolicy
 * const r = await dec.generate(ctx.party === 1 ? prompt : undefined, promptLength, 20); // r.tokens on P1 only
 * // lower level: prefill(tokens | undefined, T) -> logits share; nextToken(logits) -> { token (P1), oneHot };
 * // step(oneHot) -> logits share; inputToken(t | undefined); resume(caches, position); caches; position
 * ```
 * `defaultModelPath()` (models/default/, then ../shared stories260K, else undefined = the seeded
 * random stand-in: loadModelOrRandom / loadTokenizerOrBytes).
 */
export * from './errors.js';
export * from './config.js';
export * from './weights.js';
export * from './rope.js';
export { floatToBf16, bf16ToFloat, floatToHalf, halfToFloat, roundToBf16, roundToF16 } from './binary.js';
export * from './safetensors.js';
export * from './llama2c.js';
export * from './hf-config.js';
export * from './hf-checkpoint.js';
export * from './hf-llama.js';
export * from './random-weights.js';
export * from './tokenizer.js';
export * from './tokenizer-llama2c.js';
export * from './tokenizer-hf.js';
export * from './attention-hooks.js';
export * from './kv-cache.js';
export * from './float-ops.js';
export * from './reference.js';
export * from './load.js';
export * from './secure-hooks.js';
export * from './secure-weights.js';
export * from './secure-decoder.js';
export * from './model-source.js';
