// A node:test reporter that writes nothing until the run ends, then lists every failed test with the start of its
// error. `npm test` runs it after the TAP reporter, so a CI log that keeps only its tail still names what failed.
const MAX_LINES_PER_FAILURE = 24;
const MAX_LINE = 400;

function errorText(error) {
  if (!error) return '(no error)';
  // node:test wraps what the test threw; the cause is what the test said.
  const inner = error.cause ?? error;
  const text = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
  return text;
}

function where(data) {
  if (!data.file) return '';
  return data.file.replace(/^.*\/(test\/[^/]+)$/, '$1');
}

export default async function* failureSummary(source) {
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { data } = event;
    // A suite or file fails because a test inside it did; that test is listed on its own.
    if (data.details?.error?.failureType === 'subtestsFailed') continue;
    failures.push(data);
  }
  if (failures.length === 0) return;
  const out = [`# ---- ${failures.length} failed test(s) ----`];
  for (const data of failures) {
    out.push(`# FAILED ${where(data)} ${data.name}`);
    const lines = errorText(data.details?.error).split('\n');
    for (const line of lines.slice(0, MAX_LINES_PER_FAILURE)) out.push(`#   ${line.slice(0, MAX_LINE)}`);
    if (lines.length > MAX_LINES_PER_FAILURE) out.push(`#   (${lines.length - MAX_LINES_PER_FAILURE} more lines)`);
  }
  out.push(`# ---- end of failed tests ----`);
  yield `${out.join('\n')}\n`;
}
