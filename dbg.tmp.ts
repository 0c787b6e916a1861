import { loadEvalModel, DEFAULT_MODEL } from './eviction/eval/load-model.js';
import { longSuiteSettings } from './eviction/eval/long-suite.js';
import { runLongSuiteParallel } from './eviction/eval/long-parallel.js';
const em = await loadEvalModel(DEFAULT_MODEL);
const s = longSuiteSettings(true, { policies: ['full', 'mpcache'], tasks: ['passkey'], lengths: [128], prompts: 1, nllDocs: 0 });
const r = await runLongSuiteParallel(em, s, 1);
console.log(r.tasks.length);
