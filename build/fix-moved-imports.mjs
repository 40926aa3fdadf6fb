// After `git mv`, points relative imports back at the files they meant: for every source file, an import that no
// longer resolves is resolved as it was written (from where the importing file used to be, against the old
// layout) and rewritten to where that file is now. Imports that still resolve are left alone, so running it again,
// or after merging a branch written against the old layout, is safe.
//
// Usage: node build/fix-moved-imports.mjs OLD=NEW [OLD=NEW ...]   (paths from the repo root, files or folders)
//   e.g. node build/fix-moved-imports.mjs electron/main.ts=electron/electron-main/main.ts electron/shell=electron/electron-main
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const moves = process.argv.slice(2).map((arg) => {
  const [from, to] = arg.split('=');
  if (!from || !to) throw new Error(`bad move "${arg}": give OLD=NEW`);
  return { from: path.normalize(from), to: path.normalize(to) };
});
if (moves.length === 0) {
  process.stderr.write('usage: node build/fix-moved-imports.mjs OLD=NEW [OLD=NEW ...]\n');
  process.exit(2);
}

const rename = (file, a, b) => (file === a ? b : file.startsWith(a + path.sep) ? b + file.slice(a.length) : null);
const toNew = (file) => moves.reduce((f, m) => f ?? rename(file, m.from, m.to), null) ?? file;
const toOld = (file) => moves.reduce((f, m) => f ?? rename(file, m.to, m.from), null) ?? file;

const EXTENSIONS = ['', '.ts', '.tsx', '.mjs', '.js', '.cjs', '.json', '/index.ts', '/index.tsx', '/index.js'];
function resolveIn(exists, file) {
  for (const ext of EXTENSIONS) if (exists(file + ext)) return { file: file + ext, ext };
  return null;
}
const existsNow = (f) => existsSync(path.join(root, f)) && statSync(path.join(root, f)).isFile();
// The old layout: a file existed at `old` if it exists now at toNew(old) and was not itself moved away from
// somewhere else to there (any file now under a move's target was under its source before).
const existedBefore = (old) => {
  const now = toNew(old);
  return existsNow(now) && toOld(now) === old;
};

const SOURCE = /\.(ts|tsx|mjs|js|cjs)$/;
const SKIP = new Set(['node_modules', 'dist', 'dist-ts', '.git', 'build/Release', 'fixtures']);
function* sources(dir) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (SKIP.has(entry.name) || SKIP.has(rel)) continue;
    if (entry.isDirectory()) yield* sources(rel);
    else if (SOURCE.test(entry.name)) yield rel;
  }
}

const SPECIFIER = /((?:from|import|require)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\2/g;
let changed = 0;
for (const file of sources('.')) {
  const text = readFileSync(path.join(root, file), 'utf8');
  const oldFile = toOld(file);
  const next = text.replace(SPECIFIER, (whole, lead, quote, spec) => {
    if (resolveIn(existsNow, path.join(path.dirname(file), spec))) return whole;
    const before = resolveIn(existedBefore, path.join(path.dirname(oldFile), spec));
    if (!before) return whole;
    const target = toNew(before.file);
    const withoutExt = before.ext ? target.slice(0, target.length - before.ext.length) : target;
    let rel = path.relative(path.dirname(file), withoutExt).split(path.sep).join('/');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${lead}${quote}${rel}${quote}`;
  });
  if (next !== text) {
    writeFileSync(path.join(root, file), next);
    changed++;
    process.stdout.write(`fixed ${file}\n`);
  }
}
process.stdout.write(`${changed} file(s) fixed\n`);
