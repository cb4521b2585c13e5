// The "call spans" configuration: the app registers an OpenTelemetry SDK as a real one would (NodeSDK,
// batching span processor). Its exporter counts the spans and drops them, so no network is involved.
// The queue holds a whole benchmark batch's spans: the default 2048 would drop most of them, and a
// dropped span is cheaper than a kept one.
export async function startCountingSdk() {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
  const exported = { spans: 0, names: new Set() };
  const counting = {
    export(spans, done) {
      exported.spans += spans.length;
      for (const s of spans) exported.names.add(s.name);
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const sdk = new NodeSDK({ spanProcessors: [new BatchSpanProcessor({ exporter: counting, maxQueueSize: 1 << 16 })], instrumentations: [] });
  sdk.start();
  return {
    /** Flushes and stops the SDK; what it exported. Fails when no span came: then nothing of them was measured. */
    async stop() {
      await sdk.shutdown();
      if (exported.spans === 0) throw new Error('call spans configuration: the SDK exported no span');
      return { exported: exported.spans, names: [...exported.names].sort() };
    },
  };
}
