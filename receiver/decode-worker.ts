// The entry of a decode worker thread (decode-pool.ts starts it): decodes the requests the main
// thread sends, with the settings it was started with.
import { parentPort, workerData } from 'node:worker_threads';
import { serveDecodeJobs, type JobPort } from './decode-messages.ts';
import type { DecodeSettings } from './request-decode.ts';

serveDecodeJobs(parentPort as unknown as JobPort, workerData as DecodeSettings);
