import { didYouMeanSuffix } from '@model-server/gateway/launch';

/** A flag of one command: TorchServe's spelling first, then aliases. */
export interface FlagSpec {
  /** Canonical name, without dashes (`model-store`). */
  readonly name: string;
  readonly aliases?: readonly string[];
  /** `none`: a switch; `one`: one value; `many`: every following value up to the next flag (TorchServe's `--models a b`). */
  readonly takes: 'none' | 'one' | 'many';
  /** Placeholder of the value in the help text. */
  readonly arg?: string;
  readonly help: string;
  /** Set for TorchServe flags this server does not have: using one is refused with this message. */
  readonly unsupported?: string;
}

export type Command = 'start' | 'stop' | 'status' | 'help' | 'version';

export interface ParsedArgs {
  command: Command;
  /** The command whose help was asked for (`model-server start --help`). */
  helpFor?: Command | undefined;
  values: Record<string, string | string[] | boolean>;
}

export class UsageError extends Error {}

/** Flags that pick the command, as TorchServe spells them (`torchserve --start`). */
const COMMAND_FLAGS: Readonly<Record<string, Command>> = { '--start': 'start', '--stop': 'stop', '-v': 'version', '--version': 'version', '-h': 'help', '--help': 'help' };
const COMMANDS: readonly Command[] = ['start', 'stop', 'status', 'help', 'version'];

function flagIndex(specs: readonly FlagSpec[]): Map<string, FlagSpec> {
  const index = new Map<string, FlagSpec>();
  for (const spec of specs) for (const n of [spec.name, ...(spec.aliases ?? [])]) index.set(n.length === 1 ? `-${n}` : `--${n}`, spec);
  return index;
}

/**
 * Parses `model-server [command] [flags]`. The command is a word (`start`) or TorchServe's flag form
 * (`--start`, `--stop`, `-v`); `--foreground` alone means start. `--flag=value` and `--flag value`
 * both work; a `many` flag takes values up to the next flag, and may be repeated.
 */
export function parseArgs(argv: readonly string[], flagsOf: (command: Command) => readonly FlagSpec[]): ParsedArgs {
  let command: Command | undefined;
  let help = false;
  const rest: string[] = [];
  for (const token of argv) {
    const byFlag = COMMAND_FLAGS[token];
    const word = command === undefined && rest.length === 0 && (COMMANDS as readonly string[]).includes(token) ? (token as Command) : undefined;
    const picked = word ?? (byFlag === 'help' ? undefined : byFlag);
    if (byFlag === 'help') help = true;
    else if (picked) {
      if (command !== undefined && command !== picked) throw new UsageError(`${token} conflicts with ${command}: give one command`);
      command = picked;
    } else rest.push(token);
  }
  if (command === undefined && rest.includes('--foreground')) command = 'start';
  if (help) return { command: 'help', helpFor: command === 'help' ? undefined : command, values: {} };
  if (command === undefined) {
    if (rest.length === 0) return { command: 'help', values: {} };
    const first = rest[0]!;
    if (!first.startsWith('-')) throw new UsageError(`unknown command "${first}"${didYouMeanSuffix(first, COMMANDS)}`);
    command = 'start';
  }
  if (command === 'help') {
    const about = rest[0] as Command | undefined;
    if (about !== undefined && !(COMMANDS as readonly string[]).includes(about)) throw new UsageError(`no help for "${about}": the commands are ${COMMANDS.join(', ')}`);
    return { command: 'help', helpFor: about, values: {} };
  }
  return { command, values: parseFlags(rest, flagsOf(command), command) };
}

function parseFlags(tokens: readonly string[], specs: readonly FlagSpec[], command: Command): Record<string, string | string[] | boolean> {
  const index = flagIndex(specs);
  const values: Record<string, string | string[] | boolean> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('-') || token === '-') throw new UsageError(`unexpected argument "${token}" (flags of ${command} start with --)`);
    const eq = token.indexOf('=');
    const flag = eq > 0 ? token.slice(0, eq) : token;
    const inline = eq > 0 ? token.slice(eq + 1) : undefined;
    const spec = index.get(flag);
    if (!spec) throw new UsageError(`unknown flag ${flag} for ${command}${didYouMeanSuffix(flag, index.keys())}; see model-server ${command} --help`);
    if (spec.unsupported) throw new UsageError(`${flag} is not supported: ${spec.unsupported}`);
    if (spec.takes === 'none') {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      values[spec.name] = true;
      continue;
    }
    const taken: string[] = inline !== undefined ? [inline] : [];
    if (inline === undefined) {
      while (i + 1 < tokens.length && !tokens[i + 1]!.startsWith('-')) {
        taken.push(tokens[++i]!);
        if (spec.takes === 'one') break;
      }
    }
    if (taken.length === 0) throw new UsageError(`${flag} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
    if (spec.takes === 'one') {
      if (values[spec.name] !== undefined) throw new UsageError(`${flag} is given twice`);
      values[spec.name] = taken[0]!;
    } else {
      values[spec.name] = [...((values[spec.name] as string[] | undefined) ?? []), ...taken];
    }
  }
  return values;
}

/** One line per flag: the flag and its aliases, its value, what it does. */
export function flagLines(specs: readonly FlagSpec[]): string {
  const shown = specs.filter((s) => !s.unsupported);
  const head = (s: FlagSpec): string =>
    [s.name, ...(s.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ') + (s.arg ? ` ${s.arg}` : '');
  const width = Math.max(...shown.map((s) => head(s).length));
  return shown.map((s) => `  ${head(s).padEnd(width)}  ${s.help}`).join('\n');
}
