// The OpenTelemetry SDK an app with tracing starts on its first line: NodeSDK, spans kept in memory,
// no metric reader, no network.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';

new NodeSDK({
  spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
  metricReaders: [],
  logRecordProcessors: [],
  instrumentations: [],
  autoDetectResources: false,
}).start();
