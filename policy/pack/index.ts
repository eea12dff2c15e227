/**
 * probatio's policy pack: the rules of policy/rules.ts, run by the Pulumi engine on every `preview` and `up` the CLI
 * makes (the same rules `probatio plan` evaluates offline). A rule that reads one resource is a resource policy (the
 * engine asks it before the resource is created or changed); a rule that needs the others is a stack policy.
 *
 * The engine launches this pack through `analyzer` (an executable analyzer plugin, beside this file once built).
 */
import { PolicyPack, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PolicyResource, Rule, rules } from "../rules";
import { maskSecretsAndUnknowns } from "./mask";

maskSecretsAndUnknowns();

const asResource = (r: { type: string; name: string; props: Record<string, unknown>; opts: { protect: boolean } }): PolicyResource => ({
  type: r.type,
  name: r.name,
  inputs: r.props,
  protect: r.opts.protect,
});

/** How each violation reads in the engine's output: the resource, then the rule's message (which names the fix). */
const report = (rule: Rule, r: PolicyResource, all: readonly PolicyResource[], violation: ReportViolation, urn?: string) => {
  let messages: string[];
  try {
    messages = rule.check(r, all);
  } catch (err) {
    // A rule that cannot read what it was handed fails closed, saying why (the SDK's own report drops the cause).
    messages = [`could not be checked (${err instanceof Error ? err.message : String(err)}): this is a bug of the rule; report it`];
  }
  for (const message of messages) violation(`${r.type} ${r.name} ${message}`, urn);
};

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = rules.map((rule) =>
  rule.needsAll
    ? {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.level,
        validateStack: (args, violation) => {
          const all = args.resources.map(asResource);
          args.resources.forEach((r, i) => report(rule, all[i], all, violation, r.urn));
        },
      }
    : {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.level,
        validateResource: (args, violation) => {
          const r = asResource(args);
          report(rule, r, [r], violation);
        },
      },
);

new PolicyPack("probatio", { policies });
