/**
 * Security package names as metric labels: the packages Windows and WinPR ship, by their canonical
 * name; anything else is `other`, so a hostile or odd name cannot grow the number of series.
 */

export const OTHER_PACKAGE = 'other';

const CANONICAL = new Map<string, string>(
  [
    ['NTLM', 'NTLM'],
    ['Kerberos', 'Kerberos'],
    ['Negotiate', 'Negotiate'],
    ['Schannel', 'Schannel'],
    // Schannel's provider goes by these names too (UNISP_NAME, the TLS SSP's display name).
    ['Microsoft Unified Security Protocol Provider', 'Schannel'],
    ['Default TLS SSP', 'Schannel'],
    ['CredSSP', 'CredSSP'],
    ['TSSSP', 'CredSSP'],
    ['Digest', 'Digest'],
    ['WDigest', 'Digest'],
    ['PKU2U', 'PKU2U'],
    ['Negoextender', 'NegoExtender'],
    ['CloudAP', 'CloudAP'],
  ].map(([name, label]) => [name!.toLowerCase(), label!]),
);

export function packageLabel(name: unknown): string {
  if (typeof name !== 'string') return OTHER_PACKAGE;
  return CANONICAL.get(name.toLowerCase()) ?? OTHER_PACKAGE;
}
