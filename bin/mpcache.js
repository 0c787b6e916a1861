#!/usr/bin/env node
// Installed entry point: runs the compiled CLI (built by `npm install` / `npm run build`).
import('../dist/cli/main.js').catch((e) => {
  console.error(e && e.code === 'ERR_MODULE_NOT_FOUND' ? 'mpcache: the package is not built; run `npm run build`' : e);
  process.exit(1);
});
