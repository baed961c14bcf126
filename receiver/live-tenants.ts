// The tenants file in force: read at start, and again when it changes on disk (its directory is
// watched, which sees a Kubernetes Secret volume's `..data` swap and `npm run tenants`' rename;
// see core/file-watch.ts) or on SIGHUP. A file that cannot be read or does not parse changes
// nothing: the previous credentials stay and an error line says why.
import { watchFileChanges } from '../core/file-watch.ts';
import type { Log } from '../core/log.ts';
import { createTenantDirectory, readTenantsFile, type TenantDirectory } from './tenants-file.ts';

export interface LiveTenants {
  /** The credentials in force, swapped whole: a request sees the old ones or the new ones. */
  current(): TenantDirectory;
  /** Re-reads the file now (SIGHUP), logging the outcome even when nothing changed. */
  reload(): void;
  /** Stops watching; the credentials in force stay. */
  close(): void;
}

export interface LiveTenantsOptions {
  /** Quiet time after a change in the directory before the file is read (default 300 ms). */
  debounceMs?: number;
}

/** Reads the file (throws TenantsFileError when it is unusable: start-up stops) and keeps it current. */
export function openLiveTenants(file: string, log: Log, options: LiveTenantsOptions = {}): LiveTenants {
  let loaded = readTenantsFile(file);
  let directory = createTenantDirectory(loaded);
  let fingerprint = JSON.stringify(loaded);

  const load = (trigger: 'SIGHUP' | 'change') => {
    try {
      loaded = readTenantsFile(file);
    } catch (err) {
      log.error({ err, file, trigger }, 'cannot reload the tenants file; keeping the previous credentials');
      return;
    }
    const next = JSON.stringify(loaded);
    // Other files in the directory change too (the kubelet's own links, editors' temporary files).
    if (trigger === 'change' && next === fingerprint) return;
    fingerprint = next;
    directory = createTenantDirectory(loaded);
    log.info({ file, tenants: directory.tenantCount, trigger }, 'reloaded the tenants file');
  };

  const watch = watchFileChanges(file, () => load('change'), {
    debounceMs: options.debounceMs,
    onError: (err) => log.warn({ err, file }, 'cannot watch the tenants file for changes: it is re-read on SIGHUP only'),
  });
  return {
    current: () => directory,
    reload: () => load('SIGHUP'),
    close: () => watch.close(),
  };
}
