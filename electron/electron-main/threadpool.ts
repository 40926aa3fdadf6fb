// Imported first by main.ts, for its side effect only. libuv sizes its threadpool once, on the first piece of work
// queued to it (an async fs call, dns.lookup, crypto, zlib), and the default is 4 threads. naudiodon runs each open
// sound-card stream's blocking read or write on a pool thread for as long as the stream lives, so a capture and a
// playback stream alone would hold half of the pool, and a device switch (old stream stopping while the new one
// opens) more: settings and updater I/O would queue behind audio, and with enough streams the pool starves.
// Setting the variable after anything has touched the pool has no effect, hence a module of its own, imported
// before every other module. The headless station gets the same value from electron/cli/station.env.
const THREADPOOL_SIZE = '16';

if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = THREADPOOL_SIZE;
