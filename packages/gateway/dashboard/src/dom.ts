type Child = Node | string;

/** Creates an element. Text is always set as text, never parsed as HTML: model names and error messages come from clients and handlers. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Sets an element's text (and its raw value for readers such as tests), touching the DOM only on change. */
export function setText(el: Element, text: string, value?: number | string | null): void {
  if (el.textContent !== text) el.textContent = text;
  if (value !== undefined) {
    const raw = value === null ? '' : String(value);
    if (el.getAttribute('data-value') !== raw) el.setAttribute('data-value', raw);
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** The element with `data-field="name"` inside `root`. */
export function field(root: ParentNode, name: string): HTMLElement {
  const el = root.querySelector<HTMLElement>(`[data-field="${name}"]`);
  if (!el) throw new Error(`field ${name} is missing`);
  return el;
}
