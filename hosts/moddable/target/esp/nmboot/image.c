/*
 * The check of an ESP8266 OTA image, shared by the bootloader (nmboot) and the firmware (otaflash.c):
 * Moddable's main.bin (esptool's "version 2" image: an 0xEA header and the irom segment, then an 0xE9
 * image of the RAM segments, its checksum byte and a CRC) followed by our 80-byte trailer, which
 * names the version and the board type and closes with a CRC-32 of everything before it. The problem
 * texts are those of the simulator's copy of this check (test/helpers/esp8266-flash.ts): the two
 * must agree, since the boot record keeps them.
 */
#include "nmboot.h"

#define CHUNK 256u

/* In the firmware the table stays in flash (read a word at a time, as the flash cache requires);
   nmboot (built with NM_BOOTLOADER) and the host tests keep it in RAM. */
#if defined(__XTENSA__) && !defined(NM_BOOTLOADER)
	#define NM_TABLE __attribute__((section(".irom.text"), aligned(4)))
#else
	#define NM_TABLE
#endif

/* CRC-32 (IEEE 802.3, as zlib), four bits at a time: a 64-byte table instead of 1 KB. */
static const uint32_t crc_nibble[16] NM_TABLE = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

static uint32_t crc32_bytes(uint32_t crc, const uint8_t *bytes, uint32_t length)
{
	crc = ~crc;
	while (length--) {
		crc ^= *bytes++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

uint32_t nm_crc32_flash(uint32_t address, uint32_t length, uint32_t crc)
{
	uint32_t buffer[CHUNK / 4];
	while (length) {
		uint32_t n = (length < CHUNK) ? length : CHUNK;
		if (nm_flash_read(address, buffer, (n + 3) & ~3u))
			return ~crc;	/* an unreadable flash: a CRC that matches nothing */
		crc = crc32_bytes(crc, (const uint8_t *)buffer, n);
		address += n;
		length -= n;
	}
	return crc;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Copies a NUL-padded text field; false unless it is 1..32 printable characters and then padding. */
static int text_field(char *out, const uint8_t *field, uint32_t length)
{
	uint32_t i;
	if (!length || length > NM_TEXT)
		return 0;
	for (i = 0; i < length; i++) {
		if (field[i] < 0x20 || field[i] > 0x7e || field[i] == '"' || field[i] == '\\')
			return 0;
		out[i] = (char)field[i];
	}
	out[length] = 0;
	return 1;
}

static int same_text(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void nm_inspect(uint32_t address, uint32_t area_size, nm_image *image)
{
	uint32_t words[NM_TRAILER / 4];
	uint8_t *b = (uint8_t *)words;
	uint32_t pos, count, length;

	image->problem = "no image magic";
	image->size = 0;
	image->crc = 0;
	image->version[0] = image->board[0] = 0;
	if (nm_flash_read(address, words, 16) || b[0] != 0xea || b[1] != 4)
		return;
	image->problem = "bad image header";
	length = le32(b + 12);	/* the irom segment, mapped in place */
	if ((length & 3) || length > area_size)
		return;
	pos = 16 + length;
	if ((pos + 8 > area_size) || nm_flash_read(address + pos, words, 8) || b[0] != 0xe9 || !b[1] || b[1] > 16)
		return;
	count = b[1];
	pos += 8;
	while (count--) {
		if ((pos + 8 > area_size) || nm_flash_read(address + pos, words, 8))
			return;
		length = le32(b + 4);
		if ((length & 3) || length > area_size - pos - 8)
			return;
		pos += 8 + length;
	}
	pos = (pos & ~15u) + 16 + 4;	/* the checksum byte ends a 16-byte line; esptool's CRC follows */
	if (pos + NM_TRAILER > area_size || nm_flash_read(address + pos, words, NM_TRAILER))
		return;
	if (b[0] != 'N' || b[1] != 'M' || b[2] != 'F' || b[3] != 'W') {
		image->problem = "no image trailer";
		return;
	}
	if (b[4] != 1 || le32(b + 8) != pos || !text_field(image->version, b + 12, b[5]) || !text_field(image->board, b + 44, b[6])) {
		image->problem = "bad image trailer";
		return;
	}
	if (nm_crc32_flash(address, pos + NM_TRAILER - 4, 0) != le32(b + 76)) {
		image->problem = "checksum mismatch";
		return;
	}
	image->size = pos + NM_TRAILER;
	image->crc = le32(b + 76);
	image->problem = same_text(image->board, NM_BOARD) ? 0 : "built for another board type";
}
