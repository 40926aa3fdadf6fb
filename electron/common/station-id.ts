// A station id made from a display name, for stations (engine) and browser guests alike.

/** Characters a station id may not hold, in runs: each run becomes one '-'. */
const NOT_IN_ID = /[^A-Za-z0-9_.-]+/g;

/** The name as an id: runs of other characters become '-', trimmed of '-', at most `maxLength`; '' if none is left. */
export function slugStationId(name: string, maxLength = 48): string {
  return name
    .replace(NOT_IN_ID, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength);
}

/** A short random suffix, for ids that must not collide (a guest) or a name with nothing usable in it. */
export function randomIdSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
