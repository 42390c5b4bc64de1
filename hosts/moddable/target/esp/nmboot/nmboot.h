/*
 * nmboot: the ESP8266's second-stage bootloader (flashed at 0x0 instead of Espressif's boot_v1.7.bin)
 * and what the firmware shares with it. It mirrors src/ota/bootloader.ts (chooseBoot) and
 * src/ota/placement.ts (bootCopy): the same states, the same record and stamp formats, the same
 * writes, so the simulator tests the logic this runs. See docs/ota.md, "OTA on the ESP8266".
 *
 * Flash layout of a 4 MB NodeMCU (Moddable's eagle.flash.4m.ld; see docs/flash.md):
 *   0x000000  4 KB    nmboot
 *   0x001000  1020 KB app area: main.bin + trailer, linked at irom 0x40201010 (the only memory-mapped MB)
 *   0x100000  8 KB    Moddable's preferences (_MODPREF_start): never touched by OTA
 *   0x102000  4 KB    boot record, copy 0
 *   0x103000  4 KB    boot record, copy 1
 *   0x104000  8 KB    download checkpoints (the firmware's; the bootloader never reads them)
 *   0x106000  40 KB   nmboot stage 2 (the boot logic; stage 1 at 0x0 loads it)
 *   0x110000  1020 KB slot 0 (an image as big as the app area), then its commit stamp sector
 *   0x210000  1020 KB slot 1, then its commit stamp sector
 *   0x310000  940 KB  free, up to 0x3FB000: the linker script's "eeprom" sector, the SDK's init data (0x3FC000)
 *                     and system parameters
 */
#ifndef NMBOOT_H
#define NMBOOT_H

#include <stdint.h>

#define NM_SECTOR 0x1000u

#ifndef NM_TEST_LAYOUT
	#define NM_APP 0x001000u
	#define NM_APP_SIZE 0x0FF000u
	#define NM_RECORD0 0x102000u
	#define NM_RECORD1 0x103000u
	#define NM_SLOT0 0x110000u
	#define NM_SLOT1 0x210000u
	#define NM_STAGE2 0x106000u
#else
	/* a small flash for host tests of the same logic: 64 KB images */
	#define NM_APP 0x001000u
	#define NM_APP_SIZE 0x010000u
	#define NM_RECORD0 0x012000u
	#define NM_RECORD1 0x013000u
	#define NM_SLOT0 0x020000u
	#define NM_SLOT1 0x040000u
#endif
#define NM_SLOT_SIZE NM_APP_SIZE
#define NM_SLOT(slot) ((slot) ? NM_SLOT1 : NM_SLOT0)
#define NM_STAMP(slot) (NM_SLOT(slot) + NM_SLOT_SIZE)
#define NM_RECORD(copy) ((copy) ? NM_RECORD1 : NM_RECORD0)

/* Bytes at the start of an image that a copy programs last: until then the copy cannot check out. */
#define NM_HELD 16u
/* The image trailer after main.bin: "NMFW", format, version and board lengths, main.bin's length,
   version[32], board[32], CRC-32 (IEEE) of main.bin and the trailer before it. */
#define NM_TRAILER 80u
#define NM_TEXT 32u
#define NM_BOARD "esp8266"

/* An image as the bootloader checks it. */
typedef struct {
	const char *problem;	/* NULL when it checks out */
	uint32_t size;			/* bytes, main.bin and trailer */
	uint32_t crc;			/* its CRC-32, which identifies it */
	char version[NM_TEXT + 1];
	char board[NM_TEXT + 1];
} nm_image;

/* The flash, as the host provides it (ROM SPI calls on the chip, a file in tests). Addresses and
   lengths are multiples of 4. Nonzero on failure. */
int nm_flash_read(uint32_t address, void *buffer, uint32_t length);
int nm_flash_write(uint32_t address, const void *buffer, uint32_t length);
int nm_flash_erase(uint32_t sector_address);
/* A line for the serial log. */
void nm_log(const char *text);

/* Checks the image in an area of `area_size` bytes at `address` (a slot or the app area); `problem`
   says what is wrong. Shared with the firmware's native helper (otaflash.c). */
void nm_inspect(uint32_t address, uint32_t area_size, nm_image *image);
/* CRC-32 (IEEE) of `length` bytes of flash at `address`, continuing from `crc` (0 to start). */
uint32_t nm_crc32_flash(uint32_t address, uint32_t length, uint32_t crc);

/* What to start: NM_FACTORY never remains after a boot (the built-in image is backed up into a slot). */
#define NM_FACTORY 2
typedef struct {
	int source;				/* the slot the app area holds, or NM_FACTORY */
	int pending;			/* on trial */
	uint32_t copied;		/* bytes copied in this boot */
	const char *failure;	/* NULL, or why nothing can run */
} nm_boot_result;

/* The whole boot decision and copy; the app area then holds what must run. */
void nm_boot(int max_boots, nm_boot_result *result);

#endif
