// Writes several settings as one step that a power cut cannot split. The store sets one key at a time,
// and on the ESP8266 a value over 62 bytes takes several flash writes, so the values are staged first:
//   1. an unfinished earlier commit is completed, stale staged entries are deleted;
//   2. each value goes to its staged key, STAGE_PREFIX + key ("cjc.bport" for "c.bport");
//   3. the commit mark (COMMIT_KEY, one byte: a single small write) is set: from here on the change is made;
//   4. each staged value is copied to its key, and the staged key deleted;
//   5. the mark is deleted.
// recover() runs at boot: with the mark set it finishes steps 4 and 5 (roll forward); without it, the
// staged entries are an interrupted step 2 and are deleted (discard). Either way all values or none.
import type { KeyValueStore } from '../ports';

export const COMMIT_KEY = 'cj';
export const STAGE_PREFIX = 'cj';
/** Keys of the store are at most 15 characters (ESP32 NVS). */
const MAX_KEY = 15;

export type JournalOutcome = 'rolled-forward' | 'discarded' | undefined;

export class ConfigJournal {
  /** `known`: the keys the journal may write; a staged entry for anything else is dropped. */
  constructor(
    readonly store: KeyValueStore,
    private readonly known: (key: string) => boolean,
  ) {}

  /** Finishes or discards a commit that a power cut interrupted. */
  recover(): JournalOutcome {
    const staged = this.staged();
    const committed = this.store.get(COMMIT_KEY) !== undefined;
    if (!committed) {
      for (const key of staged) this.store.delete(key);
      return staged.length ? 'discarded' : undefined;
    }
    this.apply(staged);
    return 'rolled-forward';
  }

  /** Writes every entry or, when a write fails before the commit mark, none (and throws). */
  commit(entries: [key: string, value: string][]): void {
    this.recover(); // a commit left unfinished (its mark set) completes first, stale staged entries go
    const staged: string[] = [];
    try {
      for (const [key, value] of entries) {
        const name = stageKey(key);
        this.store.set(name, value);
        staged.push(name);
      }
      this.store.set(COMMIT_KEY, '1');
    } catch (error) {
      for (const name of staged) {
        try {
          this.store.delete(name);
        } catch {
          // recover() at the next boot deletes what is left: there is no commit mark
        }
      }
      throw error;
    }
    this.apply(staged);
  }

  private apply(staged: string[]): void {
    for (const name of staged) {
      const key = name.slice(STAGE_PREFIX.length);
      const value = this.store.get(name);
      if (typeof value === 'string' && this.known(key)) this.store.set(key, value);
      this.store.delete(name);
    }
    this.store.delete(COMMIT_KEY);
  }

  private staged(): string[] {
    const out: string[] = [];
    for (const key of this.store.keys()) if (key.length > STAGE_PREFIX.length && key.slice(0, STAGE_PREFIX.length) === STAGE_PREFIX) out.push(key);
    return out;
  }
}

function stageKey(key: string): string {
  const name = STAGE_PREFIX + key;
  if (name.length > MAX_KEY) throw new RangeError(`setting key "${key}" is too long to stage (at most ${MAX_KEY - STAGE_PREFIX.length} characters)`);
  return name;
}
