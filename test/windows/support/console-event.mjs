// Runs in Windows' node.exe under Wine (not under the agent): starts an app in a second node.exe,
// waits until it prints `"ready"`, sends it a console control event, and prints one JSON line: how
// the app ended (its full 32-bit Windows exit code), and what it printed.
//
//   node.exe console-event.mjs <event> <timeoutMs> -- <node.exe arguments of the app…>
//
// Delivered the way Windows itself delivers one: the console host starts a thread in the process at
// kernelbase's CtrlRoutine with the event as its argument, which calls the process's handlers (libuv's
// turns CTRL_C_EVENT 0 into SIGINT, CTRL_BREAK_EVENT 1 into SIGBREAK, CTRL_CLOSE_EVENT 2 into SIGHUP)
// and, when none takes it, the default one that ends the process. GenerateConsoleCtrlEvent cannot
// be used under Wine 8.0: its wineserver answers STATUS_NOT_IMPLEMENTED for every event but
// CTRL_C_EVENT, and needs a console the lane's processes (stdio on files) do not have.
import koffi from 'koffi';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [eventArg, timeoutArg, separator, ...appArgs] = process.argv.slice(2);
if (separator !== '--' || appArgs.length === 0) throw new Error('usage: console-event.mjs <event> <timeoutMs> -- <app arguments>');
const event = Number(eventArg);
const timeoutMs = Number(timeoutArg);

const kernel32 = koffi.load('kernel32.dll');
const OpenProcess = kernel32.func('void *__stdcall OpenProcess(uint32 access, int inherit, uint32 pid)');
const GetModuleHandleW = kernel32.func('void *__stdcall GetModuleHandleW(str16 name)');
const GetProcAddress = kernel32.func('void *__stdcall GetProcAddress(void *module, str name)');
const CreateRemoteThread = kernel32.func(
  'void *__stdcall CreateRemoteThread(void *process, void *attributes, size_t stack, void *start, uintptr_t parameter, uint32 flags, _Out_ uint32 *threadId)',
);
const CloseHandle = kernel32.func('int __stdcall CloseHandle(void *handle)');
const GetLastError = kernel32.func('uint32 __stdcall GetLastError()');

// PROCESS_CREATE_THREAD | PROCESS_VM_OPERATION | PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_QUERY_INFORMATION
const THREAD_ACCESS = 0x2 | 0x8 | 0x10 | 0x20 | 0x400;

/** Starts CtrlRoutine(event) in process `pid`: kernelbase.dll is at the same address in every process of a session. */
function sendConsoleEvent(pid) {
  const routine = GetProcAddress(GetModuleHandleW('kernelbase.dll'), 'CtrlRoutine');
  if (!routine) throw new Error(`kernelbase.dll has no CtrlRoutine (error ${GetLastError()})`);
  const target = OpenProcess(THREAD_ACCESS, 0, pid);
  if (!target) throw new Error(`OpenProcess(${pid}) failed: error ${GetLastError()}`);
  try {
    const thread = CreateRemoteThread(target, null, 0, routine, event, 0, [0]);
    if (!thread) throw new Error(`CreateRemoteThread failed: error ${GetLastError()}`);
    CloseHandle(thread);
  } finally {
    CloseHandle(target);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'console-event-'));
const outFile = join(dir, 'stdout.txt');
const errFile = join(dir, 'stderr.txt');
const out = openSync(outFile, 'w');
const err = openSync(errFile, 'w');
const app = spawn(process.execPath, appArgs, { stdio: ['ignore', out, err] });
closeSync(out);
closeSync(err);

let sentAt;
let timedOut = false;
const waitForReady = setInterval(() => {
  if (!readFileSync(outFile, 'utf8').includes('"ready"')) return;
  clearInterval(waitForReady);
  sentAt = Date.now();
  sendConsoleEvent(app.pid);
}, 50);
const deadline = setTimeout(() => {
  timedOut = true;
  app.kill();
}, timeoutMs);

app.on('exit', (code) => {
  clearInterval(waitForReady);
  clearTimeout(deadline);
  const read = (file) => readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  const result = { event, sent: sentAt !== undefined, timedOut, exitCode: code, msAfterEvent: sentAt && Date.now() - sentAt, stdout: read(outFile), stderr: read(errFile) };
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
});
