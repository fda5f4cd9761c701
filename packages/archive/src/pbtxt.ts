/**
 * A reader of protobuf text format, enough for Triton's config.pbtxt: `field: value`, `field { ... }`
 * (a colon before `{` is allowed), lists `[a, b]`, repeated fields, `#` comments, optional `,`/`;`
 * between fields. Values are numbers, strings (single or double quotes) and bare words (enums, true,
 * false). Without the schema, a field seen once is a single value and a repeated field an array;
 * {@link list} reads either as a list.
 */
export type PbValue = string | number | boolean | PbMessage | PbValue[];
export interface PbMessage {
  [field: string]: PbValue;
}

export class PbtxtError extends Error {}

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let out = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          const n = text[j + 1]!;
          out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else out += text[j++];
      }
      if (j >= text.length) throw new PbtxtError(`line ${line}: unterminated string`);
      tokens.push({ kind: 'string', text: out, line });
      i = j + 1;
    } else {
      const m = /^[-+]?(\d[\w.+-]*|\.\d[\w.+-]*|inf|nan)|^[A-Za-z_][\w.]*/i.exec(text.slice(i));
      if (!m) throw new PbtxtError(`line ${line}: unexpected character "${c}"`);
      const word = m[0];
      tokens.push({ kind: /^[-+]?(\d|\.\d)/.test(word) ? 'number' : 'word', text: word, line });
      i += word.length;
    }
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private next(what: string): Token {
    const t = this.tokens[this.at++];
    if (!t) throw new PbtxtError(`unexpected end of file, expected ${what}`);
    return t;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }

  message(close: string | undefined): PbMessage {
    const out: PbMessage = {};
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (close) throw new PbtxtError(`unexpected end of file, expected "${close}"`);
        return out;
      }
      if (close && t.kind === 'punct' && t.text === close) {
        this.at++;
        return out;
      }
      const name = this.next('a field name');
      if (name.kind !== 'word') throw new PbtxtError(`line ${name.line}: expected a field name, got "${name.text}"`);
      const hasColon = this.isPunct(':');
      if (hasColon) this.at++;
      const value = this.value(name.text, hasColon);
      const previous = out[name.text];
      if (previous === undefined) out[name.text] = value;
      else out[name.text] = [...(Array.isArray(previous) ? previous : [previous]), ...(Array.isArray(value) ? value : [value])];
      if (this.isPunct(',') || this.isPunct(';')) this.at++;
    }
  }

  private value(field: string, hadColon: boolean): PbValue {
    const t = this.next(`a value for ${field}`);
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) return this.message(t.text === '{' ? '}' : '>');
    if (t.kind === 'punct' && t.text === '[') {
      const items: PbValue[] = [];
      while (!this.isPunct(']')) {
        items.push(this.value(field, true));
        if (this.isPunct(',')) this.at++;
      }
      this.at++;
      return items;
    }
    if (!hadColon) throw new PbtxtError(`line ${t.line}: expected ":" or "{" after ${field}`);
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') {
      const n = Number(t.text);
      if (Number.isNaN(n)) throw new PbtxtError(`line ${t.line}: bad number "${t.text}" for ${field}`);
      return n;
    }
    if (t.kind === 'word') return t.text === 'true' ? true : t.text === 'false' ? false : t.text;
    throw new PbtxtError(`line ${t.line}: unexpected "${t.text}" for ${field}`);
  }
}

/** Parses config.pbtxt text; PbtxtError with the line on bad syntax. */
export function parsePbtxt(text: string): PbMessage {
  return new Parser(tokenize(text)).message(undefined);
}

/** A field as a list, whether it appeared once, several times, or as `[...]`. */
export function list(value: PbValue | undefined): PbValue[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A sub-message field, or undefined. */
export function messageField(value: PbValue | undefined): PbMessage | undefined {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}
