// Everything the host opened for the firmware (timers, sockets, listeners), so that a restart
// without a hardware reset (the desktop build) can close it all before booting the firmware again.

export class Resources {
  private readonly open = new Map<unknown, () => void>();

  track(handle: unknown, close: () => void): void {
    this.open.set(handle, close);
  }

  /** The resource ended by itself (a one-shot timer fired, a socket failed). */
  forget(handle: unknown): void {
    this.open.delete(handle);
  }

  /** Closes one resource. */
  release(handle: unknown): void {
    const close = this.open.get(handle);
    if (!close) return;
    this.open.delete(handle);
    close();
  }

  get size(): number {
    return this.open.size;
  }

  /** Closes everything; a failing close does not stop the others. */
  closeAll(): void {
    const all = [...this.open.values()];
    this.open.clear();
    for (const close of all) {
      try {
        close();
      } catch {
        // already closed by the runtime
      }
    }
  }
}
