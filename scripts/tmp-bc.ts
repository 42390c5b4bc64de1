import { measureEsp8266Bytecode } from './budgets/esp8266';
console.log(await measureEsp8266Bytecode());
