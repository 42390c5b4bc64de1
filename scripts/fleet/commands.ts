// The fleet subcommands other than rollout: keys, signing, sending one job, simulator images,
// listing devices, and a campaign's status or abort from any shell.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSimImage, SimImageError } from '../../hosts/sim/bootloader';
import { decodeJob, validateJob } from '../../src/ota/job';
import { connectBroker } from './broker';
import { CampaignStore } from './campaign';
import { FleetError } from './errors';
import { FleetView, listenForHeartbeats, type DeviceView, type Presence } from './fleet-view';
import { generateKey, loadPrivateKey, writeKeyFile } from './keys';
import { describeImage, signJob, type SignedJob } from './sign';
import { printable, type Behaviour } from './validate';
import { buildReport, formatReport, headerLine, listSome, LIST_LIMIT, skippedLine, stageLines } from './view';

type Out = (line: string) => void;

export function keygen(out: Out, file: string): void {
  const key = generateKey();
  writeKeyFile(file, key);
  out(`private key: ${file} (keep it secret; it signs every OTA job)`);
  out(`public key:  ${key.publicHex}`);
  out(`firmware configuration: otaPublicKey = "${key.publicHex}"`);
}

export function signCommand(out: Out, o: { key: string; image: string; version: string; url: string; id?: string; allowDowngrade?: boolean; expires?: number }): SignedJob {
  const bytes = readImage(o.image);
  const job = signJob({ id: o.id ?? `job-${o.version}-${Date.now().toString(36)}`, version: o.version, url: o.url, ...describeImage(bytes), allowDowngrade: o.allowDowngrade, expires: o.expires }, loadPrivateKey(o.key));
  out(JSON.stringify(job));
  return job;
}

export function readImage(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new FleetError('image', `cannot read the image ${path}: ${(error as Error).message}`);
  }
}

export function imageCommand(out: Out, o: { version: string; behaviour: Behaviour; size: number; out: string }): void {
  let bytes: Uint8Array;
  try {
    bytes = buildSimImage({ version: o.version, behaviour: o.behaviour }, o.size);
  } catch (error) {
    if (error instanceof SimImageError) throw new FleetError('usage', `--size ${o.size}: ${error.message}`);
    throw error;
  }
  try {
    writeFileSync(o.out, bytes);
  } catch (error) {
    throw new FleetError('image', `cannot write the image ${o.out}: ${(error as Error).message}`);
  }
  const d = describeImage(bytes);
  out(`${o.out}: simulator image ${o.version} (${o.behaviour}), ${d.size} bytes, sha256 ${d.sha256}`);
}

/**
 * Reads a job made by `fleet sign` and checks it as a device would (size, JSON, every field), except the
 * signature, which needs the device's key: a retained job that every device refuses helps nobody.
 */
export function readJobFile(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new FleetError('job', `cannot read the job ${path}: ${(error as Error).message}; \`fleet sign\` writes one to stdout`);
  }
  try {
    const raw = decodeJob(bytes);
    validateJob(raw);
    if (typeof raw.signature !== 'string') throw new Error('it has no "signature": sign it with `fleet sign`');
    return JSON.stringify(raw);
  } catch (error) {
    throw new FleetError('job', `${path} is not a job devices accept: ${(error as Error).message}`);
  }
}

/** Publishes one signed job (retained) to a device or a group. */
export async function sendCommand(out: Out, o: { broker: string; prefix: string; job: string; device?: string; group?: string; clear?: boolean }): Promise<void> {
  if (!!o.device === !!o.group) throw new FleetError('usage', 'send needs exactly one of --device <id> or --group <name>');
  const topic = o.device ? `${o.prefix}/${o.device}/ota/job` : `${o.prefix}/group/${o.group}/ota/job`;
  const payload = o.clear ? '' : readJobFile(o.job);
  const client = await connectBroker(o.broker);
  try {
    await client.publishAsync(topic, payload, { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
  out(o.clear ? `cleared the retained job on ${topic}` : `published the job (retained) on ${topic}`);
}

export type ListedDevice = DeviceView & { presence: Presence };

export async function devicesCommand(out: Out, o: { broker: string; prefix: string; wait: number; heartbeatWait: number; json?: boolean; note?: (line: string) => void }): Promise<ListedDevice[]> {
  const view = new FleetView(o.prefix);
  const client = await connectBroker(o.broker);
  const started = Date.now();
  try {
    client.on('message', (topic, payload, packet) => view.handle(topic, payload, packet.retain));
    await client.subscribeAsync(view.filters, { qos: 1 });
    // the note goes to stderr: stdout stays the table (or the JSON)
    await listenForHeartbeats(view, { wait: o.wait, heartbeatWait: o.heartbeatWait, note: o.note ?? ((line) => console.error(line)) });
  } finally {
    await client.endAsync();
  }
  const now = Date.now();
  const list = view.list().map((d) => ({ ...d, presence: view.presence(d, o.heartbeatWait, now) }));
  if (o.json) {
    out(JSON.stringify(list, null, 1));
    return list;
  }
  const rows = list.map((d) => [
    printable(d.id),
    d.version === undefined ? '?' : printable(d.version, 24),
    presenceText(d, o.heartbeatWait),
    d.lastSeen === undefined ? '-' : `${Math.round((now - d.lastSeen) / 1000)} s ago`,
    d.boot === undefined ? '-' : String(d.boot),
    d.ota?.state ? printable(`${d.ota.state}${d.ota.target ? ` ${d.ota.target}` : ''}${d.ota.error ? ` (${d.ota.error})` : ''}`) : '-',
    printable((d.groups ?? []).join(',')) || '-',
  ]);
  table(out, ['ID', 'VERSION', 'ONLINE', 'LAST SEEN', 'BOOT', 'OTA', 'GROUPS'], rows);
  const stale = list.filter((d) => d.presence === 'stale').length;
  out(`${list.length} device(s) under "${o.prefix}"${stale ? `, ${stale} stale (the retained status says online, but no heartbeat came)` : ''}; last seen counts live messages during the ${Math.round((now - started) / 1000)} s listened${view.ignored ? `; ${view.ignored} message(s) under ids that are not device ids ignored` : ''}`);
  return list;
}

function presenceText(d: ListedDevice, heartbeatWait: number): string {
  switch (d.presence) {
    case 'unknown':
      return '?';
    case 'offline':
      return `offline${d.state ? ` (${printable(d.state, 16)})` : ''}`;
    case 'stale':
      return `stale (no heartbeat in ${Math.round((d.expires !== undefined ? d.expires * 1000 : heartbeatWait) / 1000)} s)`;
    case 'waiting':
      return 'online? (no heartbeat yet)';
    default:
      return 'online';
  }
}

export function statusCommand(out: Out, o: { state: string; json?: boolean }): void {
  const store = new CampaignStore(o.state);
  if (!store.exists()) throw new FleetError('state', `no campaign in ${o.state}`);
  const c = store.load();
  const report = buildReport(c);
  if (o.json) return out(JSON.stringify({ ...report, tool: store.holder() ?? null, current: c.current + 1 }, null, 1));
  const holder = store.holder();
  out(headerLine(c));
  out(`status: ${c.status}${c.abortReason ? ` (${c.abortReason})` : ''}${c.finishedAt ? ', finished' : holder ? `, tool running (pid ${holder})` : ', tool NOT running: `fleet rollout --state ' + o.state + '` resumes it'}`);
  for (const line of stageLines(c)) out(line);
  if (c.finishedAt) out(formatReport(report).trimEnd());
  else {
    if (c.skipped.length) out(skippedLine(c.skipped));
    const inFlight = Object.entries(c.devices).filter(([, d]) => d.state === 'sent' || d.state === 'running');
    if (inFlight.length) out(`in flight: ${listSome(inFlight.map(([id, d]) => `${id} ${d.ota ?? 'sent'}${d.percent !== undefined && d.ota === 'downloading' ? ` ${d.percent}%` : ''}`), LIST_LIMIT, ', ')}`);
  }
}

/**
 * Asks the running tool to abort. Without a running tool the campaign is marked aborted here, and with a
 * broker the retained jobs of devices that did not start are withdrawn.
 */
export async function abortCommand(out: Out, o: { state: string; reason: string; broker?: string }): Promise<void> {
  const store = new CampaignStore(o.state);
  if (!store.exists()) throw new FleetError('state', `no campaign in ${o.state}`);
  const c = store.load();
  if (c.finishedAt) throw new FleetError('state', `campaign ${c.id} already finished (${c.status})`);
  const holder = store.holder();
  if (holder !== undefined) {
    store.requestAbort(o.reason);
    out(`abort requested; the tool (pid ${holder}) stops publishing jobs at its next check`);
    return;
  }
  const withdraw = Object.entries(c.devices).filter(([, d]) => d.state === 'sent');
  c.status = 'aborted';
  c.abortReason = o.reason;
  for (const [, d] of withdraw) Object.assign(d, { state: 'cancelled', error: 'cancelled', reason: 'the campaign was aborted before the device started', finishedAt: Date.now() });
  if (!Object.values(c.devices).some((d) => d.state === 'running')) c.finishedAt = Date.now();
  store.save(c);
  if (o.broker && withdraw.length) {
    const client = await connectBroker(o.broker);
    try {
      for (const [id] of withdraw) await client.publishAsync(`${c.prefix}/${id}/ota/job`, '', { qos: 1, retain: true });
    } finally {
      await client.endAsync();
    }
  }
  if (c.finishedAt) store.writeReport(buildReport(c), formatReport(buildReport(c)));
  out(`campaign ${c.id} aborted (no tool was running)${withdraw.length ? `; ${withdraw.length} unstarted job(s) ${o.broker ? 'withdrawn' : 'marked cancelled: pass --broker to withdraw their retained jobs'}` : ''}`);
}

function table(out: Out, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  out(line(head));
  for (const r of rows) out(line(r));
}
