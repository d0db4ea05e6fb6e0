/** Worker thread: builds the same world from the options and generates the chunks it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { generateChunk } from './chunk.ts';
import { buildWorld, type WorldInput } from './world.ts';

const world = buildWorld(workerData as WorldInput);
parentPort!.on('message', (chunk: number) => {
  const r = generateChunk(world, chunk);
  // No transfer list: small Buffers share Node's pool, which must not be detached.
  parentPort!.postMessage(r);
});
