// The start-up bench's app: what a short-lived process does before its own work — load koffi, load
// the SSPI library, declare a function — and, given `sdk`, first register an OpenTelemetry SDK as an
// app with tracing does. At exit it prints its peak RSS (kB, the kernel's count) and the CPU time it
// used (µs, user + system: less disturbed than wall time by other processes on a busy machine).
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ maxRssKb: usage.maxRSS, cpuUs: usage.userCPUTime + usage.systemCPUTime })}\n`);
});
if (process.argv[2] === 'sdk') await import('./startup-sdk.mjs');
const { default: koffi } = await import('koffi');
const lib = koffi.load('libwinpr2.so.2');
lib.func('int32 __stdcall FreeCredentialsHandle(void *phCredential)');
