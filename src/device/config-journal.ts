// Writes several settings as one step that a power cut cannot split. The store sets one key at a time,
// and on the ESP8266 a value over 62 bytes takes several flash writes, so the values are staged first:
//   1. an unfinished earlier commit is completed, stale staged entries are deleted;
//   2. each value goes to its staged key, STAGE_PREFIX + key ("cjc.bport" for "c.bport");
//   3. the commit mark (COMMIT_KEY, one byte: a single small write) is set: from here on the change is made;
//   4. each staged value is copied to its key, and the staged key deleted;
//   5. the mark is deleted.
// recoverJournal() runs at boot: with the mark set it finishes steps 4 and 5 (roll forward); without
// it, the staged entries are an interrupted step 2 and are deleted (discard). Either way all values or
// none. Only settings keys ("c." and a name) are written: a staged entry for anything else is dropped.
import type { KeyValueStore } from '../ports';

export const COMMIT_KEY = 'cj';
export const STAGE_PREFIX = 'cj';
/** Keys of the store are at most 15 characters (ESP32 NVS). */
const MAX_KEY = 15;

export type JournalOutcome = 'rolled-forward' | 'discarded' | undefined;

/** Finishes or discards a commit that a power cut interrupted. */
export const recoverJournal = (store: KeyValueStore): JournalOutcome => {
  const staged = stagedKeys(store);
  if (store.get(COMMIT_KEY) === undefined) {
    for (const key of staged) store.delete(key);
    return staged.length ? 'discarded' : undefined;
  }
  apply(store, staged);
  return 'rolled-forward';
};

/** Writes every entry or, when a write fails before the commit mark, none (and throws). */
export const commitJournal = (store: KeyValueStore, entries: [key: string, value: string][]): void => {
  recoverJournal(store);
  const staged: string[] = [];
  try {
    for (const [key, value] of entries) {
      const name = STAGE_PREFIX + key;
      if (name.length > MAX_KEY || !isSettingKey(key)) throw new RangeError(`"${key}" cannot be staged: settings keys are "c." and at most ${MAX_KEY - 4} characters`);
      store.set(name, value);
      staged.push(name);
    }
    store.set(COMMIT_KEY, '1');
  } catch (error) {
    for (const name of staged) {
      try {
        store.delete(name);
      } catch {
        // recoverJournal() at the next boot deletes what is left: there is no commit mark
      }
    }
    throw error;
  }
  return apply(store, staged);
};

const isSettingKey = (key: string): boolean => {
  return key.length > 2 && key.charAt(0) === 'c' && key.charAt(1) === '.';
};

const apply = (store: KeyValueStore, staged: string[]): void => {
  for (const name of staged) {
    const key = name.slice(STAGE_PREFIX.length);
    const value = store.get(name);
    if (typeof value === 'string' && isSettingKey(key)) store.set(key, value);
    store.delete(name);
  }
  store.delete(COMMIT_KEY);
};

const stagedKeys = (store: KeyValueStore): string[] => {
  const out: string[] = [];
  for (const key of store.keys()) if (key.length > STAGE_PREFIX.length && key.slice(0, STAGE_PREFIX.length) === STAGE_PREFIX) out.push(key);
  return out;
};
