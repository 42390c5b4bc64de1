/*
 * Free heap and reset reason for hosts/moddable/native/sysinfo.js.
 * ESP32: esp_get_free_heap_size(), esp_reset_reason() (ESP-IDF esp_system.h).
 * ESP8266: system_get_free_heap_size(), system_get_rst_info() (NONOS user_interface.h).
 * Desktop (lin): the host's available physical memory (capped at 2^31 - 1), since a desktop
 * process has no heap budget of its own; every launch of the simulator is a power-on.
 * Restart: esp_restart() / system_restart(), as the SDK's System.restart() does; that global comes
 * from modules/io/system, which the ESP8266 build leaves out (it imports every ECMA-419 IO class).
 * Wall time: the runtime's clock (set by SNTP through Time.set), read the way XS's Date.now() reads
 * it, so that a build whose JavaScript never names Date leaves the Date class out of its image.
 */

#include "xsmc.h"

#if ESP32
	#include "xsHost.h"
	#include "esp_system.h"
#elif defined(__ets__)
	#include "xsHost.h"
	#include "user_interface.h"
#else
	#include <sys/time.h>
	#include <unistd.h>
	#define c_timeval struct timeval
	#define c_gettimeofday gettimeofday
#endif

void xs_sysinfo_free_heap(xsMachine *the)
{
#if ESP32
	xsmcSetInteger(xsResult, (xsIntegerValue)esp_get_free_heap_size());
#elif defined(__ets__)
	xsmcSetInteger(xsResult, (xsIntegerValue)system_get_free_heap_size());
#else
	double bytes = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
	xsmcSetInteger(xsResult, (bytes > 2147483647.0) ? 2147483647 : (bytes < 0) ? 0 : (xsIntegerValue)bytes);
#endif
}

void xs_sysinfo_reset_reason(xsMachine *the)
{
	const char *reason = "unknown";

#if ESP32
	switch (esp_reset_reason()) {
		case ESP_RST_POWERON:	reason = "power-on"; break;
		case ESP_RST_EXT:		reason = "external"; break;
		case ESP_RST_SW:		reason = "software"; break;
		case ESP_RST_PANIC:		reason = "panic"; break;
		case ESP_RST_INT_WDT:
		case ESP_RST_TASK_WDT:
		case ESP_RST_WDT:		reason = "watchdog"; break;
		case ESP_RST_DEEPSLEEP:	reason = "deep-sleep"; break;
		case ESP_RST_BROWNOUT:	reason = "brownout"; break;
		default:				break;
	}
#elif defined(__ets__)
	struct rst_info *info = system_get_rst_info();
	if (info) {
		switch (info->reason) {
			case REASON_DEFAULT_RST:		reason = "power-on"; break;
			case REASON_WDT_RST:
			case REASON_SOFT_WDT_RST:		reason = "watchdog"; break;
			case REASON_EXCEPTION_RST:		reason = "panic"; break;
			case REASON_SOFT_RESTART:		reason = "software"; break;
			case REASON_DEEP_SLEEP_AWAKE:	reason = "deep-sleep"; break;
			case REASON_EXT_SYS_RST:		reason = "external"; break;
			default:						break;
		}
	}
#else
	reason = "power-on";
#endif

	xsmcSetString(xsResult, (char *)reason);
}

void xs_sysinfo_wall_time(xsMachine *the)
{
	c_timeval tv;
	c_gettimeofday(&tv, NULL);
	xsmcSetNumber(xsResult, ((double)tv.tv_sec * 1000.0) + (double)(tv.tv_usec / 1000));
}

void xs_sysinfo_restart(xsMachine *the)
{
#if ESP32
	esp_restart();
#elif defined(__ets__)
	system_restart();
	while (1)
		modDelayMilliseconds(1000);
#else
	xsUnknownError("the desktop build restarts the firmware in place, not the process");
#endif
}
