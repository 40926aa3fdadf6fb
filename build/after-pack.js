// electron-builder afterPack hook: makes the unpacked naudiodon binding find the libportaudio.so.2 shipped beside it.
//
// node-gyp links naudiodon.node with RUNPATH = the build machine's node_modules/naudiodon/build/Release.
// On a user's machine that directory does not exist, so dlopen would fail or, worse, pick up a different
// libportaudio. $ORIGIN makes the loader look next to the .node, where asarUnpack put our copy.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { readRunpath, setRunpath } = require('./elf-runpath');

const NAUDIODON_BINDING = ['node_modules', 'naudiodon', 'build', 'Release', 'naudiodon.node'];

function resourcesDir(context) {
  if (context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas') {
    const app = `${context.packager.appInfo.productFilename}.app`;
    return path.join(context.appOutDir, app, 'Contents', 'Resources');
  }
  return path.join(context.appOutDir, 'resources');
}

async function afterPack(context) {
  // Only ELF (Linux) bindings carry a runpath; macOS and Windows builds are produced on their own platforms.
  if (context.electronPlatformName !== 'linux') return;
  const binding = path.join(resourcesDir(context), 'app.asar.unpacked', ...NAUDIODON_BINDING);
  if (!fs.existsSync(binding)) {
    throw new Error(`afterPack: ${binding} is missing; naudiodon's build/Release must be in asarUnpack`);
  }
  if (readRunpath(binding) === '$ORIGIN') return;
  const old = setRunpath(binding, '$ORIGIN');
  console.log(`  • afterPack: naudiodon.node runpath ${old} -> $ORIGIN`);
}

module.exports = afterPack;
module.exports.default = afterPack;
