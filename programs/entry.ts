// Entry of the on-disk Pulumi.yaml project (`pulumi preview` in a user's CI): the same program the CLI runs inline.
import { buildPhase } from "./phase";
import { readSettings } from "./settings";

export = async () => buildPhase(readSettings());
