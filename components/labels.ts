/** Labels every machine carries so that inventories, monitoring and migrations can find it. */
export function machineLabels(role: string, phase: number, stack: string): Record<string, string> {
  return { "probatio-role": role, "probatio-phase": String(phase), "probatio-stack": stack };
}

/** Display name of a classic VPS: `<stack>-<role>-<n>` (n from 1). */
export function machineName(stack: string, role: string, index: number): string {
  return `${stack}-${role}-${index + 1}`;
}
