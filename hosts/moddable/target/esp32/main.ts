// Entry of the ESP32 build (mcconfig -p esp32/nodemcu).
// The target itself is start.ts, preloaded (in flash on a chip); main runs at boot and is never
// preloaded, so `preference` loads at run time (the desktop build reads its file then).
import Preference from 'preference';
import { start } from './start';

start(Preference);
