// Starts private mosquitto brokers for tests and scripts: free 127.0.0.1 ports, a generated config in
// a temp dir, optional TLS/auth/websockets/persistence. No broker outlives this process: children
// get a parent-death signal (setpriv on Linux) and are killed on exit.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestCertificates, type TestCertificates } from './certs';
import { type BrokerFiles, type BrokerPorts, mosquittoConfig } from './mosquitto-config';
import { ensureMosquitto, ensureMosquittoPasswd, findTool } from './mosquitto-install';
import { freePorts, waitForTcp } from './free-ports';

export { ensureMosquitto, MosquittoMissingError } from './mosquitto-install';

export interface MosquittoOptions {
  /** Keep retained messages and sessions across restart() (saved on SIGTERM, lost on kill()). */
  persistence?: boolean;
  /** Seconds between automatic saves when persistent (mosquitto's default is 1800). */
  autosaveInterval?: number;
  /** Adds a TLS listener (and wss with websockets). requireClientCert enables mutual TLS. */
  tls?: boolean | { requireClientCert?: boolean };
  /** Username/password login only (allow_anonymous false), with an optional mosquitto ACL file text. */
  auth?: { users: Record<string, string>; acl?: string };
  /** Adds a websockets listener beside the plain one. */
  websockets?: boolean;
  maxPacketSize?: number;
  /** mosquitto.conf lines appended as they are. */
  extraConfig?: string;
  /** mosquitto log_type values; default error, warning, notice, information, subscribe, unsubscribe. */
  logTypes?: string[];
  /** Use this port for the plain listener instead of a free one. */
  port?: number;
  /**
   * Plain listeners on free ports (default 1): `ports` lists them all. On one machine every TCP
   * connection to one address and port takes its own ephemeral port (about 28,000 on Linux), so
   * 100,000 clients on loopback need 4 listeners or more. mosquitto 2.0 listens with a backlog of 100
   * (not configurable): more listeners also take more connection attempts at once.
   */
  listeners?: number;
  /**
   * Clients the broker must hold at once: sets max_connections on every listener and raises the
   * broker's open-file limit to match (hard and soft, with prlimit; above the current hard limit
   * only as root). Default: mosquitto's own (unlimited connections, the inherited file limit).
   */
  maxConnections?: number;
  /**
   * Disables Nagle's algorithm on client sockets (set_tcp_nodelay), as the harness does by default so
   * that tests never wait on a delayed ACK. false is mosquitto's own default, as a broker runs when
   * nobody set it.
   */
  tcpNoDelay?: boolean;
  /** Receives everything the broker prints, as it comes. */
  onOutput?: (text: string) => void;
  startTimeoutMs?: number;
}

export interface MosquittoBroker {
  readonly host: string;
  readonly port: number;
  /** Every plain listener port: `port` first, then the extra listeners. */
  readonly ports: number[];
  /** The broker process's open-file limit (soft), read from /proc when it runs on Linux. */
  openFileLimit(): number | undefined;
  /** mqtt://127.0.0.1:port */
  readonly url: string;
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  readonly wsPort?: number;
  readonly wsUrl?: string;
  readonly wssPort?: number;
  readonly wssUrl?: string;
  /** PEM of the CA that signed the server certificate (tls only). */
  readonly ca?: string;
  /** PEM of an unrelated CA, for tests that must fail verification (tls only). */
  readonly wrongCa?: string;
  /** All generated TLS files, including a client certificate for mutual TLS (tls only). */
  readonly certs?: TestCertificates;
  /** The broker's temp dir (config, logs, certs, persistence). Removed when the process exits. */
  readonly dir: string;
  readonly configFile: string;
  readonly persistenceDir?: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM and wait for exit (a persistent broker saves its database). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (nothing saved). */
  kill(): Promise<void>;
  /** Starts again on the same ports, config and persistence dir (stops first if running). */
  restart(): Promise<void>;
  /** Everything the broker printed since the first start. */
  logs(): string;
  /** Resolves with the first line logged since the last (re)start that matches pattern. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export class MosquittoStartError extends Error {
  override name = 'MosquittoStartError';
  readonly code = 'EMOSQUITTOSTART';
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let cleanupRegistered = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  if (process.env.MQTT_HARNESS_KEEP) return;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // Someone else handles this signal (e.g. a CLI stopping gracefully); 'exit' still cleans up.
      if (process.listenerCount(signal) > 0) return;
      killAll();
      // No listener is left, so this re-raise takes the default action (terminate).
      process.kill(process.pid, signal);
    });
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

/** When root, mosquitto runs as the `mosquitto` user (as it would drop to by itself). */
function mosquittoUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('mosquitto:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(path: string, owner: RunAs): void {
  chownSync(path, owner.uid, owner.gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), owner);
}

/** Descriptors mosquitto needs besides its clients' sockets (listeners, log, persistence, epoll). */
const BROKER_FILE_MARGIN = 1024;

/** The open-file limits (soft, hard) of a process, from /proc/<pid>/limits; undefined off Linux. */
export function openFileLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [, soft, hard] = line!.split(/\s{2,}/);
    const n = (t: string) => (t === 'unlimited' ? Infinity : Number(t));
    return { soft: n(soft), hard: n(hard) };
  } catch {
    return undefined;
  }
}

/** CAP_SYS_RESOURCE: what raising a hard limit takes (root has it, except in containers that drop it). */
const CAP_SYS_RESOURCE = 24;

/** Whether this process may raise hard resource limits (Linux capabilities, from /proc/self/status). */
function canRaiseHardLimits(): boolean {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapEff:'));
    return ((BigInt(`0x${line!.split(/\s+/)[1]}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * The prlimit arguments that give the broker `files` open files: hard and soft where this process may
 * raise hard limits (root, with CAP_SYS_RESOURCE), else the soft limit up to the hard one (the broker
 * then holds fewer clients; openFileLimit() tells how many).
 */
function fileLimitArgs(files: number | undefined): string[] {
  if (files === undefined) return [];
  const prlimit = process.platform === 'linux' ? findTool('prlimit') : undefined;
  const current = openFileLimits();
  if (!prlimit || !current) return [];
  const raise = canRaiseHardLimits();
  const soft = raise ? files : Math.min(files, current.hard);
  const hard = raise ? Math.max(files, current.hard) : current.hard;
  if (soft <= current.soft && hard === current.hard) return [];
  return [prlimit, `--nofile=${soft}:${hard === Infinity ? 'unlimited' : hard}`, '--'];
}

function launchCommand(binary: string, configFile: string, runAs: RunAs | undefined, files: number | undefined): [string, string[]] {
  const setpriv = process.platform === 'linux' ? findTool('setpriv') : undefined;
  // prlimit first, while still root: a process that dropped its privileges cannot raise its hard limit
  const limit = fileLimitArgs(files);
  const chain = setpriv
    ? // The death signal is set after the uid change, so it survives (a later setuid would clear it).
      [setpriv, ...(runAs ? ['--reuid', String(runAs.uid), '--regid', String(runAs.gid), '--clear-groups'] : []), '--pdeathsig', 'KILL', '--', binary, '-c', configFile]
    : [binary, '-c', configFile];
  const [command, ...args] = [...limit, ...chain];
  return [command, args];
}

function writePasswordFile(path: string, users: Record<string, string>): void {
  const tool = ensureMosquittoPasswd();
  let first = true;
  for (const [name, password] of Object.entries(users)) {
    execFileSync(tool, [...(first ? ['-c'] : []), '-b', path, name, password], { stdio: 'pipe' });
    first = false;
  }
  if (first) writeFileSync(path, '');
}

class Broker implements MosquittoBroker {
  readonly host = '127.0.0.1';
  readonly url: string;
  readonly tlsUrl?: string;
  readonly wsUrl?: string;
  readonly wssUrl?: string;
  readonly ca?: string;
  readonly wrongCa?: string;
  readonly configFile: string;
  readonly persistenceDir?: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: string[] = [];
  private outputSize = 0;
  private startIndex = 0;
  private watchers = new Set<() => void>();

  constructor(
    readonly dir: string,
    private readonly binary: string,
    private readonly listenPorts: BrokerPorts,
    files: BrokerFiles,
    private readonly runAs: RunAs | undefined,
    private readonly timeoutMs: number,
    readonly certs?: TestCertificates,
    private readonly onOutput?: (text: string) => void,
    private readonly openFiles?: number,
  ) {
    this.configFile = join(dir, 'mosquitto.conf');
    this.persistenceDir = files.persistenceDir;
    this.url = `mqtt://127.0.0.1:${listenPorts.port}`;
    if (listenPorts.tlsPort !== undefined) this.tlsUrl = `mqtts://127.0.0.1:${listenPorts.tlsPort}`;
    if (listenPorts.wsPort !== undefined) this.wsUrl = `ws://127.0.0.1:${listenPorts.wsPort}`;
    if (listenPorts.wssPort !== undefined) this.wssUrl = `wss://127.0.0.1:${listenPorts.wssPort}`;
    this.ca = certs?.ca;
    this.wrongCa = certs?.wrongCa;
  }

  get port() {
    return this.listenPorts.port;
  }
  get ports() {
    return [this.listenPorts.port, ...(this.listenPorts.extraPorts ?? [])];
  }
  openFileLimit(): number | undefined {
    return this.child?.pid === undefined ? undefined : openFileLimits(this.child.pid)?.soft;
  }
  get tlsPort() {
    return this.listenPorts.tlsPort;
  }
  get wsPort() {
    return this.listenPorts.wsPort;
  }
  get wssPort() {
    return this.listenPorts.wssPort;
  }
  get pid() {
    return this.child?.pid;
  }
  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): string {
    return this.output.join('');
  }

  private append(text: string): void {
    this.onOutput?.(text);
    this.output.push(text);
    this.outputSize += text.length;
    while (this.outputSize > 4_000_000 && this.output.length > 1) {
      this.outputSize -= this.output[0].length;
      this.output.shift();
      this.startIndex = Math.max(0, this.startIndex - 1);
    }
    for (const watcher of [...this.watchers]) watcher();
  }

  private sinceStart(): string {
    return this.output.slice(this.startIndex).join('');
  }

  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.sinceStart().split('\n').find((line) => pattern.test(line));
        if (match === undefined) return false;
        done();
        resolve(match);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`mosquitto did not log ${pattern} within ${timeoutMs} ms. Log:\n${this.sinceStart()}`));
      }, timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
      check();
    });
  }

  /** Starts the process and waits until it logs "running" and accepts TCP on the plain port. */
  async launch(): Promise<void> {
    registerCleanup();
    this.startIndex = this.output.length;
    const [command, args] = launchCommand(this.binary, this.configFile, this.runAs, this.openFiles);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.stdout?.setEncoding('utf8').on('data', (t: string) => this.append(t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => this.append(t));
    let exitInfo = '';
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.append(`[harness] mosquitto ${exitInfo}\n`);
        resolve();
      });
      child.once('error', (error) => {
        live.delete(child);
        exitInfo = `could not start: ${error.message}`;
        this.append(`[harness] ${exitInfo}\n`);
        resolve();
      });
    });
    const ready = this.waitForLog(/mosquitto version \S+ running/, this.timeoutMs);
    const failed = this.exited.then(() => {
      throw new MosquittoStartError(`mosquitto ${exitInfo} during start. Config ${this.configFile}. Log:\n${this.sinceStart()}`);
    });
    try {
      await Promise.race([ready, failed]);
      await Promise.race([waitForTcp(this.host, this.port, this.timeoutMs), failed]);
    } catch (error) {
      ready.catch(() => {});
      failed.catch(() => {});
      await this.kill();
      throw error;
    }
    failed.catch(() => {});
  }

  private async signal(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return this.exited;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const tooLate = await Promise.race([this.exited.then(() => false), late]);
    clearTimeout(timer);
    if (tooLate) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM', 10_000);
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL', 10_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    // The ports were ours a moment ago; another process may grab one in between, so retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (attempt >= 10 || !/Address already in use/.test(this.sinceStart())) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp dirs left by test processes that were killed before they could clean up. */
function removeStaleDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('mqtt-broker-')) continue;
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      if (owner > 0 && !alive(owner)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours to judge (no owner file yet, or another user's dir).
    }
  }
}

async function prepare(options: MosquittoOptions, binary: string, runAs: RunAs | undefined): Promise<Broker> {
  removeStaleDirs();
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-broker-'));
  tempDirs.add(dir);
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const tls = options.tls ? (options.tls === true ? {} : options.tls) : undefined;
  const extra = Math.max(0, (options.listeners ?? 1) - 1);
  const count = 1 + extra + (tls ? 1 : 0) + (options.websockets ? 1 : 0) + (tls && options.websockets ? 1 : 0);
  const free = await freePorts(count);
  const ports: BrokerPorts = { port: options.port ?? free[0] };
  let next = 1;
  if (extra) ports.extraPorts = free.slice(next, (next += extra));
  if (tls) ports.tlsPort = free[next++];
  if (options.websockets) ports.wsPort = free[next++];
  if (tls && options.websockets) ports.wssPort = free[next++];

  const files: BrokerFiles = {};
  let certs: TestCertificates | undefined;
  if (tls) {
    const tlsDir = join(dir, 'tls');
    mkdirSync(tlsDir);
    certs = generateTestCertificates(tlsDir);
    Object.assign(files, { caFile: certs.caFile, certFile: certs.serverCertFile, keyFile: certs.serverKeyFile });
  }
  if (options.auth) {
    files.passwordFile = join(dir, 'passwords');
    writePasswordFile(files.passwordFile, options.auth.users);
    if (options.auth.acl !== undefined) {
      files.aclFile = join(dir, 'acl');
      writeFileSync(files.aclFile, options.auth.acl.endsWith('\n') ? options.auth.acl : options.auth.acl + '\n');
    }
  }
  if (options.persistence) {
    files.persistenceDir = join(dir, 'persistence');
    mkdirSync(files.persistenceDir);
  }
  const config = mosquittoConfig(ports, files, {
    requireClientCert: tls?.requireClientCert,
    maxPacketSize: options.maxPacketSize,
    autosaveInterval: options.autosaveInterval,
    stayRoot: process.getuid?.() === 0 && runAs === undefined,
    logTypes: options.logTypes,
    extraConfig: options.extraConfig,
    maxConnections: options.maxConnections,
    tcpNoDelay: options.tcpNoDelay,
  });
  writeFileSync(join(dir, 'mosquitto.conf'), config);
  if (runAs) chownTree(dir, runAs);
  const openFiles = options.maxConnections === undefined ? undefined : options.maxConnections + BROKER_FILE_MARGIN;
  return new Broker(dir, binary, ports, files, runAs, options.startTimeoutMs ?? 15_000, certs, options.onOutput, openFiles);
}

/** Starts a private broker; retries on other ports when a free port was taken meanwhile. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = ensureMosquitto();
  const runAs = mosquittoUser();
  for (let attempt = 0; ; attempt++) {
    const broker = await prepare(options, binary, runAs);
    try {
      await broker.launch();
      return broker;
    } catch (error) {
      const portClash = /Address already in use/.test(broker.logs());
      if (!portClash || attempt >= 4 || options.port !== undefined) throw error;
    }
  }
}
