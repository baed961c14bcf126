// A decode worker with a defect on demand: a request of tenant "crash" makes it die of an uncaught
// exception, as a bug in the decoding code would; every other request is decoded as usual. With
// FAIL_DECODE_WORKER_START=1 in the environment it was started with, it dies before it is ready.
import { parentPort, workerData } from 'node:worker_threads';
import { serveDecodeJobs, type DecodeJob, type JobPort } from '../../receiver/decode-messages.ts';
import type { DecodeSettings } from '../../receiver/request-decode.ts';

if (process.env.FAIL_DECODE_WORKER_START === '1') throw new Error('cannot start');
const port = parentPort!;
const filtered: JobPort = {
  on: (event, listener) =>
    port.on(event, (job: DecodeJob) => {
      if (job.tenant === 'crash') throw new Error('decoder defect');
      listener(job);
    }),
  postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
};
serveDecodeJobs(filtered, workerData as DecodeSettings);
