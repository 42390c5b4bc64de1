// The device's own commands (ping, reboot, identify, get-config, set-config) and where every reply
// goes: the CommandHost of its Commands. Its handlers are methods, so they stay in flash; closures
// made at run time would each copy their code into the heap (an ESP8266 has 32 KB).
import type { MqttClient } from '../mqtt/client';
import type { Platform, TimerId } from '../ports';
import { CommandError, type CommandContext, type CommandHost, type Reply } from './commands';
import { ConfigError, type Config } from './config';
import { replyTopicProblem } from './reply-space';
import type { Topics } from './topics';

/** What the device's own commands need of it (Device implements it; no import of device.ts, no cycle). */
export interface CommandDevice {
  readonly platform: Platform;
  readonly topics: Topics;
  readonly client: MqttClient;
  readonly config: Config;
  readonly boot: number;
  restart(reason: string): void;
  applyLive(changed: string[]): void;
}

const BUILTINS: readonly string[] = Object.freeze(['ping', 'reboot', 'identify', 'get-config', 'set-config']);

export class DeviceCommands implements CommandHost {
  readonly builtins = BUILTINS;
  private identifyTimer: TimerId | undefined;

  constructor(private readonly device: CommandDevice) {}

  resultTopic(name: string): string {
    return this.device.topics.commandResult(name);
  }

  send(r: Reply): boolean {
    const options = r.properties ? { qos: 1 as const, properties: r.properties } : { qos: 1 as const };
    // a tail call: this frame is not on the XS stack under the publish (an ESP8266 has 256 slots)
    return this.device.client.publish(r.topic, r.payload, options, r.after && (() => r.after!()));
  }

  replyProblem(topic: string): string {
    const d = this.device;
    return replyTopicProblem(topic, d.topics, d.config.values.replyTopics);
  }

  run(name: string, ctx: CommandContext): Record<string, unknown> | undefined | 'async' {
    const d = this.device;
    const p = d.platform;
    switch (name) {
      case 'ping':
        return { pong: true, up: Math.round(p.clock.now() / 1000), boot: d.boot };
      case 'reboot':
        ctx.reply(undefined, { rebooting: true }, () => d.restart('reboot command'));
        return 'async';
      case 'identify': {
        const seconds = ctx.args.seconds ?? 10;
        if (typeof seconds !== 'number' || !(seconds >= 1 && seconds <= 120)) throw new CommandError('"seconds" must be a number from 1 to 120');
        this.identify(seconds);
        return { identifying: seconds };
      }
      case 'get-config':
        return d.config.redacted();
      case 'set-config':
        // The journal's writes go deep into the store (on an ESP8266 a long value is several entries),
        // and under the MQTT delivery's frames that overflows its 256 XS stack slots. So the change runs
        // on a fresh stack, from a timer, and replies from there.
        p.clock.set(() => this.setConfig(ctx), 0);
        return 'async';
    }
    throw new CommandError(`unknown command "${name}"`);
  }

  /** Stops a running identify (the device stops). */
  stop(): void {
    if (this.identifyTimer !== undefined) this.device.platform.clock.clear(this.identifyTimer);
    this.identifyTimer = undefined;
  }

  private setConfig(ctx: CommandContext): void {
    let result: { changed: string[]; restartRequired: string[] };
    try {
      result = this.device.config.set(ctx.args);
      this.device.applyLive(result.changed);
    } catch (error) {
      return ctx.reply(error instanceof ConfigError ? new CommandError(error.message) : error instanceof Error ? error : new CommandError(String(error)));
    }
    return ctx.reply(undefined, result);
  }

  /** Blinks the status LED (or logs, without one) so a person can find this board. */
  private identify(seconds: number): void {
    const p = this.device.platform;
    p.log.log('info', `identify: blinking for ${seconds} s`);
    const pin = this.device.config.values.ledPin;
    if (!p.digital || pin < 0) return;
    this.stop();
    let led: InstanceType<NonNullable<Platform['digital']>> | undefined;
    try {
      led = new p.digital({ pin, mode: 'output' });
    } catch (error) {
      p.log.log('warn', `identify: LED pin ${pin} unavailable: ${(error as Error).message}`);
      return;
    }
    let n = Math.round(seconds * 4);
    this.identifyTimer = p.clock.set(
      () => {
        led!.write((n & 1) as 0 | 1);
        if (--n <= 0) {
          this.stop();
          led!.write(1); // NodeMCU LEDs are active low: 1 is off
          led!.close();
        }
      },
      250,
      250,
    );
  }
}
