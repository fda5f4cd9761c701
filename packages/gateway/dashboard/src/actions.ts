import { byId, setText } from './dom.js';
import { authHeaders } from './key-store.js';

export interface Confirmation {
  title: string;
  body: string;
  confirm: string;
  danger?: boolean;
  /** Asks for a worker count too. */
  workers?: { value: number; max: number };
}

/** Resolves with the confirmed value (the worker count, or true), or undefined when cancelled. */
export function confirmAction(c: Confirmation): Promise<number | true | undefined> {
  const dialog = byId<HTMLDialogElement>('confirm');
  const input = byId<HTMLInputElement>('confirm-input');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const cancel = byId<HTMLButtonElement>('confirm-cancel');
  setText(byId('confirm-title'), c.title);
  setText(byId('confirm-body'), c.body);
  setText(ok, c.confirm);
  ok.classList.toggle('danger', c.danger === true);
  byId('confirm-input-label').hidden = !c.workers;
  if (c.workers) {
    input.value = String(c.workers.value);
    input.max = String(c.workers.max);
  }
  return new Promise((resolve) => {
    const done = (result: number | true | undefined): void => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      input.removeEventListener('keydown', onKey);
      dialog.close();
      resolve(result);
    };
    const onOk = (): void => {
      if (!c.workers) return done(true);
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 0 || n > c.workers.max) {
        input.setCustomValidity(`0 to ${c.workers.max}`);
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      done(n);
    };
    const onCancel = (): void => done(undefined);
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Enter') onOk();
    };
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    input.addEventListener('keydown', onKey);
    dialog.showModal();
    (c.workers ? input : cancel).focus();
  });
}

/** Calls the management API (relative to the page) and returns its status message or error message. */
export async function management(method: 'PUT' | 'DELETE', path: string): Promise<{ ok: boolean; message: string }> {
  try {
    const res = await fetch(`..${path}`, { method, headers: authHeaders(), cache: 'no-store' });
    const body = (await res.json().catch(() => ({}))) as { status?: string; message?: string };
    return { ok: res.ok, message: body.status ?? body.message ?? `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function toast(message: string, ok: boolean): void {
  const el = byId('toast');
  setText(el, message);
  el.classList.toggle('error', !ok);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6_000);
}
