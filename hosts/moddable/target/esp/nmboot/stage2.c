/*
 * nmboot stage 2, loaded by stage 1 from NM_STAGE2: runs the boot logic (bootlogic.c: which slot
 * boots, rollback, the copy into the app area) over the ROM's flash calls, then loads the app area
 * (esptool's version 2 main.bin) and starts it. When the logic finds nothing it can vouch for, it
 * still starts the app area as it is (and says so on the serial port), like the stock bootloader.
 */
#include "nmboot.h"
#include "loader.h"

/* Boots of an image on trial before it is rolled back (the firmware's otaMaxBoots default). */
#define MAX_BOOTS 3
#define STAGE2_RAM 0x40108000u	/* stage 2's code starts here: the app's IRAM ends below it */

extern uint32_t _bss_start, _bss_end;

int nm_flash_read(uint32_t address, void *buffer, uint32_t length)
{
	return SPIRead(address, buffer, length);
}

int nm_flash_write(uint32_t address, const void *buffer, uint32_t length)
{
	return SPIWrite(address, buffer, length);
}

int nm_flash_erase(uint32_t sector_address)
{
	return SPIEraseSector(sector_address / NM_SECTOR);
}

void nm_log(const char *text)
{
	ets_printf("nmboot: %s\n", text);
}

void nm_stage2(void)
{
	static nm_boot_result result;
	uint32_t *p, entry;
	for (p = &_bss_start; p < &_bss_end; p++)
		*p = 0;
	ets_wdt_disable();	/* a copy of 1 MB takes seconds; the SDK arms the watchdog again in the app */
	nm_boot(MAX_BOOTS, &result);
	if (result.failure)
		nm_log(result.failure);
	ets_wdt_enable(4, 12, 12);	/* about 13 s, as eboot after its copy: a hung start resets the chip */
	entry = nm_load(NM_APP, 1, STAGE2_RAM);
	if (!entry) {
		nm_log("the app area holds no loadable image: flash one over USB");
		for (;;)
			;
	}
	nm_start(entry);
}
