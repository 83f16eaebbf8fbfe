// orch's own short descriptions for `kubectl explain`, merged into the generated definitions.
export const commonFieldDescriptions: Record<string, string> = {};
export const definitionDescriptions: Record<string, { description?: string; fields?: Record<string, string> }> = {};
