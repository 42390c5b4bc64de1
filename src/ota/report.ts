// What the device publishes, retained, on <prefix>/<id>/ota, and what it keeps in the key-value store
// across restarts (which job it handled, the last report), so reports survive reboots and rollbacks.
import type { KeyValueStore } from '../ports';

export type OtaState =
  | 'idle' // no job handled yet
  | 'downloading' // with percent
  | 'rebooting' // image written and marked to boot; restarting into it
  | 'pending' // running the new image, health check in progress
  | 'success' // the new image passed its health check and is committed (or was already running)
  | 'failed' // download, verification or install failed; the running image stays
  | 'rejected' // the job was refused (signature, downgrade, busy, expired, malformed)
  | 'rolled-back' // the new image failed; the previous one runs again
  | 'unsupported'; // no over-the-air update on this device

/** Terminal states: the job is over. */
export const FINAL_STATES: OtaState[] = ['success', 'failed', 'rejected', 'rolled-back', 'unsupported'];

export interface OtaReport {
  state: OtaState;
  /** The version running now. */
  version: string;
  /** Job id this report is about. */
  job?: string;
  /** The version the job installs. */
  target?: string;
  percent?: number;
  /** OtaErrorCode, or "rolled-back". */
  error?: string;
  reason?: string;
  groups?: string[];
  /** The device's board type (the build setting `board`): the fleet tool picks each device's image by it. */
  board?: string;
  boot?: number;
  /** At boot, until the next job: the bootloader could not trust its boot state, and what it booted instead. */
  recovered?: string;
}

/** The job the device works on or last handled. */
export interface JobRecord {
  id: string;
  target: string;
  /** Version that ran when the job started. */
  from: string;
  /** Starts of this job (a restart during the download starts it again, a bounded number of times without progress). */
  tries: number;
  /** Bytes already in place when the job last started (a continued download); progress past it resets `tries`. */
  at?: number;
  /** The job is over: a retained copy of it is ignored. */
  done: boolean;
}

const JOB_KEY = 'ota.job';
const LAST_KEY = 'ota.last';
const ROLLBACK_KEY = 'ota.rbk';

export class OtaMemory {
  /** `checked`: resets and reports an unreadable record (the OTA state starts clean); without it, it is deleted. */
  constructor(
    private readonly store: KeyValueStore,
    private readonly checked?: { discard(key: string, why: string): void },
  ) {}

  get job(): JobRecord | undefined {
    const v = this.json(JOB_KEY) as JobRecord | undefined;
    return v && typeof v.id === 'string' && typeof v.target === 'string' ? { ...v, tries: Number(v.tries) || 0, at: Number(v.at) || 0, done: !!v.done } : undefined;
  }

  set job(record: JobRecord | undefined) {
    this.put(JOB_KEY, record);
  }

  get last(): OtaReport | undefined {
    const v = this.json(LAST_KEY) as OtaReport | undefined;
    return v && typeof v.state === 'string' ? v : undefined;
  }

  set last(report: OtaReport | undefined) {
    this.put(LAST_KEY, report && { ...report, version: undefined, groups: undefined, board: undefined, boot: undefined, percent: undefined, recovered: undefined });
  }

  /** Identifies the rollback that was last reported, so each is reported once. */
  get rollbackSeen(): string | undefined {
    const v = this.store.get(ROLLBACK_KEY);
    return typeof v === 'string' ? v : undefined;
  }

  set rollbackSeen(key: string | undefined) {
    if (key === undefined) this.store.delete(ROLLBACK_KEY);
    else this.store.set(ROLLBACK_KEY, key);
  }

  private json(key: string): unknown {
    const v = this.store.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') {
      try {
        return JSON.parse(v);
      } catch {
        // reported below
      }
    }
    // a torn or foreign value: start clean rather than fail the boot
    if (this.checked) this.checked.discard(key, 'not valid JSON');
    else this.store.delete(key);
    return undefined;
  }

  private put(key: string, value: unknown): void {
    if (value === undefined) this.store.delete(key);
    else this.store.set(key, JSON.stringify(value));
  }
}
