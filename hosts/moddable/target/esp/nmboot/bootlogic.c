/*
 * The boot decision of nmboot, in C because it runs before XS: a line-by-line mirror of
 * src/ota/bootloader.ts (chooseBoot) and src/ota/placement.ts (bootCopy), with the record and stamp
 * formats of src/ota/boot-record.ts. It must make the same decisions and the same writes:
 * test/unit/nmboot-native.test.ts compiles it for the host and compares the flash it leaves with what
 * the TypeScript leaves, byte for byte, over the same states and power cuts.
 *
 * Record copy (big-endian): "NMBR", sequence (4), payload length (2), JSON payload, CRC-32 (4).
 * The payload is written as JSON.stringify writes it (keys in this order, no spaces):
 *   {"committed":0|1|"factory","trial":{"slot":0|1,"version":"..","boots":n},
 *    "rolledBack":{"fromVersion":"..","reason":".."},"reject":0|1,"recovered":".."}
 * Texts are printable ASCII without quotes or backslashes (recordText), so no escapes occur.
 * Commit stamp: "NMOK", sequence (4), version length (1), version, CRC-32 (4).
 */
#include "nmboot.h"

#define RECORD_MAX 512u
#define RECORD_HEAD 10u
#define MAX_PAYLOAD (RECORD_MAX - RECORD_HEAD - 4)
#define MAX_REASON 140u		/* what a record keeps of a text */
#define BUILD 255u				/* a text being built, before a record clips it */
#define STAMP_READ 64u
#define NONE (-1)

typedef struct {
	int committed;					/* 0, 1 or NM_FACTORY */
	int trial;						/* slot on trial, or NONE */
	char trial_version[NM_TEXT + 1];
	int boots;
	int rolled;						/* a rollback is recorded */
	char from_version[NM_TEXT + 1];
	char reason[BUILD + 1];
	int reject;						/* slot to invalidate, or NONE */
	int has_recovered;
	char recovered[BUILD + 1];
} state_t;

typedef struct {
	uint32_t seq;					/* of the newest valid record, 0 before any */
	int current;					/* the copy that holds it, or NONE */
} records_t;

typedef struct {
	int valid;
	uint32_t seq;
	char version[NM_TEXT + 1];
} stamp_t;

/* A bounded text being built. */
typedef struct {
	char *out;
	uint32_t length, room;
} text_t;

static uint32_t buffer[RECORD_MAX / 4];			/* a record or stamp being read or written */
static uint32_t copy_buffer[NM_SECTOR / 4];
static state_t read_state;
static char problems[2][32];
static uint32_t erased_to[3];					/* lazy erase, per area: slot 0, slot 1, app */

/* ---- small helpers ------------------------------------------------------------------------- */

static int same_text(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void copy_text(char *out, const char *in, uint32_t room)
{
	while (room-- && *in)
		*out++ = *in++;
	*out = 0;
}

static void put(text_t *t, const char *s)
{
	while (*s && t->length < t->room)
		t->out[t->length++] = *s++;
	t->out[t->length] = 0;
}

static void put_number(text_t *t, uint32_t n)
{
	char digits[11];
	int i = 10;
	digits[10] = 0;
	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	put(t, digits + i);
}

/* recordText(): printable ASCII, quotes become ', backslashes /, clipped to `max` with "...". */
static void record_text(text_t *t, const char *s, uint32_t max)
{
	uint32_t n = 0, start = t->length;
	for (; s[n] && n < max; n++) {
		char c = s[n];
		t->out[t->length++] = (c < 0x20 || c > 0x7e) ? '?' : (c == '"') ? '\'' : (c == '\\') ? '/' : c;
	}
	if (n == max && s[n]) {
		t->length = start + max - 3;
		put(t, "...");
	}
	t->out[t->length] = 0;
}

/* sameVersion(): a version kept in a record or stamp is `version` clipped as records clip it. */
static int same_version(const char *kept, const char *version)
{
	char clipped[NM_TEXT + 1];
	text_t t = { clipped, 0, NM_TEXT };
	record_text(&t, version, NM_TEXT);
	return same_text(kept, clipped);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void set_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static uint32_t crc32_ram(const uint8_t *bytes, uint32_t length)
{
	uint32_t crc = 0xffffffff;
	while (length--) {
		int bit;
		crc ^= *bytes++;
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320 : crc >> 1;
	}
	return ~crc;
}

/* ---- flash areas: a slot's image and stamp, the app area; erased lazily, a sector before its first write ---- */

#define APP_AREA 2

static uint32_t area_start(int area)
{
	return area == APP_AREA ? NM_APP : NM_SLOT(area);
}

/* Erases an area's first sector (and a slot's stamp) now, the rest as it is written. */
static void area_erase(int area)
{
	nm_flash_erase(area_start(area));
	if (area != APP_AREA)
		nm_flash_erase(NM_STAMP(area));
	erased_to[area] = 1;
}

static void area_write(int area, uint32_t offset, const void *bytes, uint32_t length)
{
	uint32_t sector = offset / NM_SECTOR, last = (offset + length - 1) / NM_SECTOR;
	for (; sector <= last; sector++) {
		if (sector >= erased_to[area]) {
			nm_flash_erase(area_start(area) + sector * NM_SECTOR);
			erased_to[area] = sector + 1;
		}
	}
	nm_flash_write(area_start(area) + offset, bytes, length);
}

/* Makes a slot unbootable: its image's first sector and its stamp. */
static void invalidate_slot(int slot)
{
	nm_flash_erase(NM_SLOT(slot));
	nm_flash_erase(NM_STAMP(slot));
}

/* Erases a sector and programs `length` bytes of `buffer` at its start (padded with 0xFF to a word). */
static void write_sector(uint32_t address, uint32_t length)
{
	uint8_t *b = (uint8_t *)buffer;
	while (length & 3)
		b[length++] = 0xff;
	nm_flash_erase(address);
	nm_flash_write(address, buffer, length);
}

static void inspect_slot(int slot, nm_image *image)
{
	nm_inspect(NM_SLOT(slot), NM_SLOT_SIZE, image);
}

/* ---- stamps ----------------------------------------------------------------------------------- */

static void decode_stamp(int slot, stamp_t *stamp)
{
	uint8_t *b = (uint8_t *)buffer;
	uint32_t n;
	stamp->valid = 0;
	if (nm_flash_read(NM_STAMP(slot), buffer, STAMP_READ) || b[0] != 'N' || b[1] != 'M' || b[2] != 'O' || b[3] != 'K')
		return;
	n = b[8];
	if (9 + n + 4 > STAMP_READ || be32(b + 9 + n) != crc32_ram(b, 9 + n))
		return;
	stamp->seq = be32(b + 4);
	copy_text(stamp->version, (const char *)b + 9, n < NM_TEXT ? n : NM_TEXT);
	stamp->version[n < NM_TEXT ? n : NM_TEXT] = 0;
	stamp->valid = 1;
}

/* stampOf(): the stamp, when it is intact and names the image the slot holds. */
static void stamp_of(int slot, const nm_image *image, stamp_t *stamp)
{
	stamp->valid = 0;
	if (image->problem)
		return;
	decode_stamp(slot, stamp);
	if (stamp->valid && !same_version(stamp->version, image->version))
		stamp->valid = 0;
}

static uint32_t stamp_seq(int slot)
{
	stamp_t stamp;
	decode_stamp(slot, &stamp);
	return stamp.valid ? stamp.seq : 0;
}

static void write_stamp(int slot, uint32_t seq, const char *version)
{
	uint8_t *b = (uint8_t *)buffer;
	text_t t = { (char *)b + 9, 0, NM_TEXT };
	record_text(&t, version, NM_TEXT);
	b[0] = 'N', b[1] = 'M', b[2] = 'O', b[3] = 'K';
	set_be32(b + 4, seq);
	b[8] = (uint8_t)t.length;
	set_be32(b + 9 + t.length, crc32_ram(b, 9 + t.length));
	write_sector(NM_STAMP(slot), 9 + t.length + 4);
}

/* ---- records ---------------------------------------------------------------------------------- */

/* A tiny reader for the payload the encoder writes: objects, strings without escapes, whole numbers. */
typedef struct {
	const char *p, *end;
} json_t;

static int json_char(json_t *j, char c)
{
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 1;
	}
	return 0;
}

static int json_string(json_t *j, char *out, uint32_t room)
{
	uint32_t n = 0;
	if (!json_char(j, '"'))
		return 0;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\' || n >= room)
			return 0;
		out[n++] = *j->p++;
	}
	out[n] = 0;
	return json_char(j, '"');
}

static int json_number(json_t *j, int *value)
{
	int n = 0, digits = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9' && digits < 9)
		n = n * 10 + (*j->p++ - '0'), digits++;
	*value = n;
	return digits > 0 && (j->p >= j->end || (*j->p != '.' && *j->p != 'e' && *j->p != 'E' && !(*j->p >= '0' && *j->p <= '9')));
}

static int is_slot(int v)
{
	return v == 0 || v == 1;
}

/* toState(): the payload as a boot state; 0 when it is not one. */
static int parse_state(json_t *j, state_t *s)
{
	char key[16];
	int have_committed = 0, n;
	s->trial = s->reject = NONE;
	s->rolled = s->has_recovered = 0;
	if (!json_char(j, '{'))
		return 0;
	if (json_char(j, '}'))
		return 0;
	do {
		if (!json_string(j, key, sizeof(key) - 1) || !json_char(j, ':'))
			return 0;
		if (same_text(key, "committed")) {
			char text[8];
			if (j->p < j->end && *j->p == '"') {
				if (!json_string(j, text, 7) || !same_text(text, "factory"))
					return 0;
				s->committed = NM_FACTORY;
			}
			else if (!json_number(j, &s->committed) || !is_slot(s->committed))
				return 0;
			have_committed = 1;
		}
		else if (same_text(key, "trial")) {
			int fields = 0;
			if (!json_char(j, '{'))
				return 0;
			do {
				if (!json_string(j, key, sizeof(key) - 1) || !json_char(j, ':'))
					return 0;
				if (same_text(key, "slot") && json_number(j, &s->trial) && is_slot(s->trial))
					fields |= 1;
				else if (same_text(key, "version") && json_string(j, s->trial_version, NM_TEXT) && s->trial_version[0])
					fields |= 2;
				else if (same_text(key, "boots") && json_number(j, &s->boots) && s->boots <= 255)
					fields |= 4;
				else
					return 0;
			} while (json_char(j, ','));
			if (!json_char(j, '}') || fields != 7)
				return 0;
		}
		else if (same_text(key, "rolledBack")) {
			int fields = 0;
			if (!json_char(j, '{'))
				return 0;
			do {
				if (!json_string(j, key, sizeof(key) - 1) || !json_char(j, ':'))
					return 0;
				if (same_text(key, "fromVersion") && json_string(j, s->from_version, NM_TEXT))
					fields |= 1;
				else if (same_text(key, "reason") && json_string(j, s->reason, MAX_REASON))
					fields |= 2;
				else
					return 0;
			} while (json_char(j, ','));
			if (!json_char(j, '}') || fields != 3)
				return 0;
			s->rolled = 1;
		}
		else if (same_text(key, "reject")) {
			if (!json_number(j, &n) || !is_slot(n))
				return 0;
			s->reject = n;
		}
		else if (same_text(key, "recovered")) {
			if (!json_string(j, s->recovered, MAX_REASON))
				return 0;
			s->has_recovered = 1;
		}
		else
			return 0;
	} while (json_char(j, ','));
	return json_char(j, '}') && j->p == j->end && have_committed;
}

/* decodeRecord(): NULL and the state, or what is wrong with the copy. */
static const char *decode_record(int copy, state_t *s, uint32_t *seq)
{
	uint8_t *b = (uint8_t *)buffer;
	uint32_t i, length;
	json_t j;
	if (nm_flash_read(NM_RECORD(copy), buffer, RECORD_MAX))
		return "unreadable (flash read failed)";
	for (i = 0; i < RECORD_MAX && b[i] == 0xff; i++)
		;
	if (i == RECORD_MAX)
		return "erased";
	if (b[0] != 'N' || b[1] != 'M' || b[2] != 'B' || b[3] != 'R')
		return "no record magic";
	length = (b[8] << 8) | b[9];
	if (length > MAX_PAYLOAD)
		return "truncated";
	if (be32(b + RECORD_HEAD + length) != crc32_ram(b, RECORD_HEAD + length))
		return "checksum mismatch";
	j.p = (const char *)b + RECORD_HEAD;
	j.end = j.p + length;
	if (!parse_state(&j, s))
		return "payload is not a boot record";
	*seq = be32(b + 4);
	return 0;
}

/* BootRecords.read(): the newest valid record into read_state (1) or none (0); `blank` when both are erased. */
static int read_records(records_t *r, int *blank)
{
	static state_t other;
	const char *problem[2];
	uint32_t seq[2] = { 0, 0 };
	int best = NONE, copy;
	problem[0] = decode_record(0, &read_state, &seq[0]);
	problem[1] = decode_record(1, &other, &seq[1]);
	for (copy = 0; copy < 2; copy++)
		if (!problem[copy] && (best == NONE || seq[copy] > seq[best]))
			best = copy;
	if (best == 1)
		read_state = other;
	*blank = problem[0] && problem[1] && same_text(problem[0], "erased") && same_text(problem[1], "erased");
	for (copy = 0; copy < 2; copy++) {
		problems[copy][0] = 0;
		if (problem[copy] && !*blank && !(same_text(problem[copy], "erased") && best != NONE)) {
			text_t t = { problems[copy], 0, sizeof(problems[copy]) - 1 };
			put(&t, copy ? "copy 1: " : "copy 0: ");
			put(&t, problem[copy]);
		}
	}
	r->current = best;
	if (best != NONE)
		r->seq = seq[best];
	return best != NONE;
}

static void raise_seq(records_t *r, uint32_t seq)
{
	if (seq > r->seq)
		r->seq = seq;
}

/* encodeRecord() and BootRecords.write(): into the copy that does not hold the newest record. */
static void write_record(records_t *r, const state_t *s)
{
	uint8_t *b = (uint8_t *)buffer;
	text_t t = { (char *)b + RECORD_HEAD, 0, MAX_PAYLOAD };
	uint32_t seq = r->seq + 1;
	int copy = (r->current == 0) ? 1 : 0;
	put(&t, "{\"committed\":");
	if (s->committed == NM_FACTORY)
		put(&t, "\"factory\"");
	else
		put_number(&t, s->committed);
	if (s->trial != NONE) {
		put(&t, ",\"trial\":{\"slot\":");
		put_number(&t, s->trial);
		put(&t, ",\"version\":\"");
		record_text(&t, s->trial_version, NM_TEXT);
		put(&t, "\",\"boots\":");
		put_number(&t, s->boots > 255 ? 255 : s->boots);
		put(&t, "}");
	}
	if (s->rolled) {
		put(&t, ",\"rolledBack\":{\"fromVersion\":\"");
		record_text(&t, s->from_version, NM_TEXT);
		put(&t, "\",\"reason\":\"");
		record_text(&t, s->reason, MAX_REASON);
		put(&t, "\"}");
	}
	if (s->reject != NONE) {
		put(&t, ",\"reject\":");
		put_number(&t, s->reject);
	}
	if (s->has_recovered) {
		put(&t, ",\"recovered\":\"");
		record_text(&t, s->recovered, MAX_REASON);
		put(&t, "\"");
	}
	put(&t, "}");
	b[0] = 'N', b[1] = 'M', b[2] = 'B', b[3] = 'R';
	set_be32(b + 4, seq);
	b[8] = t.length >> 8, b[9] = t.length;
	set_be32(b + RECORD_HEAD + t.length, crc32_ram(b, RECORD_HEAD + t.length));
	write_sector(NM_RECORD(copy), RECORD_HEAD + t.length + 4);
	r->current = copy;
	r->seq = seq;
}

/* ---- chooseBoot() ---------------------------------------------------------------------------- */

typedef struct {
	int source;				/* slot, or NM_FACTORY */
	int pending;
	const char *failure;
} choice_t;

static nm_image images[2];
static stamp_t stamps[2];
static state_t state;

static void invalidate(int slot)
{
	images[slot].problem = "invalidated";
	stamps[slot].valid = 0;
	invalidate_slot(slot);
	nm_log("slot invalidated");
}

static int newest_stamped(void)
{
	if (stamps[0].valid && stamps[1].valid)
		return stamps[1].seq > stamps[0].seq ? 1 : 0;
	return stamps[0].valid ? 0 : stamps[1].valid ? 1 : NONE;
}

static uint32_t max_stamp_seq(void)
{
	uint32_t a = stamps[0].valid ? stamps[0].seq : 0, b = stamps[1].valid ? stamps[1].seq : 0;
	return a > b ? a : b;
}

/* `factory`: the version of the built-in image in the app area, or NULL when there is none. */
static void choose_boot(int max_boots, const char *factory, choice_t *choice)
{
	records_t records = { 0, NONE };
	uint32_t record_seq;
	int blank, have_state, dirty, slot, newest, chosen = NONE, kind = 0;
	static char recovered[BUILD + 1], why[BUILD + 1];
	const char *lost = 0;
	const char *version = 0;
	enum { STAMPED, FACTORY_PICK, UNSTAMPED };

	have_state = read_records(&records, &blank);
	state = read_state;
	record_seq = records.seq;
	for (slot = 0; slot < 2; slot++) {
		inspect_slot(slot, &images[slot]);
		stamp_of(slot, &images[slot], &stamps[slot]);
	}
	recovered[0] = 0;
	dirty = problems[0][0] || problems[1][0];
	if (have_state) {
		newest = newest_stamped();
		if (newest != NONE && stamps[newest].seq > record_seq && state.committed != newest) {
			/* the record of that commit was lost and an older copy was read */
			state.committed = newest;
			if (state.trial == newest)
				state.trial = NONE;
			dirty = 1;
		}
	}
	else if (!blank || stamps[0].valid || stamps[1].valid) {
		text_t t = { recovered, 0, BUILD };
		put(&t, "boot record unreadable (");
		put(&t, problems[0]);
		if (problems[0][0] && problems[1][0])
			put(&t, "; ");
		put(&t, problems[1]);
		if (!problems[0][0] && !problems[1][0])
			put(&t, "erased");
		put(&t, ")");
	}

	if (have_state && state.reject != NONE) {
		if (state.reject != state.committed)
			invalidate(state.reject);
		state.reject = NONE;
		dirty = 1;
	}

	choice->pending = 0;
	if (have_state && state.trial != NONE) {
		const nm_image *image = &images[state.trial];
		text_t t = { why, 0, BUILD };
		why[0] = 0;
		state.boots++;
		dirty = 1;
		if (state.trial == state.committed) {
			put(&t, "slot ");
			put_number(&t, state.trial);
			put(&t, " is both committed and on trial");
		}
		else if (state.boots > max_boots) {
			put(&t, "crash loop: the image restarted ");
			put_number(&t, max_boots);
			put(&t, " times without passing its health check");
		}
		else if (image->problem) {
			put(&t, "the image in slot ");
			put_number(&t, state.trial);
			put(&t, " is not bootable: ");
			put(&t, image->problem);
		}
		else if (!same_version(state.trial_version, image->version)) {
			put(&t, "slot ");
			put_number(&t, state.trial);
			put(&t, " holds ");
			put(&t, image->version);
			put(&t, ", not ");
			put(&t, state.trial_version);
		}
		if (!why[0]) {
			chosen = state.trial;
			choice->pending = 1;
			nm_log("booting the image on trial");
		}
		else {
			int trial = state.trial;
			state.rolled = 1;
			copy_text(state.from_version, state.trial_version, NM_TEXT);
			copy_text(state.reason, why, BUILD);
			state.trial = NONE;
			nm_log("rolling back");
			if (trial != state.committed)
				invalidate(trial);
		}
	}

	if (chosen == NONE && have_state) {
		int c = state.committed;
		if (c == NM_FACTORY) {
			if (factory)
				chosen = NM_FACTORY;
			else
				lost = "the committed image is a built-in one this host does not have";
		}
		else if (!images[c].problem)
			chosen = c;
		else {
			static char text[BUILD + 1];
			text_t t = { text, 0, BUILD };
			put(&t, "committed slot ");
			put_number(&t, c);
			put(&t, " is not bootable (");
			put(&t, images[c].problem);
			put(&t, ")");
			lost = text;
		}
	}

	if (chosen == NONE) {
		/* fallback(): the last committed image, else the built-in one, else one that checks out */
		static char text[BUILD + 1];
		text_t t = { text, 0, BUILD };
		newest = newest_stamped();
		if (newest != NONE)
			chosen = newest, kind = STAMPED, version = images[newest].version;
		else if (factory)
			chosen = NM_FACTORY, kind = FACTORY_PICK, version = factory;
		else
			for (slot = 1; slot >= 0; slot--)
				if (!images[slot].problem)
					chosen = slot, kind = UNSTAMPED, version = images[slot].version;
		if (chosen == NONE) {
			choice->failure = "no slot holds a bootable image and there is no built-in image";
			return;
		}
		if (recovered[0] || lost) {
			put(&t, recovered[0] ? recovered : lost);
			put(&t, ": booted ");
			if (kind == FACTORY_PICK) {
				put(&t, "the built-in image ");
				put(&t, version);
			}
			else {
				put(&t, version);
				put(&t, " from slot ");
				put_number(&t, chosen);
				if (kind == STAMPED) {
					put(&t, ", the last committed image (stamp ");
					put_number(&t, stamps[chosen].seq);
					put(&t, ")");
				}
				else
					put(&t, ", the only image that checks out (it has no commit stamp)");
			}
			copy_text(recovered, text, BUILD);
			nm_log(recovered);
		}
		if (kind == UNSTAMPED) {
			/* adopt it (an image flashed over USB has no stamp), so a later recovery finds it */
			raise_seq(&records, max_stamp_seq());
			write_stamp(chosen, records.seq + 1, version);
		}
		else {
			/* an image that was never committed is not started without a record that says so */
			for (slot = 0; slot < 2; slot++)
				if (slot != chosen && !images[slot].problem && !stamps[slot].valid)
					invalidate(slot);
		}
		if (!have_state) {
			state.trial = state.reject = NONE;
			state.rolled = state.has_recovered = 0;
		}
		state.committed = chosen;
		state.trial = NONE;
		if (recovered[0]) {
			copy_text(state.recovered, recovered, BUILD);
			state.has_recovered = 1;
		}
		dirty = 1;
	}
	else if (have_state && !choice->pending) {
		/* written but never marked to boot: power was lost between the last byte and the record */
		for (slot = 0; slot < 2; slot++)
			if (slot != state.committed && !images[slot].problem && !stamps[slot].valid)
				invalidate(slot);
	}

	if (dirty) {
		raise_seq(&records, max_stamp_seq());
		write_record(&records, &state);
	}
	choice->source = chosen;
	choice->failure = 0;
}

/* ---- bootCopy() ------------------------------------------------------------------------------ */

static int same_image(const nm_image *a, const nm_image *b)
{
	return !a->problem && !b->problem && same_text(a->version, b->version) && a->size == b->size && a->crc == b->crc;
}

/* Copies `size` bytes from one area to another, sector by sector, the first NM_HELD bytes last. */
static uint32_t copy_area(int from, int to, uint32_t size)
{
	uint32_t at, end, head = size < NM_HELD ? size : NM_HELD;
	area_erase(to);
	for (at = head; at < size; at = end) {
		end = (at / NM_SECTOR + 1) * NM_SECTOR;
		if (end > size)
			end = size;
		nm_flash_read(area_start(from) + at, copy_buffer, end - at);
		area_write(to, at, copy_buffer, end - at);
	}
	nm_flash_read(area_start(from), copy_buffer, head);
	area_write(to, 0, copy_buffer, head);
	return size;
}

/* commitCopy(): stamps a slot holding a copy of the committed built-in image and records it committed. */
static void commit_copy(records_t *r, state_t *s, int slot, const char *version)
{
	uint32_t a = stamp_seq(0), b = stamp_seq(1);
	raise_seq(r, a > b ? a : b);
	write_stamp(slot, r->seq + 1, version);
	s->committed = slot;
	write_record(r, s);
}

void nm_boot(int max_boots, nm_boot_result *result)
{
	static nm_image app, slots[2], check;
	static char app_version[NM_TEXT + 1];
	records_t records = { 0, NONE };
	choice_t choice;
	int blank, have_state, slot, app_slot = NONE, built_in;

	erased_to[0] = erased_to[1] = erased_to[APP_AREA] = 0xffffffff;
	result->source = NONE;
	result->pending = 0;
	result->copied = 0;
	result->failure = 0;
	nm_inspect(NM_APP, NM_APP_SIZE, &app);
	for (slot = 1; slot >= 0; slot--) {
		inspect_slot(slot, &slots[slot]);
		if (same_image(&app, &slots[slot]))
			app_slot = slot;
	}
	built_in = !app.problem && app_slot == NONE;
	copy_text(app_version, app.version, NM_TEXT);

	have_state = read_records(&records, &blank);
	if (have_state && built_in && read_state.committed != NM_FACTORY && !(read_state.trial != NONE && same_version(read_state.trial_version, app.version))) {
		const char *lost = slots[read_state.committed].problem;
		state_t s;
		uint32_t a = stamp_seq(0), b = stamp_seq(1);
		s.committed = NM_FACTORY;
		s.trial = s.reject = NONE;
		s.rolled = s.has_recovered = 0;
		if (lost) {
			/* the copy in the app area outlived its slot */
			text_t t = { s.recovered, 0, BUILD };
			put(&t, "committed slot ");
			put_number(&t, read_state.committed);
			put(&t, " is not bootable (");
			put(&t, lost);
			put(&t, "): kept ");
			put(&t, app.version);
			put(&t, " from the app area");
			s.has_recovered = 1;
			s.rolled = read_state.rolled;
			copy_text(s.from_version, read_state.from_version, NM_TEXT);
			copy_text(s.reason, read_state.reason, BUILD);
		}
		nm_log(lost ? s.recovered : "the app area holds an image flashed over USB: it is the committed one");
		raise_seq(&records, a > b ? a : b);
		write_record(&records, &s);
	}
	else if (have_state && read_state.committed == NM_FACTORY && app_slot != NONE && read_state.trial != app_slot) {
		stamp_t stamp;
		stamp_of(app_slot, &slots[app_slot], &stamp);
		if (!stamp.valid) {
			/* the built-in image was copied into that slot, and power was lost before it was recorded */
			state_t s = read_state;
			commit_copy(&records, &s, app_slot, slots[app_slot].version);
		}
	}

	choose_boot(max_boots, built_in ? app_version : 0, &choice);
	result->pending = choice.pending;
	if (choice.failure) {
		result->failure = choice.failure;
		return;
	}

	records.seq = 0;
	records.current = NONE;
	have_state = read_records(&records, &blank);
	if (built_in && have_state && read_state.committed == NM_FACTORY) {
		/* the only copy of the committed image is the app area's: keep one in a slot */
		int spare;
		state_t s = read_state;
		if (choice.source != NM_FACTORY)
			spare = !choice.source;
		else {
			inspect_slot(0, &slots[0]);
			inspect_slot(1, &slots[1]);
			spare = (!slots[0].problem && slots[1].problem) ? 1 : 0;
		}
		nm_log("copying the built-in image into a slot");
		result->copied += copy_area(APP_AREA, spare, app.size);
		inspect_slot(spare, &check);
		if (!same_image(&app, &check)) {
			result->failure = "the copy of the built-in image into a slot does not check out: the flash is failing";
			return;
		}
		commit_copy(&records, &s, spare, app.version);
		app_slot = spare;
		if (choice.source == NM_FACTORY)
			choice.source = spare;
	}
	result->source = choice.source;
	if (choice.source == NM_FACTORY || choice.source == app_slot)
		return;

	inspect_slot(choice.source, &check);
	if (check.problem) {
		result->failure = "the chosen slot does not check out";
		return;
	}
	nm_log("copying the chosen slot into the app area");
	result->copied += copy_area(choice.source, APP_AREA, check.size);
	nm_inspect(NM_APP, NM_APP_SIZE, &app);
	if (!same_image(&app, &check))
		result->failure = "the copy into the app area does not check out: the flash is failing";
}
