export { loadConfig, type Config, type ConfigInput } from './config.ts';
