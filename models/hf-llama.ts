/**
 * The names hf-checkpoint.ts had when it read Llama checkpoints only (kept for the modules
 * that import them); every supported model type loads through them.
 */
export { encodeHfCheckpoint as encodeHfLlama, loadHfCheckpoint as loadHfLlama, saveHfCheckpoint as saveHfLlama } from './hf-checkpoint.js';
