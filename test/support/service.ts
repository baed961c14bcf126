// Starts the real service in this process with a test configuration, on a free port.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../service/config.ts';
import { TEST_SQL_TOKEN, testDecodeThreads } from './env.ts';
import { createLogger } from '../../service/logger.ts';
import { startService, type RunningService } from '../../service/service.ts';
import { readTopic, type TopicMessage } from './kafka.ts';

export async function startTestService(env: Record<string, string>): Promise<RunningService> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SQL_TOKEN: TEST_SQL_TOKEN, ...testDecodeThreads(), ...env });
  return startService(config, createLogger(config.LOG_LEVEL));
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function waitReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, timeoutMs, 'the service to be ready');
}

/** Reads every message of a topic from the beginning with a fresh consumer group, until `count` arrived. */
export async function consumeAll(brokers: string[], topic: string, count: number, timeoutMs = 30_000): Promise<TopicMessage[]> {
  const messages: TopicMessage[] = [];
  const reader = await readTopic(brokers, topic, (m) => messages.push(m));
  try {
    await waitFor(() => messages.length >= count, timeoutMs, `${count} messages on ${topic} (got ${messages.length})`);
    // A little longer, so a test also sees messages beyond the expected count.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await reader.stop();
  }
  return messages;
}
