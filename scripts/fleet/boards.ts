// Mixed fleets: one image per board type in one campaign. `--image esp32=a.bin,esp8266=b.bin` gives
// each board type its own image; an entry without `board=` is the image of every other board.
// Each board's image gets its own signed job (the same campaign id and version, the board named in
// the job, so a device of another type refuses it) and its own image server; a device gets the job
// of the board type its OTA reports name.
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { isBoard } from '../../src/ota/job';
import { FleetError } from './errors';
import { serveImage, type ImageServer } from './image-server';
import { describeImage, signJob, type SignedJob } from './sign';

/** What `--image` names: an image for every board, and images for given board types. */
export interface ImageChoice {
  /** The image of boards without one of their own. */
  any?: string;
  boards: { board: string; path: string }[];
}

/** A board type's image in a campaign, and where it is served. */
export interface BoardImage {
  size: number;
  sha256: string;
  urlPath: string;
  port: number;
  url: string;
  job: SignedJob;
}

/** A board type given on the command line (`--board`). */
export function parseBoard(text: string, flag = '--board'): string {
  if (!isBoard(text)) throw new FleetError('usage', `${flag} "${text}" is not a board type: 1-32 of A-Z a-z 0-9 . _ -, as devices report it (e.g. esp32, esp8266)`);
  return text;
}

/** Parses `--image`: a file, or `board=file` entries separated by commas (at most one without a board). */
export function parseImageChoice(text: string, flag = '--image'): ImageChoice {
  const choice: ImageChoice = { boards: [] };
  for (const entry of text.split(',')) {
    const at = entry.indexOf('=');
    if (at < 0) {
      if (!entry) throw new FleetError('usage', `${flag} has an empty entry; give a file, or board=file entries separated by commas`);
      if (choice.any !== undefined) throw new FleetError('usage', `${flag} names two images for any board ("${choice.any}", "${entry}"); give the others as board=file`);
      choice.any = entry;
      continue;
    }
    const board = entry.slice(0, at);
    const path = entry.slice(at + 1);
    parseBoard(board, `${flag} ${board}=`);
    if (!path) throw new FleetError('usage', `${flag}: no file after "${board}="`);
    if (choice.boards.some((b) => b.board === board)) throw new FleetError('usage', `${flag} names two images for ${board}`);
    choice.boards.push({ board, path });
  }
  return choice;
}

/** Where a campaign keeps a board type's image. */
export function boardImageFile(dir: string, board: string): string {
  return join(dir, `image-${board}.bin`);
}

/** Board images are served on ports after the main one when it is fixed, else on any free port. */
function portFor(base: number, index: number): number {
  return base === 0 ? 0 : base + 1 + index;
}

/** The URL devices are given: the public URL's host with this server's port, or the listening address. */
function baseUrl(http: { host: string; publicUrl?: string }, port: number): string {
  if (http.publicUrl) {
    const u = new URL(http.publicUrl);
    u.port = String(port);
    return u.toString().replace(/\/$/, '');
  }
  return `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${port}`;
}

/** Saves, serves and signs each board type's image of a new campaign. */
export async function startBoardImages(
  dir: string,
  images: { board: string; image: Uint8Array }[],
  o: { id: string; version: string; key: KeyObject; allowDowngrade?: boolean; http: { host: string; port: number; publicUrl?: string; concurrency?: number } },
): Promise<{ boards: Record<string, BoardImage>; servers: ImageServer[] }> {
  const boards: Record<string, BoardImage> = {};
  const servers: ImageServer[] = [];
  try {
    for (const [i, { board, image }] of images.entries()) {
      const file = boardImageFile(dir, board);
      writeFileSync(file, image);
      const urlPath = `/ota/${o.id}/${o.version}-${board}.bin`;
      const server = await serveImage({ file, path: urlPath, host: o.http.host, port: portFor(o.http.port, i), concurrency: o.http.concurrency });
      servers.push(server);
      const url = baseUrl(o.http, server.port) + urlPath;
      const { size, sha256 } = describeImage(image);
      const job = signJob({ id: o.id, version: o.version, url, size, sha256, allowDowngrade: o.allowDowngrade, board }, o.key);
      boards[board] = { size, sha256, urlPath, port: server.port, url, job };
    }
  } catch (error) {
    for (const s of servers) await s.close();
    throw error;
  }
  return { boards, servers };
}

/** Serves the board images of a campaign being resumed, on the ports its jobs name. */
export async function resumeBoardImages(dir: string, boards: Record<string, BoardImage> | undefined, host: string, concurrency?: number): Promise<ImageServer[]> {
  const servers: ImageServer[] = [];
  for (const [board, b] of Object.entries(boards ?? {})) {
    const file = boardImageFile(dir, board);
    readFileSync(file); // a clear error when it is gone
    servers.push(await serveImage({ file, path: b.urlPath, host, port: b.port, concurrency }));
  }
  return servers;
}
