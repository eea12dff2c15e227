import * as pulumi from "@pulumi/pulumi";

/** Parent of the target phase while a side-by-side migration holds both phases in one stack. */
export class NextPhase extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:migration:NextPhase", name, {}, opts);
    this.registerOutputs({});
  }
}

export const nextPhaseName = (generation: number) => `next-g${generation}`;

/**
 * Options of a phase's top-level components in generation `g`: once a side-by-side migration's target moves to the
 * root, its components keep their identity through an alias to the NextPhase parent they were created under.
 */
export function generationOpts(g: number): pulumi.ComponentResourceOptions {
  return g > 1 ? { aliases: [{ parent: pulumi.createUrn(nextPhaseName(g), "probatio:migration:NextPhase") }] } : {};
}
