// Job spec.successPolicy (Indexed Jobs; beta on by default in 1.31, GA in 1.33): the Job succeeds
// as soon as one rule is met, as upstream's success_policy.go decides it.

/** Indexes in "0-2,4" below `completions`; an unparsable list yields none (the rule is skipped). */
export function parseIndexes(s: string, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return new Set();
    const first = Number(m[1]), last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) return new Set();
    for (let i = first; i <= Math.min(last, completions - 1); i++) out.add(i);
  }
  return out;
}

/**
 * The first rule of `policy.rules` the succeeded indexes meet: succeededIndexes (all of them
 * succeeded, or at least succeededCount of them when both are set) or succeededCount alone (that
 * many indexes succeeded). Returns upstream's condition message, or undefined.
 */
export function matchSuccessPolicy(policy: any, completions: number, succeeded: Set<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  const rules: any[] = policy.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    const count: number | undefined = typeof r?.succeededCount === 'number' ? r.succeededCount : undefined;
    if (typeof r?.succeededIndexes === 'string') {
      const want = parseIndexes(r.succeededIndexes, completions);
      if (want.size === 0) continue;
      let hit = 0;
      for (const x of want) if (succeeded.has(x)) hit++;
      if (hit === want.size || (count !== undefined && hit >= count)) return `Matched rules at index ${i}`;
    } else if (count !== undefined && succeeded.size >= count) {
      return `Matched rules at index ${i}`;
    }
  }
  return undefined;
}
