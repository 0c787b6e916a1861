/**
 * The layering rule of docs/ARCHITECTURE.md, checked on the import lines of the sources:
 * kernels/ -> protocols/ -> parties/ -> models/ -> eviction/ -> cli/, each importing only
 * the layers before it (so kernels/ and protocols/ import nothing from parties/, models/,
 * eviction/ or cli/, and parties/ nothing from cli/), and no shipped source imports the
 * test-only testing/ folder. Test files (*.test.ts) are not shipped and may import any
 * layer; bench/, examples/, scripts/ and testing/ are outside the layers.
 *
 * Run: npx tsx scripts/check-layers.ts   (prints each violation; exit code 1 if any)
 * The test scripts/check-layers.test.ts runs it on the tree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The layers, in order: a file may import from its own layer and the ones before it. */
export const LAYERS = ['kernels', 'protocols', 'parties', 'models', 'eviction', 'cli'] as const;
/** Folders no shipped source may import (test helpers). */
export const TEST_ONLY = ['testing'] as const;

export interface LayerViolation {
  /** the importing file, relative to the root (posix separators) */
  readonly file: string;
  /** 1-based line of the import */
  readonly line: number;
  /** the module specifier as written */
  readonly spec: string;
  readonly why: string;
}

/** The relative module specifiers a TypeScript source imports or re-exports, with their lines (comments skipped). */
export function importSpecifiers(text: string): { spec: string; line: number }[] {
  // blank out comments, keeping line breaks so line numbers stay right
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^\s*\/\/.*$/gm, '');
  const out: { spec: string; line: number }[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      const line = code.slice(0, m.index).split('\n').length;
      out.push({ spec: m[1], line });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

function tsFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import in the layer folders under `root` that breaks the rule (empty when the tree is clean). */
export function layerViolations(root: string): LayerViolation[] {
  const out: LayerViolation[] = [];
  LAYERS.forEach((layer, rank) => {
    for (const file of tsFiles(join(root, layer))) {
      if (file.endsWith('.test.ts')) continue;
      const rel = relative(root, file).split(sep).join(posix.sep);
      for (const { spec, line } of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), spec)).split(sep);
        const top = target[0];
        const tRank = (LAYERS as readonly string[]).indexOf(top);
        if (tRank > rank) out.push({ file: rel, line, spec, why: `${layer}/ must not import ${top}/ (a later layer)` });
        else if ((TEST_ONLY as readonly string[]).includes(top)) out.push({ file: rel, line, spec, why: `${layer}/ must not import the test-only ${top}/` });
      }
    }
  });
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const v = layerViolations(root);
  for (const x of v) process.stdout.write(`${x.file}:${x.line}: ${x.why} (${x.spec})\n`);
  process.stdout.write(v.length === 0 ? 'layers: no violations\n' : `layers: ${v.length} violation(s)\n`);
  process.exitCode = v.length === 0 ? 0 : 1;
}
