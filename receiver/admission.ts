// Bounds the work held at once: requests being processed and bytes in flight. Over a bound the
// receiver answers 503 with Retry-After at once, so memory never grows with load; the sender retries.
//
// A request holds nothing while its body is still arriving except the bytes that did arrive: the
// processing slot is taken once the body is complete, so senders that open uploads and go quiet
// (or declare a large Content-Length and send nothing) hold no slot and no reserved capacity; the
// body deadline ends them. Each tenant holds at most its share of the slots and of the bytes, so
// one tenant's traffic, however slow or large, leaves room for the others.

export interface AdmissionLimits {
  maxRequests: number;
  maxBytes: number;
  /** The fraction of either bound one tenant may hold (0 < share <= 1). */
  tenantShare: number;
}

export interface Admission {
  /** Starts accounting one request of `tenant`; it holds no slot and no bytes yet. */
  open(tenant: string): Ticket;
  /** Requests holding a processing slot. */
  readonly requests: number;
  readonly bytes: number;
}

export interface Ticket {
  /**
   * Charges bytes to this request (body bytes as they arrive, then its decompressed size); false
   * when that would pass the bound or the tenant's share of it. A request that is the only one
   * holding bytes may pass them, so the size limits (413) decide about it, not saturation.
   */
  grow(bytes: number): boolean;
  /** Whether `bytes` more could be charged now; reserves nothing (a declared size is only a claim). */
  fits(bytes: number): boolean;
  /** Takes a processing slot; false when every slot, or the tenant's share of them, is taken. */
  takeSlot(): boolean;
  release(): void;
}

interface TenantLoad {
  tickets: number;
  requests: number;
  bytes: number;
}

export function createAdmission(limits: AdmissionLimits, onChange?: (requests: number, bytes: number) => void): Admission {
  const tenantMaxRequests = Math.max(1, Math.floor(limits.maxRequests * limits.tenantShare));
  const tenantMaxBytes = Math.floor(limits.maxBytes * limits.tenantShare);
  const tenants = new Map<string, TenantLoad>();
  let requests = 0;
  let bytes = 0;
  const changed = () => onChange?.(requests, bytes);
  return {
    open(tenant) {
      let load = tenants.get(tenant);
      if (!load) tenants.set(tenant, (load = { tickets: 0, requests: 0, bytes: 0 }));
      load.tickets++;
      const own = load;
      let held = 0;
      let slot = false;
      let released = false;
      const fits = (extra: number): boolean =>
        !released && (bytes + extra <= limits.maxBytes || held === bytes) && (own.bytes + extra <= tenantMaxBytes || held === own.bytes);
      return {
        fits,
        grow(extra) {
          if (!fits(extra)) return false;
          bytes += extra;
          own.bytes += extra;
          held += extra;
          changed();
          return true;
        },
        takeSlot() {
          if (released) return false;
          if (slot) return true;
          if (requests >= limits.maxRequests || own.requests >= tenantMaxRequests) return false;
          slot = true;
          requests++;
          own.requests++;
          changed();
          return true;
        },
        release() {
          if (released) return;
          released = true;
          bytes -= held;
          own.bytes -= held;
          if (slot) {
            requests--;
            own.requests--;
          }
          if (--own.tickets === 0) tenants.delete(tenant);
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
