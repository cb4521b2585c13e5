/**
 * SSPI's handle rules, applied to the registry. A hook (koffi, or another binding) turns each call
 * into an `ObservedCall`, the facts read from its arguments, and this module decides what the call
 * did: a credential or context came to life, ended, or nothing changed.
 */
import { warnOnce } from './diagnostics.js';
import type { SspiFunction } from './sspi/functions.js';
import { packageLabel, OTHER_PACKAGE } from './sspi/packages.js';
import { isSuccess } from './sspi/status.js';
import type { HandleRegistry } from './registry.js';
import type { ReadHandle } from './hooks/handle-shapes.js';
import type { AllocationSite, Direction } from './types.js';

export interface ObservedCall {
  readonly fn: SspiFunction;
  /** The provider library's label. */
  readonly library: string;
  /** SECURITY_STATUS, signed. */
  readonly status: number;
  readonly durationSeconds: number;
  /** Read before the call: `pszPackage`, `fCredentialUse`, the existing handles passed in. */
  readonly packageName?: string | undefined;
  readonly credentialUse?: number | undefined;
  readonly credential?: ReadHandle;
  readonly context?: ReadHandle;
  /** Read after the call: the handle it wrote. */
  readonly outHandle?: ReadHandle;
  readonly site?: AllocationSite | undefined;
}

/** `fCredentialUse` may carry flags above the two direction bits (e.g. SECPKG_CRED_AUTOLOGON_RESTRICTED). */
export function credentialDirection(use: number | undefined): Direction {
  switch ((use ?? 0) & 3) {
    case 1:
      return 'inbound';
    case 2:
      return 'outbound';
    case 3:
      return 'both';
    default:
      return 'unknown';
  }
}

/** Whether a call can create a handle, so the hook knows to capture a stack before it runs. */
export function mayCreateHandle(fn: SspiFunction, context: ReadHandle): boolean {
  switch (fn.role) {
    case 'acquire-credential':
    case 'import-context':
      return true;
    case 'init-context':
    case 'accept-context':
      return context === null;
    default:
      return false;
  }
}

export function applyCall(registry: HandleRegistry, call: ObservedCall): void {
  registry.recordCall(call.fn.name, call.status, call.durationSeconds);
  switch (call.fn.role) {
    case 'acquire-credential':
      return openHandle(registry, call, 'credential', packageLabel(call.packageName), credentialDirection(call.credentialUse));
    case 'init-context':
    case 'accept-context':
      // Only the first call of a handshake (phContext NULL) creates the context; later calls reuse it.
      if (call.context !== null) return;
      return openContextFromCredential(registry, call);
    case 'import-context':
      return openHandle(registry, call, 'context', packageLabel(call.packageName), 'unknown');
    case 'free-credential':
      return releaseHandle(registry, 'credential', call);
    case 'delete-context':
      return releaseHandle(registry, 'context', call);
    case 'call':
      return;
  }
}

function openContextFromCredential(registry: HandleRegistry, call: ObservedCall): void {
  const credential = typeof call.credential === 'string' ? registry.get('credential', call.credential) : undefined;
  const direction: Direction = call.fn.role === 'init-context' ? 'outbound' : 'inbound';
  openHandle(registry, call, 'context', credential?.package ?? OTHER_PACKAGE, direction, credential);
}

function openHandle(
  registry: HandleRegistry,
  call: ObservedCall,
  kind: 'credential' | 'context',
  pkg: string,
  direction: Direction,
  credential = undefined as ReturnType<HandleRegistry['get']>,
): void {
  if (!isSuccess(call.status)) return;
  if (typeof call.outHandle !== 'string') {
    warnOnce(
      `unreadable-handle:${call.fn.name}`,
      `${call.fn.name} succeeded but the agent cannot read the handle it wrote (pass a {dwLower, dwUpper} object, ` +
        'a 16-byte Buffer, a pointer or a one-element array): handles made this way are not tracked',
    );
    return;
  }
  registry.open({
    kind,
    key: call.outHandle,
    package: pkg,
    direction,
    createdBy: call.fn.name,
    library: call.library,
    credential,
    site: call.site,
  });
}

function releaseHandle(registry: HandleRegistry, kind: 'credential' | 'context', call: ObservedCall): void {
  const key = kind === 'credential' ? call.credential : call.context;
  // NULL or an unreadable shape: nothing the agent handed out, so it is a release of an unknown handle.
  registry.release(kind, typeof key === 'string' ? key : '', call.status);
}
