// vitest globalSetup: builds the 32-bit, measuring XS worker (scripts/xs32/build.ts) once before any
// test file starts, or finds it built, and hands its path to the test processes in XS32_WORKER. A
// missing gcc-multilib is installed with apt-get when root, or fails here once with what to install.
import { buildXs32 } from '../../scripts/xs32/build';

export default async function setup(): Promise<void> {
  const { binary } = await buildXs32({ log: (line) => console.log(line) });
  process.env.XS32_WORKER = binary;
}
