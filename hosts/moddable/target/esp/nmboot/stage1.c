/*
 * nmboot stage 1, what the ROM loads from 0x0 (at most 4 KB: main.bin starts at 0x1000). It only
 * loads stage 2 (the boot logic, too big for 4 KB) from NM_STAGE2 and starts it. If stage 2 is
 * missing or damaged it starts the app area as it is, as Espressif's boot_v1.7 would: without OTA
 * decisions, but never worse than the stock bootloader. Runs from the top 1 KB of IRAM, which
 * neither stage 2 nor the app is loaded into. No data, no bss: only registers and the ROM's stack.
 */
#include "nmboot.h"
#include "loader.h"

#define STAGE1_RAM 0x4010fc00u	/* where this runs (stage1.ld) */

void nm_stage1(void)
{
	uint32_t entry = nm_load(NM_STAGE2, 0, STAGE1_RAM);
	if (!entry)
		entry = nm_load(NM_APP, 1, STAGE1_RAM);
	if (entry)
		nm_start(entry);
	for (;;)
		;	/* nothing loadable: the watchdog resets, and the board waits for a USB flash */
}
