/** Reading a JSON file (Node only). */
import { readFile } from 'node:fs/promises';

/**
 * The parsed content of the JSON file at `path`. `fail` makes the error for a file that cannot be
 * read or is not JSON; neither error carries the file's content (a key file's, say). With
 * `missingIsUndefined`, a file that does not exist yet reads as undefined (JSON never parses to it).
 */
export async function readJson(
  path: string,
  fail: (problem: 'unreadable' | 'invalid') => Error,
  options: { readonly missingIsUndefined?: boolean } = {},
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (options.missingIsUndefined === true && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail('unreadable');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fail('invalid');
  }
}
