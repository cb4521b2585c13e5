/**
 * Every `SSPI_AGENT_*` variable, declared once: its type, default and meaning. The agent reads its
 * settings only through this table, and the README's configuration table is generated from it
 * (`npm run docs`; a test fails when they differ), so code and documentation cannot drift apart.
 */
import { codeCacheSetting } from './start-code/setting.js';
import { bool, duration, formatDuration, integer, list, oneOf, percent, text, type Setting } from './config-parsers.js';
import type { OtelMode } from './otel/bootstrap.js';
import type { CallSpans } from './otel/call-span-set.js';
import type { SampleMode } from './core/sampling.js';
import type { StackMode } from './core/stacks.js';

export const ENV_PREFIX = 'SSPI_AGENT_';

export type CleanupMode = 'off' | 'exit' | 'signals' | 'all';
/** What the test plugins (`sspi-agent/mocha`, `sspi-agent/node-test`) do with a test's leaks. */
export type TestLeaks = 'fail' | 'warn' | 'off';

/** The table. Order is the README's order. */
export const SETTINGS = {
  enabled: {
    name: 'ENABLED',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc: '`0` loads nothing: no hooks, no endpoint, no report.',
    parse: bool,
  } as Setting<boolean>,
  libraries: {
    name: 'LIBRARIES',
    type: 'list',
    default: [] as string[],
    shownDefault: '(none)',
    doc:
      'More SSPI provider libraries to instrument, comma-separated: file names (`*` matches any run of ' +
      'characters, case-insensitive) or absolute paths. Always instrumented: `secur32.dll`, `sspicli.dll`, ' +
      '`security.dll`, `libwinpr2.so*`, `libwinpr3.so*`.',
    parse: list,
  } as Setting<string[]>,
  stacks: {
    name: 'STACKS',
    type: '`budget` \\| `all` \\| `sampled` \\| `off` (`1`/`0`)',
    default: 'budget',
    shownDefault: '`budget`',
    doc:
      'Allocation stacks (app frames only) for the leak report and warnings. `budget`: one for every handle created ' +
      'and every release while stack capture stays within `SSPI_AGENT_STACK_BUDGET` of one core (a stack costs more ' +
      'than an SSPI acquire+free); beyond it, as much as the budget allows, creations first; the report counts the ' +
      'handles left without one. `all`: every handle and release, whatever it costs. `sampled`: the first 16 calls of ' +
      'each creating or releasing SSPI function and one in 64 after. `off`: none.',
    parse: oneOf<StackMode>(['budget', 'all', 'sampled', 'off'], { '1': 'all', true: 'all', on: 'all', '0': 'off', false: 'off', none: 'off' }),
  } as Setting<StackMode>,
  stackBudget: {
    name: 'STACK_BUDGET',
    type: 'percent 0.01–100 (`1%`)',
    default: 0.01,
    shownDefault: '`1%`',
    doc:
      'With `SSPI_AGENT_STACKS=budget`: the CPU time stack capture may take, as a share of one core, with at most one ' +
      "second's worth spent in a burst (each thread, worker threads included, has its own). Each capture is timed and charged.",
    parse: percent(0.01, 100),
  } as Setting<number>,
  collected: {
    name: 'COLLECTED',
    type: '`all` \\| `sampled` \\| `off`',
    default: 'sampled',
    shownDefault: '`sampled`',
    doc:
      'Watch the JS object holding a handle (out-struct, Buffer, koffi 2 External) and count the handle leaked ' +
      '(`collected`) when the GC frees that object while the handle is live. A watch costs about 1 µs and 100 bytes per ' +
      'handle (a V8 FinalizationRegistry entry): `all` watches every handle; `sampled` the first 16 handles each SSPI ' +
      'function creates and one in 64 after (a call site that keeps leaking is found), and every handle with an allocation stack; `off` none.',
    parse: oneOf<SampleMode>(['all', 'sampled', 'off'], { '1': 'all', true: 'all', on: 'all', '0': 'off', false: 'off', none: 'off' }),
  } as Setting<SampleMode>,
  stackDepth: {
    name: 'STACK_DEPTH',
    type: 'integer 1–50',
    default: 8,
    shownDefault: '`8`',
    doc: 'How many app frames an allocation stack keeps.',
    parse: integer(1, 50),
  } as Setting<number>,
  guard: {
    name: 'GUARD',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc:
      'Stop a release of an already released handle (double free) and any call passing one (use after release) ' +
      'before it reaches the provider; the call returns `SEC_E_INVALID_HANDLE`. `0` forwards everything.',
    parse: bool,
  } as Setting<boolean>,
  maxAgeCredential: {
    name: 'MAX_AGE_CREDENTIAL',
    type: 'duration (`90s`, `10m`, `2h`, `0`)',
    default: 0,
    shownDefault: '`0` (off)',
    doc: 'A credential live longer than this is stale (servers usually hold one for their whole life, hence off).',
    parse: duration,
  } as Setting<number>,
  maxAgeContext: {
    name: 'MAX_AGE_CONTEXT',
    type: 'duration',
    default: 3_600_000,
    shownDefault: formatDuration(3_600_000),
    doc: 'A security context live longer than this is stale.',
    parse: duration,
  } as Setting<number>,
  maxAgeBuffer: {
    name: 'MAX_AGE_BUFFER',
    type: 'duration',
    default: 300_000,
    shownDefault: formatDuration(300_000),
    doc: 'A buffer SSPI allocated and not yet returned with `FreeContextBuffer` after this long is stale.',
    parse: duration,
  } as Setting<number>,
  maxHandshake: {
    name: 'MAX_HANDSHAKE',
    type: 'duration',
    default: 120_000,
    shownDefault: formatDuration(120_000),
    doc: 'A context whose handshake is still unfinished (`SEC_I_CONTINUE_NEEDED`) this long after it was created is abandoned.',
    parse: duration,
  } as Setting<number>,
  cleanup: {
    name: 'CLEANUP',
    type: '`off` \\| `exit` \\| `signals` \\| `all`',
    default: 'off',
    shownDefault: '`off`',
    doc:
      'Forced ordered cleanup of live handles — contexts, then credentials, then buffers — at a normal end, ' +
      '`process.exit()` or an uncaught exception (`exit`), on SIGINT/SIGTERM/SIGHUP (and SIGBREAK on Windows) when the app has no handler ' +
      '(`signals`), or both (`all`); also before a provider library is unloaded.',
    parse: oneOf<CleanupMode>(['off', 'exit', 'signals', 'all'], { '0': 'off', '1': 'all' }),
  } as Setting<CleanupMode>,
  failOnLeak: {
    name: 'FAIL_ON_LEAK',
    type: 'boolean',
    default: false,
    shownDefault: '`0`',
    doc: 'A process that ends with leaks (not suppressed) exits with `SSPI_AGENT_FAIL_ON_LEAK_EXIT_CODE`; the app’s own non-zero code wins.',
    parse: bool,
  } as Setting<boolean>,
  failOnLeakExitCode: {
    name: 'FAIL_ON_LEAK_EXIT_CODE',
    type: 'integer 1–255',
    default: 1,
    shownDefault: '`1`',
    doc: 'The exit code `SSPI_AGENT_FAIL_ON_LEAK` uses.',
    parse: integer(1, 255),
  } as Setting<number>,
  testLeaks: {
    name: 'TEST_LEAKS',
    type: '`fail` \\| `warn` \\| `off`',
    default: 'fail',
    shownDefault: '`fail`',
    doc:
      'With `sspi-agent/mocha` or `sspi-agent/node-test`: the handles a test (or a suite’s `before` hooks) made and left live ' +
      'fail that test (or suite) with a message naming each (`fail`), are printed on stderr (`warn`), or are not checked (`off`). ' +
      'Suppressions apply. See [docs/testing.md](docs/testing.md).',
    parse: oneOf<TestLeaks>(['fail', 'warn', 'off'], { '1': 'fail', '0': 'off', false: 'off', none: 'off' }),
  } as Setting<TestLeaks>,
  suppressions: {
    name: 'SUPPRESSIONS',
    type: 'path',
    default: '',
    shownDefault: '(none)',
    doc:
      'A file of patterns, one per line (`#` comments; `*` matches anything; an optional `leak:` prefix as in ' +
      'LeakSanitizer), matched against each frame of a leak’s allocation stack and its creating function; a line of ' +
      'patterns separated by `;` matches when each does. Matching leaks are listed as suppressed and do not fail the ' +
      'process. `npx sspi-agent baseline report.json… > sspi-agent.supp` writes one covering every site of those reports.',
    parse: text,
  } as Setting<string>,
  otel: {
    name: 'OTEL',
    type: '`auto` \\| `sdk` \\| `global` \\| `off` (`1`/`0`)',
    default: 'auto',
    shownDefault: '`auto`',
    doc:
      'OpenTelemetry spans and metrics. `auto`: through the SDK the app registers; when it registers none by the first ' +
      'SSPI call and `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` or `OTEL_EXPORTER_OTLP_*ENDPOINT` ask for export, the ' +
      'agent starts `@opentelemetry/sdk-node` configured from the `OTEL_*` variables. `sdk` (`1`): start it whenever the ' +
      'app has none. `global`: never start one. `off` (`0`): no OpenTelemetry. `OTEL_SDK_DISABLED=true` is honoured.',
    parse: oneOf<OtelMode>(['auto', 'sdk', 'global', 'off'], { '1': 'sdk', true: 'sdk', on: 'sdk', '0': 'off', false: 'off', none: 'off' }),
  } as Setting<OtelMode>,
  callSpans: {
    name: 'CALL_SPANS',
    type: '`work` \\| `all` \\| `off` (`1`/`0`)',
    default: 'work',
    shownDefault: '`work`',
    doc:
      'OpenTelemetry spans for SSPI calls, each a child of the app’s active span when the call was made, built within one ' +
      'event-loop turn of it and only when an SDK is registered. `work` (`1`): the calls that do work or may wait on a KDC ' +
      '(Acquire, Initialize/Accept, CompleteAuthToken, Import/Export). `all`: those and every Delete and Free. `off` (`0`): none.',
    parse: oneOf<CallSpans>(['work', 'all', 'off'], { '1': 'work', true: 'work', on: 'work', yes: 'work', '0': 'off', false: 'off', no: 'off', none: 'off' }),
  } as Setting<CallSpans>,
  leakSpans: {
    name: 'LEAK_SPANS',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc:
      'An OpenTelemetry span (`sspi.leak`, `sspi.misuse`) for each leak, double release, use after release and ' +
      'out-of-order release, linked to the span active where the handle was made.',
    parse: bool,
  } as Setting<boolean>,
  otelFlushTimeout: {
    name: 'OTEL_FLUSH_TIMEOUT',
    type: 'duration',
    default: 2000,
    shownDefault: formatDuration(2000),
    doc:
      'How long a normal end or a SIGINT/SIGTERM/SIGHUP/SIGBREAK (with no handler of the app’s) waits for the OpenTelemetry export ' +
      'of the exit’s leak spans and last metrics before the process ends.',
    parse: duration,
  } as Setting<number>,
  metricsHost: {
    name: 'METRICS_HOST',
    type: 'host',
    default: '127.0.0.1',
    shownDefault: '`127.0.0.1`',
    doc: 'Address the `/metrics` endpoint binds to.',
    parse: text,
  } as Setting<string>,
  metricsPort: {
    name: 'METRICS_PORT',
    type: 'integer 0–65535',
    default: 9469,
    shownDefault: '`9469`',
    doc: 'Port of the `/metrics` endpoint; `0` serves no endpoint.',
    parse: integer(0, 65535),
  } as Setting<number>,
  metricsToken: {
    name: 'METRICS_TOKEN',
    type: 'string',
    default: '',
    shownDefault: '(none)',
    doc: 'When set, `/metrics` answers only requests with `Authorization: Bearer <token>` (compared in constant time).',
    parse: text,
  } as Setting<string>,
  report: {
    name: 'REPORT',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc: 'Print the leak report to stderr at exit when handles are still live.',
    parse: bool,
  } as Setting<boolean>,
  reportFile: {
    name: 'REPORT_FILE',
    type: 'path',
    default: '',
    shownDefault: '(none)',
    doc: 'Also write the exit report as JSON to this file (written even when nothing leaked); `%p` in it becomes the process id, one file per process (test workers).',
    parse: text,
  } as Setting<string>,
  codeCache: {
    name: 'CODE_CACHE',
    type: '`on` \\| `off` \\| an absolute path',
    default: 'on',
    shownDefault: '`on`',
    doc:
      "Runs the agent's start code from a V8 code cache, which saves compiling it at every start but the first of each " +
      'agent build, Node.js release and set of Node.js options (the 32 newest files are kept). `off`: compile it every time. ' +
      "An absolute path: the cache's directory, which must be the user's own and writable by no one else (on POSIX; on " +
      'Windows its permissions are yours to set); by default `sspi-agent-code-cache-<uid>` in the temporary directory, ' +
      'on Windows `sspi-agent\\code-cache` in `LOCALAPPDATA`.',
    // Listed for the docs and the warning: the start code's loader reads it, before this table is loaded.
    parse: (raw) => (codeCacheSetting(raw) === undefined ? undefined : raw.trim()),
  } as Setting<string>,
  debug: {
    name: 'DEBUG',
    type: 'boolean',
    default: false,
    shownDefault: '`0`',
    doc: 'Print startup and hook diagnostics to stderr.',
    parse: bool,
  } as Setting<boolean>,
} as const;

type Settings = typeof SETTINGS;
export type AgentConfig = { -readonly [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };
