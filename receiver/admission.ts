// Bounds the work held at once: requests and bytes in flight. Over either bound the receiver
// answers 503 with Retry-After at once, so memory never grows with load; the sender retries.

export interface Admission {
  /** Takes a slot for a request of `bytes` (its compressed size); undefined when over a bound. */
  tryAcquire(bytes: number): Ticket | undefined;
  readonly requests: number;
  readonly bytes: number;
}

export interface Ticket {
  /** Adds bytes to this request's share (its decompressed size); false when that would pass the bound. */
  grow(bytes: number): boolean;
  release(): void;
}

export function createAdmission(limits: { maxRequests: number; maxBytes: number }, onChange?: (requests: number, bytes: number) => void): Admission {
  let requests = 0;
  let bytes = 0;
  const changed = () => onChange?.(requests, bytes);
  return {
    tryAcquire(initial) {
      // A single request larger than the byte bound is still admitted when nothing else is in
      // flight; the request size limits reject truly oversized bodies with a 413.
      if (requests >= limits.maxRequests || (requests > 0 && bytes + initial > limits.maxBytes)) return undefined;
      requests++;
      bytes += initial;
      let held = initial;
      let released = false;
      changed();
      return {
        grow(extra) {
          if (released) return false;
          if (requests > 1 && bytes + extra > limits.maxBytes) return false;
          bytes += extra;
          held += extra;
          changed();
          return true;
        },
        release() {
          if (released) return;
          released = true;
          requests--;
          bytes -= held;
          changed();
        },
      };
    },
    get requests() {
      return requests;
    },
    get bytes() {
      return bytes;
    },
  };
}
