// Reads and rewrites the DT_RUNPATH of an ELF shared object with patchelf (Debian's `patchelf` package; Linux
// build machines install it, see .ci/run and docs/packaging.md).
//
// Why: node-gyp links naudiodon.node with the build machine's absolute path as its runpath; the packaged app needs
// $ORIGIN. The rewrite goes to a copy that is renamed over the file: the packager may have hard-linked its output to
// the build tree's copy, and patchelf writes in place.
'use strict';

const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

class ElfRunpathError extends Error {
  constructor(file, message) {
    super(`${file}: ${message}`);
    this.name = 'ElfRunpathError';
    this.file = file;
  }
}

function patchelf(file, args) {
  try {
    return execFileSync('patchelf', [...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    if (error.code === 'ENOENT') throw new ElfRunpathError(file, 'patchelf is not installed (apt-get install patchelf)');
    const said = String(error.stderr ?? '').trim();
    if (/not an ELF|wrong ELF type|missing ELF header/i.test(said)) throw new ElfRunpathError(file, 'not an ELF file');
    throw new ElfRunpathError(file, `patchelf ${args.join(' ')} failed: ${said || error.message}`);
  }
}

/** The runpath (DT_RUNPATH, or DT_RPATH), or null when the file has none. */
function readRunpath(file) {
  return patchelf(file, ['--print-rpath']) || null;
}

/** Sets the runpath (as DT_RUNPATH); returns the old value. */
function setRunpath(file, runpath) {
  const old = readRunpath(file);
  if (old === null) throw new ElfRunpathError(file, 'has no runpath to rewrite');
  const temp = `${file}.runpath-${process.pid}`;
  fs.copyFileSync(file, temp);
  try {
    patchelf(temp, ['--set-rpath', runpath]);
    fs.chmodSync(temp, fs.statSync(file).mode);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    if (error instanceof ElfRunpathError) throw new ElfRunpathError(file, error.message.slice(temp.length + 2));
    throw error;
  }
  return old;
}

module.exports = { readRunpath, setRunpath, ElfRunpathError };
