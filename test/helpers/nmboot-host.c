/*
 * Runs nmboot's boot logic (hosts/moddable/target/esp/nmboot/bootlogic.c, image.c, built with
 * -DNM_TEST_LAYOUT) over a flash image in a file, for test/unit/nmboot-native.test.ts:
 *   nmboot-host <flash file> <max boots> [cut]
 * `cut`: the power is lost once this many bytes have been programmed (erases before it happen; no
 * later flash operation does). Unaligned flash access aborts, as the ESP8266's ROM calls would fail.
 * Prints {"source":..,"pending":..,"copied":..,"failure":..} and writes the flash back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nmboot.h"

static uint8_t *flash;
static long flash_size;
static long long cut = -1, programmed;
static int dead;

static void check(uint32_t address, uint32_t length, const char *what)
{
	if ((address & 3) || (length & 3) || (long)(address + length) > flash_size) {
		fprintf(stderr, "nmboot-host: %s at 0x%x of %u bytes is unaligned or past the flash\n", what, address, length);
		exit(3);
	}
}

int nm_flash_read(uint32_t address, void *buffer, uint32_t length)
{
	check(address, length, "read");
	memcpy(buffer, flash + address, length);
	return 0;
}

int nm_flash_write(uint32_t address, const void *buffer, uint32_t length)
{
	uint32_t i, n = length;
	check(address, length, "write");
	if (((uintptr_t)buffer) & 3) {
		fprintf(stderr, "nmboot-host: write from an unaligned buffer\n");
		exit(3);
	}
	if (dead)
		return 0;
	if (cut >= 0 && programmed + n > cut)
		n = (uint32_t)(cut - programmed);
	for (i = 0; i < n; i++)
		flash[address + i] &= ((const uint8_t *)buffer)[i];	/* NOR flash: programming clears bits */
	programmed += n;
	if (cut >= 0 && programmed >= cut)
		dead = 1;
	return 0;
}

int nm_flash_erase(uint32_t address)
{
	check(address, NM_SECTOR, "erase");
	if (address & (NM_SECTOR - 1)) {
		fprintf(stderr, "nmboot-host: erase of 0x%x is not a sector\n", address);
		exit(3);
	}
	if (!dead)
		memset(flash + address, 0xff, NM_SECTOR);
	return 0;
}

void nm_log(const char *text)
{
	fprintf(stderr, "nmboot: %s\n", text);
}

int main(int argc, char **argv)
{
	FILE *f;
	nm_boot_result r;
	if (argc < 3) {
		fprintf(stderr, "usage: nmboot-host <flash file> <max boots> [cut]\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (flash_size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
		return 2;
	flash = malloc(flash_size);
	if (!flash || fread(flash, 1, flash_size, f) != (size_t)flash_size)
		return 2;
	fclose(f);
	if (argc > 3)
		cut = atoll(argv[3]);
	dead = cut == 0;
	nm_boot(atoi(argv[2]), &r);
	f = fopen(argv[1], "wb");
	if (!f || fwrite(flash, 1, flash_size, f) != (size_t)flash_size || fclose(f))
		return 2;
	printf("{\"source\":%d,\"pending\":%d,\"copied\":%u,\"programmed\":%lld,\"failure\":", r.source, r.pending, r.copied, programmed);
	if (r.failure)
		printf("\"%s\"}\n", r.failure);
	else
		printf("null}\n");
	return 0;
}
