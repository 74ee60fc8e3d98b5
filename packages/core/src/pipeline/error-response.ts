// edgemicro's error answer for a plugin failure (reference §4.9): the status the plugin set, or 500
// when it left a 2xx; body `{"message": …}` plus the error's own fields, `"str"` for a string; no
// content-type.

/** Status for a plugin error: what the plugin set (≥ 300, changed from `base`), else 500. */
export function pluginErrorStatus(current: number, base: number): number {
  return current >= 300 && current !== base ? current : 500;
}

export function pluginErrorBody(err: unknown): string {
  try {
    if (typeof err === 'string') return JSON.stringify(err);
    if (
      err instanceof Error ||
      (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
    ) {
      const out: Record<string, unknown> = { message: (err as { message: string }).message };
      for (const [k, v] of Object.entries(err as object)) if (k !== 'message' && k !== 'stack') out[k] = v;
      return JSON.stringify(out);
    }
    return JSON.stringify(err) ?? JSON.stringify(String(err));
  } catch {
    // Circular or otherwise unserialisable: fall back to the text form.
    return JSON.stringify({ message: String((err as { message?: unknown })?.message ?? err) });
  }
}

/** Loggable text of any thrown value. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
