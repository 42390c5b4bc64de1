// The key-value store as the firmware uses it: an entry that cannot be read (the host throws, e.g. a
// corrupt flash entry or an unreadable file) never stops a boot. It is deleted, so its reader falls
// back to the default, logged, and listed for the heartbeat ("storage": {"reset": [...]}). Readers that
// read a value they cannot use report it through discard() the same way.
import type { KeyValueStore, Logger } from '../ports';

/** Most keys listed in a report; more are counted, not named (the heartbeat stays small). */
export const MAX_REPORTED_KEYS = 8;

export class CheckedStore implements KeyValueStore {
  /** Keys reset this boot, in the order found; undefined when none. */
  reset: string[] | undefined;

  constructor(
    readonly inner: KeyValueStore,
    private readonly log: Logger,
  ) {}

  get(key: string): string | Uint8Array | undefined {
    try {
      return this.inner.get(key);
    } catch (error) {
      this.discard(key, describe(error));
      return undefined;
    }
  }

  // returned: tail calls, so this frame is not on the XS stack while the host's store writes
  set(key: string, value: string | Uint8Array): void {
    return this.inner.set(key, value);
  }

  delete(key: string): void {
    return this.inner.delete(key);
  }

  keys(): string[] {
    try {
      return this.inner.keys();
    } catch (error) {
      // nothing to delete: the listing itself failed; readers see no entries
      this.note('*', `storage: the list of keys cannot be read (${describe(error)}); starting from defaults`);
      return [];
    }
  }

  /** A stored entry is unreadable or unusable: delete it (its default applies) and report it. */
  discard(key: string, why: string): void {
    let deleted = '; reset to its default';
    try {
      this.inner.delete(key);
    } catch (error) {
      deleted = `; it could not be deleted either (${describe(error)}), its default applies`;
    }
    this.note(key, `storage: "${key}" is unreadable (${why})${deleted}`);
  }

  /** Logs and lists a reset once per key (a reader may find the same entry again). */
  private note(key: string, message: string): void {
    const list = (this.reset ??= []);
    if (list.indexOf(key) >= 0) return;
    list.push(key);
    this.log.log('warn', message);
  }

  /** The heartbeat's "storage" field, or undefined when nothing was reset. */
  report(): { reset: string[]; more?: number } | undefined {
    const list = this.reset;
    if (!list) return undefined;
    return list.length > MAX_REPORTED_KEYS ? { reset: list.slice(0, MAX_REPORTED_KEYS), more: list.length - MAX_REPORTED_KEYS } : { reset: list };
  }
}

export const describe = (error: unknown): string => {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
};
