// A node:test reporter that writes nothing until the run ends, then prints the time each test file took and lists
// every failed test with the start of its error. `npm test` runs it after the TAP reporter, so a CI log that keeps
// only its tail still names what failed.
import { FileTimes } from './file-times.mjs';

// A failure's error is cut to this much; long lines (a test's one-line diagnosis) are folded, not cut.
const MAX_CHARS_PER_FAILURE = 8000;
const FOLD_AT = 200;
/** What of each error the closing brief keeps. */
const BRIEF_CHARS = 400;

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
  // A test's diagnostics (t.diagnostic) are reported after its result, at its nesting, before the next test's events.
  let open;
  const times = new FileTimes();
  for await (const event of source) {
    times.note(event);
    const { data } = event;
    if (event.type === 'test:diagnostic') {
      // The run's own summary (tests, pass, fail...) comes as diagnostics too, with no file.
      if (open && data.nesting === open.nesting && data.file === open.file) open.diagnostics.push(data.message);
      continue;
    }
    if (event.type === 'test:start' || event.type === 'test:pass' || event.type === 'test:fail') open = undefined;
    if (event.type !== 'test:fail') continue;
    // A suite or file fails because a test inside it did; that test is listed on its own.
    if (data.details?.error?.failureType === 'subtestsFailed') continue;
    open = { ...data, diagnostics: [] };
    failures.push(open);
  }
  const out = times.lines();
  if (failures.length === 0) {
    if (out.length > 0) yield `${out.join('\n')}\n`;
    return;
  }
  out.push(`# ---- ${failures.length} failed test(s), with their errors ----`);
  for (const data of failures) {
    out.push(`# FAILED ${where(data)} ${data.name}`);
    let text = [errorText(data.details?.error), ...data.diagnostics].join('\n');
    if (text.length > MAX_CHARS_PER_FAILURE)
      text = `${text.slice(0, MAX_CHARS_PER_FAILURE)} (${text.length - MAX_CHARS_PER_FAILURE} more characters)`;
    for (const line of text.split('\n')) {
      for (let i = 0; i === 0 || i < line.length; i += FOLD_AT) out.push(`#   ${line.slice(i, i + FOLD_AT)}`);
    }
  }
  // Each failure once more in brief, last, where even a short tail of the log shows every one of them.
  out.push(`# ---- in brief ----`);
  for (const data of failures) {
    const brief = errorText(data.details?.error).replace(/\s+/g, ' ').trim();
    out.push(
      `# ${where(data)} "${data.name}": ${brief.length > BRIEF_CHARS ? `${brief.slice(0, BRIEF_CHARS)}...` : brief}`,
    );
  }
  out.push(`# ---- failed: ${failures.map((d) => `${where(d)} "${d.name}"`).join('; ')} ----`);
  yield `${out.join('\n')}\n`;
}
