// Makes a Windows node.exe (Node 24 on) start under a Wine without VirtualAlloc2 placeholders (Wine
// 8.0, Debian 12): V8 looks VirtualAlloc2 up by name in kernelbase.dll at run time and, when the
// lookup fails as on Windows before 10 1803, reserves its tables' address space with plain
// VirtualAlloc. Renaming that one name string makes the lookup fail. Only the windows lane's own
// copy is changed (scripts/windows-lane.sh), and only when the untouched build cannot start.
// Usage: node scripts/wine-node-exe.mjs <node.exe>
import { readFileSync, writeFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/wine-node-exe.mjs <node.exe>');
  process.exit(2);
}
// NUL on both sides: the whole name, not a suffix of a longer one. A linker may share a string's
// tail with shorter strings, never its head, so changing the first letter touches this name only.
const NAME = Buffer.from('\0VirtualAlloc2\0', 'latin1');
const exe = readFileSync(file);
const at = exe.indexOf(NAME);
if (at < 0 || exe.indexOf(NAME, at + 1) >= 0) {
  console.error(`wine-node-exe: expected the name VirtualAlloc2 exactly once in ${file}, found it ${at < 0 ? 'no' : 'more than one'} time(s)`);
  process.exit(1);
}
exe[at + 1] = 'X'.charCodeAt(0);
writeFileSync(file, exe);
