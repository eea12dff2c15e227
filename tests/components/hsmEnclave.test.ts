import { byType, mock } from "../helpers";
import { HsmEnclave, validateHsmEnclaveArgs } from "../../components/hsmEnclave";

describe("HsmEnclave", () => {
  test("OVHcloud KMS, protected AES-256 and EC P-256 service keys, an mTLS credential for the backend", async () => {
    const run = await mock(
      () =>
        new HsmEnclave("hsm", {
          stack: "prod",
          identityUrns: ["urn:v1:eu:identity:account:xx-ovh"],
          hsmSubnet: "10.0.30.0/24",
          backendSubnet: "10.0.10.0/24",
        }),
    );
    const kms = byType(run, "ovh:Okms/okms:Okms")[0];
    expect(kms.protect).toBe(true);
    expect(kms.inputs).toMatchObject({ ovhSubsidiary: "FR", region: "eu-west-rbx" });
    const keys = byType(run, "ovh:Okms/serviceKey:ServiceKey");
    expect(keys.map((k) => [k.inputs.name, k.inputs.type, k.protect])).toEqual([
      ["prod-master-key", "oct", true],
      ["prod-signing-key", "EC", true],
    ]);
    expect(keys[0].inputs).toMatchObject({ size: 256, operations: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] });
    expect(byType(run, "ovh:Okms/credential:Credential")[0].inputs).toMatchObject({
      identityUrns: ["urn:v1:eu:identity:account:xx-ovh"],
      validity: 365,
    });
    expect(run.componentOutputs.hsm).toMatchObject({ port: 9000, allowedFrom: "10.0.10.0/24", subnet: "10.0.30.0/24" });
  });

  test("validation", () => {
    expect(() => validateHsmEnclaveArgs({ stack: "s", identityUrns: [], hsmSubnet: "a", backendSubnet: "b" })).toThrow(
      "argument 'identityUrns' must name the identity",
    );
    expect(() =>
      validateHsmEnclaveArgs({ stack: "s", identityUrns: ["u"], hsmSubnet: "a", backendSubnet: "b", credentialValidityDays: 400 }),
    ).toThrow("argument 'credentialValidityDays' must be 1-365");
  });
});
