// Builds the Platform object from the Moddable adapters and starts the firmware. Each target's
// main.ts (target/<name>/main.ts, chosen by the manifest) calls boot() with what differs per chip.
import type { Clock, FlashUpdate, I2CConstructor, DigitalConstructor, AnalogConstructor, Logger, Platform, ResetReason, WiFi } from '../../src/ports';
import { FIRMWARE_VERSION } from '../../src/version';
import mcConfig from 'mc/config';
import Time from 'time';
import Timer from 'timer';
import { createClock } from './clock';
import { restart as hardwareRestart } from './native/sysinfo';
import { configNumber, configString, normalizeConfig } from './config';
import { describe } from './errors';
import type { KvLimits, PreferenceLike } from './kv-chunks';
import { createLogger, isLogLevel } from './logger';
import { createNetwork, resolveHost, type TlsSupport } from './network';
import { Resources } from './resources';
import { startSntp, type SntpDeps } from './sntp';
import { createStorage } from './storage';
import { createSystem } from './system';
import type { GateOptions } from './update-gate';
import { createWiFi } from './wifi';

export type Firmware = (platform: Platform) => void;

interface UpdateContext extends Omit<GateOptions, 'slots'> {
  config: Record<string, unknown>;
}

export interface Target {
  name: 'esp32' | 'esp8266' | 'lin';
  kvLimits: KvLimits;
  /**
   * Moddable's `preference` module, imported by the target's main (which is never preloaded), so the
   * desktop build reads its preferences file when the firmware runs, not when it is built.
   */
  preference: PreferenceLike;
  tls?: TlsSupport;
  io?(config: Record<string, unknown>, clock: Clock): { i2c?: I2CConstructor; digital?: DigitalConstructor; analog?: AnalogConstructor };
  /** Builds the update port and runs its boot-time checks (which may restart). */
  update(context: UpdateContext): FlashUpdate;
  /** True on chips: restart() resets the hardware. False on the desktop build: the firmware reboots in place. */
  hardwareRestart: boolean;
}

/** Pause after the firmware throws at start-up, before it is started again. */
const CRASH_RESTART_MS = 10_000;

export const boot = (target: Target, firmware: Firmware): void => {
  const { config, problems } = normalizeConfig(mcConfig as Record<string, unknown>);
  // Kept across in-place restarts of the desktop build: Moddable allows one Wi-Fi object per process.
  let wifi: WiFi | undefined;
  const start = (softReset: ResetReason | undefined) => {
    const resources = new Resources();
    const clock = createClock(resources);
    const level = isLogLevel(config.logLevel) ? config.logLevel : 'info';
    const log = createLogger(level, () => clock.now());
    const storage = createStorage(target.preference, configString(config, 'kvDomain') ?? 'fw', target.kvLimits);
    const hostStore = createStorage(target.preference, 'host', target.kvLimits);
    if (target.name === 'esp8266') {
      storage.sweep();
      hostStore.sweep();
    }
    const restart = (reason: string) => {
      if (target.hardwareRestart) hardwareRestart();
      resources.closeAll();
      Timer.set(() => start('software'), 0);
      log.log('warn', `desktop build: firmware reboots in place (${reason})`);
    };
    const system = createSystem({ configuredId: configString(config, 'deviceId'), storage: hostStore, log, restart, softResetReason: softReset });
    wifi ??= createWiFi();
    warnAboutModdableWiFiKeys(config, log);
    for (const problem of problems) log.log('warn', problem);

    const version = FIRMWARE_VERSION;
    const update = target.update({
      config,
      store: hostStore,
      version,
      clock,
      log,
      maxBoots: configNumber(config, 'otaMaxBoots', 3),
      healthMs: configNumber(config, 'otaHealthMs', 300_000),
    });

    const networkDeps = { resources, defer: (callback: () => void) => clock.set(callback, 0), tls: target.tls };
    const network = createNetwork(networkDeps);
    const platform: Platform = {
      clock,
      system,
      log,
      storage,
      network,
      wifi: withTimeSync(wifi, config, { udp: network.udp!, resolve: (host, done) => resolveHost(networkDeps, host, done), clock, log, setTime: (seconds) => Time.set(seconds) }),
      update,
      config,
      ...(target.io ? target.io(config, clock) : {}),
    };
    log.log('info', `${target.name} host up: firmware ${version}, device ${system.deviceId()}, reset ${system.resetReason()}, ${system.freeMemory()} bytes free`);
    // A fresh turn, so the firmware starts with none of the host's frames on the XS stack
    // (the ESP8266 build has 256 stack slots in all).
    clock.set(() => {
      try {
        firmware(platform);
      } catch (error) {
        log.log('error', `firmware failed to start: ${describe(error)}; restarting in ${CRASH_RESTART_MS / 1000} s`);
        clock.set(() => restart('firmware failed to start'), CRASH_RESTART_MS);
      }
    }, 0);
  };
  start(undefined);
};

/** Starts SNTP when the station gets an address and the clock has no wall time yet. */
const withTimeSync = (wifi: WiFi, config: Record<string, unknown>, sntp: SntpDeps): WiFi => {
  const server = configString(config, 'sntp');
  if (!server) return wifi;
  return {
    ...wifi,
    onEvent(handler) {
      wifi.onEvent((event) => {
        if (event.type === 'got-ip' && sntp.clock.wallTime() === undefined) startSntp(server, sntp);
        handler(event);
      });
    },
  };
};

/** Moddable's setup/network joins Wi-Fi on its own, before main, when `ssid` is set. */
const warnAboutModdableWiFiKeys = (config: Record<string, unknown>, log: Logger): void => {
  if (configString(config, 'ssid')) {
    log.log('warn', 'mcconfig ssid= makes Moddable join Wi-Fi before the firmware starts (and wait forever if it cannot); use wifiSsid= and wifiPassword= instead');
  }
};
