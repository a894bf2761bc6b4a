// Node only: safetensors files by path (the format itself is in safetensors.ts, portable).
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type NamedTensor } from '../../io/safetensors.js';

/** Writes `tensors` (and `metadata`) to `path` atomically: readers see the old file or the new one. */
export async function saveSafetensors(path: string, tensors: readonly NamedTensor[], metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a safetensors file into fresh tensors on the current backend; FormatError names `path`. */
export async function loadSafetensors(path: string): Promise<DecodedSafetensors> {
  return decodeSafetensors(await readFile(path), path);
}
