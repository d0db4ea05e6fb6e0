/** Worker thread: builds the same world from the options and generates the chunks it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { generateChunk, transferList } from './chunk.ts';
import { buildWorld, type WorldInput } from './world.ts';

const world = buildWorld(workerData as WorldInput);
parentPort!.on('message', (chunk: number) => {
  const r = generateChunk(world, chunk);
  // Every buffer owns its memory (concatOwned), so it can be moved rather than copied.
  parentPort!.postMessage(r, transferList(r));
});
