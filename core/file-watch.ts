// Tells when a file may have been replaced, by watching its directory rather than the file. A
// watch on the file follows the inode it was opened on, and files that matter here are replaced,
// not edited: Kubernetes updates a mounted Secret or ConfigMap by writing the new files into a
// fresh `..<timestamp>` directory and renaming a `..data_tmp` link over `..data` (the visible file
// is a link through `..data` that itself never changes), and `npm run tenants` writes a temporary
// file and renames it over the old one. Either way the directory sees the change.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface FileWatch {
  close(): void;
}

export interface FileWatchOptions {
  /**
   * Quiet time after the last event in the directory before `onChange` runs: one replacement is
   * several events (a directory written, a link renamed, the old directory removed).
   */
  debounceMs?: number;
  /** The watch could not be set up, or stopped (the directory was removed). */
  onError?(err: Error): void;
}

/**
 * Calls `onChange` once things settle after anything changed in the file's directory. The caller
 * re-reads the file and decides whether it really changed; nothing here reads it.
 */
export function watchFileChanges(file: string, onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const debounceMs = options.debounceMs ?? 300;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let closed = false;
  const settle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closed) onChange();
    }, debounceMs);
  };
  try {
    // Not persistent: the watch alone does not keep a process alive.
    watcher = watch(path.dirname(path.resolve(file)), { persistent: false }, settle);
    watcher.on('error', (err) => {
      watcher?.close();
      if (!closed) options.onError?.(err);
    });
  } catch (err) {
    // e.g. ENOENT, or ENOSPC when the inotify watch limit is reached.
    options.onError?.(err as Error);
  }
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
