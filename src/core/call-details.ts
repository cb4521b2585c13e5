/**
 * The details of one SSPI call a listener may ask for (call spans' attributes): which kind of handle
 * it was about, its package and direction, and under Negotiate the package its token shows. Read from
 * the call's facts and the live handles before the call changes them; built only for a captured call
 * of a function a listener's capture names.
 */
import type { ObservedCall } from './observed-call.js';
import { credentialDirection } from '../sspi/credential-use.js';
import type { HandleView } from './handle-store.js';
import { NEGOTIATE_PACKAGE, packageLabel } from '../sspi/packages.js';
import { isHandleKey, type CallDetails, type HandleKind, type ReadHandle, type TrackedHandle } from '../types.js';

function live(registry: HandleView, kind: HandleKind, key: ReadHandle): TrackedHandle | undefined {
  return isHandleKey(key) ? registry.get(kind, key) : undefined;
}

function ofHandle(kind: HandleKind, handle: TrackedHandle | undefined): CallDetails {
  return { kind, package: handle?.package, direction: handle?.direction, credentialUse: undefined };
}

export function callDetails(registry: HandleView, call: ObservedCall): CallDetails {
  const { fn } = call;
  switch (fn.role) {
    case 'acquire-credential':
      return {
        kind: 'credential',
        package: packageLabel(call.packageName),
        direction: credentialDirection(call.credentialUse),
        credentialUse: call.credentialUse,
      };
    case 'init-context':
    case 'accept-context': {
      const pkg = (live(registry, 'context', call.context) ?? live(registry, 'credential', call.credential))?.package;
      const direction = fn.role === 'init-context' ? 'outbound' : 'inbound';
      return { kind: 'context', package: pkg, direction, credentialUse: undefined, negotiated: pkg === NEGOTIATE_PACKAGE && call.tokenVerdict?.settled ? call.tokenVerdict.pkg : undefined };
    }
    case 'import-context':
      return { kind: 'context', package: packageLabel(call.packageName), direction: 'unknown', credentialUse: undefined };
    case 'allocate-buffer':
      return { kind: 'buffer', package: call.packageName === undefined ? undefined : packageLabel(call.packageName), direction: undefined, credentialUse: undefined };
    case 'free-buffer':
      return ofHandle('buffer', live(registry, 'buffer', call.buffer));
    case 'free-credential':
      return ofHandle('credential', live(registry, 'credential', call.credential));
    default:
      // Context calls (Delete, CompleteAuthToken, queries, signatures) and credential calls.
      if (fn.contextArg !== undefined) return ofHandle('context', live(registry, 'context', call.context));
      if (fn.credentialArg !== undefined) return ofHandle('credential', live(registry, 'credential', call.credential));
      return { kind: undefined, package: undefined, direction: undefined, credentialUse: undefined };
  }
}
