// Child process of the rollout benchmark: one shard of simulated devices with OTA (the firmware with
// its OTA extension, two flash slots per device in its state dir, the sim bootloader with rollback).
// Talks to the parent over IPC:
//   {type:'init', host, port, shard, devices, seed, prefix, stateDir, publicKey, rate}
//                                       -> {type:'online', devices, ms} when every device is online
//   {type:'arm', numbers}                  devices (1-based numbers) lose power when their next
//                                          OTA download is half written
//   {type:'state'}                      -> {type:'state', devices: [{id, number, version, running, presence, boots, cuts}]}
//   {type:'stop'}                       -> {type:'stopped'}
import { Fleet, type Shard } from '../sim/population';
import { otaExtension } from '../../src/ota/extension';

interface Init {
  type: 'init';
  host: string;
  port: number;
  shard: Shard;
  devices: number;
  seed: number;
  prefix: string;
  stateDir: string;
  publicKey: string;
  rate: number;
  heartbeat: number;
  telemetry: number;
}

const send = (m: object) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ONLINE_TIMEOUT_MS = 300_000;

let fleet: Fleet | undefined;
let powerCuts = 0;

async function init(o: Init): Promise<void> {
  const start = Date.now();
  fleet = new Fleet({
    devices: o.devices,
    shard: o.shard,
    broker: { host: o.host, port: o.port },
    prefix: o.prefix,
    stateDir: o.stateDir,
    flushStorage: false,
    seed: o.seed,
    heartbeat: o.heartbeat,
    telemetry: o.telemetry,
    keepAlive: 60,
    discovery: false,
    board: 'env',
    utcOffsetMinutes: 0,
    // progress reports every 5 s: 10,000 devices downloading at once must not flood the tool; the
    // health gate as the firmware's defaults have it (60 s), settled in 10 s; the firmware's own
    // SHA-256, whose state a checkpoint keeps, so a download cut by a power failure continues
    extensions: () => [otaExtension({ publicKey: o.publicKey, progressInterval: 5000, healthWindow: 60_000, healthSettle: 10_000 })],
    log: (_runner, level, message) => {
      if (/power cut during OTA/.test(message)) powerCuts++;
      else if (level === 'error' && !/rolled back|panic/.test(message)) process.stderr.write(`device: ${message}\n`);
    },
  });
  await fleet.start(fleet.devices, o.rate);
  for (;;) {
    let online = 0;
    for (const r of fleet.devices) if (r.presence === 'ready') online++;
    if (online === fleet.devices.length) break;
    if (Date.now() - start > ONLINE_TIMEOUT_MS) throw new Error(`${fleet.devices.length - online} of ${fleet.devices.length} devices not online after ${ONLINE_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
  send({ type: 'online', devices: fleet.devices.length, ms: Date.now() - start });
}

process.on('message', (m: { type: string; numbers?: number[] } & Partial<Omit<Init, 'type'>>) => {
  switch (m.type) {
    case 'init':
      init(m as Init).catch((error: Error) => send({ type: 'failed', message: error.message }));
      return;
    case 'arm': {
      let armed = 0;
      for (const n of m.numbers!) {
        const r = fleet!.byNumber(n);
        if (!r) continue;
        r.armOtaPowerCut();
        armed++;
      }
      send({ type: 'armed', armed });
      return;
    }
    case 'state':
      send({
        type: 'state',
        powerCuts,
        devices: fleet!.devices.map((r) => ({
          id: r.deviceId,
          number: r.index + 1,
          version: r.version,
          // the image on trial is not "updated" until it is committed
          pending: r.device?.platform.update?.running().state === 'pending-verify',
          presence: r.power === 'off' ? 'off' : r.presence,
          boots: r.boots,
        })),
      });
      return;
    case 'stop':
      void fleet!
        .stop('bench over')
        .finally(() => {
          fleet!.close();
          send({ type: 'stopped' });
          setTimeout(() => process.exit(0), 100);
        });
  }
});
process.on('disconnect', () => process.exit(0));
