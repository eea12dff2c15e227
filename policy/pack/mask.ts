/**
 * The policy SDK hands policies plain values: a secret arrives as its plaintext, an unknown (a value known only after
 * the update) as a sentinel that throws when read. probatio's rules want neither: a secret must read as "[secret]"
 * (or `no-plaintext-secret` could not tell a secret from a plaintext password, and would see its value), an unknown as
 * "[unknown]" (as they do under `probatio plan`'s mocks). The SDK's server deserializes every request's properties
 * through this module's export, so wrapping it masks them before any policy reads them.
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/** Pulumi's wire signatures: a secret's wrapper, and the unknown value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function mask(value: unknown): unknown {
  if (value === UNKNOWN) return "[unknown]";
  if (Array.isArray(value)) return value.map(mask);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return "[secret]";
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, mask(v)]));
  }
  return value;
}

let installed = false;

export function maskSecretsAndUnknowns(): void {
  if (installed) return;
  installed = true;
  const deserialize = require("@pulumi/policy/deserialize") as {
    deserializeProperties: (s: Struct, proxySecrets: boolean) => Record<string, unknown>;
  };
  const original = deserialize.deserializeProperties;
  deserialize.deserializeProperties = (s, proxySecrets) =>
    original(Struct.fromJavaScript(mask(s.toJavaScript()) as Parameters<typeof Struct.fromJavaScript>[0]), proxySecrets);
}
