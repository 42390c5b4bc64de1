/*
 * Loading an image from flash into RAM and starting it, with the ROM's SPIRead only: nothing here
 * may touch memory an image is loaded over. Used by stage 1 (to load stage 2, or the app when stage
 * 2 is missing) and by stage 2 (to load the app). The ESP8266 has no second-stage bootloader in ROM:
 * whatever we flash at 0x0 must do this, as Espressif's boot_v1.7.bin and Arduino's eboot do.
 */
#ifndef NM_LOADER_H
#define NM_LOADER_H

#include <stdint.h>

int SPIRead(uint32_t address, void *buffer, uint32_t length);
int SPIWrite(uint32_t address, const void *buffer, uint32_t length);
int SPIEraseSector(uint32_t sector);
int ets_printf(const char *format, ...);
/* The ROM's watchdog calls, as Arduino's eboot declares them: a reset leaves the watchdog off, a soft
   restart leaves it on; disable() turns it off and feeds it. */
uint32_t ets_wdt_disable(void);
void ets_wdt_enable(uint32_t mode, uint32_t arg1, uint32_t arg2);

/*
 * Loads the image at `address` (an 0xE9 image, or with `v2` esptool's version 2 image whose irom
 * segment stays in flash) into RAM below `ram_top` (the loader's own code lies above it) and returns
 * its entry point, or 0 when it is not a loadable image (magic, a segment out of RAM, checksum).
 */
static uint32_t nm_load(uint32_t address, int v2, uint32_t ram_top) __attribute__((unused));
static uint32_t nm_load(uint32_t address, int v2, uint32_t ram_top)
{
	uint32_t head[2], pos = address, count, checksum = 0xef, entry;
	if (v2) {
		uint32_t first[4];
		if (SPIRead(pos, first, 16) || (first[0] & 0xffff) != 0x04ea)
			return 0;
		pos += 16 + first[3];	/* past the irom segment, which the cache maps in place */
	}
	if (SPIRead(pos, head, 8) || (head[0] & 0xff) != 0xe9)
		return 0;
	count = (head[0] >> 8) & 0xff;
	entry = head[1];
	pos += 8;
	while (count--) {
		uint32_t segment[2], i;
		if (SPIRead(pos, segment, 8) || (segment[1] & 3))
			return 0;
		pos += 8;
		/* DRAM, or IRAM below the loader; nothing else is loadable here */
		if (!((segment[0] >= 0x3ffe8000 && segment[0] + segment[1] <= 0x3fffc000) || (segment[0] >= 0x40100000 && segment[0] + segment[1] <= ram_top)))
			return 0;
		if (SPIRead(pos, (void *)segment[0], segment[1]))
			return 0;
		for (i = 0; i < segment[1]; i += 4) {	/* IRAM takes 32-bit reads only */
			uint32_t w = *(volatile uint32_t *)(segment[0] + i);
			checksum ^= w ^ (w >> 8) ^ (w >> 16) ^ (w >> 24);
		}
		pos += segment[1];
	}
	pos = (pos & ~15u) + 12;	/* the checksum is the last byte of the 16-byte line */
	if (SPIRead(pos, head, 4) || ((head[0] >> 24) & 0xff) != (checksum & 0xff))
		return 0;
	return entry;
}

/* Starts a loaded image with the stack where the ROM leaves it for an app. Does not return. */
static void nm_start(uint32_t entry) __attribute__((noreturn, unused));
static void nm_start(uint32_t entry)
{
	register uint32_t sp __asm__("a1") = 0x3ffffff0;
	register uint32_t pc __asm__("a3") = entry;
	__asm__ __volatile__("jx a3" : : "r"(sp), "r"(pc));
	for (;;)
		;
}

#endif
