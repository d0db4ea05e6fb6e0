import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MllpDeframer, splitMessages, type MllpEvent } from './frames.ts';

const VT = '\x0b';
const END = '\x1c\r';
const show = (events: MllpEvent[]) => events.map((e) => (e.kind === 'frame' ? `frame:${e.content}` : `${e.error}:${e.content}`));

describe('the MLLP de-framer', () => {
  it('returns frames split across chunks byte by byte, skipping CR/LF between frames', () => {
    const d = new MllpDeframer();
    const events = [...`${VT}MSH|a${END}\r\n${VT}MSH|b${END}`].flatMap((ch) => d.read(Buffer.from(ch)));
    assert.deepEqual(show(events), ['frame:MSH|a', 'frame:MSH|b']);
    assert.equal(d.open, false);
  });

  it('reports a VT inside a frame with the bytes before it, and still reads the frame the VT starts', () => {
    const d = new MllpDeframer();
    assert.deepEqual(show(d.read(Buffer.from(`${VT}MSH|cut${VT}MSH|next${END}`))), ['start-inside-frame:MSH|cut', 'frame:MSH|next']);
  });

  it('reports FS not followed by CR, and reads on after the FS', () => {
    const d = new MllpDeframer();
    assert.deepEqual(show(d.read(Buffer.from(`${VT}MSH|x\x1c${VT}MSH|y${END}`))), ['end-without-cr:MSH|x', 'frame:MSH|y']);
  });

  it('reports stray bytes before a VT, and on flush when no VT follows', () => {
    const d = new MllpDeframer();
    assert.deepEqual(show(d.read(Buffer.from(`MSH|raw\r${VT}MSH|ok${END}junk`))), ['bytes-outside-frame:MSH|raw\r', 'frame:MSH|ok']);
    assert.equal(d.open, true);
    assert.deepEqual(show(d.flush()), ['bytes-outside-frame:junk']);
    assert.equal(d.open, false);
  });

  it('refuses a frame over the limit once, keeping its head, drops the rest of it and reads the next frame', () => {
    const d = new MllpDeframer(100);
    const big = 'MSH|' + 'x'.repeat(300);
    const events = [d.read(Buffer.from(VT + big.slice(0, 150))), d.read(Buffer.from(big.slice(150) + END)), d.read(Buffer.from(`${VT}MSH|small${END}`))].flat();
    assert.deepEqual(events.map((e) => (e.kind === 'frame' ? 'frame' : e.error)), ['frame-too-large', 'frame']);
    assert.ok(events[0].content.toString().startsWith('MSH|xxx'));
    assert.equal(events[1].content.toString(), 'MSH|small');
  });

  it('ends a frame left open on flush as an incomplete frame', () => {
    const d = new MllpDeframer();
    assert.deepEqual(d.read(Buffer.from(`${VT}MSH|half`)), []);
    assert.equal(d.pending, 8);
    assert.deepEqual(show(d.flush()), ['incomplete-frame:MSH|half']);
  });

  it('keeps every message of a file whose frames a stray VT cut, for the file channels (nothing in a file is dropped)', () => {
    const file = Buffer.from(`${VT}MSH|1\rPID|1${VT}MSH|2\rPID|2${END}`);
    assert.deepEqual(splitMessages(file).map(String), ['MSH|1\rPID|1', 'MSH|2\rPID|2']);
  });
});
