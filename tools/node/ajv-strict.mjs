// Compile tool schemas with Ajv, as JavaScript clients do, and report every one it refuses.
//
//   node ajv-strict.mjs LISTINGS.json
//
// LISTINGS.json maps a label to a tools/list result's `tools` array. Every inputSchema and
// outputSchema is compiled twice:
// - "2020-12 strict": Ajv's 2020-12 class (the dialect MCP names for tool schemas) with
//   `strict: true` (unknown keywords and formats, union types, loose tuples and types all
//   refused) and the formats of ajv-formats;
// - "default": Ajv's default class (draft-07), not strict, with ajv-formats: what a client that
//   never picks a dialect compiles with; its meta-schema refuses, for one, repeated enum values.
// Only whether a schema compiles matters, so the generated code is not optimised, and a schema
// met again (as JSON text) is not compiled again.
// Prints one JSON document: {"compiled": N, "failures": [{label, tool, schema, ajv, error}]}.

import { readFileSync } from "node:fs";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const checkers = {
  "2020-12 strict": new Ajv2020({ strict: true, code: { optimize: false } }),
  default: new Ajv({ strict: false, code: { optimize: false } }),
};
for (const ajv of Object.values(checkers)) addFormats(ajv);

const outcomes = new Map(); // a schema's JSON text → [[checker, Ajv's message], ...]
function refusals(schema) {
  const text = JSON.stringify(schema);
  if (!outcomes.has(text)) {
    const found = [];
    for (const [name, ajv] of Object.entries(checkers)) {
      try {
        ajv.compile(JSON.parse(text)); // a fresh object: Ajv caches compiled schemas by object
      } catch (error) {
        found.push([name, String(error.message)]);
      }
    }
    outcomes.set(text, found);
  }
  return outcomes.get(text);
}

const listings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const failures = [];
let compiled = 0;
for (const [label, tools] of Object.entries(listings)) {
  for (const tool of tools) {
    for (const key of ["inputSchema", "outputSchema"]) {
      if (tool[key] === undefined) continue;
      const found = refusals(tool[key]);
      if (found.length === 0) compiled += 1;
      for (const [ajv, error] of found) {
        failures.push({ label, tool: tool.name, schema: key, ajv, error });
      }
    }
  }
}
process.stdout.write(JSON.stringify({ compiled, failures }) + "\n");
