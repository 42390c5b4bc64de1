// What the terminal view and the dashboard show, fed with messages as the firmware publishes them
// (payloads written out here by hand from the topic layout in src/device/topics.ts and the OTA
// report states in src/ota/report.ts).
import { describe, expect, it } from 'vitest';
import { FleetModel, HISTORY } from '../../scripts/sim/dashboard/model';
import { campaignLine, renderTable, stateOf } from '../../scripts/sim/tty/table';

const T = 1_700_000_000_000;

function model(options?: ConstructorParameters<typeof FleetModel>[3]): FleetModel {
  let now = T;
  const m = new FleetModel('sim', 'mqtt://127.0.0.1:1883', () => now, options);
  (m as unknown as { tick: (ms: number) => void }).tick = (ms: number) => (now += ms);
  return m;
}

describe('fleet model', () => {
  it('builds a row from status, heartbeat and telemetry, ignoring other prefixes and malformed payloads', () => {
    const m = model();
    m.message('sim/a1/status', '{"status":"online","state":"ready","boot":7,"version":"1.2.0"}');
    m.message('sim/a1/heartbeat', '{"up":12,"mem":180000,"outbox":2,"rssi":-61,"boot":7,"version":"1.2.0","reset":"software"}');
    m.message('sim/a1/telemetry/env', '{"ts":1,"temperature":21.5,"humidity":40.2,"pressure":101000}');
    m.message('other/b2/status', '{"status":"online"}');
    m.message('sim/a1/telemetry/env', 'not json');
    m.message('sim/a1/cmd/ping', '{}');
    expect(m.size).toBe(1);
    const row = m.get('a1')!;
    expect(row).toMatchObject({ status: 'online', state: 'ready', boot: 7, version: '1.2.0', rssi: -61, outbox: 2, mem: 180000, reset: 'software', lastTelemetry: T });
    expect(row.values).toEqual({ 'env.temperature': 21.5, 'env.humidity': 40.2, 'env.pressure': 101000 });
    expect(m.takeDirty()).toEqual(['a1']);
    expect(m.takeDirty()).toEqual([]);
  });

  it('keeps the last HISTORY values per reading for the sparkline', () => {
    const m = model();
    for (let i = 0; i < HISTORY + 5; i++) m.message('sim/a1/telemetry/light', JSON.stringify({ illuminance: i }));
    const h = m.get('a1')!.history['light.illuminance'];
    expect(h).toHaveLength(HISTORY);
    expect(h[0]).toBe(5);
    expect(h[HISTORY - 1]).toBe(HISTORY + 4);
  });

  it('tracks a failing sensor until it reports values again', () => {
    const m = model();
    m.message('sim/a1/telemetry/env', '{"up":5,"error":"absent","message":"no ACK"}');
    expect(m.get('a1')!.sensorErrors).toEqual({ env: 'absent' });
    m.message('sim/a1/telemetry/env', '{"up":9,"temperature":20}');
    expect(m.get('a1')!.sensorErrors).toEqual({});
  });

  it('an empty retained status removes the device; the will shows it offline', () => {
    const m = model();
    m.message('sim/a1/status', '{"status":"online","state":"ready","boot":1,"version":"1"}');
    m.message('sim/a2/status', '{"status":"offline","state":"lost","boot":3,"version":"1"}');
    expect(m.snapshot().online).toBe(1);
    expect(m.get('a2')!.state).toBe('lost');
    m.message('sim/a1/status', '');
    expect(m.get('a1')).toBeUndefined();
    expect(m.snapshot()).toMatchObject({ online: 0, total: 1 });
  });

  it('sums an OTA campaign: finished count 100 %, failed 0 %, downloads their percent', () => {
    const m = model();
    m.message('sim/d1/ota', '{"state":"downloading","version":"1.0.0","target":"1.1.0","percent":50}');
    m.message('sim/d2/ota', '{"state":"success","version":"1.1.0","target":"1.1.0"}');
    m.message('sim/d3/ota', '{"state":"rolled-back","version":"1.0.0","target":"1.1.0","error":"rolled-back","reason":"health"}');
    m.message('sim/d4/ota', '{"state":"pending","version":"1.1.0","target":"1.1.0"}');
    m.message('sim/d5/ota', '{"state":"idle","version":"1.0.0"}');
    const c = m.campaign();
    // (50 + 100 + 0 + 100) / 4 = 62.5, rounded
    expect(c).toEqual({ devices: 4, states: { downloading: 1, success: 1, 'rolled-back': 1, pending: 1 }, target: '1.1.0', percent: 63, active: true });
    expect(campaignLine(c)).toBe('OTA to 1.1.0: 63% over 4 devices (downloading 1, success 1, rolled-back 1, pending 1)');
    m.message('sim/d1/ota', '{"state":"success","version":"1.1.0","target":"1.1.0"}');
    m.message('sim/d4/ota', '{"state":"success","version":"1.1.0","target":"1.1.0"}');
    expect(m.campaign()).toMatchObject({ percent: 75, active: false });
    expect(campaignLine(new FleetModel('x', '').campaign())).toBe('OTA: no campaign');
  });

  it('a retained "online" with no heartbeat within expires is stale, not online; a heartbeat brings it back', () => {
    const m = model({ expires: 60 });
    const tick = (ms: number) => (m as unknown as { tick: (ms: number) => void }).tick(ms);
    // a dead device's retained status, as a forged or left-over message shows it
    m.message('sim/dead/status', '{"status":"online","state":"ready","boot":4,"version":"9.9.9"}');
    m.message('sim/live/status', '{"status":"online","state":"ready","boot":2,"version":"1.0.0"}');
    m.message('sim/live/heartbeat', '{"up":5,"boot":2,"version":"1.0.0","interval":10,"expires":50}');
    // both within their time: "dead" has 60 s for a first heartbeat, "live" its own 50 s
    tick(50_000);
    expect(m.list().map((r) => [r.id, !!r.stale])).toEqual([
      ['dead', false],
      ['live', false],
    ]);
    // the same retained "online" heard again (a resubscription) does not restart its clock
    m.message('sim/dead/status', '{"status":"online","state":"ready","boot":4,"version":"9.9.9"}');
    tick(1);
    expect(m.list().map((r) => [r.id, !!r.stale])).toEqual([
      ['dead', false],
      ['live', true],
    ]);
    m.message('sim/live/heartbeat', '{"up":55,"boot":2,"version":"1.0.0","interval":10,"expires":50}');
    expect(m.get('live')!.stale).toBeUndefined();
    m.takeDirty();
    tick(10_000);
    expect(m.get('dead')!.stale).toBeUndefined();
    m.refreshStale();
    expect(m.get('dead')!.stale).toBe(true);
    expect(m.takeDirty()).toEqual(['dead']); // turned stale with no message: the views hear of it
    expect(stateOf(m.get('dead')!)).toEqual({ text: 'stale', tone: 'warn' });
    expect(stateOf(m.get('live')!)).toEqual({ text: 'online', tone: 'ok' });
    expect(m.snapshot()).toMatchObject({ online: 1, stale: 1, total: 2 });
    // an offline status is offline, never stale; a new birth restarts the clock
    m.message('sim/dead/status', '{"status":"offline","state":"lost","boot":4,"version":"9.9.9"}');
    expect(m.get('dead')!.stale).toBeUndefined();
    m.message('sim/dead/status', '{"status":"online","state":"ready","boot":5,"version":"9.9.9"}');
    m.message('sim/live/heartbeat', '{"up":65,"boot":2,"version":"1.0.0","interval":10,"expires":50}');
    tick(50_000);
    expect(m.snapshot()).toMatchObject({ online: 2, stale: 0 });
  });

  it('before a first heartbeat the firmware default expires (150 s) applies, after it the heartbeat\'s own', () => {
    const m = model();
    const tick = (ms: number) => (m as unknown as { tick: (ms: number) => void }).tick(ms);
    m.message('sim/a1/status', '{"status":"online","state":"ready","boot":1,"version":"1.0.0"}');
    tick(150_000);
    expect(m.list()[0].stale).toBeUndefined();
    tick(1);
    expect(m.list()[0].stale).toBe(true);
    m.message('sim/a1/heartbeat', '{"expires":5}');
    tick(5000);
    expect(m.list()[0].stale).toBeUndefined();
    tick(1);
    expect(m.list()[0].stale).toBe(true);
  });

  it('orders simulated devices by their fleet number, then others by id', () => {
    const m = model();
    m.message('sim/zz/status', '{"status":"online"}');
    m.message('sim/aa/status', '{"status":"online"}');
    const sim = { power: 'on', wifi: 'connected', presence: 'ready', stalled: false, wifiDown: false, broken: [], otaCutArmed: false };
    m.simulated('bb', { ...sim, label: 2 });
    m.simulated('cc', { ...sim, label: 1 });
    expect(m.list().map((r) => r.id)).toEqual(['cc', 'bb', 'aa', 'zz']);
  });
});

describe('terminal table', () => {
  it('shows state, version, boot, RSSI, outbox, last telemetry and faults, cut to the width', () => {
    const m = model();
    m.message('sim/a1/status', '{"status":"online","state":"ready","boot":4,"version":"0.1.0"}');
    m.message('sim/a1/heartbeat', '{"rssi":-58,"outbox":0}');
    m.message('sim/a1/telemetry/env', '{"temperature":21.46,"humidity":44.6,"pressure":101325}');
    m.simulated('a1', { label: 1, power: 'on', wifi: 'connected', presence: 'ready', stalled: true, wifiDown: false, broken: ['env'], otaCutArmed: false, outbox: 3, boot: 5, version: '0.1.1' });
    m.message('sim/a2/status', '{"status":"offline","state":"lost","boot":2,"version":"0.1.0"}');
    const lines = renderTable(m.list(), { width: 200, maxRows: 10, selected: 0, now: T + 4000 });
    expect(lines[0].text).toMatch(/^#\s+device\s+state\s+version\s+boot\s+rssi\s+outbox\s+last telemetry\s+faults$/);
    expect(lines[1]).toMatchObject({ tone: 'selected' });
    // the simulator's live values win over what the broker last heard (boot 5, version 0.1.1, outbox 3)
    expect(lines[1].text).toMatch(/^>1\s+a1\s+online\s+0\.1\.1\s+5\s+-58\s+3\s+4s 21\.5°C 45% 1013hPa\s+stalled sensor:env$/);
    expect(lines[2]).toMatchObject({ tone: 'bad' });
    expect(lines[2].text).toMatch(/^ \s+a2\s+offline \(will\)\s+0\.1\.0\s+2\s+–/);
    const narrow = renderTable(m.list(), { width: 40, maxRows: 1, selected: -1, now: T });
    for (const l of narrow) expect(l.text.length).toBeLessThanOrEqual(40);
    expect(narrow[narrow.length - 1].text).toContain('and 1 more');
  });
});
