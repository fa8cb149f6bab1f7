// Validates an AsyncAPI document with the AsyncAPI initiative's own parser (@asyncapi/parser),
// the same one its CLI and generators use. Prints every diagnostic; exits 1 on any error.
//   node validate.mjs docs/asyncapi.yaml
import fs from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const file = process.argv[2];
const { document, diagnostics } = await new Parser().parse(fs.readFileSync(file, 'utf8'));
for (const d of diagnostics) {
  console.log(`${d.severity} ${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (!document || errors.length > 0) {
  console.error(`${file}: ${errors.length} error(s)`);
  process.exit(1);
}
console.log(
  `${file}: valid AsyncAPI ${document.version()}, ${document.allMessages().length} messages, ` +
    `${document.operations().length} operations`,
);
