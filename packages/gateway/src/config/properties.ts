/**
 * Reads Java-style `.properties` text (TorchServe's config.properties): `key=value` or `key: value`,
 * `#`/`!` comments, backslash line continuations, `$$VAR$$` references to environment variables.
 */
export function parseProperties(text: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.trimStart();
    }
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    const key = (match ? match[1]! : line).replace(/\\(.)/g, '$1');
    const raw = match ? match[2]! : '';
    out[key] = raw.trimEnd().replace(/\$\$(\w+)\$\$/g, (_m, name: string) => env[name] ?? '');
  }
  return out;
}
