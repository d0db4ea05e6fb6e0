export { loadConfig, type Config, type ConfigInput } from './config.ts';
export { fixedClock, systemClock, type Clock } from './clock.ts';
