// vitest globalSetup: make sure the real broker and openssl are there before any test file starts,
// so a missing tool fails once with an install hint instead of in every suite.
import { ensureOpenssl } from '../helpers/certs';
import { ensureMosquitto } from '../helpers/mosquitto';

export default function setup(): void {
  ensureMosquitto();
  ensureOpenssl();
}
