import net from 'node:net';
import tls from 'node:tls';
import { acceptHl7, type Hl7Context } from './accept.ts';
import { CR, FRAMING_REASONS, FS, MllpDeframer, splitMessages, VT, type MllpEvent } from './frames.ts';
import { MllpCounters } from './mllp-counters.ts';
import { framingNak } from './recover.ts';
import { plainAddress, type MllpPeer } from './sender-auth.ts';
import { normalizeFingerprint } from './senders.ts';

export interface MllpLog {
  info: (o: object, msg: string) => void;
  warn: (o: object, msg: string) => void;
}

/** TLS for the listener: its own certificate and key; `ca` to verify client certificates against (PEM). */
export interface MllpTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
}

export interface MllpServerOptions {
  port: number;
  host?: string;
  log?: MllpLog;
  /** A connection silent this long is closed (`serve --mllp-idle-seconds`, default 300 s). */
  idleMs?: number;
  /** A frame (or run of stray bytes) left unfinished this long is answered as a framing error (default 5 s). */
  frameTimeoutMs?: number;
  maxFrame?: number;
  /** Serve MLLP over TLS and ask every client for its certificate (bound to senders by fingerprint). */
  tls?: MllpTls;
  counters?: MllpCounters;
}

export interface MllpServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  readonly tls: boolean;
  readonly counters: MllpCounters;
  close(): Promise<void>;
}

export const DEFAULT_IDLE_MS = 300_000;

function frame(ack: Buffer): Buffer {
  return Buffer.concat([Buffer.of(VT), ack, Buffer.of(FS, CR)]);
}

/** The peer of a plain or TLS socket; a TLS client's certificate by its SHA-256 fingerprint. */
function peerOf(socket: net.Socket): MllpPeer {
  const address = plainAddress(socket.remoteAddress);
  if (!(socket instanceof tls.TLSSocket)) return { address, tls: false };
  const cert = socket.getPeerCertificate();
  return { address, tls: true, ...(cert?.fingerprint256 ? { certFingerprint: normalizeFingerprint(cert.fingerprint256) } : {}) };
}

/**
 * HL7 v2 over MLLP (HL7 v2.5.1 Appendix C): a TCP (or TLS) listener that de-frames messages, hands them to
 * `acceptHl7` with the connection's peer (address, client certificate) to authenticate each message's sender, and
 * writes one ACK frame per message, in the order received. We frame the socket ourselves instead of using
 * `@medplum/hl7`'s Hl7Server because its connection decodes every frame with one fixed encoding before we see it;
 * landing needs the verbatim bytes and per-message detection of UTF-8 vs GBK. Frames that arrive together (a
 * pipelining sender) are landed together in one transaction.
 *
 * Nothing hangs: a framing error (a VT inside a frame, FS without CR, an oversized frame, stray bytes, a frame left
 * open for `frameTimeoutMs`) is answered with an AR whose MSA-2 is the message's MSH-10 when it can be recovered from
 * the bytes, otherwise the connection is closed with a logged reason; a connection silent for `idleMs` is closed.
 * Refused senders, framing errors and closes are counted in `counters`.
 */
export async function startMllpServer(ctx: Omit<Hl7Context, 'channel' | 'peer' | 'institutionId'>, options: MllpServerOptions): Promise<MllpServer> {
  const log = options.log;
  const counters = options.counters ?? new MllpCounters();
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const frameTimeoutMs = Math.min(options.frameTimeoutMs ?? 5000, idleMs);
  const sockets = new Set<net.Socket>();

  const serve = (socket: net.Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const peer = peerOf(socket);
    const remote = peer.address;
    const deframer = new MllpDeframer(options.maxFrame);
    const connection: Hl7Context = { ...ctx, channel: 'hl7-mllp', peer };
    // One chain per connection keeps ACKs in message order even when landings overlap.
    let chain = Promise.resolve();
    let busy = 0;
    let closing = false;
    let stall: NodeJS.Timeout | undefined;

    const enqueue = (work: () => Promise<Buffer[]>) => {
      busy++;
      chain = chain
        .then(async () => {
          const acks = await work();
          if (acks.length && !socket.destroyed) socket.write(Buffer.concat(acks.map(frame)));
        })
        .catch((err) => log?.warn({ err, remote }, 'MLLP message handling failed'))
        .finally(() => busy--);
    };
    const closeFor = (cause: string, detail: object) => {
      if (closing) return;
      closing = true;
      counters.close(cause);
      log?.warn({ remote, cause, ...detail }, 'closing MLLP connection');
      // After the answers already owed are written.
      chain = chain.then(() => {
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      });
    };
    const handle = (events: MllpEvent[]) => {
      let messages: Buffer[] = [];
      const acceptMessages = () => {
        if (!messages.length) return;
        const batch = messages;
        messages = [];
        enqueue(async () => {
          const replies = await acceptHl7(connection, batch);
          for (const r of replies) {
            if (!r.refusal) continue;
            counters.refuse(r.refusal, { msh3: r.claimed?.msh3 ?? '', msh4: r.claimed?.msh4 ?? '', remote });
            log?.warn({ remote, refusal: r.refusal, reason: r.reason, certificate: peer.certFingerprint }, 'MLLP sender refused');
          }
          return replies.map((r) => r.ack);
        });
      };
      for (const e of events) {
        if (e.kind === 'frame') {
          // A frame holding several messages (a file pasted into one frame) gets one ACK per message.
          messages.push(...splitMessages(e.content));
          continue;
        }
        counters.framingError(e.error);
        const reason = e.error === 'frame-too-large' ? `the frame is larger than ${deframer.maxFrame} bytes` : FRAMING_REASONS[e.error];
        const nak = e.content.length ? framingNak(e.content, reason) : undefined;
        log?.warn({ remote, error: e.error, bytes: e.content.length, answered: !!nak }, 'MLLP framing error');
        if (nak) {
          acceptMessages();
          enqueue(async () => [nak]);
        } else if (e.content.length) {
          // Bytes that cannot be matched to a message: the stream cannot be trusted any more.
          acceptMessages();
          return closeFor('framing-error', { error: e.error, reason });
        }
        // An empty cut frame (VT VT, VT FS x) lost nothing: logged and counted only.
      }
      acceptMessages();
    };
    const armStall = () => {
      clearTimeout(stall);
      stall = deframer.open ? setTimeout(() => !closing && handle(deframer.flush()), frameTimeoutMs) : undefined;
      stall?.unref();
    };

    socket.setTimeout(idleMs);
    socket.on('timeout', () => {
      if (closing) return;
      if (busy) return void socket.setTimeout(idleMs); // still answering: not idle
      handle(deframer.flush());
      closeFor('idle-timeout', { idleSeconds: idleMs / 1000 });
    });
    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      handle(deframer.read(chunk));
      armStall();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(stall);
      sockets.delete(socket);
      if (deframer.pending) log?.warn({ remote, bytes: deframer.pending }, 'MLLP connection closed inside a frame (truncated message not acknowledged)');
    });
  };

  const server = options.tls
    ? tls.createServer(
      // With a CA, a client certificate it did not issue fails the handshake; without one, any certificate is taken
      // and the senders' registered fingerprints decide (pinning self-signed certificates).
      { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: !!options.tls.ca },
      serve,
    )
    : net.createServer(serve);
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    counters.close('tls-handshake');
    log?.warn({ err: err.message, remote: plainAddress(socket.remoteAddress) }, 'MLLP TLS handshake failed');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  log?.info({ port, tls: !!options.tls, idleSeconds: idleMs / 1000 }, 'MLLP listener started');
  return {
    port,
    tls: !!options.tls,
    counters,
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
