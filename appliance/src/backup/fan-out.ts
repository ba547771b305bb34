import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';

/** A destination of the fan-out: given a stream, resolves once it is stored. */
export interface FanOutSink {
  name: string;
  consume(body: Readable): Promise<void>;
}

/** Per-sink outcome plus the size and sha256 of what was sent. */
export interface FanOutResult {
  size: number;
  sha256: string;
  failures: Map<string, Error>;
}

/**
 * Sends one stream to several targets at once while hashing it. A target that
 * fails is dropped and the others carry on (its failure is reported); the slowest
 * healthy target sets the pace, so memory stays bounded.
 */
export async function fanOut(source: Readable, sinks: FanOutSink[], onProgress?: (bytes: number) => void): Promise<FanOutResult> {
  const hash = createHash('sha256');
  const failures = new Map<string, Error>();
  const live = sinks.map((s) => {
    const pipe = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    let failed!: (e: Error) => void;
    const failure = new Promise<never>((_, rej) => (failed = rej));
    failure.catch(() => undefined);
    const done = s.consume(pipe).catch((err: Error) => {
      failures.set(s.name, err);
      pipe.destroy();
      failed(err);
    });
    return { name: s.name, pipe, done, failure };
  });
  let size = 0;
  for await (const chunk of source) {
    const buf = chunk as Buffer;
    hash.update(buf);
    size += buf.length;
    const waits: Promise<unknown>[] = [];
    for (const l of live) {
      if (failures.has(l.name)) continue;
      if (!l.pipe.write(buf)) waits.push(Promise.race([once(l.pipe, 'drain'), l.failure]).catch(() => undefined));
    }
    if (waits.length) await Promise.all(waits);
    onProgress?.(size);
    if (failures.size === live.length) break; // nobody left to send to

  }
  for (const l of live) if (!failures.has(l.name)) l.pipe.end();
  await Promise.all(live.map((l) => l.done));
  return { size, sha256: hash.digest('hex'), failures };
}
