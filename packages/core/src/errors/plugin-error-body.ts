// edgemicro's body for a plugin failure (reference §4.9): `{"message": …}` plus the error's own
// fields, `"str"` for a string, the JSON of any other value.

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
