import { createReadStream } from 'node:fs';
import net from 'node:net';
import { MllpDeframer } from '../ingest/hl7/frames.ts';

const VT = 0x0b;
const FS_CR = Buffer.of(0x1c, 0x0d);

export interface SendTally {
  sent: number;
  acks: Record<string, number>;
}

/**
 * Sends a file of MLLP frames (as a sender's outbox holds them) over one connection, pipelining up to `window`
 * unacknowledged messages, and counts the ACK codes (MSA-1). Reads the file as a stream: memory stays flat.
 */
export async function sendMllpFile(host: string, port: number, file: string, window = 64, onAck?: (t: SendTally) => void): Promise<SendTally> {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const tally: SendTally = { sent: 0, acks: {} };
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const acks = new MllpDeframer();
  socket.on('data', (d: Buffer) => {
    for (const f of acks.push(d)) {
      const msa = f.toString('latin1').split(/\r|\n/).find((s) => s.startsWith('MSA'));
      const code = msa ? msa.split(msa[3] ?? '|')[1] ?? '?' : '?';
      tally.acks[code] = (tally.acks[code] ?? 0) + 1;
      outstanding--;
      onAck?.(tally);
    }
    wake?.();
  });
  socket.on('error', (err) => {
    failure = err;
    wake?.();
  });
  socket.on('close', () => {
    failure ??= new Error('MLLP connection closed by the server');
    wake?.();
  });
  const waitUntil = async (ok: () => boolean) => {
    while (!ok()) {
      if (failure) throw failure;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  };
  const frames = new MllpDeframer(Number.MAX_SAFE_INTEGER);
  let framed: boolean | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const buf = chunk as Buffer;
    framed ??= buf.includes(VT);
    if (!framed) throw new Error(`${file} holds no MLLP frames`);
    for (const f of frames.push(buf)) {
      await waitUntil(() => outstanding < window);
      outstanding++;
      tally.sent++;
      socket.write(Buffer.concat([Buffer.of(VT), f, FS_CR]));
    }
  }
  await waitUntil(() => outstanding === 0);
  socket.end();
  return tally;
}
