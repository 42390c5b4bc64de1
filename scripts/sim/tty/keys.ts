// Keys of the terminal view. Fault keys act on the selected device, or on all after "a".

export type KeyAction =
  | { type: 'move'; by: number }
  | { type: 'toggle-all' }
  | { type: 'command'; verb: string }
  | { type: 'prompt' }
  | { type: 'help' }
  | { type: 'quit' };

/** Fault keys and the command each runs (with the target appended, except broker-restart). */
export const FAULT_KEYS: Record<string, { verb: string; help: string }> = {
  w: { verb: 'wifi', help: 'drop Wi-Fi for 15 s' },
  c: { verb: 'cut', help: 'cut the TCP connection' },
  s: { verb: 'stall', help: 'stall the connection (half-open) on/off' },
  r: { verb: 'restart', help: 'restart (clean: "offline" first)' },
  p: { verb: 'power', help: 'power cut (no "offline": the will)' },
  o: { verb: 'ota-power', help: 'power cut during the next OTA download' },
  f: { verb: 'sensor', help: 'make the sensors fail / repair them' },
  b: { verb: 'broker-restart', help: 'restart the embedded broker' },
};

export const KEY_HELP: string[] = [
  '↑/↓ or k/j  select a device      a  target: selected device / all devices',
  ...Object.entries(FAULT_KEYS).map(([k, { help }]) => `${k}  ${help}`),
  ':  type a command (help lists them)      ?  this help      q or Ctrl-C  quit (devices publish "offline")',
];

/** What a chunk of terminal input means; undefined for keys without a meaning. */
export function keyAction(key: string): KeyAction | undefined {
  switch (key) {
    case '\x1b[A':
    case '\x1bOA':
    case 'k':
      return { type: 'move', by: -1 };
    case '\x1b[B':
    case '\x1bOB':
    case 'j':
      return { type: 'move', by: 1 };
    case '\x1b[5~':
      return { type: 'move', by: -10 };
    case '\x1b[6~':
      return { type: 'move', by: 10 };
    case 'a':
      return { type: 'toggle-all' };
    case ':':
      return { type: 'prompt' };
    case '?':
    case 'h':
      return { type: 'help' };
    case 'q':
    case '\x03':
      return { type: 'quit' };
  }
  const fault = FAULT_KEYS[key];
  return fault ? { type: 'command', verb: fault.verb } : undefined;
}
