import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSpecifiers, layerViolations } from './check-layers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('layering', () => {
  it('no source imports a later layer or testing/ (kernels -> protocols -> parties -> models -> eviction -> cli)', () => {
    expect(layerViolations(root)).toEqual([]);
  });

  it('the checker finds upward imports, dynamic imports and imports of testing/, and skips comments and tests', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpcache-layers-'));
    try {
      const put = (p: string, text: string) => {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), text);
      };
      put('kernels/a.ts', "import { x } from '../parties/b.js';\n");
      put('protocols/deep/c.ts', "/** import { y } from '../../cli/z.js' */\nexport {\n  y,\n} from '../../models/m.js';\nconst l = () => import('../../eviction/e.js');\n");
      put('parties/d.ts', "import { t } from '../testing/trio.js';\nimport { ok } from '../protocols/p.js';\n");
      put('parties/d.test.ts', "import { c } from '../cli/main.js';\n");
      put('cli/e.ts', "import { k } from '../kernels/a.js';\nimport { ws } from 'ws';\n");
      const v = layerViolations(dir).map((x) => `${x.file}:${x.line} ${x.spec}`);
      expect(v.sort()).toEqual(['kernels/a.ts:1 ../parties/b.js', 'parties/d.ts:1 ../testing/trio.js', 'protocols/deep/c.ts:4 ../../models/m.js', 'protocols/deep/c.ts:5 ../../eviction/e.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads multi-line and side-effect imports', () => {
    expect(importSpecifiers("import {\n  a,\n  b,\n} from './x.js';\nimport './side.js';\n// import { no } from './commented.js';\n")).toEqual([
      { spec: './x.js', line: 4 },
      { spec: './side.js', line: 5 },
    ]);
  });
});
