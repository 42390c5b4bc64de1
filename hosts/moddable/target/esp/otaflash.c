/*
 * Native side of hosts/moddable/target/esp/otaflash.js: the image check nmboot runs (shared source,
 * nmboot/image.c, over the SDK's spi_flash_read), and the checks that OTA can work on this board:
 * nmboot's two stages where they belong (stage 1 at 0x0 runs from 0x4010FC00, stage 2 at NM_STAGE2
 * from 0x40108000; Espressif's boot_v1.7 would ignore every slot), the storage partition where
 * nmboot.h expects it, and an app image with its trailer (npm run flash writes one; a plain mcconfig
 * flash does not, and nmboot would have nothing to fall back to).
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			/* xsID_ values */
#include "spi_flash.h"
#include "nmboot/nmboot.h"

extern uint8_t _SPIFFS_start;

int nm_flash_read(uint32_t address, void *buffer, uint32_t length)
{
	return SPI_FLASH_RESULT_OK != spi_flash_read(address, (uint32_t *)buffer, length);
}

void xs_otaflash_inspect(xsMachine *the)
{
	nm_image image;
	uint32_t address = xsmcToInteger(xsArg(0));

	if ((address != NM_APP) && (address != NM_SLOT0) && (address != NM_SLOT1))
		xsRangeError("not an image area");
	nm_inspect(address, NM_SLOT_SIZE, &image);
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	if (image.problem) {
		xsmcSetString(xsVar(0), (char *)image.problem);
		xsmcSet(xsResult, xsID_problem, xsVar(0));
		return;
	}
	xsmcSetString(xsVar(0), image.version);
	xsmcSet(xsResult, xsID_version, xsVar(0));
	xsmcSetInteger(xsVar(0), image.size);
	xsmcSet(xsResult, xsID_size, xsVar(0));
}

/* Reads the header of the 0xE9 image at `address`: its entry point and its first segment's load
   address (both 0 when there is no such image). */
static void image_head(uint32_t address, uint32_t *entry, uint32_t *first)
{
	uint32_t head[4];
	*entry = *first = 0;
	if (SPI_FLASH_RESULT_OK != spi_flash_read(address, head, sizeof(head)) || (head[0] & 0xff) != 0xe9)
		return;
	*entry = head[1];
	*first = head[2];
}

/* Stage 1 is one segment at 0x4010FC00 (stage1.ld: code only; boot_v1.7.bin loads at 0x40100000); stage 2
   starts in the IRAM from 0x40108000 to stage 1 (stage2.ld), whatever the order of its segments. */
static int is_stage1(uint32_t address)
{
	uint32_t entry, first;
	image_head(address, &entry, &first);
	return first == 0x4010fc00 && entry >= 0x4010fc00 && entry < 0x40110000;
}

static int is_stage2(uint32_t address)
{
	uint32_t entry, first;
	image_head(address, &entry, &first);
	return entry >= 0x40108000 && entry < 0x4010fc00;
}

void xs_otaflash_ready(xsMachine *the)
{
	nm_image app;

	if ((uintptr_t)&_SPIFFS_start - 0x40200000 != NM_RECORD0)
		xsmcSetString(xsResult, "the flash layout is not eagle.flash.4m.ld's (the storage partition moved)");
	else if (!is_stage1(0))
		xsmcSetString(xsResult, "the bootloader at 0x0 is not nmboot (Espressif's boot_v1.7 cannot switch images)");
	else if (!is_stage2(NM_STAGE2))
		xsmcSetString(xsResult, "nmboot's second stage is missing");
	else {
		nm_inspect(NM_APP, NM_APP_SIZE, &app);
		if (app.problem)
			xsmcSetString(xsResult, "the running image has no OTA trailer or does not check out");
	}
}
