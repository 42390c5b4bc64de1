// Native helpers the SDK does not offer from JavaScript in release builds: the free system heap
// (Instrumentation answers only in debug and instrumented builds) and the reset reason on both
// ESP32 and ESP8266 (the SDK's resetReason module is ESP32-only), a hardware restart without the
// system module's global, and the wall time without the Date class. Implemented in sysinfo.c.

function freeHeap() @ "xs_sysinfo_free_heap";
function resetReason() @ "xs_sysinfo_reset_reason";
function wallTime() @ "xs_sysinfo_wall_time";
function restart() @ "xs_sysinfo_restart";

export { freeHeap, resetReason, restart, wallTime };
