// Fault and control commands of the simulator, typed at the ":" prompt of the terminal view or, without
// a terminal, one per line on stdin (e.g. `echo "cut 2" > fifo`). The view's keys run these too.
import type { EmbeddedBroker } from './embedded-broker';
import type { Fleet } from './population';
import type { FleetModel } from './dashboard/model';

export class CommandError extends Error {
  override name = 'CommandError';
  readonly code = 'bad-command';
}

export interface CommandContext {
  fleet: Fleet;
  model: FleetModel;
  /** Absent when the devices use an external broker. */
  broker?: EmbeddedBroker;
  quit: () => void;
}

export const COMMAND_HELP = [
  'wifi <devices> [seconds]        drop Wi-Fi (default 15 s)',
  'cut <devices>                   cut the TCP connection (reset)',
  'stall <devices> [on|off]        half-open connection: nothing flows, nobody is told (toggles)',
  'restart <devices>               clean restart: "offline", reboot',
  'power <devices> [seconds]       power cut: no "offline" (the broker sends the will), back after 3 s',
  'ota-power <devices>             power cut when the next OTA download is half written',
  'sensor <devices> [fail|ok] [name]  break or repair sensor chips (toggles)',
  'broker-restart [seconds]        restart the embedded broker (down 1 s)',
  'status                          one line per device',
  'quit                            stop every device cleanly and exit',
  '<devices>: a number (1), a range (1-5), a list (1,3) or all',
];

function seconds(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new CommandError(`${what}: "${text}" is not a number of seconds (0 < s <= 86400)`);
  return n;
}

export async function runCommand(ctx: CommandContext, line: string): Promise<string> {
  const [verb, target, ...rest] = line.trim().split(/\s+/);
  const devices = () => {
    if (target === undefined) throw new CommandError(`${verb} needs devices: a number from 1 to ${ctx.fleet.devices.length}, a range, a list or all`);
    try {
      return ctx.fleet.select(target);
    } catch (error) {
      throw new CommandError((error as Error).message);
    }
  };
  const names = (list: { index: number }[]) => (list.length === ctx.fleet.devices.length && list.length > 1 ? 'all devices' : `device${list.length === 1 ? '' : 's'} ${list.map((d) => d.index + 1).join(',')}`);
  switch (verb?.toLowerCase()) {
    case 'wifi': {
      const list = devices();
      const s = seconds(rest[0], 15, 'wifi');
      for (const d of list) d.dropWifi(s * 1000);
      return `Wi-Fi down for ${s} s on ${names(list)}`;
    }
    case 'cut': {
      const list = devices();
      let n = 0;
      for (const d of list) n += d.cutConnection();
      return `cut ${n} connection${n === 1 ? '' : 's'} of ${names(list)}`;
    }
    case 'stall': {
      const list = devices();
      const mode = rest[0]?.toLowerCase();
      if (mode !== undefined && mode !== 'on' && mode !== 'off') throw new CommandError(`stall: "${mode}" is not on or off`);
      const on = mode === undefined ? !list.every((d) => d.stalled) : mode === 'on';
      for (const d of list) d.stall(on);
      return `${on ? 'stalled' : 'un-stalled'} ${names(list)}`;
    }
    case 'restart': {
      const list = devices();
      const running = list.filter((d) => d.device);
      for (const d of running) d.restart('restart from the simulator');
      return `restarting ${names(running)}${running.length < list.length ? ` (${list.length - running.length} powered off)` : ''}`;
    }
    case 'power': {
      const list = devices();
      const s = seconds(rest[0], 3, 'power');
      for (const d of list) d.powerCut(s * 1000);
      return `power cut on ${names(list)}, back in ${s} s`;
    }
    case 'ota-power': {
      const list = devices();
      for (const d of list) d.armOtaPowerCut();
      return `power cut armed for the next OTA download of ${names(list)}`;
    }
    case 'sensor': {
      const list = devices();
      const mode = rest[0]?.toLowerCase();
      if (mode !== undefined && mode !== 'fail' && mode !== 'ok') throw new CommandError(`sensor: "${mode}" is not fail or ok`);
      const name = rest[1];
      const on = mode === undefined ? !list.every((d) => d.brokenSensors.size > 0) : mode === 'fail';
      try {
        for (const d of list) d.failSensor(on, name);
      } catch (error) {
        throw new CommandError((error as Error).message);
      }
      return `sensors ${on ? 'failed' : 'repaired'} on ${names(list)}`;
    }
    case 'broker-restart': {
      if (!ctx.broker) throw new CommandError('the devices use an external broker; restart that one yourself');
      const s = seconds(target, 1, 'broker-restart');
      void ctx.broker.restart(s * 1000);
      return `broker restarting (down ${s} s)`;
    }
    case 'status':
    case 'list':
      return ctx.fleet.devices.map((d) => `${d.index + 1} ${d.deviceId || '-'} ${d.power === 'off' ? 'off' : d.presence} boot ${d.device?.boot ?? '-'}`).join('\n');
    case 'help':
    case '?':
      return COMMAND_HELP.join('\n');
    case 'quit':
    case 'exit':
      ctx.quit();
      return 'stopping';
    default:
      throw new CommandError(`unknown command "${verb ?? ''}"; commands: wifi, cut, stall, restart, power, ota-power, sensor, broker-restart, status, quit (help for details)`);
  }
}
