/**
 * TorchServe's `vmargs` are flags of its Java frontend. A config.properties brought over from it
 * carries them (`-Xmx4g -XX:+UseContainerSupport`), and this server runs node: each JVM flag is named
 * with the node flag that does the same job, where one exists, so the message tells the user exactly
 * what to write instead.
 */

const JVM_FLAG = /^-(X|D|XX:|verbose:|javaagent|agentlib|server$|client$|ea$|da$)/;

/** Whether a vmargs token is a Java flag rather than a node one. */
export function isJvmFlag(token: string): boolean {
  return JVM_FLAG.test(token);
}

const UNIT_BYTES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `4g` -> bytes; undefined when it is no JVM size. */
function jvmSize(text: string): number | undefined {
  const match = /^(\d+)([kmgt]?)$/i.exec(text);
  return match ? Number(match[1]) * UNIT_BYTES[match[2]!.toLowerCase()]! : undefined;
}

export interface JvmTranslation {
  /** The node flag, or undefined when node has none. */
  node: string | undefined;
  /** Why, when there is no node flag (or what to know about the one given). */
  note?: string;
}

/** The node counterpart of one JVM flag. */
export function translateJvmFlag(flag: string): JvmTranslation {
  let size: number | undefined;
  if (flag.startsWith('-Xmx') && (size = jvmSize(flag.slice(4))) !== undefined) {
    return { node: `--max-old-space-size=${Math.ceil(size / 1024 ** 2)}` };
  }
  if (flag.startsWith('-Xss') && (size = jvmSize(flag.slice(4))) !== undefined) {
    return { node: `--stack-size=${Math.ceil(size / 1024)}`, note: 'V8 stack size in KB; keep it below the thread stack limit (ulimit -s)' };
  }
  if (flag.startsWith('-Xms')) return { node: undefined, note: 'V8 grows its heap as needed; only the maximum is set (-Xmx)' };
  if (flag === '-XX:+HeapDumpOnOutOfMemoryError') return { node: '--heapsnapshot-near-heap-limit=1' };
  if (flag === '-verbose:gc' || flag.startsWith('-Xlog:gc')) return { node: '--trace-gc' };
  if (/^-XX:[+-]?Use\w*GC$/.test(flag)) return { node: undefined, note: 'V8 has one garbage collector' };
  if (/^-XX:([+-]UseContainerSupport|(Max|Min|Initial)RAMPercentage=)/.test(flag)) {
    return { node: undefined, note: 'node sizes its heap from the memory it is given; set --max-old-space-size to fix it' };
  }
  if (flag.startsWith('-D')) return { node: undefined, note: 'Java system properties have no node form; use config keys or environment variables' };
  return { node: undefined, note: 'no node equivalent' };
}

/**
 * The message for a vmargs value holding JVM flags: the line to write instead, then each flag's fate.
 * `key` is the config key (`vmargs` or `worker_vmargs`).
 */
export function jvmFlagsMessage(key: string, tokens: readonly string[]): string {
  const replaced: string[] = [];
  const notes: string[] = [];
  for (const token of tokens) {
    if (!isJvmFlag(token)) {
      replaced.push(token);
      continue;
    }
    const t = translateJvmFlag(token);
    if (t.node) replaced.push(t.node);
    notes.push(t.node ? `${token} -> ${t.node}${t.note ? ` (${t.note})` : ''}` : `${token}: dropped, ${t.note}`);
  }
  return `holds JVM flags, and model-server runs node: write ${key}=${replaced.join(' ')} (${notes.join('; ')})`;
}
