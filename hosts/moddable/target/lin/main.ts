// Entry of the desktop build (mcconfig -p lin, or sim/nodemcu).
// The target itself is start.ts, preloaded (in flash on a chip); main runs at boot and is never
// preloaded, so `preference` loads at run time (the desktop build reads its file then).
import Preference from 'preference';
import { start } from './start';

start(Preference);
