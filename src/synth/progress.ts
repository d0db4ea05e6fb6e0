/** A small progress bar for stderr: redraws one line every 200 ms on a terminal; elsewhere prints a line every 10 s. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const t0 = performance.now();
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < (stream.isTTY ? 200 : 10_000)) return;
    last = now;
    const width = 30;
    const frac = total ? done / total : 1;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const secs = (now - t0) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const line = `${label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} persons ${rate.toLocaleString('en-US')}/s eta ${eta}s`;
    stream.write(stream.isTTY ? `\r${line}` : `${line}\n`);
    if (done >= total && stream.isTTY) stream.write('\n');
  };
}
