// Declarations of otaflash.js (native, see otaflash.c).
import type { SlotImage } from '../../../../src/ota/boot-flash';

/** Checks the OTA image in the slot or app area at this flash address, as nmboot does. */
export function inspect(address: number): SlotImage;
/** Undefined when OTA can work; else why not (nmboot missing, another flash layout, an app image without trailer). */
export function ready(): string | undefined;
