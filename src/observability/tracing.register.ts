import { startTracing } from './tracing.js';

/**
 * Imported first by src/main.ts: the http, pg and GraphQL instrumentations patch those modules as they are loaded, so
 * OpenTelemetry starts before anything else is imported. config.ts validates the same variable and names it if it is
 * malformed.
 */
export const tracing = startTracing({ otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || null });
