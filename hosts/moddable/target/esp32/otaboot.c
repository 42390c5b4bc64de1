/*
 * Slot state and rollback for hosts/moddable/target/esp32/otaboot.js.
 *
 * Moddable's `ota` module (build/devices/esp32/modules/ota) writes the other slot and sets it as
 * the boot partition, but never commits an image (esp_ota_mark_app_valid_cancel_rollback) and
 * cannot go back. These functions add that. Rollback first asks ESP-IDF to mark the running image
 * invalid and reboot; that needs an otadata record for the previous slot, which an image flashed
 * over USB does not have, so it falls back to making the previous slot the boot partition
 * (esp_ota_set_boot_partition verifies the image before it writes otadata).
 *
 * Invalidating the spare slot: esp_ota_abort (the ota module's cancel) and esp_ota_end leave every
 * byte written in the partition, and otadata untouched. A whole image there still verifies, and the
 * bootloader selects it when the active otadata copy is damaged (the older copy points at the spare
 * slot) or, with no valid copy, when it tries ota_0, ota_1 in turn. Erasing the sector that holds
 * the image header (magic 0xE9) makes esp_image_verify refuse it.
 */

#include "xsmc.h"
#include "esp_system.h"
#include "esp_partition.h"
#include "app_update/include/esp_ota_ops.h"	// as Moddable's ota.c: $(IDF_PATH)/components is on the include path
#include "sdkconfig.h"

static int slotOf(const esp_partition_t *partition)
{
	if (!partition || (ESP_PARTITION_TYPE_APP != partition->type))
		return -1;
	if ((partition->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MIN) || (partition->subtype > ESP_PARTITION_SUBTYPE_APP_OTA_MAX))
		return -1;
	return partition->subtype - ESP_PARTITION_SUBTYPE_APP_OTA_MIN;
}

void xs_otaboot_running_slot(xsMachine *the)
{
	xsmcSetInteger(xsResult, slotOf(esp_ota_get_running_partition()));
}

void xs_otaboot_running_state(xsMachine *the)
{
	esp_ota_img_states_t state;
	const char *name = "unsupported";
	esp_err_t err = esp_ota_get_state_partition(esp_ota_get_running_partition(), &state);

	if (ESP_ERR_NOT_FOUND == err)
		name = "undefined";
	else if (ESP_OK == err) {
		switch (state) {
			case ESP_OTA_IMG_NEW:				name = "new"; break;
			case ESP_OTA_IMG_PENDING_VERIFY:	name = "pending-verify"; break;
			case ESP_OTA_IMG_VALID:				name = "valid"; break;
			case ESP_OTA_IMG_INVALID:			name = "invalid"; break;
			case ESP_OTA_IMG_ABORTED:			name = "aborted"; break;
			default:							name = "undefined"; break;
		}
	}
	xsmcSetString(xsResult, (char *)name);
}

void xs_otaboot_next_slot_size(xsMachine *the)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	xsmcSetInteger(xsResult, next ? (xsIntegerValue)next->size : 0);
}

void xs_otaboot_last_invalid_slot(xsMachine *the)
{
	int slot = slotOf(esp_ota_get_last_invalid_partition());
	if (slot >= 0)
		xsmcSetInteger(xsResult, slot);
}

void xs_otaboot_mark_valid(xsMachine *the)
{
	esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
	if ((ESP_OK != err) && (ESP_ERR_NOT_FOUND != err) && (ESP_FAIL != err))	// no otadata / factory app: nothing to commit
		xsUnknownError("cannot mark the running image valid");
}

void xs_otaboot_rollback(xsMachine *the)
{
	if (esp_ota_check_rollback_is_possible())
		esp_ota_mark_app_invalid_rollback_and_reboot();		// returns only on failure

	const esp_partition_t *previous = esp_ota_get_next_update_partition(NULL);
	if (!previous)
		xsUnknownError("no other app slot");
	if (ESP_OK != esp_ota_set_boot_partition(previous))
		xsUnknownError("previous slot holds no valid image");
	esp_restart();
}

#define kHeaderSector (4096)		// flash sector size: the erase unit that holds the image header

void xs_otaboot_invalidate_next(xsMachine *the)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	const esp_partition_t *running = esp_ota_get_running_partition();

	if (!next)
		return;		// no other app slot: nothing there can boot
	if (running && (next->address == running->address))
		xsUnknownError("refusing to erase the running slot");
	if (ESP_OK != esp_partition_erase_range(next, 0, kHeaderSector))
		xsUnknownError("cannot erase the update slot's image header");
}

void xs_otaboot_bootloader_rollback(xsMachine *the)
{
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
	xsmcSetBoolean(xsResult, 1);
#else
	xsmcSetBoolean(xsResult, 0);
#endif
}
