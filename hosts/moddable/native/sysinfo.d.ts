// Declarations of sysinfo.js (native, see sysinfo.c).

/** Free bytes of the system heap (lwIP, Wi-Fi, TLS buffers); on the desktop build, the host's available memory (capped at 2^31 - 1). */
export function freeHeap(): number;
/** Why the chip last reset, in the port's vocabulary ('power-on' on the desktop build). */
export function resetReason(): 'power-on' | 'software' | 'watchdog' | 'panic' | 'brownout' | 'deep-sleep' | 'external' | 'unknown';
/** Milliseconds since 1970 by the runtime's clock, as Date.now() reads it (small until SNTP sets it). */
export function wallTime(): number;
/** Resets the chip (ESP32, ESP8266); does not return. The desktop build never calls it: it throws there. */
export function restart(): never;
