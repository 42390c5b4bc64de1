// Published quantities of the ECMA-419 sample classes that compound sensors nest their values in
// (thermometer, hygrometer, barometer), shared by the chips that measure them.
import type { Quantity } from './board';

// `parts`: the path already split, here at module level, so the telemetry loop keeps no copy in RAM.
export const TEMPERATURE: Quantity = { path: 'thermometer.temperature', parts: Object.freeze(['thermometer', 'temperature']), unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } };
export const HUMIDITY: Quantity = { path: 'hygrometer.humidity', parts: Object.freeze(['hygrometer', 'humidity']), unit: '%', deviceClass: 'humidity', filter: { decimals: 1 } };
export const PRESSURE: Quantity = { path: 'barometer.pressure', parts: Object.freeze(['barometer', 'pressure']), unit: 'Pa', deviceClass: 'pressure', filter: { decimals: 0 } };
