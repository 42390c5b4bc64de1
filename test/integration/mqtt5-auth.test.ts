// MQTT 5 enhanced authentication (AUTH packets) against a real mosquitto 2.0. mosquitto does extended
// authentication only through plugins, so this test builds one: a small C plugin (below, compiled
// with gcc against OpenSSL's libcrypto) that runs a SCRAM-SHA-256 exchange (RFC 5802/7677 messages;
// no channel binding, no SASLprep) for one configured user. The client side is the EnhancedAuth API
// of src/mqtt/v5 with SCRAM written here on the firmware's own HMAC-SHA256 and SHA-256 (src/crypto).
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64Decode, base64Encode } from '../../src/text/base64';
import { hmacSha256, sha256 } from '../../src/crypto/sha256';
import { MqttClientError, MqttConnectError } from '../../src/mqtt/errors';
import type { EnhancedAuth } from '../../src/mqtt/v5/auth';
import { mqtt5, type Mqtt5Protocol } from '../../src/mqtt/v5/protocol';
import { findTool } from '../../scripts/broker/mosquitto-install';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { connected, published, subscribed, testClient, until, type TestClient } from '../helpers/mqtt';

const PLUGIN_C = String.raw`
/* SCRAM-SHA-256 extended authentication for mosquitto 2.0 (plugin interface version 5). Test-only:
   one user from plugin_opt_user/password/salt/iterations, at most 16 exchanges at a time. */
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* From mosquitto 2.0's mosquitto_broker.h and mosquitto_plugin.h. */
struct mosquitto;
typedef struct mosquitto_plugin_id_t mosquitto_plugin_id_t;
struct mosquitto_opt { char *key; char *value; };
struct mosquitto_evt_extended_auth {
  void *future;
  struct mosquitto *client;
  const void *data_in;
  void *data_out;
  uint16_t data_in_len;
  uint16_t data_out_len;
  const char *auth_method;
  void *future2[3];
};
typedef int (*MOSQ_FUNC_generic_callback)(int, void *, void *);
int mosquitto_callback_register(mosquitto_plugin_id_t *, int, MOSQ_FUNC_generic_callback, const void *, void *);
int mosquitto_callback_unregister(mosquitto_plugin_id_t *, int, MOSQ_FUNC_generic_callback, const void *);
enum { EVT_EXT_AUTH_START = 4, EVT_EXT_AUTH_CONTINUE = 5 };
enum { ERR_AUTH_CONTINUE = -4, ERR_SUCCESS = 0, ERR_AUTH = 11, ERR_PLUGIN_DEFER = 17 };

static mosquitto_plugin_id_t *plugin_id;
static char user[64], password[64];
static unsigned char salt[64];
static int salt_len, iterations;
static struct { struct mosquitto *client; char bare[256]; char first[256]; } exchanges[16];

static int find(struct mosquitto *client, bool make) {
  int free_slot = -1;
  for (int i = 0; i < 16; i++) {
    if (exchanges[i].client == client) return i;
    if (!exchanges[i].client && free_slot < 0) free_slot = i;
  }
  if (make && free_slot >= 0) { exchanges[free_slot].client = client; return free_slot; }
  return -1;
}

static int reply(struct mosquitto_evt_extended_auth *ed, const char *text) {
  size_t n = strlen(text);
  ed->data_out = malloc(n);
  memcpy(ed->data_out, text, n);
  ed->data_out_len = (uint16_t)n;
  return 0;
}

static void b64(const unsigned char *in, int n, char *out) { EVP_EncodeBlock((unsigned char *)out, in, n); }

static void hmac(const unsigned char *key, int key_len, const void *msg, size_t n, unsigned char out[32]) {
  unsigned int len = 32;
  HMAC(EVP_sha256(), key, key_len, msg, n, out, &len);
}

static int on_start(int event, void *data, void *userdata) {
  struct mosquitto_evt_extended_auth *ed = data;
  char in[256], name[64], nonce[128], snonce_b64[32], salt_b64[96];
  unsigned char snonce[12];
  (void)event; (void)userdata;
  if (!ed->auth_method || strcmp(ed->auth_method, "SCRAM-SHA-256")) return ERR_PLUGIN_DEFER;
  if (!ed->data_in || ed->data_in_len >= sizeof(in)) return ERR_AUTH;
  memcpy(in, ed->data_in, ed->data_in_len);
  in[ed->data_in_len] = 0;
  /* client-first-message: "n,,n=<user>,r=<nonce>" */
  if (sscanf(in, "n,,n=%63[^,],r=%127s", name, nonce) != 2 || strcmp(name, user)) return ERR_AUTH;
  int slot = find(ed->client, true);
  if (slot < 0) return ERR_AUTH;
  RAND_bytes(snonce, sizeof(snonce));
  b64(snonce, sizeof(snonce), snonce_b64);
  b64(salt, salt_len, salt_b64);
  snprintf(exchanges[slot].bare, sizeof(exchanges[slot].bare), "%s", in + 3);
  snprintf(exchanges[slot].first, sizeof(exchanges[slot].first), "r=%s%s,s=%s,i=%d", nonce, snonce_b64, salt_b64, iterations);
  reply(ed, exchanges[slot].first);
  return ERR_AUTH_CONTINUE;
}

static int on_continue(int event, void *data, void *userdata) {
  struct mosquitto_evt_extended_auth *ed = data;
  char in[512], message[1024], server_b64[64], out[80];
  unsigned char salted[32], client_key[32], stored_key[32], server_key[32], client_sig[32], server_sig[32], proof[48], check[32];
  (void)event; (void)userdata;
  /* mosquitto 2.0.11 leaves auth_method NULL here (src/security.c): the exchange table tells */
  if (ed->auth_method && strcmp(ed->auth_method, "SCRAM-SHA-256")) return ERR_PLUGIN_DEFER;
  int slot = find(ed->client, false);
  if (slot < 0 || !ed->data_in || ed->data_in_len >= sizeof(in)) return ERR_AUTH;
  memcpy(in, ed->data_in, ed->data_in_len);
  in[ed->data_in_len] = 0;
  /* client-final-message: "c=biws,r=<nonce>,p=<proof>" with the nonce of server-first-message */
  char *p = strstr(in, ",p=");
  const char *first_nonce = exchanges[slot].first + 2;
  size_t nonce_len = strcspn(first_nonce, ",");
  int ok = p && !strncmp(in, "c=biws,r=", 9) && (size_t)(p - in - 9) == nonce_len && !strncmp(in + 9, first_nonce, nonce_len);
  if (ok) {
    *p = 0;
    snprintf(message, sizeof(message), "%s,%s,%s", exchanges[slot].bare, exchanges[slot].first, in);
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iterations, EVP_sha256(), 32, salted);
    hmac(salted, 32, "Client Key", 10, client_key);
    SHA256(client_key, 32, stored_key);
    hmac(stored_key, 32, message, strlen(message), client_sig);
    ok = strlen(p + 3) == 44 && EVP_DecodeBlock(proof, (unsigned char *)p + 3, 44) >= 32;
    for (int i = 0; ok && i < 32; i++) proof[i] ^= client_sig[i];
    if (ok) SHA256(proof, 32, check);
    ok = ok && !memcmp(check, stored_key, 32);
  }
  if (ok) {
    hmac(salted, 32, "Server Key", 10, server_key);
    hmac(server_key, 32, message, strlen(message), server_sig);
    b64(server_sig, 32, server_b64);
    snprintf(out, sizeof(out), "v=%s", server_b64);
    reply(ed, out);
  }
  exchanges[slot].client = NULL;
  return ok ? ERR_SUCCESS : ERR_AUTH;
}

int mosquitto_plugin_version(int count, const int *versions) { (void)count; (void)versions; return 5; }

int mosquitto_plugin_init(mosquitto_plugin_id_t *id, void **userdata, struct mosquitto_opt *options, int count) {
  (void)userdata;
  plugin_id = id;
  for (int i = 0; i < count; i++) {
    if (!strcmp(options[i].key, "user")) snprintf(user, sizeof(user), "%s", options[i].value);
    else if (!strcmp(options[i].key, "password")) snprintf(password, sizeof(password), "%s", options[i].value);
    else if (!strcmp(options[i].key, "iterations")) iterations = atoi(options[i].value);
    else if (!strcmp(options[i].key, "salt")) {
      /* EVP_DecodeBlock counts the padding as zero bytes */
      size_t n = strlen(options[i].value);
      salt_len = n < 96 ? EVP_DecodeBlock(salt, (unsigned char *)options[i].value, (int)n) : 0;
      while (salt_len > 0 && n > 0 && options[i].value[--n] == '=') salt_len--;
    }
  }
  mosquitto_callback_register(id, EVT_EXT_AUTH_START, on_start, NULL, NULL);
  mosquitto_callback_register(id, EVT_EXT_AUTH_CONTINUE, on_continue, NULL, NULL);
  return 0;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int count) {
  (void)userdata; (void)options; (void)count;
  mosquitto_callback_unregister(plugin_id, EVT_EXT_AUTH_START, on_start, NULL);
  mosquitto_callback_unregister(plugin_id, EVT_EXT_AUTH_CONTINUE, on_continue, NULL);
  return 0;
}
`;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array(0));

/** PBKDF2-HMAC-SHA256, one 32-byte block (RFC 8018 section 5.2), on the firmware's HMAC. */
function pbkdf2(password: string, salt: Uint8Array, iterations: number): Uint8Array {
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  first[salt.length + 3] = 1;
  let u = hmacSha256(utf8(password), first);
  const t = u.slice();
  for (let i = 1; i < iterations; i++) {
    u = hmacSha256(utf8(password), u);
    for (let j = 0; j < 32; j++) t[j] ^= u[j];
  }
  return t;
}

/** The client half of SCRAM-SHA-256 as an EnhancedAuth; `log` records each step. */
function scram(user: string, password: string, log: string[] = []): EnhancedAuth {
  let bare = '';
  let nonce = '';
  let expected = '';
  return {
    method: 'SCRAM-SHA-256',
    start(again) {
      nonce = base64Encode(randomBytes(18));
      bare = `n=${user},r=${nonce}`;
      log.push(again ? 'reauthenticate' : 'start');
      return utf8(`n,,${bare}`);
    },
    challenge(data) {
      const first = text(data);
      const fields = Object.fromEntries(first.split(',').map((kv) => [kv[0], kv.slice(2)]));
      if (!fields.r?.startsWith(nonce) || !fields.s || !fields.i) throw new Error(`bad server-first-message "${first}"`);
      const salted = pbkdf2(password, base64Decode(fields.s), Number(fields.i));
      const clientKey = hmacSha256(salted, 'Client Key');
      const withoutProof = `c=biws,r=${fields.r}`;
      const message = `${bare},${first},${withoutProof}`;
      const signature = hmacSha256(sha256(clientKey), message);
      const proof = clientKey.map((b, i) => b ^ signature[i]);
      expected = `v=${base64Encode(hmacSha256(hmacSha256(salted, 'Server Key'), message))}`;
      log.push('challenge');
      return utf8(`${withoutProof},p=${base64Encode(proof)}`);
    },
    done(data) {
      if (text(data) !== expected) throw new Error(`server signature "${text(data)}" is not "${expected}"`);
      log.push('verified');
    },
  };
}

const SALT = base64Encode(Uint8Array.from({ length: 16 }, (_, i) => i * 11));
let broker: MosquittoBroker;
const clients: TestClient[] = [];
let n = 0;

function client(auth: EnhancedAuth, options: Partial<Parameters<typeof testClient>[0]> = {}): { t: TestClient; v5: Mqtt5Protocol } {
  const v5 = mqtt5({ auth });
  const t = testClient({ host: broker.host, port: broker.port, clientId: `scram-${process.pid}-${n++}`, protocol: v5, ...options });
  clients.push(t);
  return { t, v5 };
}

beforeAll(async () => {
  const gcc = findTool('gcc') ?? findTool('cc');
  if (!gcc) throw new Error('gcc is needed to build the SCRAM test plugin for mosquitto: apt-get install gcc libssl-dev');
  const dir = mkdtempSync(join(tmpdir(), 'scram-plugin-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'scram.c'), PLUGIN_C);
  const so = join(dir, 'scram.so');
  execFileSync(gcc, ['-shared', '-fPIC', '-O1', '-Wall', '-o', so, join(dir, 'scram.c'), '-lcrypto'], { stdio: 'pipe' });
  chmodSync(so, 0o755);
  broker = await startMosquitto({
    logTypes: ['all'],
    extraConfig: [`plugin ${so}`, 'plugin_opt_user device-7', 'plugin_opt_password correct horse', `plugin_opt_salt ${SALT}`, 'plugin_opt_iterations 4096'].join('\n'),
  });
});

afterAll(async () => {
  for (const c of clients) c.client.destroy();
  await broker?.stop();
});

describe('MQTT 5 enhanced authentication against mosquitto with a SCRAM-SHA-256 plugin', () => {
  it('our PBKDF2 on the firmware HMAC matches node:crypto', () => {
    expect(Buffer.from(pbkdf2('correct horse', base64Decode(SALT), 4096))).toEqual(pbkdf2Sync('correct horse', Buffer.from(SALT, 'base64'), 4096, 32, 'sha256'));
  });

  it('connects through CONNECT, AUTH, AUTH, CONNACK; the server signature is checked; messages flow', async () => {
    const log: string[] = [];
    const { t } = client(scram('device-7', 'correct horse', log));
    await connected(t);
    expect(log).toEqual(['start', 'challenge', 'verified']);
    expect(broker.logs()).toMatch(/Received AUTH from \S+ \(rc24, SCRAM-SHA-256\)/);
    await subscribed(t, 'scram/+', 1);
    await published(t, 'scram/x', 'authenticated', 1);
    await until(() => t.received.length === 1, 'the message');
  });

  it('re-authenticates on the live connection (AUTH 0x19, 0x18, 0x18, then AUTH Success)', async () => {
    const log: string[] = [];
    const { t, v5 } = client(scram('device-7', 'correct horse', log));
    await connected(t);
    v5.reauthenticate();
    await until(() => log.length === 6, 'the re-authentication');
    expect(log).toEqual(['start', 'challenge', 'verified', 'reauthenticate', 'challenge', 'verified']);
    expect(t.client.connected).toBe(true);
    expect(t.errors).toEqual([]);
    await published(t, 'scram/after', 'still here', 1);
  });

  it('a wrong password is refused with 0x87 Not authorized', async () => {
    const { t } = client(scram('device-7', 'wrong horse'), { reconnect: false });
    t.client.connect();
    await until(() => t.errors.length > 0, 'the refusal');
    const e = t.errors[0] as MqttConnectError;
    expect(e).toBeInstanceOf(MqttConnectError);
    expect([e.reasonCode, e.reasonName]).toEqual([0x87, 'Not authorized']);
    expect(t.connects).toEqual([]);
  });

  it('a final server message that does not prove the password fails the client check', async () => {
    // the client expects a signature computed from what it sent; a tampered final message fails it
    const auth = scram('device-7', 'correct horse');
    const tampered: EnhancedAuth = { ...auth, done: (data, p) => auth.done!(data && Uint8Array.from(data, (b, i) => (i === 3 ? b ^ 1 : b)), p) };
    const { t } = client(tampered, { reconnect: false });
    t.client.connect();
    await until(() => t.errors.length > 0, 'the refusal');
    expect((t.errors[0] as MqttClientError).code).toBe('auth-failed');
    expect(t.errors[0].message).toMatch(/server signature/);
    expect(t.client.connected).toBe(false);
  });

  it('an authentication method the broker does not know is refused with 0x8C Bad authentication method', async () => {
    const { t } = client({ method: 'KERBEROS-9', challenge: () => undefined }, { reconnect: false });
    t.client.connect();
    await until(() => t.errors.length > 0, 'the refusal');
    expect([(t.errors[0] as MqttConnectError).reasonCode, (t.errors[0] as MqttConnectError).reasonName]).toEqual([0x8c, 'Bad authentication method']);
    expect(t.errors[0].message).toMatch(/does not support this authentication method/);
  });
});
