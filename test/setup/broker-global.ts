// vitest globalSetup: make sure the real broker and openssl are there before any test file starts,
// so a missing tool fails once with an install hint instead of in every suite.
import { ensureOpenssl } from '../../scripts/broker/certs';
import { ensureMosquitto } from '../../scripts/broker/mosquitto';

export default function setup(): void {
  ensureMosquitto();
  ensureOpenssl();
}
