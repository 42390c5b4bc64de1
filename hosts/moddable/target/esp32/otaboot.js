// What Moddable's `ota` module leaves out: the running slot's state, committing it, going back to
// the previous slot, and erasing what a failed update left in the spare slot. Implemented in
// otaboot.c over ESP-IDF esp_ota_ops.h.

function runningSlot() @ "xs_otaboot_running_slot";
function runningState() @ "xs_otaboot_running_state";
function nextSlotSize() @ "xs_otaboot_next_slot_size";
function lastInvalidSlot() @ "xs_otaboot_last_invalid_slot";
function markValid() @ "xs_otaboot_mark_valid";
function rollback() @ "xs_otaboot_rollback";
function bootloaderRollback() @ "xs_otaboot_bootloader_rollback";
function invalidateNext() @ "xs_otaboot_invalidate_next";

export { runningSlot, runningState, nextSlotSize, lastInvalidSlot, markValid, rollback, bootloaderRollback, invalidateNext };
