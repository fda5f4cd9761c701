/** A signal that aborts once every one of `signals` has aborted (with the first one's reason). */
export function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  if (signals.length === 1) return signals[0]!;
  const controller = new AbortController();
  const check = (): void => {
    if (signals.every((s) => s.aborted)) controller.abort(signals[0]?.reason);
  };
  for (const s of signals) s.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}
