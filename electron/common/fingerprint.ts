/**
 * A certificate's SHA-256 as a hosting station, openssl and browsers show it: 32 hex bytes separated by colons,
 * upper-cased once parsed. Its own module so the signalling protocol (which contract.ts imports) can use it too.
 */
import { z } from 'zod';

// `.toUpperCase()` rather than a transform: the protocol's JSON Schema (docs/signalling.md) can still describe it.
export const Fingerprint = z
  .string()
  .trim()
  .regex(
    /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/,
    'fingerprint must be a SHA-256 fingerprint: 32 hex bytes separated by colons',
  )
  .toUpperCase();
