// Entry point for a child process: the stand-in takes `electron`'s place, then the real main process starts.
require('./electron-stand-in');
require('../../electron/electron-main/main');
