import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ingestService, type LoadResult } from './ingest.js';
import type { Bench } from './support.js';

/** A local OTLP/HTTP receiver that accepts and counts export requests: the service pays the full export cost. */
async function startOtlpSink(): Promise<{ url: string; requests: () => number; bytes: () => number; close(): void }> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

export interface TracingCost {
  off: LoadResult;
  on: LoadResult;
  exportRequests: number;
  exportedKb: number;
}

/**
 * The cost of tracing on the webhook hot path: the service `--role api` under the same load with tracing off (no
 * endpoint: trace ids and `traceparent` only) and on (OTEL_EXPORTER_OTLP_ENDPOINT: the SDK records, instruments
 * and exports every span to a local OTLP receiver).
 */
export async function tracingPhase(bench: Bench, invoiceIds: string[], seconds: number): Promise<TracingCost> {
  const off = await ingestService(bench, invoiceIds, 'api', 'toff', seconds);
  const sink = await startOtlpSink();
  try {
    const on = await ingestService(bench, invoiceIds, 'api', 'ton', seconds, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    });
    return { off, on, exportRequests: sink.requests(), exportedKb: Math.round(sink.bytes() / 1024) };
  } finally {
    sink.close();
  }
}
