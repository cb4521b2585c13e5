/**
 * Security package names as metric labels: the packages Windows and WinPR ship, by their canonical
 * name; anything else is `other`, so a hostile or odd name cannot grow the number of series.
 */

export const OTHER_PACKAGE = 'other';

/** The package that picks Kerberos or NTLM per context: the one whose contexts learn what ran. */
export const NEGOTIATE_PACKAGE = 'Negotiate';

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

/**
 * Names as apps spell them, mapped to their label: most calls pass the same literal ('NTLM'), whose
 * hash V8 has cached, so this spares lower-casing (a new string) on every call. Bounded, so hostile
 * names cannot grow it.
 */
const SPELLINGS = new Map<string, string>([...CANONICAL.values()].map((label) => [label, label]));
const MAX_SPELLINGS = 256;

export function packageLabel(name: unknown): string {
  if (typeof name !== 'string') return OTHER_PACKAGE;
  const known = SPELLINGS.get(name);
  if (known !== undefined) return known;
  const label = CANONICAL.get(name.toLowerCase()) ?? OTHER_PACKAGE;
  if (SPELLINGS.size < MAX_SPELLINGS) SPELLINGS.set(name, label);
  return label;
}
