// A decode worker with a defect on demand: a request of tenant "crash" makes it die of an uncaught
// exception, as a bug in the decoding code would; every other request is decoded as usual.
import { parentPort, workerData } from 'node:worker_threads';
import { serveDecodeJobs, type DecodeJob, type JobPort } from '../../receiver/decode-messages.ts';
import type { DecodeSettings } from '../../receiver/request-decode.ts';

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
