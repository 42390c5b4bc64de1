// What the ESP8266's firmware needs from the flash beyond Moddable's flash module: the image check
// that nmboot runs (nmboot/image.c), and whether OTA can work at all (nmboot installed, the layout
// of eagle.flash.4m.ld, an app image with its trailer). Implemented in otaflash.c.

function inspect(address) @ "xs_otaflash_inspect";
function ready() @ "xs_otaflash_ready";

export { inspect, ready };
