// Chain IDs (OCI image-spec, config.md "Layer ChainID"): ChainID(L0) = DiffID(L0);
// ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). A snapshot is named by the chain
// ID of its layer and all layers below, so identical stacks share snapshots across images.
import { createHash } from 'node:crypto';

export function chainIDs(diffIDs: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}
