import net from 'node:net';

/** A request exactly as written on the wire: header lines in order (duplicates allowed), any bytes. */
export interface WireRequest {
  method: string;
  target: string;
  /** Raw header lines; a name without ':' and value `null` writes the bare line (a garbled header). */
  headers: Array<[name: string, value: string | Buffer | null]>;
  body: Buffer;
  /**
   * `length`: Content-Length added from the body (unless a header already sets one); `chunked`: Transfer-Encoding
   * chunked in pieces of `chunkSize`; `hangup`: Content-Length of the whole body, only `sendBytes` of it sent, then
   * the client closes its side (a sender that died mid-request).
   */
  framing: { kind: 'length' } | { kind: 'chunked'; chunkSize: number } | { kind: 'hangup'; sendBytes: number };
}

export interface WireAnswer {
  /** Final (non-1xx) status; 0 when the server closed without answering. */
  status: number;
  body: string;
  timedOut: boolean;
}

function head(request: WireRequest): Buffer {
  const parts: Buffer[] = [Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n`, 'latin1')];
  const has = (name: string) => request.headers.some(([key]) => key.toLowerCase() === name);
  const headers = [...request.headers];
  if (request.framing.kind === 'chunked') {
    if (!has('transfer-encoding')) headers.push(['transfer-encoding', 'chunked']);
  } else if (!has('content-length')) headers.push(['content-length', String(request.body.length)]);
  if (!has('connection')) headers.push(['connection', 'close']);
  for (const [name, value] of headers) {
    parts.push(Buffer.from(name, 'latin1'));
    if (value !== null)
      parts.push(Buffer.from(': ', 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value);
    parts.push(Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('\r\n', 'latin1'));
  return Buffer.concat(parts);
}

function payload(request: WireRequest): Buffer {
  const { body, framing } = request;
  if (framing.kind === 'hangup') return body.subarray(0, framing.sendBytes);
  if (framing.kind === 'length') return body;
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += framing.chunkSize) {
    const piece = body.subarray(at, at + framing.chunkSize);
    chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(chunks);
}

/** The final status of the bytes received (1xx interim answers such as `100 Continue` are skipped). */
function finalAnswer(received: Buffer): { status: number; body: string } {
  let text = received.toString('latin1');
  for (;;) {
    const match = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
    if (!match) return { status: 0, body: text };
    const end = text.indexOf('\r\n\r\n');
    const status = Number(match[1]);
    if (status >= 200 || end < 0) return { status, body: end < 0 ? '' : text.slice(end + 4) };
    text = text.slice(end + 4);
  }
}

/**
 * Sends one request over a fresh TCP connection (`Connection: close`) and resolves with the server's answer once it
 * closes the connection. Write errors after the server answered early (e.g. 413 before the body was read) are expected.
 */
export function sendWire(port: number, request: WireRequest, timeoutMs = 10_000): Promise<WireAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...finalAnswer(Buffer.concat(received)), timedOut });
    });
    socket.on('connect', () => {
      socket.write(head(request));
      socket.write(payload(request));
      if (request.framing.kind === 'hangup') socket.end();
    });
  });
}
