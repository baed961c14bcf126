// The Node options every launcher of the service passes (npm start, the image's CMD, the
// benchmarks); V8 reads them when the process starts, so neither the service itself nor
// NODE_OPTIONS can set them.
//
// --initial-old-space-size: with V8's own sizing, `npm start` under load (about 27 MB of live heap:
// the processor's state, the records kept for it, the threads' answers) ran a full mark-compact
// every 100 to 150 ms, each started with the old generation at about half its limit and freeing
// only 2 to 5 MB, its marking spread over V8's helper threads. With the old generation starting at
// 128 MB, one runs every second or so, set off by the memory outside the heap (request bodies,
// records): 3 full collections instead of 26 to 33 over the same load, and the main thread's GC
// share under `bench:receiver -- --embedded` went from 8-10% to 2%. The heap still grows past
// 128 MB when it needs to. Kafka mode, with a smaller heap, has few full collections either way
// (0 instead of 4 or 5 per run) and runs with the same options.
export const SERVICE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** What follows `node` in the command that runs the compiled service (for launchers that spawn this Node). */
export const SERVICE_ARGS: readonly string[] = [...SERVICE_NODE_FLAGS, 'dist/service/main.js'];

/** The command that runs the compiled service, as every launcher writes it. */
export const SERVICE_COMMAND: readonly string[] = ['node', ...SERVICE_ARGS];
