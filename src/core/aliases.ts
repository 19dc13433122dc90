// Placeholder: the alias table is being ported (see docs/ARCHITECTURE.md).
export function resolveModelAlias(modelId: string): string {
  return modelId;
}
