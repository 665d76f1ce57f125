// validate_k8s.mjs: checks Kubernetes objects against the official OpenAPI
// schema (npm kubernetes-models, pinned by tools/npm-schemas.sh) and Kueue's
// v1beta1 objects against tests/fixtures/kueue-v1beta1.schema.json.
//
//   K8S_NODE_MODULES=build/npm-schemas/node_modules node validate_k8s.mjs FILE...
//
// Each FILE holds one object, a JSON array of objects, or JSON lines.  Prints
// one line per object ("ok Kind name" or "invalid Kind name: why") and
// exits 1 when any is invalid or of a kind it does not know.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.K8S_NODE_MODULES;
// by file: the packages' "exports" serve import conditions only
const load = (m) => import(pathToFileURL(join(modules, m)).href);

const core = {
  "batch/v1 Job": "kubernetes-models/batch/v1/Job.js",
  "v1 Namespace": "kubernetes-models/v1/Namespace.js",
  "v1 ServiceAccount": "kubernetes-models/v1/ServiceAccount.js",
  "v1 Pod": "kubernetes-models/v1/Pod.js",
  "rbac.authorization.k8s.io/v1 Role": "kubernetes-models/rbac.authorization.k8s.io/v1/Role.js",
  "rbac.authorization.k8s.io/v1 RoleBinding": "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding.js",
};

const kueueSchema = JSON.parse(readFileSync(join(here, "../fixtures/kueue-v1beta1.schema.json"), "utf8"));
const Ajv = (await load("ajv/dist/ajv.js")).default;
const addFormats = (await load("ajv-formats/dist/index.js")).default;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ $id: "kueue", definitions: kueueSchema.definitions });

function kueueCheck(o) {
  const k = kueueSchema.kinds[o.kind];
  if (!k) throw new Error(`unknown Kueue kind ${o.kind}`);
  const errs = [];
  const run = (ref, data, at) => {
    const v = ajv.getSchema("kueue" + ref);
    if (!v(data)) errs.push(...v.errors.map((e) => `${at}${e.instancePath} ${e.message}`));
  };
  run("#/definitions/metadata", o.metadata, "metadata");
  if (k.scope === "Cluster" && o.metadata.namespace) errs.push("a cluster-scoped object has a namespace");
  if (k.spec) run(k.spec, o.spec ?? {}, "spec");
  if (k.object) run(k.object, o, "");
  const extra = Object.keys(o).filter((x) => !["apiVersion", "kind", "metadata", "spec", "status"].includes(x));
  if (extra.length) errs.push(`unknown top-level fields ${extra}`);
  if (errs.length) throw new Error(errs.join("; "));
}

function objects(text) {
  text = text.trim();
  if (!text) return [];
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v : [v];
  } catch {
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  }
}

let bad = 0;
for (const f of process.argv.slice(2)) {
  for (const o of objects(readFileSync(f, "utf8"))) {
    const what = `${o.kind} ${o.metadata?.name}`;
    try {
      if (o.apiVersion === "kueue.x-k8s.io/v1beta1") kueueCheck(o);
      else {
        const m = core[`${o.apiVersion} ${o.kind}`];
        if (!m) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
        const cls = Object.values(await load(m))[0];
        new cls(o).validate();
      }
      console.log(`ok ${what}`);
    } catch (e) {
      bad++;
      console.log(`invalid ${what}: ${e.message}`);
    }
  }
}
process.exit(bad ? 1 : 0);
