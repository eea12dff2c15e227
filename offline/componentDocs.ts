/**
 * The README's component tables, read from the components' Args types with the TypeScript compiler API: one row
 * per argument (nested object fields as `parent.child`), its type, its default (`@default`, or "required") and its
 * meaning (the JSDoc text). A tagged union of Args gets one table per variant.
 */
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import * as ts from "typescript";

/** The components documented, in the README's order. */
export const documentedComponents = [
  "machines",
  "vpsFleet",
  "privateNetwork",
  "securityGroups",
  "loadBalancerPair",
  "postgresCluster",
  "redisSentinel",
  "k8sPlatform",
  "hsmEnclave",
  "wormBucket",
] as const;

export interface ArgumentDoc {
  readonly name: string;
  readonly type: string;
  /** The `@default` text; undefined for a required argument. */
  readonly defaultValue?: string;
  readonly required: boolean;
  readonly meaning: string;
  /** A field the parent object needs when it is given (the parent itself is optional). */
  readonly requiredIn?: string;
}

type Declarations = ReadonlyMap<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>;

function jsDocOf(node: ts.Node): { text: string; defaultValue?: string } {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  const doc = docs[docs.length - 1];
  if (!doc) return { text: "" };
  const text = (ts.getTextOfJSDocComment(doc.comment) ?? "").replace(/\s+/g, " ").trim();
  const tag = doc.tags?.find((t) => t.tagName.text === "default");
  return { text, defaultValue: tag ? (ts.getTextOfJSDocComment(tag.comment) ?? "").replace(/\s+/g, " ").trim() : undefined };
}

/** Members of an interface, its `extends` first (declared in the same file). */
function membersOf(decl: ts.InterfaceDeclaration, decls: Declarations): ts.PropertySignature[] {
  const inherited = (decl.heritageClauses ?? []).flatMap((h) =>
    h.types.flatMap((t) => {
      const base = decls.get(t.expression.getText());
      return base && ts.isInterfaceDeclaration(base) ? membersOf(base, decls) : [];
    }),
  );
  const own = decl.members.filter(ts.isPropertySignature);
  const ownNames = new Set(own.map((m) => m.name.getText()));
  return [...inherited.filter((m) => !ownNames.has(m.name.getText())), ...own];
}

function argumentsOf(members: readonly ts.PropertySignature[], prefix: string, parentOptional: boolean): ArgumentDoc[] {
  return members.flatMap((m) => {
    const name = `${prefix}${m.name.getText()}`;
    const doc = jsDocOf(m);
    const optional = !!m.questionToken;
    const row: ArgumentDoc = {
      name,
      type: m.type && ts.isTypeLiteralNode(m.type) ? "object" : (m.type?.getText().replace(/\s+/g, " ") ?? "unknown"),
      defaultValue: doc.defaultValue,
      required: !optional && !parentOptional,
      meaning: doc.text,
      requiredIn: !optional && parentOptional ? prefix.slice(0, -1) : undefined,
    };
    const nested =
      m.type && ts.isTypeLiteralNode(m.type) ? argumentsOf(m.type.members.filter(ts.isPropertySignature), `${name}.`, optional) : [];
    return [row, ...nested];
  });
}

export interface ComponentDoc {
  readonly component: string;
  readonly file: string;
  /** One entry per variant of a tagged union, or one with variant undefined. */
  readonly tables: readonly { readonly variant?: string; readonly summary: string; readonly args: readonly ArgumentDoc[] }[];
}

export function componentDoc(root: string, file: string): ComponentDoc {
  // A component with variants keeps its Args in <file>Args.ts beside it.
  const argsPath = join(root, "components", `${file}Args.ts`);
  const path = existsSync(argsPath) ? argsPath : join(root, "components", `${file}.ts`);
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
  const decls = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
  source.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) decls.set(n.name.text, n);
  });
  // The Args type is named after the file (components/postgresCluster.ts declares PostgresClusterArgs); the machine
  // options every component shares are documented once, from components/machines.ts.
  const top = decls.get(file === "machines" ? "MachineOptions" : `${file[0].toUpperCase()}${file.slice(1)}Args`);
  if (!top) throw new Error(`${path}: no Args type named after the file`);
  const component = top.name.text.replace(/Args$/, "");
  const variantsOf = (d: ts.InterfaceDeclaration | ts.TypeAliasDeclaration): ts.InterfaceDeclaration[] => {
    if (ts.isInterfaceDeclaration(d)) return [d];
    if (ts.isUnionTypeNode(d.type))
      return d.type.types
        .map((t) => decls.get(t.getText()))
        .filter((x): x is ts.InterfaceDeclaration => !!x && ts.isInterfaceDeclaration(x));
    const target = decls.get(d.type.getText());
    return target ? variantsOf(target) : [];
  };
  const tables = variantsOf(top).map((v) => {
    const members = membersOf(v, decls);
    const tag = members.find((m) => m.name.getText() === "variant" && m.type && ts.isLiteralTypeNode(m.type));
    return {
      variant: tag ? tag.type!.getText().replace(/"/g, "") : undefined,
      summary: jsDocOf(v).text,
      args: argumentsOf(tag ? members.filter((m) => m !== tag) : members, "", false),
    };
  });
  return { component, file: `components/${file}.ts`, tables };
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function componentArgsDoc(root: string): string {
  const out: string[] = [];
  for (const file of documentedComponents) {
    const doc = componentDoc(root, file);
    out.push(`#### ${doc.component} (\`${doc.file}\`)`, "");
    for (const t of doc.tables) {
      if (t.variant) out.push(`Variant \`variant: "${t.variant}"\`${t.summary ? `: ${t.summary}` : ""}`, "");
      out.push("| argument | type | default | meaning |", "|---|---|---|---|");
      for (const a of t.args) {
        const def = a.defaultValue ?? (a.required ? "**required**" : a.requiredIn ? `required in \`${a.requiredIn}\`` : "none");
        out.push(`| \`${a.name}\` | \`${cell(a.type)}\` | ${cell(def)} | ${cell(a.meaning)} |`);
      }
      out.push("");
    }
  }
  return out.join("\n");
}
