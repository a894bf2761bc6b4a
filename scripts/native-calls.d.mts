// Types of scripts/native-calls.mjs, for the tests that import it.
export interface CallTable {
  enums: Record<string, { values: string[]; covers?: { type: string; from: string; import?: string }; params?: Record<string, string[]> }>;
  groups: Record<string, string>;
  functions: Record<string, [signature: string, returns: string]>;
  /** Family name -> its first function (the generated readers go to one C++ file per family). */
  families?: Record<string, string>;
}
export interface NormalizedTable {
  enums: { name: string; values: string[] }[];
  functions: { name: string; args: { name: string; type: string; group?: string }[]; returns: string; required: number; family: string }[];
  families: string[];
}
export const OUTPUTS: { header: string; source: string; typescript: string };
export function familySource(family: string): string;
export function familyHeader(family: string): string;
export function generatedSources(table: CallTable): string[];
export function normalize(table: CallTable): NormalizedTable;
export function fingerprint(table: NormalizedTable): string;
export function generate(table: CallTable): Record<string, string>;
export function staleFiles(table: CallTable, dir?: string): string[];
export function loadTable(file?: string): Promise<CallTable>;
