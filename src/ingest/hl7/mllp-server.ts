import net from 'node:net';
import { acceptHl7, type Hl7Context } from './accept.ts';
import { CR, FS, MllpDeframer, splitMessages, VT } from './frames.ts';

export interface MllpServerOptions {
  port: number;
  host?: string;
  log?: { info: (o: object, msg: string) => void; warn: (o: object, msg: string) => void };
}

export interface MllpServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

function frame(ack: Buffer): Buffer {
  return Buffer.concat([Buffer.of(VT), ack, Buffer.of(FS, CR)]);
}

/**
 * HL7 v2 over MLLP (HL7 v2.5.1 Appendix C): a TCP listener that de-frames messages, hands them to `acceptHl7` and
 * writes one ACK frame per message, in the order received. We frame the socket ourselves instead of using
 * `@medplum/hl7`'s Hl7Server because its connection decodes every frame with one fixed encoding before we see it;
 * landing needs the verbatim bytes and per-message detection of UTF-8 vs GBK. Frames that arrive together (a
 * pipelining sender) are landed together in one transaction.
 */
export async function startMllpServer(ctx: Omit<Hl7Context, 'channel' | 'remoteAddress' | 'institutionId'>, options: MllpServerOptions): Promise<MllpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const deframer = new MllpDeframer();
    const connection: Hl7Context = { ...ctx, channel: 'hl7-mllp', remoteAddress: socket.remoteAddress };
    // One chain per connection keeps ACKs in message order even when landings overlap.
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = deframer.push(chunk);
      } catch (err) {
        options.log?.warn({ err, remote: socket.remoteAddress }, 'MLLP frame too large; closing connection');
        socket.destroy();
        return;
      }
      if (!frames.length) return;
      // A frame holding several messages (a file pasted into one frame) gets one ACK per message.
      const messages = frames.flatMap((f) => splitMessages(f));
      chain = chain
        .then(async () => {
          const replies = messages.length ? await acceptHl7(connection, messages) : [];
          if (!socket.destroyed) socket.write(Buffer.concat(replies.map((r) => frame(r.ack))));
        })
        .catch((err) => options.log?.warn({ err }, 'MLLP message handling failed'));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      if (deframer.pending) options.log?.warn({ remote: socket.remoteAddress, bytes: deframer.pending }, 'MLLP connection closed inside a frame (truncated message not acknowledged)');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  options.log?.info({ port }, 'MLLP listener started');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.end();
        const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), 2000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
