/**
 * The recogniser's classes from PaddleOCR's dictionary file: the blank (class 0), one class per line
 * of the file, then a space (PaddleOCR's `use_space_char`, on for PP-OCRv4). Lines lose only their
 * line ending, as PaddleOCR reads them; a trailing newline at the end of the file adds no class.
 */
export function charsetFromDictionary(text: string): string[] {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
