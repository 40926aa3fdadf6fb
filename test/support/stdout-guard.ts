// Loaded into every test process (package.json's test command). node:test's child processes talk to the runner
// over stdout in V8-serialized frames; any other line written there (a library's console.log, electron-builder's
// log) can land inside a frame, and the runner then fails the file and every file after it with "Unable to
// deserialize cloned data". Console output goes to stderr instead, where the runner shows it untouched.
import { Console } from 'node:console';

globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
