// The live terminal view: the device table redrawn in place (alternate screen, ANSI), a status line,
// the latest log lines, and keys for faults. Restores the terminal on stop and on process exit.
import type { FleetModel } from '../dashboard/model';
import { keyAction, KEY_HELP } from './keys';
import { campaignLine, renderTable, type TableLine } from './table';

export interface TtyInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface TtyOutput {
  columns?: number;
  rows?: number;
  write(text: string): unknown;
  on?(event: 'resize', listener: () => void): unknown;
}

export interface TtyViewOptions {
  input: TtyInput;
  output: TtyOutput;
  model: FleetModel;
  /** Title lines: broker, dashboard address and the like. */
  header: () => string[];
  /** Runs a command line (see scripts/sim/commands.ts); returns what to show. */
  run: (command: string) => string | Promise<string>;
  quit: () => void;
  /** Ms between redraws at most. Default 250. */
  frameMs?: number;
}

const TONES: Record<NonNullable<TableLine['tone']>, string> = {
  head: '\x1b[1m',
  ok: '\x1b[32m',
  bad: '\x1b[31m',
  warn: '\x1b[33m',
  dim: '\x1b[90m',
  selected: '\x1b[7m',
};
const RESET = '\x1b[0m';
const LOG_LINES = 200;

export class TtyView {
  private selected = 0;
  private all = false;
  private prompt: string | undefined;
  private message = 'Press ? for help.';
  private showHelp = false;
  private readonly logs: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dirty = true;
  private active = false;
  private readonly onData = (chunk: string) => this.key(chunk);
  private readonly restore = () => this.leave();

  constructor(private readonly o: TtyViewOptions) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    const { input, output } = this.o;
    output.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
    input.setRawMode?.(true);
    input.setEncoding('utf8');
    input.on('data', this.onData);
    input.resume();
    output.on?.('resize', () => (this.dirty = true));
    this.o.model.onChange(() => (this.dirty = true));
    process.once('exit', this.restore);
    let frames = 0;
    this.timer = setInterval(() => {
      // ages tick every second even when nothing else changes
      if (this.dirty || ++frames % Math.round(1000 / (this.o.frameMs ?? 250)) === 0) this.draw();
    }, this.o.frameMs ?? 250);
    this.draw();
  }

  /** Adds a line to the log pane. */
  log(line: string): void {
    this.logs.push(line);
    if (this.logs.length > LOG_LINES) this.logs.splice(0, this.logs.length - LOG_LINES);
    this.dirty = true;
  }

  stop(): void {
    if (!this.active) return;
    clearInterval(this.timer);
    this.o.input.off('data', this.onData);
    this.o.input.pause();
    this.leave();
    process.off('exit', this.restore);
  }

  /** The selected device's 1-based number, or "all". */
  get target(): string {
    if (this.all) return 'all';
    const row = this.o.model.list()[this.selected];
    return row?.sim ? String(row.sim.label) : 'all';
  }

  private leave(): void {
    if (!this.active) return;
    this.active = false;
    this.o.input.setRawMode?.(false);
    this.o.output.write(`${RESET}\x1b[?25h\x1b[?1049l`);
  }

  private key(chunk: string): void {
    if (this.prompt !== undefined) return this.promptKey(chunk);
    const action = keyAction(chunk);
    if (!action) return;
    this.dirty = true;
    switch (action.type) {
      case 'move': {
        const n = this.o.model.size;
        this.all = false;
        this.selected = Math.min(Math.max(0, n - 1), Math.max(0, this.selected + action.by));
        return;
      }
      case 'toggle-all':
        this.all = !this.all;
        this.message = this.all ? 'Fault keys now act on all devices.' : 'Fault keys now act on the selected device.';
        return;
      case 'prompt':
        this.prompt = '';
        return;
      case 'help':
        this.showHelp = !this.showHelp;
        return;
      case 'quit':
        this.message = 'Stopping: every device publishes "offline"…';
        this.draw();
        this.o.quit();
        return;
      case 'command':
        this.execute(action.verb === 'broker-restart' ? action.verb : `${action.verb} ${this.target}`);
    }
  }

  private promptKey(chunk: string): void {
    this.dirty = true;
    for (const ch of chunk) {
      if (ch === '\r' || ch === '\n') {
        const line = this.prompt!.trim();
        this.prompt = undefined;
        if (line) this.execute(line);
        return;
      }
      if (ch === '\x1b' || ch === '\x03') {
        this.prompt = undefined;
        return;
      }
      if (ch === '\x7f' || ch === '\b') this.prompt = this.prompt!.slice(0, -1);
      else if (ch >= ' ') this.prompt += ch;
    }
  }

  private execute(command: string): void {
    this.message = `> ${command}`;
    Promise.resolve()
      .then(() => this.o.run(command))
      .then(
        (text) => (this.message = `> ${command}: ${text}`),
        (error: Error) => (this.message = `> ${command}: ${error.message}`),
      )
      .finally(() => (this.dirty = true));
  }

  private draw(): void {
    if (!this.active) return;
    this.dirty = false;
    const { output, model } = this.o;
    const width = Math.max(40, output.columns ?? 100);
    const height = Math.max(12, output.rows ?? 30);
    const rows = model.list();
    this.selected = Math.min(this.selected, Math.max(0, rows.length - 1));
    const lines: TableLine[] = this.o.header().map((text) => ({ text: text.slice(0, width), tone: 'head' as const }));
    const snapshot = model.snapshot(0);
    lines.push({ text: `online ${snapshot.online}/${snapshot.total} · ${campaignLine(snapshot.campaign)}`.slice(0, width) });
    lines.push({ text: '' });
    const helpLines = this.showHelp ? KEY_HELP.length + 1 : 0;
    const tableRoom = Math.max(3, height - lines.length - 6 - helpLines - 4);
    // keep the selection visible: scroll the table window
    const first = Math.max(0, Math.min(this.selected - tableRoom + 2, rows.length - tableRoom + 1));
    const windowRows = rows.slice(first);
    lines.push(...renderTable(windowRows, { width, maxRows: tableRoom - 1, selected: this.all ? -1 : this.selected - first }));
    lines.push({ text: '' });
    const targetText = this.all ? 'all devices' : `device ${this.target}`;
    lines.push({ text: `target: ${targetText} · keys: ↑↓ select, a all, w wifi, c cut, s stall, r restart, p power, o ota-cut, f sensor, b broker, : command, ? help, q quit`.slice(0, width), tone: 'dim' });
    if (this.showHelp) for (const h of ['', ...KEY_HELP]) lines.push({ text: h.slice(0, width), tone: 'dim' });
    lines.push({ text: (this.prompt !== undefined ? `: ${this.prompt}█` : this.message).slice(0, width), tone: this.prompt !== undefined ? undefined : 'warn' });
    const room = height - lines.length - 1;
    if (room > 0) {
      lines.push({ text: '─'.repeat(width), tone: 'dim' });
      for (const l of this.logs.slice(-Math.max(0, room - 1))) lines.push({ text: l.slice(0, width), tone: 'dim' });
    }
    // no newline after the last line: at the bottom row it would scroll the screen
    const body = lines.slice(0, height).map((l) => (l.tone ? TONES[l.tone] + l.text + RESET : l.text) + '\x1b[K');
    output.write('\x1b[H' + body.join('\r\n') + '\x1b[J');
  }
}
