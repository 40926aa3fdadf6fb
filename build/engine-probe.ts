/**
 * Packaged-app self-check: loads both native modules the way the engine does and prints what they see as JSON.
 * Run it from an installed app with the app's own runtime:
 *   ELECTRON_RUN_AS_NODE=1 <install dir>/partyline <install dir>/resources/app.asar/dist/main/engine-probe.js
 * A failure here (missing libportaudio, wrong rpath, unpacked file absent) is the packaging bug, not the engine's.
 */
import { listDevices } from '../native/bridge/devices';
import { libopusVersion } from '../native/opus/index';

process.stdout.write(`${JSON.stringify({ libopusVersion, devices: listDevices() })}\n`);
